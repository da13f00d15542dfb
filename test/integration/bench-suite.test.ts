import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { tempWorkspace } from '../helpers/workspace';
import { runBenchmarks } from '../../extension/core/bench/runner';
import { BENCHMARKS } from '../../extension/core/bench/registry';
import type { Measurement } from '../../extension/core/results/run-file';
import { ResultsStore } from '../../extension/core/results/store';

const NAME = 'sui-suite';
/** netperf is not in Debian: on a machine without it the catalog run leaves it out and a separate test proves it is refused. */
const NETPERF_HERE = spawnSync('sh', ['-c', 'command -v netperf && command -v netserver']).status === 0;
const pids = (role: string) => execFileSync('ip', ['netns', 'pids', `hs-${NAME}-${role}`], { encoding: 'utf8' }).trim();

/** What a sane result of each benchmark looks like on a namespace testbed, whatever the load of the machine. */
const SANE: Record<string, (m: Measurement) => void> = {
  iperf3: (m) => assert.ok(m.metrics.throughput.value > 0.1, `${m.metrics.throughput.value} Gbit/s`),
  ping: (m) => { assert.equal(m.metrics.loss.value, 0); assert.ok(m.metrics.rttP50.value > 0 && m.metrics.rttP50.value < 50); },
  // Loss on a loaded 2-core machine is a result, not a failure; a run that received nothing is not.
  'iperf3-udp': (m) => { assert.ok(m.metrics.throughput.value > 0.01); assert.ok(m.metrics.loss.value < 100); assert.ok(m.metrics.jitter.value >= 0); },
  'iperf3-parallel': (m) => assert.ok(m.metrics.throughput.value > 0.1),
  'iperf3-reverse': (m) => assert.ok(m.metrics.throughput.value > 0.1),
  'iperf3-capped': (m) => {
    assert.ok(m.metrics.throughput.value > 0.5 && m.metrics.throughput.value < 1.05, `${m.metrics.throughput.value} Gbit/s under a 1 Gbit/s cap`);
    assert.match(m.warnings?.[0] ?? '', /sits at the bandwidth cap/);
  },
  'iperf3-udp64': (m) => assert.ok(m.metrics.packetRate.value > 5, `${m.metrics.packetRate.value} kpacket/s`),
  traceroute: (m) => assert.equal(m.metrics.hops.value, m.mode === 'model' ? 2 : 1),
  nuttcp: (m) => { assert.ok(m.metrics.throughput.value > 0.1); assert.ok(m.metrics.retransmits.value >= 0); },
  sockperf: (m) => { assert.ok(m.metrics.rttP50.value > 1 && m.metrics.rttP50.value < 50_000, `${m.metrics.rttP50.value} µs`); assert.ok(m.metrics.rttP99.value >= m.metrics.rttP50.value); },
  netperf: (m) => { assert.ok(m.metrics.rttP50.value > 1); assert.ok(m.metrics.transactionRate.value > 10); },
};

describe('every benchmark of the catalog, end to end on a namespace testbed', () => {
  const ws = tempWorkspace(NAME);
  before(async () => { await ws.backend().up(); });
  after(() => ws.cleanup());

  test('direct and model, real servers started and stopped, metrics parsed with units and directions', async () => {
    assert.deepEqual(BENCHMARKS.map((b) => b.id).filter((id) => !SANE[id]), [], 'every catalog entry has a sanity check here');
    const ids = BENCHMARKS.map((b) => b.id).filter((id) => NETPERF_HERE || id !== 'netperf');
    const run = await runBenchmarks(ws.backend(), { benchmarks: ids, modes: ['direct', 'model'], repetitions: 1, warmup: 0, durationS: 1 },
      { workspace: ws.dir, store: new ResultsStore(ws.dir) });
    assert.equal(run.status, 'complete', run.reason);
    assert.equal(run.results.length, ids.length * 2);
    for (const m of run.results) {
      assert.equal(m.error, undefined, `${m.benchmark} ${m.mode}: ${m.error}`);
      const b = BENCHMARKS.find((x) => x.id === m.benchmark)!;
      assert.ok(m.metrics[b.headline], `${m.benchmark} has its headline metric ${b.headline}`);
      for (const [name, metric] of Object.entries(m.metrics)) {
        assert.ok(Number.isFinite(metric.value), `${m.benchmark}.${name} = ${metric.value}`);
        assert.ok(metric.unit, `${m.benchmark}.${name} has a unit`);
        assert.ok(metric.better === 'higher' || metric.better === 'lower', `${m.benchmark}.${name} has a direction`);
      }
      try {
        SANE[m.benchmark](m);
      } catch (err) {
        throw new Error(`${m.benchmark} ${m.mode}: ${(err as Error).message}\n${JSON.stringify(m.metrics)}`);
      }
    }
    assert.equal(pids('server'), '', 'every server stopped after the run');
    assert.equal(pids('client'), '');
  });

  test(`netperf is ${NETPERF_HERE ? 'installed here and ran above' : 'not installed: a run that asks for it is refused, naming where to get it'}`, async () => {
    if (NETPERF_HERE) return;
    const store = new ResultsStore(ws.dir);
    const before = store.list().runs.length;
    await assert.rejects(runBenchmarks(ws.backend(), { benchmarks: ['ping', 'netperf'], modes: ['direct'], repetitions: 1, warmup: 0, durationS: 1 }, { workspace: ws.dir, store }),
      new RegExp(`^Error: Missing benchmark tools: netperf on client \\(netns hs-${NAME}-client\\) \\(not in Debian: build netperf from https://github.com/HewlettPackard/netperf .*\\); ` +
        `netserver on server \\(netns hs-${NAME}-server\\) \\(not in Debian`));
    assert.equal(store.list().runs.length, before, 'nothing recorded');
  });
});
