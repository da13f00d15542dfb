// The guest image of QEMU testbeds, made without interaction from Debian packages and cached by content:
// Debian's kernel (linux-image-REL, unpacked to its ELF vmlinux for direct PVH boot), an uncompressed initramfs with busybox-static, the kernel modules the guest needs (from the
// same package), dropbear with a host key generated here (its public key is pinned by every testbed), kmod,
// iproute2, iptables, iperf3, ping, bpftool and the libraries models built here load, taken from this machine's
// installed Debian packages; on request, the workload tools of workloads.ts too (an image variant).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Progress } from '../backend';
import { execLocal, runLocal } from '../../util/local-process';
import { extractVmlinux } from './vmlinux';
import { normalWorkloads, workloadData, workloadPrograms, type WorkloadToolName } from './workloads';

/** Programs copied from this machine into the guest, with the shared libraries each needs (Debian package in the comment). */
const PROGRAMS: readonly string[] = [
  '/usr/bin/dash', // dash: /bin/sh (busybox's sh runs its own applets before any program of the same name: ping, ip, modprobe)
  '/usr/sbin/dropbear', // dropbear-bin
  '/usr/lib/openssh/sftp-server', // openssh-sftp-server (dropbear runs it for SFTP)
  '/usr/bin/kmod', // kmod: insmod, rmmod, modprobe, lsmod
  '/bin/ip', // iproute2
  '/usr/sbin/tc', // iproute2
  '/bin/ss', // iproute2 (benchmark servers' readiness)
  '/usr/sbin/xtables-nft-multi', // iptables
  '/usr/sbin/xtables-legacy-multi', // iptables
  '/usr/bin/iperf3', // iperf3
  '/usr/bin/ping', // iputils-ping
  '/usr/bin/setsid', // util-linux (busybox's has no -f, which the deploy watchdog uses)
  '/usr/sbin/bpftool', // bpftool
];

/**
 * Shared libraries copied in (with theirs) for the models this machine builds: the user-space template links
 * libnetfilter_queue. A model that loads a library the guest lacks gets this machine's copy beside it at deploy.
 */
const LIBRARIES: Readonly<Record<string, string>> = {
  '/usr/lib/x86_64-linux-gnu/libnetfilter_queue.so.1': 'libnetfilter-queue1', // ldd adds libnfnetlink, libmnl
};

/** Where a multi-call program above is run under other names (kmod's where the kernel runs /sbin/modprobe). */
const ALIASES: Readonly<Record<string, readonly string[]>> = {
  '/usr/bin/dash': ['/usr/bin/sh'],
  '/usr/lib/openssh/sftp-server': ['/usr/lib/sftp-server'], // where Debian's dropbear looks for it
  '/usr/bin/kmod': ['insmod', 'rmmod', 'modprobe', 'lsmod', 'modinfo', 'depmod'].map((n) => `/usr/sbin/${n}`),
  '/usr/sbin/xtables-nft-multi': ['iptables', 'iptables-save', 'iptables-restore'].map((n) => `/usr/sbin/${n}`),
  '/usr/sbin/xtables-legacy-multi': ['iptables-legacy', 'iptables-legacy-save', 'iptables-legacy-restore'].map((n) => `/usr/sbin/${n}`),
};

/** Plug-ins iptables loads at run time (no ldd shows them). */
const XTABLES_DIR = '/usr/lib/x86_64-linux-gnu/xtables';

/**
 * Kernel modules the guest loads (with everything they depend on): the NICs, netfilter for the user-space
 * placement (NFQUEUE through iptables or nft), tc for the eBPF placement. Others load on demand (modprobe is
 * there for request_module) only when they are in the image.
 */
const MODULES: readonly string[] = [
  'virtio_pci', 'virtio_net', 'virtio_rng', 'crc32c_generic',
  'nfnetlink_queue', 'xt_NFQUEUE', 'iptable_filter', 'iptable_mangle', 'iptable_raw', 'xt_tcpudp', 'xt_mark', 'xt_comment', 'xt_conntrack',
  'nf_tables', 'nft_compat', 'nft_queue', 'nft_ct', 'nf_conntrack', 'ipt_REJECT', 'nf_reject_ipv4',
  'sch_ingress', 'cls_bpf', 'act_bpf',
];

/** Changes whenever what an image holds changes for reasons the inputs below do not show. */
const RECIPE_VERSION = 2;

export interface VmImage {
  release: string;
  /** An ELF kernel with the PVH entry note, which QEMU enters directly. */
  kernel: string;
  /** An uncompressed cpio archive: under TCG, unpacking it costs less than decompressing it in the guest. */
  initrd: string;
  /** The guest's SSH host key (an OpenSSH public key line): testbeds pin it. */
  hostKey: string;
  dir: string;
}

