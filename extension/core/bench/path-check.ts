import { run, type Host } from '../hosts/host';
import type { Mode } from '../testbed/testbed';

export interface PathCheck {
  mode: Mode;
  /** Packets the model host received while the probe ran. */
  modelPackets: number;
  probes: number;
  /** TTL of the replies (64 from a Linux server reached directly, 63 through one router). */
  replyTtl?: number;
  crossesModel: boolean;
}

const PROBES = 4;

/** Packets and bytes a host's interfaces (not loopback) have received, from `ip -j -s link show`. */
export async function receivedTraffic(host: Host, signal?: AbortSignal): Promise<{ packets: number; bytes: number }> {
  const out = await run(host, ['ip', '-j', '-s', 'link', 'show'], { signal, timeoutMs: 10_000 });
  const links = (JSON.parse(out) as Array<{ ifname: string; stats64?: { rx: { packets: number; bytes: number } } }>).filter((l) => l.ifname !== 'lo');
  return {
    packets: links.reduce((sum, l) => sum + (l.stats64?.rx.packets ?? 0), 0),
    bytes: links.reduce((sum, l) => sum + (l.stats64?.rx.bytes ?? 0), 0),
  };
}

async function receivedPackets(model: Host, signal?: AbortSignal): Promise<number> {
  return (await receivedTraffic(model, signal)).packets;
}

/**
 * Sends a few pings and counts what the model host received meanwhile: through the model, every request and
 * reply crosses it; directly, none does. Refusing to record when this disagrees with the mode keeps a wrong
 * route from producing a plausible-looking result.
 */
export async function checkPath(client: Host, model: Host, target: string, mode: Mode, signal?: AbortSignal): Promise<PathCheck> {
  const before = await receivedPackets(model, signal);
  const p = await client.exec(['ping', '-n', '-c', String(PROBES), '-i', '0.05', '-W', '1', target], { signal, timeoutMs: 15_000 });
  const after = await receivedPackets(model, signal);
  const ttl = /ttl=(\d+)/.exec(p.stdout);
  const modelPackets = after - before;
  return {
    mode,
    modelPackets,
    probes: PROBES,
    replyTtl: ttl ? Number(ttl[1]) : undefined,
    crossesModel: modelPackets >= 2 * PROBES,
  };
}

export function assertPath(check: PathCheck): void {
  if (check.mode === 'model' && !check.crossesModel) {
    throw new Error(`Traffic does not cross the model host in model mode (the model host saw ${check.modelPackets} packets for ${check.probes} pings and their replies; reply TTL ${check.replyTtl ?? 'none'}). ` +
      'No results are recorded. Check the routes (`hypershield status`) or run `hypershield down && hypershield up`.');
  }
  if (check.mode === 'direct' && check.modelPackets >= check.probes) {
    throw new Error(`Traffic crosses the model host in direct mode (it saw ${check.modelPackets} packets for ${check.probes} pings). No results are recorded; run \`hypershield mode direct\` or recreate the testbed.`);
  }
}
