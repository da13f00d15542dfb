import * as fs from 'node:fs';
import * as os from 'node:os';
import { execLocal } from './util/local-process';
import { BENCHMARKS } from './bench/registry';
import { adminPath } from './backends/netns-runner';
import { helperUnavailable } from './privileged/helper-client';
import { hasNetAdmin, userNamespacesWork } from './util/privileges';

export type Feature = 'testbed' | 'bench' | 'build' | 'kernel' | 'ebpf' | 'perf' | 'docker' | 'qemu';

export interface Requirement {
  what: string;
  /** Debian package that provides it. */
  pkg: string;
  feature: Feature;
  present: () => Promise<boolean>;
}

export interface Finding {
  what: string;
  pkg: string;
  feature: Feature;
  ok: boolean;
}

/** Looked up as the namespace hosts do (root's tools in /usr/sbin count for an ordinary user too). */
const onPath = (program: string) => async () => {
  const r = await execLocal(['sh', '-c', 'command -v "$1"', 'sh', program], { env: { PATH: adminPath() } }).catch(() => undefined);
  return r?.code === 0;
};
const fileExists = (file: string) => () => Promise.resolve(fs.existsSync(file));
const anyHeaders = () => Promise.resolve(fs.existsSync('/usr/src') && fs.readdirSync('/usr/src').some((d) => /^linux-headers-.*-amd64$/.test(d)));

/** Everything the workbench uses on this machine, by feature, with the Debian package that provides it. */
export const REQUIREMENTS: readonly Requirement[] = [
  { what: 'ip (iproute2)', pkg: 'iproute2', feature: 'testbed', present: onPath('ip') },
  { what: 'iptables', pkg: 'iptables', feature: 'testbed', present: onPath('iptables') },
  ...benchRequirements(),
  { what: 'gcc', pkg: 'gcc', feature: 'build', present: onPath('gcc') },
  { what: 'make', pkg: 'make', feature: 'build', present: onPath('make') },
  { what: 'libnetfilter_queue headers', pkg: 'libnetfilter-queue-dev', feature: 'build', present: fileExists('/usr/include/libnetfilter_queue/libnetfilter_queue.h') },
  { what: 'libmnl headers', pkg: 'libmnl-dev', feature: 'build', present: fileExists('/usr/include/libmnl/libmnl.h') },
  { what: 'clang (BPF target)', pkg: 'clang', feature: 'ebpf', present: onPath('clang') },
  { what: 'libbpf headers', pkg: 'libbpf-dev', feature: 'ebpf', present: fileExists('/usr/include/bpf/bpf_helpers.h') },
  { what: 'bpftool', pkg: 'bpftool', feature: 'ebpf', present: onPath('bpftool') },
  { what: 'tc (iproute2)', pkg: 'iproute2', feature: 'ebpf', present: onPath('tc') },
  { what: 'kernel headers (Debian)', pkg: 'linux-headers-amd64', feature: 'kernel', present: anyHeaders },
  { what: 'kmod (insmod/rmmod)', pkg: 'kmod', feature: 'kernel', present: onPath('insmod') },
  { what: 'perf', pkg: 'linux-perf', feature: 'perf', present: onPath('perf') },
  { what: 'docker', pkg: 'docker.io', feature: 'docker', present: onPath('docker') },
  { what: 'mmdebstrap (builds the container images offline)', pkg: 'mmdebstrap', feature: 'docker', present: onPath('mmdebstrap') },
  { what: 'qemu-system-x86_64', pkg: 'qemu-system-x86', feature: 'qemu', present: onPath('qemu-system-x86_64') },
  { what: 'busybox (static) for VM images', pkg: 'busybox-static', feature: 'qemu', present: fileExists('/bin/busybox') },
  { what: 'cpio for VM images', pkg: 'cpio', feature: 'qemu', present: onPath('cpio') },
  { what: 'dropbear (the VM\'s SSH server)', pkg: 'dropbear-bin', feature: 'qemu', present: fileExists('/usr/sbin/dropbear') },
  { what: 'sftp-server for VM images', pkg: 'openssh-sftp-server', feature: 'qemu', present: fileExists('/usr/lib/openssh/sftp-server') },
  { what: 'socat (the VM control channel)', pkg: 'socat', feature: 'qemu', present: onPath('socat') },
];