export interface ImageOptions {
  /** The Debian kernel release, e.g. 6.1.0-57-amd64 (default: the one linux-image-amd64 depends on now). */
  release?: string;
  /** Default ~/.cache/hypershield/vm. */
  cacheDir?: string;
  signal?: AbortSignal;
  progress?: Progress;
  /** Workload tool sets to carry besides the default programs (a variant of the image, cached apart). */
  workloads?: readonly WorkloadToolName[];
}

export function defaultVmCache(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'hypershield', 'vm');
}

/** The folder of the guest recipe files (init script, inittab), found from this code's location like the model templates. */
export function recipeDir(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'native-templates', 'vm');
    if (fs.existsSync(path.join(candidate, 'hs-rc'))) return candidate;
    if (path.dirname(dir) === dir) break;
  }
  throw new Error(`The VM recipe (native-templates/vm) was not found above ${from}; the HyperShield installation is incomplete: reinstall it.`);
}

const APT_ENV = { LANG: 'C', LC_ALL: 'C' };

/** apt-cache show, refreshing stale package lists once (a fresh machine has none). */
async function aptShow(pkg: string, signal?: AbortSignal): Promise<string> {
  const show = () => execLocal(['apt-cache', 'show', '--no-all-versions', pkg], { signal, timeoutMs: 60_000, env: APT_ENV });
  let r = await show();
  if (r.code !== 0 || !r.stdout.trim()) {
    await execLocal(['apt-get', 'update', '-qq'], { signal, timeoutMs: 300_000 });
    r = await show();
  }
  if (r.code !== 0 || !r.stdout.trim()) throw new Error(`apt does not know the package ${pkg} (${r.stderr.trim() || 'no such package'}); check /etc/apt/sources.list.d.`);
  return r.stdout;
}

/** The release Debian's linux-image-amd64 currently points to, e.g. 6.1.0-57-amd64. */
export async function currentDebianRelease(signal?: AbortSignal): Promise<string> {
  const show = await aptShow('linux-image-amd64', signal);
  const release = /^Depends:.*\blinux-image-(\d+\.\d+\.\d+-\d+-amd64)\b/m.exec(show)?.[1];
  if (!release) throw new Error('apt-cache show linux-image-amd64 names no linux-image-REL-amd64 package it depends on.');
  return release;
}

