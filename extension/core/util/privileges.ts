import * as fs from 'node:fs';
import { execLocal } from './local-process';

const CAP_NET_ADMIN = 12;

/** True when this process may create namespaces and links on this machine (root, or CAP_NET_ADMIN in its effective set). */
export function hasNetAdmin(): boolean {
  if (process.getuid?.() === 0) return true;
  let status = '';
  try { status = fs.readFileSync('/proc/self/status', 'utf8'); } catch { /* not Linux */ }
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return !!m && (BigInt(`0x${m[1]}`) & (1n << BigInt(CAP_NET_ADMIN))) !== 0n;
}

/**
 * True when this user may create a user namespace with a network namespace in it (`unshare -Urn`): the kernel then
 * lets an ordinary user hold the namespace testbed. Off when kernel.unprivileged_userns_clone=0 (Debian kernels) or
 * user.max_user_namespaces=0.
 */
export async function userNamespacesWork(): Promise<boolean> {
  const r = await execLocal(['unshare', '--user', '--map-root-user', '--net', '--mount', 'true'], { timeoutMs: 10_000 }).catch(() => undefined);
  return r?.code === 0;
}
