// What the results panel, the Runs view and the status bar say about a run: pure functions over run files made
// by the core's own summary (the synthetic runs of the VS Code tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plannedMeasurements, runHeadline } from '../../extension/vscode/headline';
import { formatOverhead, localTime, measuredPairs, numbersOf, planDifferences, shownAsDifference } from '../../webview/shared/run-data';
import { syntheticRun } from '../vscode/synthetic-run';

const a = syntheticRun({ id: 'pol-a', benchmarks: 2, modes: ['direct', 'model'], placements: ['none', 'user'], repetitions: 5 });
const c = syntheticRun({ id: 'pol-c', benchmarks: 2, modes: ['direct', 'model'], placements: ['ebpf'], repetitions: 2, durationS: 2 });

test('the numbers of a benchmark: every metric x placement x mode, model rows with the overhead', () => {
  const rows = numbersOf(a, 'iperf3');
  assert.deepEqual(rows.map((r) => `${r.metric} ${r.placement} ${r.mode}`), [
    'throughput none direct', 'throughput none model', 'throughput user direct', 'throughput user model',
    'retransmits none direct', 'retransmits none model', 'retransmits user direct', 'retransmits user model',
  ], 'perf counters are left to their own table');
  const user = rows.find((r) => r.metric === 'throughput' && r.placement === 'user' && r.mode === 'model')!;
  assert.equal(user.n, 5);
  assert.ok(user.q1 <= user.median && user.median <= user.q3);
  assert.equal(rows.find((r) => r.mode === 'direct')!.overheadPercent, undefined);
});

test('overheads read with their interval, and "no detectable difference" when it contains 0', () => {
  assert.equal(formatOverhead({ overheadPercent: 18.74, ci95: [16.7, 20.7], detectable: true }), '+18.7 % [+16.7, +20.7 %]');
  assert.equal(formatOverhead({ overheadPercent: -1.04, ci95: [-3, 1], detectable: false }), '-1.0 % [-3.0, +1.0 %]: no detectable difference');
  assert.equal(formatOverhead({ overheadPercent: 3.1 }), '+3.1 %', 'no interval in the summary: the figure alone');
  assert.equal(formatOverhead({}), '');
  assert.equal(formatOverhead({ overheadPercent: -37, tooFewRounds: { n: 2, need: 6, paired: true, reason: '' } }), '-37.0 %, too few rounds (n=2, need 6 paired)');
});

test('a run of 2 rounds shows "too few rounds" and no interval (so no whisker, a faint bar); one of 6 its interval and verdict', () => {
  const model = (run: typeof a) => numbersOf(run, 'iperf3').find((r) => r.metric === 'throughput' && r.placement !== 'none' && r.mode === 'model')!;
  const short = model(c);
  assert.equal(short.ci95, undefined);
  assert.equal(short.detectable, undefined);
  assert.equal(shownAsDifference(short), false);
  assert.match(formatOverhead(short), /^[+-][\d.]+ %, too few rounds \(n=2, need 6 paired\)$/);
  const six = model(syntheticRun({ id: 'pol-6', benchmarks: 1, modes: ['direct', 'model'], placements: ['user'], repetitions: 6 }));
  assert.equal(six.tooFewRounds, undefined);
  assert.equal(shownAsDifference(six), true, JSON.stringify(six));
  assert.match(formatOverhead(six), /^\+[\d.]+ % \[\+[\d.]+, \+[\d.]+ %\]$/);
});

test('compare: what each run measured, and how the plans differ', () => {
  assert.deepEqual(measuredPairs(c), ['direct · ebpf', 'model · ebpf']);
  assert.deepEqual(planDifferences(a, c), ['repetitions × duration: 5 × 10 s (A) vs 2 × 2 s (B)', 'placements: none, user (A) vs ebpf (B)']);
  assert.deepEqual(planDifferences(a, a), []);
});

test('times are shown in local time', () => {
  assert.equal(localTime('2026-11-19T10:00:00Z'), new Date('2026-11-19T10:00:00Z').toLocaleString());
  assert.equal(localTime(undefined), '-');
});

test('a none+user run sums up with the user model\'s overhead; a run under way counts against its total', () => {
  assert.match(runHeadline(a), /^iperf3 user: direct [\d.]+ · model [\d.]+ Gbit\/s \(\+[\d.]+ %\)$/);
  const none = syntheticRun({ id: 'pol-n', benchmarks: 1, modes: ['direct', 'model'], placements: ['none'], repetitions: 2 });
  assert.match(runHeadline(none), /^iperf3 none: /);
  assert.equal(plannedMeasurements(a), 2 * 2 * 2 * 5);
  assert.equal(runHeadline({ ...a, status: 'running', results: a.results.slice(0, 7) }), 'running: 7 of 40 measurements');
});
