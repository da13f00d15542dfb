import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { tempWorkspace } from '../helpers/workspace';
import { runBenchmarks } from '../../extension/core/bench/runner';
import { BENCHMARKS } from '../../extension/core/bench/registry';
import type { Measurement } from '../../extension/core/results/run-file';
import { ResultsStore } from '../../extension/core/results/store';

const NAME = 'sui-suite';
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
};

describe('every benchmark of the catalog, end to end on a namespace testbed', () => {
  const ws = tempWorkspace(NAME);
  before(async () => { await ws.backend().up(); });
  after(() => ws.cleanup());

  test('direct and model, real servers started and stopped, metrics parsed with units and directions', async () => {
    const ids = BENCHMARKS.map((b) => b.id);
    assert.deepEqual(ids.filter((id) => !SANE[id]), [], 'every catalog entry has a sanity check here');
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
});
