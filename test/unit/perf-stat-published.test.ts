// The perf stat parser on `perf stat -x,` output captured by others on machines with hardware counters (this
// project's machines have none); where each file comes from: test/fixtures/bench/perf-stat-published/README.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parsePerfStat } from '../../extension/core/bench/perf-stat';
import { derivedMetrics } from '../../extension/core/bench/profile';
import type { ProfileRecord } from '../../extension/core/results/run-file';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'bench', 'perf-stat-published', name), 'utf8');

/** The figures derived from counters alone (the CPU and traffic readings are beside the point here). */
const derived = (counters: ProfileRecord['counters']) => derivedMetrics({
  scope: 'test', counters, cpu: { busyMs: 1000, softirqMs: 0, totalMs: 2000, cpus: 2 }, softirqs: { netRx: 0, netTx: 0 },
  traffic: { packets: 0, bytes: 0 }, harness: { cpuMs: 0, perfCpuMs: 0, workbenchCpuMs: 0, sharePercent: 0 },
});

test('AMD Ryzen 7 2700X, default events: cycles, instructions, IPC as perf printed it; the metric-only line is skipped', () => {
  const c = parsePerfStat(fixture('amd-ryzen7-2700x.csv'));
  assert.deepEqual(c.cycles, { supported: true, value: 264690533400, runningPercent: 100 });
  assert.deepEqual(c.instructions, { supported: true, value: 425064193324, runningPercent: 100 });
  assert.deepEqual(c['task-clock'], { supported: true, value: 64701.16, unit: 'msec', runningPercent: 100 });
  assert.deepEqual(c['branch-misses'], { supported: true, value: 2404110819, runningPercent: 100 });
  assert.deepEqual(Object.keys(c), ['task-clock', 'context-switches', 'cpu-migrations', 'page-faults', 'cycles', 'stalled-cycles-frontend',
    'stalled-cycles-backend', 'instructions', 'branches', 'branch-misses']);
  const m = derived(c);
  assert.equal(m.ipc.value, 425064193324 / 264690533400);
  assert.equal(m.ipc.value.toFixed(2), '1.61', 'perf printed "1.61 insn per cycle"');
  assert.equal(m.perfCycles.value, 264690533400);
});

test('AMD Ryzen 7 2700X, the file perf stat -o writes: its "# started on" line and the blank line are skipped', () => {
  const c = parsePerfStat(fixture('amd-ryzen7-2700x-o-file.csv'));
  assert.deepEqual(c, {
    instructions: { supported: true, value: 425115750611, runningPercent: 100 },
    'branch-misses': { supported: true, value: 2397300420, runningPercent: 100 },
  });
  assert.equal(derived(c).ipc, undefined, 'no cycles, no IPC');
});

test('Intel, interval output (-I) is refused, not read with its columns shifted; its summary lines parse', () => {
  const csv = fixture('intel-interval-summary.csv');
  assert.throws(() => parsePerfStat(csv), /line " +1\.001323097,8013\.48,msec,cpu-clock,.*" has 8 fields, not 7: interval \(-I\) or per-CPU\/aggregated output is not read/);
  const summary = csv.split('\n').filter((l) => !/^ +\d+\.\d+,/.test(l)).join('\n');
  const c = parsePerfStat(summary);
  assert.deepEqual(c.cycles, { supported: true, value: 20574191, runningPercent: 100 });
  assert.deepEqual(c['cpu-clock'], { supported: true, value: 8013.48, unit: 'msec', runningPercent: 100 });
  assert.equal(derived(c).ipc.value.toFixed(2), '0.51', 'perf printed "0.51 insn per cycle"');
});

test('Intel, counters another perf held: every "<not counted>" is unsupported, never 0, and yields no figure', () => {
  const c = parsePerfStat(fixture('intel-topdown-not-counted.csv'));
  assert.deepEqual(Object.keys(c), ['slots', 'topdown-retiring', 'topdown-be-bound', 'topdown-fe-bound', 'topdown-bad-spec', 'cycles']);
  for (const counter of Object.values(c)) assert.deepEqual(counter, { supported: false, reason: 'not counted' });
  const m = derived(c);
  assert.equal(m.perfCycles, undefined);
  assert.equal(m.ipc, undefined);
  assert.deepEqual(Object.keys(m).filter((k) => k.startsWith('perf')), []);
});
