// Runs a shell script under Debian 12's kernel (6.1, the one its model-host VMs run) in a QEMU VM under software
// emulation: a busybox initramfs with bpftool and the given files, no disk and no network. This machine's own kernel
// is much newer, and its BPF verifier accepts programs that 6.1's rejects.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const TOOLS = ['/usr/sbin/bpftool'];

/** The release of the Debian 6.1 headers installed by .ci/run (linux-headers-amd64), e.g. 6.1.0-56-amd64. */
export function debianKernelRelease(): string {
  const dirs = fs.readdirSync('/usr/src').filter((d) => /^linux-headers-6\.1\.\d+-\d+-amd64$/.test(d));
  if (!dirs.length) throw new Error('No Debian 6.1 kernel headers in /usr/src: apt-get install linux-headers-amd64 (.ci/run does).');
  return dirs.sort().at(-1)!.slice('linux-headers-'.length);
}

/** The kernel image of release, downloaded once into .cache/debian-kernels/. */
export function kernelImage(release: string): string {
  const dir = path.join(ROOT, '.cache', 'debian-kernels', release);
  const image = path.join(dir, 'vmlinuz');
  if (fs.existsSync(image)) return image;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-kernel-'));
  try {
    const download = () => execFileSync('apt-get', ['download', `linux-image-${release}`], { cwd: work, stdio: 'pipe' });
    try {
      download();
    } catch {
      // A machine whose package lists were never fetched (or are stale) does not know the package yet.
      execFileSync('apt-get', ['update', '-qq'], { stdio: 'pipe' });
      download();
    }
    const deb = fs.readdirSync(work).find((f) => f.endsWith('.deb'))!;
    execFileSync('dpkg-deb', ['-x', deb, 'root'], { cwd: work });
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(path.join(work, 'root', 'boot', `vmlinuz-${release}`), `${image}.part`);
    fs.renameSync(`${image}.part`, image);
    return image;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Copies a program and the shared libraries it needs into the initramfs tree. */
function addProgram(tree: string, program: string): void {
  const dest = path.join(tree, 'bin', path.basename(program));
  fs.copyFileSync(program, dest);
  fs.chmodSync(dest, 0o755);
  const libs = execFileSync('ldd', [program], { encoding: 'utf8' }).match(/\/\S+/g) ?? [];
  for (const lib of libs) {
    fs.mkdirSync(path.join(tree, path.dirname(lib)), { recursive: true });
    fs.copyFileSync(lib, path.join(tree, lib));
  }
}

/**
 * Boots the kernel with files (name -> host path, placed in /m) and runs script as root with bpffs mounted at
 * /sys/fs/bpf; returns what the script printed.
 */
export function runInDebianKernel(files: Record<string, string>, script: string): string {
  const release = debianKernelRelease();
  const image = kernelImage(release);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-vm-'));
  try {
    const tree = path.join(work, 'initrd');
    for (const d of ['bin', 'm', 'proc', 'sys', 'dev']) fs.mkdirSync(path.join(tree, d), { recursive: true });
    fs.copyFileSync('/bin/busybox', path.join(tree, 'bin', 'busybox'));
    for (const t of ['sh', 'mount', 'poweroff', 'cat', 'rm', 'echo']) fs.symlinkSync('busybox', path.join(tree, 'bin', t));
    for (const tool of TOOLS) addProgram(tree, tool);
    for (const [name, from] of Object.entries(files)) fs.copyFileSync(from, path.join(tree, 'm', name));
    fs.writeFileSync(path.join(tree, 'm', 'script.sh'), script);
    fs.writeFileSync(path.join(tree, 'init'), `#!/bin/sh
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; mount -t bpf bpf /sys/fs/bpf
echo "=== output"
sh /m/script.sh 2>&1
echo "=== exit $?"
poweroff -f
`, { mode: 0o755 });
    execFileSync('sh', ['-c', 'find . | cpio -o -H newc 2>/dev/null | gzip > ../initrd.gz'], { cwd: tree });
    const console = execFileSync('qemu-system-x86_64', [
      '-accel', 'tcg,thread=multi', '-cpu', 'max', '-m', '512', '-nographic', '-no-reboot', '-nic', 'none',
      '-kernel', image, '-initrd', path.join(work, 'initrd.gz'), '-append', 'console=ttyS0 quiet loglevel=1 panic=-1',
    ], { encoding: 'utf8', timeout: 300_000, maxBuffer: 64 * 1024 * 1024 }).replace(/\r/g, '');
    const m = /=== output\n([\s\S]*?)=== exit (\d+)/.exec(console);
    if (!m) throw new Error(`The ${release} VM did not run the script:\n${console.slice(-3000)}`);
    if (m[2] !== '0') throw new Error(`The script failed (exit ${m[2]}) under ${release}:\n${m[1].slice(-6000)}`);
    return m[1];
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
