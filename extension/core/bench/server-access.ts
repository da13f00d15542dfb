import { randomBytes } from 'node:crypto';
import { run, type Host } from '../hosts/host';

/** A fresh password for a server started for one run: hex, so it needs no quoting in SQL or configuration. */
export function generatePassword(): string {
  return randomBytes(18).toString('hex');
}

/** Stores a secret on a host, readable by its owner only. */
export async function writeSecret(host: Host, file: string, secret: string, signal?: AbortSignal): Promise<void> {
  await run(host, ['sh', '-c', 'umask 077 && cat >"$1"', 'sh', file], { stdin: secret, signal, timeoutMs: 10_000 });
}

export async function readSecret(host: Host, file: string, signal?: AbortSignal): Promise<string> {
  const secret = (await run(host, ['cat', file], { signal, timeoutMs: 10_000 })).trim();
  if (!/^[0-9a-f]{36}$/.test(secret)) throw new Error(`${file} on ${host.label} does not hold a generated password; the server of this run was not started by it.`);
  return secret;
}

/**
 * The IPv4 addresses the client host sends from (global scope, not loopback), so a server can admit exactly
 * them. Sample of `ip -j -4 addr show` (abridged):
 *
 *   [{"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","scope":"host"}]},
 *    {"ifname":"to-model","addr_info":[{"family":"inet","local":"198.18.1.2","prefixlen":24,"scope":"global"}]}]
 */
export async function clientAddresses(client: Host, signal?: AbortSignal): Promise<string[]> {
  const links = JSON.parse(await run(client, ['ip', '-j', '-4', 'addr', 'show'], { signal, timeoutMs: 10_000 })) as
    Array<{ ifname: string; addr_info?: Array<{ local: string; scope: string }> }>;
  const addresses = links.filter((l) => l.ifname !== 'lo').flatMap((l) => (l.addr_info ?? []).filter((a) => a.scope === 'global').map((a) => a.local));
  if (!addresses.every((a) => /^\d{1,3}(\.\d{1,3}){3}$/.test(a))) throw new Error(`Unexpected client addresses from ${client.label}: ${addresses.join(', ')}`);
  if (addresses.length === 0) throw new Error(`The client ${client.label} has no IPv4 address to admit to the server.`);
  return addresses;
}