/** The programs of the benchmark catalog that Debian packages; the others are named when a run needs them. */
function benchRequirements(): Requirement[] {
  const programs = new Map(BENCHMARKS.filter((b) => !b.install).flatMap((b) => [...b.requires.client, ...b.requires.server]));
  return [...programs].map(([program, pkg]) => ({ what: program, pkg, feature: 'bench', present: onPath(program) }));
}

/** What this user can do on the namespace testbed now, and how (or what would make it work). */
export interface Access {
  what: string;
  ok: boolean;
  how: string;
}

/**
 * The namespace testbed and each placement for the user running the workbench: root does everything; an ordinary
 * user holds the testbed (and NFQUEUE) in a user namespace, and loads eBPF programs through the helper that
 * `sudo hypershield setup` installs, since this kernel lets no ordinary user load them.
 */
export async function accessReport(): Promise<Access[]> {
  const user = os.userInfo().username;
  const kernel: Access = fs.existsSync('/proc/modules')
    ? { what: 'kernel placement on this machine', ok: false, how: 'refused on testbeds that share this machine\'s kernel unless --allow-host-kernel; use a testbed with a kernel of its own' }
    : { what: 'kernel placement on this machine', ok: false, how: 'this kernel loads no modules: use a testbed with a kernel of its own (qemu)' };
  if (hasNetAdmin()) {
    return [
      { what: 'namespace testbed', ok: true, how: 'as root (or with CAP_NET_ADMIN)' },
      { what: 'user placement (NFQUEUE)', ok: true, how: 'as root' },
      { what: 'ebpf placement', ok: true, how: 'as root' },
      kernel,
    ];
  }
  const userns = await userNamespacesWork();
  const helper = await helperUnavailable();
  const testbed = userns
    ? { ok: true, how: `in a user namespace of ${user}'s own: no privileges needed` }
    : { ok: false, how: 'this kernel refuses user namespaces to ordinary users: allow them (kernel.unprivileged_userns_clone=1) or run as root' };
  return [
    { what: 'namespace testbed', ...testbed },
    { what: 'user placement (NFQUEUE)', ...testbed },
    helper
      ? { what: 'ebpf placement', ok: false, how: `ordinary users cannot load eBPF programs here; \`sudo hypershield setup --user ${user}\` (once, by an administrator) adds it through a narrow root helper` }
      : { what: 'ebpf placement', ok: userns, how: 'through the HyperShield helper (setup is done)' },
    kernel,
  ];
}

export async function runDoctor(features?: readonly Feature[]): Promise<{ findings: Finding[]; access: Access[] }> {
  const wanted = REQUIREMENTS.filter((r) => !features || features.includes(r.feature));
  const findings = await Promise.all(wanted.map(async (r) => ({ what: r.what, pkg: r.pkg, feature: r.feature, ok: await r.present() })));
  return { findings, access: await accessReport() };
}

/** Whether the namespace testbed can come up for this user (the first line of the access report). */
export function testbedAccessible(access: readonly Access[]): boolean {
  return access[0]?.ok === true;
}

/** Installs the missing packages with apt-get (needs root); returns the packages it installed. */
export async function installMissing(findings: readonly Finding[], onOutput?: (s: string) => void): Promise<string[]> {
  const pkgs = [...new Set(findings.filter((f) => !f.ok).map((f) => f.pkg))];
  if (pkgs.length === 0) return [];
  if (process.getuid?.() !== 0) throw new Error(`Installing ${pkgs.join(' ')} needs root: run \`sudo apt-get install ${pkgs.join(' ')}\`.`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  const update = await execLocal(['apt-get', 'update'], { env, onStdout: onOutput, onStderr: onOutput });
  if (update.code !== 0) throw new Error(`apt-get update failed: ${update.stderr.trim().split('\n').pop()}`);
  const install = await execLocal(['apt-get', 'install', '-y', '--no-install-recommends', ...pkgs], { env, onStdout: onOutput, onStderr: onOutput });
  if (install.code !== 0) throw new Error(`apt-get install ${pkgs.join(' ')} failed: ${install.stderr.trim().split('\n').pop()}`);
  return pkgs;
}
