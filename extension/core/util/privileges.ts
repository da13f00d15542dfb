import * as fs from 'node:fs/promises';

const CAP_NET_ADMIN = 12;

/** True when this process may create namespaces and links (root, or CAP_NET_ADMIN in its effective set). */
export async function hasNetAdmin(): Promise<boolean> {
  if (process.getuid?.() === 0) return true;
  const status = await fs.readFile('/proc/self/status', 'utf8').catch(() => '');
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return !!m && (BigInt(`0x${m[1]}`) & (1n << BigInt(CAP_NET_ADMIN))) !== 0n;
}
