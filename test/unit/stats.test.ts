import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describe, overheadPercent } from '../../extension/core/results/stats';
import { summarize } from '../../extension/core/results/summary';
import type { Measurement } from '../../extension/core/results/run-file';

test('describe: median, quartiles and spread', () => {
  const s = describe([5, 1, 4, 2, 3]);
  assert.deepEqual({ n: s.n, median: s.median, min: s.min, max: s.max, q1: s.q1, q3: s.q3, iqr: s.iqr, mean: s.mean }, { n: 5, median: 3, min: 1, max: 5, q1: 2, q3: 4, iqr: 2, mean: 3 });
  assert.equal(describe([1, 2, 3, 4]).median, 2.5);
  assert.equal(describe([7]).stdev, 0);
  assert.throws(() => describe([]), /no values/);
});

test('overhead: positive means the model path is worse, for either direction of "better"', () => {
  assert.equal(overheadPercent(10, 8, 'higher'), 20);
  assert.equal(overheadPercent(1, 1.5, 'lower'), 50);
  assert.equal(overheadPercent(0, 1, 'lower'), undefined);
});

test('summarize: groups by benchmark, mode, placement and metric; failed measurements are left out', () => {
  const m = (mode: 'direct' | 'model', value: number, error?: string): Measurement => ({
    benchmark: 'iperf3', mode, placement: 'user', repetition: 1, startedAt: '', durationMs: 1, raw: '',
    metrics: error ? {} : { throughput: { value, unit: 'Gbit/s', better: 'higher' } }, error,
  });
  const s = summarize([m('direct', 10), m('direct', 12), m('model', 9), m('model', 8), m('model', 0, 'iperf3 failed')]);
  const direct = s.find((e) => e.mode === 'direct')!;
  const model = s.find((e) => e.mode === 'model')!;
  assert.equal(direct.stats.median, 11);
  assert.equal(model.stats.n, 2);
  assert.equal(model.overheadPercent, ((11 - 8.5) / 11) * 100);
  assert.equal(direct.overheadPercent, undefined);
});
