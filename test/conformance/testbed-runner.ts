// Any placement deployed on a testbed (user space on the namespace testbed today; the kernel module on a VM model host
// once that backend exists), driven with real frames: hs-wire sends each case's frames from the client (or the
// server, for replies) to the model host's interface, and captures on the other side which of them were forwarded.
// A frame that arrives passed; one that does not was dropped. Frames the policy must ignore are not forwarded by the
// model host's IP stack either, so for them only the counters say whether the policy saw them.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Backend } from '../../extension/core/backends/backend';
import { run, type Host } from '../../extension/core/hosts/host';
import { deployModel, modelCounters, undeployModel } from '../../extension/core/model/deploy/deploy';
import type { ModelPlacement } from '../../extension/core/model/templates';
import { addressPlan } from '../../extension/core/testbed/testbed';
import { buildCase, caseConfig, countersOf, type BuiltPacket, type CaseOutcome, type CaseSpec, type Corpus, type Counters } from './corpus';
import type { PlacementRunner } from './runner';

const RULE_COMMENT = 'hypershield-conformance';
/** Captures go on this long after the last frame was sent (see the corpus's note on timeouts). */
const SETTLE_MS = 1500;

interface Side { host: Host; dev: string; address: string; modelMac: string }

/** The interface of host that its route to `to` uses. */
async function routeDev(host: Host, to: string): Promise<string> {
  const routes = JSON.parse(await run(host, ['ip', '-j', 'route', 'get', to], { timeoutMs: 10_000 })) as Array<{ dev: string }>;
  return routes[0].dev;
}

/** Frames of one direction in a row: one `hs-wire send` each. */
function segments(packets: BuiltPacket[]): BuiltPacket[][] {
  const out: BuiltPacket[][] = [];
  for (const p of packets) {
    const last = out.at(-1);
    if (last && (last[0].spec.from ?? 'client') === (p.spec.from ?? 'client')) last.push(p);
    else out.push([p]);
  }
  return out;
}

function records(packets: BuiltPacket[]): Buffer {
  return Buffer.concat(packets.flatMap((p) => {
    const h = Buffer.alloc(8);
    h.writeUInt32LE(p.spec.waitMs ?? 0, 0);
    h.writeUInt32LE(p.frame.length, 4);
    return [h, p.frame];
  }));
}

/** Reads the counters until two reads a stats period apart agree (the user-space model writes them once a second). */
async function settledCounters(backend: Backend): Promise<Counters> {
  let last = '';
  for (let i = 0; i < 6; i++) {
    await new Promise((r) => setTimeout(r, 1100));
    const c = await modelCounters(backend);
    if (!c) throw new Error('No model is deployed on the testbed any more.');
    const now = JSON.stringify(countersOf(c));
    if (now === last) return countersOf(c);
    last = now;
  }
  throw new Error(`The model's counters kept changing: ${last}`);
}

/**
 * A runner for placement on a testbed that is up. wire is hs-wire built for the client and server hosts (static, so
 * it runs on any Linux host). Each case deploys the model afresh in direct mode (so the deploy's own check sends no
 * traffic through it), switches to model mode for the frames, and undeploys.
 */
export function testbedRunner(label: string, backend: Backend, modelDir: string, placement: ModelPlacement, wire: string): PlacementRunner {
  return {
    label,
    async runAll(corpus: Corpus, cases: CaseSpec[]): Promise<CaseOutcome[]> {
      const a = addressPlan(backend.testbed);
      const model = backend.host('model');
      const remoteWire = `/tmp/hs-wire-${backend.testbed.name}`;
      const work = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-conformance-'));
      await backend.setMode('model');
      const mac = async (dev: string) => (await run(model, ['cat', `/sys/class/net/${dev}/address`], { timeoutMs: 10_000 })).trim();
      const client: Side = { host: backend.host('client'), dev: await routeDev(backend.host('client'), a.serverOnServerNet), address: a.clientOnClientNet, modelMac: await mac(backend.modelInterfaces.client) };
      const server: Side = { host: backend.host('server'), dev: await routeDev(backend.host('server'), a.clientOnClientNet), address: a.serverOnServerNet, modelMac: await mac(backend.modelInterfaces.server) };
      // The frames must not make the ends answer (ICMP errors, TCP resets): those would cross the model too.
      const rules = [[client, server], [server, client]].map(([self, peer]) => ({ host: self.host, rule: ['INPUT', '-s', peer.address, '-m', 'comment', '--comment', RULE_COMMENT, '-j', 'DROP'] }));
      const outcomes: CaseOutcome[] = [];
      try {
        for (const side of [client, server]) {
          await side.host.upload(wire, remoteWire);
          await run(side.host, ['chmod', '0755', remoteWire], { timeoutMs: 10_000 });
        }
        for (const r of rules) await run(r.host, ['iptables', '-w', '-I', ...r.rule], { timeoutMs: 10_000 });
        for (const c of cases) {
          await backend.setMode('direct');
          await deployModel(backend, modelDir, placement, { config: { ...caseConfig(corpus, c), queues: 1 } });
          await backend.setMode('model');
          const packets = buildCase(corpus, c, { client: client.address, server: server.address });
          const arrived = await sendAndCapture(packets, client, server, remoteWire, work);
          const counters = await settledCounters(backend);
          await backend.setMode('direct');
          await undeployModel(backend);
          outcomes.push({ verdicts: packets.map((p) => (p.spec.expect === 'ignored' ? undefined : arrived.has(p.ipId) ? 'pass' : 'drop')), counters });
        }
      } finally {
        for (const r of rules) await r.host.exec(['iptables', '-w', '-D', ...r.rule], { timeoutMs: 10_000 });
        for (const side of [client, server]) await side.host.exec(['rm', '-f', remoteWire, `${remoteWire}.frames`], { timeoutMs: 10_000 });
        await undeployModel(backend).catch(() => undefined);
        await backend.setMode('model');
        fs.rmSync(work, { recursive: true, force: true });
      }
      return outcomes;
    },
  };
}

/** Sends the frames, each from its side, and returns the IP ids that reached the other side. */
async function sendAndCapture(packets: BuiltPacket[], client: Side, server: Side, wire: string, work: string): Promise<Set<number>> {
  const ms = packets.reduce((sum, p) => sum + (p.spec.waitMs ?? 0), 0) + SETTLE_MS;
  const captures = [[client, server], [server, client]].map(([self, peer]) => {
    let out = '';
    let ready: () => void = () => undefined;
    const isReady = new Promise<void>((resolve) => { ready = resolve; });
    const done = run(self.host, [wire, 'capture', self.dev, peer.address, String(ms)], {
      timeoutMs: ms + 10_000,
      onStdout: (chunk) => { out += chunk; if (/^ready$/m.test(out)) ready(); },
    });
    return { isReady: Promise.race([isReady, done.then(() => undefined)]), done };
  });
  await Promise.all(captures.map((c) => c.isReady));
  for (const seg of segments(packets)) {
    const side = (seg[0].spec.from ?? 'client') === 'client' ? client : server;
    const local = path.join(work, 'frames');
    fs.writeFileSync(local, records(seg));
    await side.host.upload(local, `${wire}.frames`);
    await run(side.host, [wire, 'send', side.dev, side.modelMac, `${wire}.frames`], { timeoutMs: 60_000 });
  }
  const outputs = await Promise.all(captures.map((c) => c.done));
  return new Set(outputs.flatMap((o) => o.split('\n')).filter((l) => /^\d+$/.test(l)).map(Number));
}
