import type { Backend } from '../backends/backend';
import { run, type Host } from '../hosts/host';
import { serverAddress, type Mode } from '../testbed/testbed';

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

/**
 * Packets and bytes received on the model host's testbed interfaces only: a VM's or SSH host's management interface
 * carries the workbench's own control traffic, which would make direct mode look like it crosses the model.
 */
export async function receivedTraffic(model: Host, interfaces: readonly string[], signal?: AbortSignal): Promise<{ packets: number; bytes: number }> {
  const out = await run(model, ['ip', '-j', '-s', 'link', 'show'], { signal, timeoutMs: 10_000 });
  const links = JSON.parse(out) as Array<{ ifname: string; stats64?: { rx: { packets: number; bytes: number } } }>;
  const missing = interfaces.filter((i) => !links.some((l) => l.ifname === i));
  if (missing.length) throw new Error(`The model host ${model.label} has no interface ${missing.join(' or ')}: the testbed is not wired as recorded; run \`hypershield down\` and \`up\`.`);
  const measured = links.filter((l) => interfaces.includes(l.ifname));
  return {
    packets: measured.reduce((sum, l) => sum + (l.stats64?.rx.packets ?? 0), 0),
    bytes: measured.reduce((sum, l) => sum + (l.stats64?.rx.bytes ?? 0), 0),
  };
}

/**
 * Sends a few pings and counts what the model host received meanwhile: through the model, every request and
 * reply crosses it; directly, none does. Refusing to record when this disagrees with the mode keeps a wrong
 * route from producing a plausible-looking result.
 */
export async function checkPath(backend: Backend, mode: Mode, signal?: AbortSignal): Promise<PathCheck> {
  const model = backend.host('model');
  const interfaces = [backend.modelInterfaces.client, backend.modelInterfaces.server];
  const before = (await receivedTraffic(model, interfaces, signal)).packets;
  const p = await backend.host('client').exec(['ping', '-n', '-c', String(PROBES), '-i', '0.01', '-W', '1', serverAddress(backend.testbed)], { signal, timeoutMs: 15_000 });
  const after = (await receivedTraffic(model, interfaces, signal)).packets;
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
