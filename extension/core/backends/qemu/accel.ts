// Whether QEMU can use KVM here. /dev/kvm existing proves nothing (on some machines a guest hangs after the firmware
// or QEMU aborts with "failed to set MSR 0x10a"): only a short real boot tells, and it is remembered per QEMU build
// and host kernel.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Progress } from '../backend';
import { readJson, writeFileAtomic } from '../../util/atomic-file';
import { execLocal } from '../../util/local-process';

export type Accel = 'kvm' | 'tcg';
export type AccelSetting = Accel | 'auto';

/**
 * The QEMU arguments of each accelerator. TCG: every emulated CPU feature but AVX and AVX2, one host thread per
 * vCPU. QEMU emulates AVX instruction by instruction in helpers; glibc then picks its AVX2 string functions and
 * every dynamically linked program in the guest takes about five times as long to start (kmod: 0.64 s against 0.12 s).
 */
export const ACCEL_ARGS: Readonly<Record<Accel, readonly string[]>> = {
  kvm: ['-accel', 'kvm', '-cpu', 'host'],
  tcg: ['-accel', 'tcg,thread=multi', '-cpu', 'max,avx=off,avx2=off'],
};

/** A KVM guest reaches its init in well under this; an emulated one (or a hung KVM guest) does not. */
const PROBE_TIMEOUT_MS = 20_000;
const PROBE_MARK = 'hs-probe-ok';

export interface AccelProbe {
  accel: Accel;
  /** Why KVM is not used (absent when it is). */
  reason?: string;
}

/** What decides the answer: the QEMU binary (path, size, time), the host kernel and /dev/kvm. */
function probeKey(binary: string): string {
  let id = binary;
  try {
    const real = fs.realpathSync(binary);
    const st = fs.statSync(real);
    id = `${real} ${st.size} ${st.mtimeMs}`;
  } catch { /* not a path: resolved on PATH by exec */ }
  return createHash('sha256').update(`${id}\n${os.release()}`).digest('hex').slice(0, 16);
}

/**
 * KVM when a guest boots with it (kernel and initrd of the image, which power off at once given hs.probe=1),
 * else TCG, with the reason.
 */
export async function probeAccel(binary: string, kernel: string, initrd: string, cacheDir: string, signal?: AbortSignal, progress?: Progress): Promise<AccelProbe> {
  try {
    fs.accessSync('/dev/kvm', fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    return { accel: 'tcg', reason: '/dev/kvm is missing or not usable by this user' };
  }
  const file = path.join(cacheDir, 'accel.json');
  const key = probeKey(binary);
  const known = readJson<Record<string, AccelProbe>>(file) ?? {};
  if (known[key]) return known[key];
  progress?.report(`Checking whether ${binary} can use KVM (a short test boot, once per QEMU build and host kernel)`);
  const r = await execLocal([binary, ...ACCEL_ARGS.kvm, '-m', '128', '-smp', '1', '-nographic', '-no-reboot', '-nic', 'none',
    '-kernel', kernel, '-initrd', initrd, '-append', 'console=ttyS0 quiet panic=-1 hs.probe=1'], { signal, timeoutMs: PROBE_TIMEOUT_MS });
  signal?.throwIfAborted();
  const result: AccelProbe = r.stdout.includes(PROBE_MARK) ? { accel: 'kvm' }
    : { accel: 'tcg', reason: r.timedOut ? `a KVM guest did not boot within ${PROBE_TIMEOUT_MS / 1000} s`
      : `QEMU with KVM failed: ${(r.stderr.trim().split('\n').at(-1) ?? `exit code ${r.code}`).slice(0, 300)}` };
  fs.mkdirSync(cacheDir, { recursive: true });
  writeFileAtomic(file, JSON.stringify({ ...(readJson<Record<string, AccelProbe>>(file) ?? {}), [key]: result }, null, 2) + '\n');
  return result;
}
