// One QEMU guest of a testbed: its command line, its serial console log, starting and stopping it.
import * as fs from 'node:fs';
import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import { processAlive } from '../../util/pid';
import { runLocal } from '../../util/local-process';
import { sleep } from '../../util/poll';
import { ACCEL_ARGS, type Accel } from './accel';

/** A role's VM settings, defaults filled in (see the qemu section of a host in schemas/testbed.schema.json). */
export interface VmSettings {
  binary: string;
  machine?: string;
  /** Overrides the accelerator's CPU model. */
  cpu?: string;
  memoryMiB: number;
  smp: number;
  /** Appended to QEMU's command line as they are. */
  args: string[];
  kernel: string;
  initrd: string;
  /** Appended to the kernel command line. */
  append: string;
  /** A disk image attached as the guest's /dev/vda. */
  disk?: string;
}

/** A NIC of the guest: a tap in the testbed's fabric namespace, renamed and addressed in the guest by its MAC. */
export interface Nic {
  tap: string;
  mac: string;
  /** The interface name inside the guest (e.g. to-client). */
  name: string;
  /** ADDR/PREFIX */
  address: string;
}

export interface GuestConfig {
  hostname: string;
  nics: Nic[];
  forward: boolean;
  /** OpenSSH public key line of the workbench's key for this testbed. */
  authorizedKey: string;
}

/**
 * The kernel command line the image's init reads (native-templates/vm/hs-rc). The rest skips what takes seconds of
 * an emulated boot and serves nothing the workbench does: the crypto self-tests (`cryptomgr.notests`, and the
 * KDF108 one that 6.1 runs regardless) and the "encrypted" key type.
 */
export function kernelCommandLine(g: GuestConfig, extra: string): string {
  const [type, blob] = g.authorizedKey.trim().split(/\s+/);
  return ['console=ttyS0', 'quiet', 'panic=-1', 'ipv6.disable=1', 'cryptomgr.notests', 'initcall_blacklist=crypto_kdf108_init,init_encrypted', `hs.name=${g.hostname}`, `hs.key=${type}:${blob}`,
    ...(g.forward ? ['hs.forward=1'] : []), ...g.nics.map((n) => `hs.if=${n.mac},${n.name},${n.address}`), extra].filter(Boolean).join(' ');
}

/**
 * QEMU's argv; it daemonizes once the guest is started, writing its pid to pidFile. `-nodefaults`: no VGA, floppy,
 * CD-ROM, parallel port or default NIC for the guest to probe, only the devices named here.
 */
export function qemuArgv(s: VmSettings, accel: Accel, name: string, g: GuestConfig, consoleLog: string, pidFile: string): string[] {
  const accelArgs = [...ACCEL_ARGS[accel]];
  if (s.cpu) accelArgs[3] = s.cpu;
  return [
    s.binary, '-name', name, '-nodefaults', ...(s.machine ? ['-machine', s.machine] : []), ...accelArgs,
    '-m', String(s.memoryMiB), '-smp', String(s.smp),
    '-display', 'none', '-monitor', 'none', '-serial', `file:${consoleLog}`, '-no-reboot',
    '-kernel', s.kernel, '-initrd', s.initrd, '-append', kernelCommandLine(g, s.append),
    ...g.nics.flatMap((n, i) => ['-netdev', `tap,id=n${i},ifname=${n.tap},script=no,downscript=no`, '-device', `virtio-net-pci,netdev=n${i},mac=${n.mac}`]),
    '-device', 'virtio-rng-pci',
    ...(s.disk ? ['-drive', `file=${s.disk},if=virtio,format=raw,snapshot=on`] : []),
    ...s.args,
    '-daemonize', '-pidfile', pidFile,
  ];
}

// The serial console of a guest, e.g.
//   hs-network-up lo=127.0.0.1/8 mgmt=198.19.255.10/24 to-client=198.18.1.1/24 to-server=198.18.2.1/24
//   [  12.3] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)
export type ConsoleState = 'booting' | 'network-up' | 'panicked';

export function consoleState(log: string): ConsoleState {
  if (/Kernel panic - not syncing/.test(log)) return 'panicked';
  return /^hs-network-up /m.test(log) ? 'network-up' : 'booting';
}

/** The lines of a console log that tell what happened, for messages: from a panic's first line on, else the last ones. */
export function consoleTail(file: string, lines = 25): string {
  let all: string[];
  try {
    all = fs.readFileSync(file, 'utf8').replace(/\r/g, '').trimEnd().split('\n');
  } catch {
    return '(no console log)';
  }
  const panic = all.findIndex((l) => /Kernel panic - not syncing/.test(l));
  return (panic >= 0 ? all.slice(panic, panic + lines) : all.slice(-lines)).join('\n');
}

/** The pid QEMU wrote, when it is still a running QEMU process. */
export function qemuPid(pidFile: string): number | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) return undefined;
  try {
    // A recycled pid belongs to something else: leave it alone.
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('qemu') ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Starts QEMU inside the fabric namespace; resolves once it has daemonized (the guest is then booting). */
export async function startVm(namespace: string, argv: string[], signal?: AbortSignal): Promise<void> {
  await runLocal(['ip', 'netns', 'exec', namespace, ...argv], { signal, timeoutMs: 60_000 });
}

/** Ends a QEMU process: SIGTERM (QEMU quits), SIGKILL after graceMs. Resolves once it is gone. */
export async function killVm(pid: number, graceMs = 3000): Promise<void> {
  const signalIt = (sig: NodeJS.Signals) => { try { process.kill(pid, sig); } catch { /* gone */ } };
  signalIt('SIGTERM');
  for (let waited = 0; processAlive(pid) && waited < graceMs; waited += 100) await sleep(100);
  if (processAlive(pid)) signalIt('SIGKILL');
  for (let waited = 0; processAlive(pid) && waited < 5000; waited += 100) await sleep(100);
}

/**
 * A TCP stream to address:port inside a network namespace, through `socat` run there: the workbench's SSH control
 * channel reaches guests without anything listening in this machine's own namespace.
 */
export function namespaceStream(namespace: string, address: string, port: number): Duplex {
  const child = spawn('ip', ['netns', 'exec', namespace, 'socat', 'STDIO', `TCP:${address}:${port},connect-timeout=5`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const stream = Duplex.from({ readable: child.stdout, writable: child.stdin });
  child.on('error', (err) => stream.destroy(new Error(`socat in namespace ${namespace} could not start: ${err.message} (apt-get install socat)`)));
  child.on('exit', (code) => {
    if (code && !stream.destroyed) stream.destroy(new Error(`no connection to ${address}:${port} in namespace ${namespace}: ${stderr.trim().split('\n').at(-1) ?? `socat exited with ${code}`}`));
  });
  stream.on('close', () => { if (child.exitCode === null) child.kill('SIGTERM'); });
  return stream;
}
