import * as fs from 'node:fs';
import { execLocal } from './util/local-process';
import { hasNetAdmin } from './util/privileges';

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

const onPath = (program: string) => async () => {
  const r = await execLocal(['sh', '-c', 'command -v "$1"', 'sh', program]).catch(() => undefined);
  return r?.code === 0;
};
const fileExists = (file: string) => () => Promise.resolve(fs.existsSync(file));
const anyHeaders = () => Promise.resolve(fs.existsSync('/usr/src') && fs.readdirSync('/usr/src').some((d) => /^linux-headers-.*-amd64$/.test(d)));

/** Everything the workbench uses on this machine, by feature, with the Debian package that provides it. */
export const REQUIREMENTS: readonly Requirement[] = [
  { what: 'ip (iproute2)', pkg: 'iproute2', feature: 'testbed', present: onPath('ip') },
  { what: 'iptables', pkg: 'iptables', feature: 'testbed', present: onPath('iptables') },
  { what: 'iperf3', pkg: 'iperf3', feature: 'bench', present: onPath('iperf3') },
  { what: 'ping', pkg: 'iputils-ping', feature: 'bench', present: onPath('ping') },
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
];

export async function runDoctor(features?: readonly Feature[]): Promise<{ findings: Finding[]; privileged: boolean }> {
  const wanted = REQUIREMENTS.filter((r) => !features || features.includes(r.feature));
  const findings = await Promise.all(wanted.map(async (r) => ({ what: r.what, pkg: r.pkg, feature: r.feature, ok: await r.present() })));
  return { findings, privileged: await hasNetAdmin() };
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