function sha256File(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** What decides an image's content: recipe, kernel package and the exact programs copied in. */
async function contentKey(release: string, workloads: readonly WorkloadToolName[], signal?: AbortSignal): Promise<string> {
  const version = /^Version: (\S+)$/m.exec(await aptShow(`linux-image-${release}`, signal))?.[1] ?? 'unknown';
  const h = createHash('sha256').update(`recipe ${RECIPE_VERSION}\nkernel ${release} ${version}\nmodules ${MODULES.join(',')}\n`);
  for (const file of ['/bin/busybox', ...PROGRAMS, ...Object.keys(LIBRARIES)]) h.update(`${file} ${sha256File(file)}\n`);
  // Only a variant hashes these lines: the default image keeps its key.
  if (workloads.length) h.update(`workloads ${workloads.join(',')}\n`);
  for (const [file] of workloadPrograms(workloads)) h.update(`${file} ${sha256File(file)}\n`);
  const recipe = recipeDir();
  for (const f of fs.readdirSync(recipe).sort()) h.update(`${f} ${sha256File(path.join(recipe, f))}\n`);
  return h.digest('hex').slice(0, 16);
}

/** What is missing on this machine to make an image, with the Debian packages that bring it (empty when ready). */
export function imagePrerequisites(workloads: readonly WorkloadToolName[] = []): string[] {
  const need: Array<[string, string]> = [['/bin/busybox', 'busybox-static'], ['/usr/bin/cpio', 'cpio'], ['/usr/bin/xz', 'xz-utils'], ['/usr/bin/dropbearkey', 'dropbear-bin'],
    ...PROGRAMS.map((p): [string, string] => [p, ({ '/usr/sbin/dropbear': 'dropbear-bin', '/usr/lib/openssh/sftp-server': 'openssh-sftp-server', '/usr/bin/kmod': 'kmod',
      '/bin/ip': 'iproute2', '/usr/sbin/tc': 'iproute2', '/bin/ss': 'iproute2', '/usr/sbin/xtables-nft-multi': 'iptables', '/usr/sbin/xtables-legacy-multi': 'iptables',
      '/usr/bin/iperf3': 'iperf3', '/usr/bin/ping': 'iputils-ping', '/usr/bin/setsid': 'util-linux', '/usr/bin/dash': 'dash', '/usr/sbin/bpftool': 'bpftool' } as Record<string, string>)[p]]),
    ...Object.entries(LIBRARIES),
    ...workloadPrograms(workloads)];
  const missing = need.filter(([file]) => !fs.existsSync(file));
  return missing.length ? [`The VM image needs ${missing.map(([f]) => f).join(', ')}: apt-get install ${[...new Set(missing.map(([, p]) => p))].join(' ')}`] : [];
}

/** The cached image for the release, made first when there is none. */
export async function vmImage(opts: ImageOptions = {}): Promise<VmImage> {
  const problems = imagePrerequisites();
  if (problems.length) throw new Error(problems.join('\n'));
  const release = opts.release ?? (await currentDebianRelease(opts.signal));
  const cache = opts.cacheDir ?? defaultVmCache();
  const workloads = normalWorkloads(opts.workloads);
  const dir = path.join(cache, await contentKey(release, workloads, opts.signal));
  const image = (): VmImage => ({ release, dir, kernel: path.join(dir, 'vmlinux'), initrd: path.join(dir, 'initrd.cpio'), hostKey: fs.readFileSync(path.join(dir, 'hostkey.pub'), 'utf8').trim() });
  if (fs.existsSync(path.join(dir, 'hostkey.pub'))) return image();
  fs.mkdirSync(cache, { recursive: true });
  const stage = fs.mkdtempSync(path.join(cache, '.build-'));
  try {
    await buildImage(release, stage, { ...opts, workloads });
    try {
      fs.renameSync(stage, dir);
    } catch (err) {
      // Another process made the same image meanwhile: its copy is as good as ours.
      if (!fs.existsSync(path.join(dir, 'hostkey.pub'))) throw err;
      fs.rmSync(stage, { recursive: true, force: true });
    }
  } catch (err) {
    fs.rmSync(stage, { recursive: true, force: true });
    throw new Error(`Could not make the VM image for kernel ${release}: ${(err as Error).message}`);
  }
  return image();
}

/** Copies a program (or a library) and the shared libraries ldd names into tree, at the same paths. */
async function addProgram(tree: string, program: string, signal?: AbortSignal): Promise<void> {
  const copy = (from: string) => {
    fs.mkdirSync(path.join(tree, path.dirname(from)), { recursive: true });
    fs.copyFileSync(from, path.join(tree, from));
    fs.chmodSync(path.join(tree, from), fs.statSync(from).mode & 0o777);
  };
  copy(program);
  const ldd = await execLocal(['ldd', program], { signal, timeoutMs: 30_000 });
  for (const lib of ldd.stdout.match(/\/\S+/g) ?? []) if (!fs.existsSync(path.join(tree, lib))) copy(lib);
}

/** The modules named, with their dependencies from modules.dep (paths relative to the release's folder). */
function moduleClosure(modulesDep: string, names: readonly string[]): string[] {
  const deps = new Map<string, string[]>();
  for (const line of modulesDep.split('\n').filter(Boolean)) {
    const [mod, rest] = line.split(':');
    deps.set(mod, rest.trim().split(/\s+/).filter(Boolean));
  }
  // Module names use _ where file names may have - (virtio-rng.ko is virtio_rng).
  const byName = new Map([...deps.keys()].map((m) => [path.basename(m).replace(/\.ko(\.[a-z]+)?$/, '').replace(/-/g, '_'), m]));
  const out = new Set<string>();
  for (const name of names) {
    const mod = byName.get(name);
    if (!mod) throw new Error(`the kernel package has no module ${name}`);
    for (const m of [mod, ...(deps.get(mod) ?? [])]) out.add(m);
  }
  return [...out].sort();
}

async function buildImage(release: string, stage: string, opts: ImageOptions): Promise<void> {
  const sh = (argv: string[], cwd?: string) => runLocal(argv, { cwd, signal: opts.signal, timeoutMs: 300_000, env: APT_ENV });
  opts.progress?.report(`Making the VM image: fetching linux-image-${release}`);
  const debs = path.join(stage, 'debs');
  fs.mkdirSync(debs);
  await sh(['apt-get', 'download', `linux-image-${release}`], debs);
  const pkg = path.join(stage, 'pkg');
  for (const deb of fs.readdirSync(debs)) await sh(['dpkg-deb', '-x', path.join(debs, deb), pkg]);
  await extractVmlinux(path.join(pkg, 'boot', `vmlinuz-${release}`), path.join(stage, 'vmlinux'), opts.signal);

  opts.progress?.report('Making the VM image: the initramfs');
  const tree = path.join(stage, 'tree');
  // Merged /usr like Debian's: /sbin/modprobe (which the kernel runs for request_module) is kmod's.
  for (const d of ['usr/bin', 'usr/sbin', 'usr/lib', 'usr/lib64', 'etc/dropbear', 'root', 'proc', 'sys', 'dev', 'run', 'tmp', 'var/tmp', 'mnt']) {
    fs.mkdirSync(path.join(tree, d), { recursive: true });
  }
  for (const d of ['bin', 'sbin', 'lib', 'lib64']) fs.symlinkSync(`usr/${d}`, path.join(tree, d));
  fs.chmodSync(path.join(tree, 'root'), 0o700);
  fs.chmodSync(path.join(tree, 'tmp'), 0o1777);
  fs.copyFileSync('/bin/busybox', path.join(tree, 'bin', 'busybox'));
  fs.chmodSync(path.join(tree, 'bin', 'busybox'), 0o755);
  for (const p of [...PROGRAMS, ...Object.keys(LIBRARIES)]) await addProgram(tree, p, opts.signal);
  for (const [p] of workloadPrograms(opts.workloads ?? [])) await addProgram(tree, p, opts.signal);
  for (const d of workloadData(opts.workloads ?? [])) fs.cpSync(d, path.join(tree, d), { recursive: true });
  for (const [target, names] of Object.entries(ALIASES)) for (const n of names) fs.symlinkSync(target, path.join(tree, n));
  // Busybox provides every other command (mount, sysctl, dmesg, awk, ...), in no directory where a program above
  // could be shadowed by it.
  const provided = new Set([...PROGRAMS, ...Object.values(ALIASES).flat()].map((p) => path.basename(p)));
  for (const applet of (await sh(['/bin/busybox', '--list-full'])).split('\n').filter(Boolean)) {
    if (!provided.has(path.basename(applet)) && !fs.lstatSync(path.join(tree, applet), { throwIfNoEntry: false })) {
      fs.mkdirSync(path.dirname(path.join(tree, applet)), { recursive: true });
      fs.symlinkSync('/bin/busybox', path.join(tree, applet));
    }
  }
  fs.cpSync(XTABLES_DIR, path.join(tree, XTABLES_DIR), { recursive: true });
  fs.symlinkSync('/bin/busybox', path.join(tree, 'init'));

  // Kernel modules: the closure of MODULES, indexed by depmod so that modprobe and request_module find them.
  const modRoot = path.join(pkg, 'lib', 'modules', release);
  await sh(['depmod', '-b', pkg, release]);
  const wanted = moduleClosure(fs.readFileSync(path.join(modRoot, 'modules.dep'), 'utf8'), MODULES);
  const guestMods = path.join(tree, 'lib', 'modules', release);
  for (const rel of wanted) {
    fs.mkdirSync(path.join(guestMods, path.dirname(rel)), { recursive: true });
    fs.copyFileSync(path.join(modRoot, rel), path.join(guestMods, rel));
  }
  for (const f of ['modules.order', 'modules.builtin', 'modules.builtin.modinfo']) fs.copyFileSync(path.join(modRoot, f), path.join(guestMods, f));
  await sh(['depmod', '-b', tree, release]);

  const recipe = recipeDir();
  fs.copyFileSync(path.join(recipe, 'inittab'), path.join(tree, 'etc', 'inittab'));
  fs.copyFileSync(path.join(recipe, 'hs-rc'), path.join(tree, 'etc', 'hs-rc'));
  fs.chmodSync(path.join(tree, 'etc', 'hs-rc'), 0o755);
  fs.writeFileSync(path.join(tree, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  fs.writeFileSync(path.join(tree, 'etc', 'group'), 'root:x:0:\n');
  fs.writeFileSync(path.join(tree, 'etc', 'shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o600 });
  fs.writeFileSync(path.join(tree, 'etc', 'shells'), '/bin/sh\n');
  fs.writeFileSync(path.join(tree, 'etc', 'hostname'), 'hypershield\n');

  // The host key is made once per image; its public half goes into the cache so testbeds can pin it.
  const hostKey = path.join(tree, 'etc', 'dropbear', 'dropbear_ed25519_host_key');
  await sh(['dropbearkey', '-t', 'ed25519', '-f', hostKey]);
  const pub = (await sh(['dropbearkey', '-y', '-f', hostKey])).split('\n').find((l) => l.startsWith('ssh-ed25519 '));
  if (!pub) throw new Error('dropbearkey -y printed no ssh-ed25519 public key');
  fs.writeFileSync(path.join(stage, 'hostkey.pub'), `${pub.split(' ').slice(0, 2).join(' ')}\n`);

  await sh(['sh', '-c', 'find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 > ../initrd.cpio'], tree);
  fs.writeFileSync(path.join(stage, 'manifest.json'), JSON.stringify({ release, recipe: RECIPE_VERSION, programs: PROGRAMS, libraries: Object.keys(LIBRARIES), workloads: opts.workloads ?? [], modules: wanted, madeAt: new Date().toISOString() }, null, 2) + '\n');
  for (const d of [debs, pkg, tree]) fs.rmSync(d, { recursive: true, force: true });
}
