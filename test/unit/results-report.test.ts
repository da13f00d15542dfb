import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCHEMA_VERSION, type Measurement, type Placement, type RunFile } from '../../extension/core/results/run-file';
import { summarize } from '../../extension/core/results/summary';
import { formatOverhead, summaryTable } from '../../extension/core/results/table';
import { reportHtml } from '../../extension/core/results/report-html';

/** A run of iperf3 throughput per round: [direct, model] per placement. */
function runOf(id: string, rounds: Array<Partial<Record<Placement, [number, number]>>>): RunFile {
  const results: Measurement[] = [];
  rounds.forEach((cells, i) => {
    for (const [placement, [direct, model]] of Object.entries(cells) as Array<[Placement, [number, number]]>) {
      for (const [mode, value] of [['direct', direct], ['model', model]] as const) {
        results.push({ benchmark: 'iperf3', mode, placement, repetition: i + 1, startedAt: '', durationMs: 1000, raw: '', metrics: { throughput: { value, unit: 'Gbit/s', better: 'higher' } } });
      }
    }
  });
  return {
    schemaVersion: SCHEMA_VERSION, id, status: 'complete',
    metadata: { startedAt: '2026-11-30T00:00:00Z', testbed: { name: 't', backend: 'netns' }, emulated: false, models: [], hosts: [] } as unknown as RunFile['metadata'],
    results, summary: summarize(results),
  };
}

test('formatOverhead: the figure with its interval, "no detectable difference" when the interval contains 0', () => {
  assert.equal(formatOverhead(12.34, [8.06, 15]), '+12.3 % [+8.1, +15.0]');
  assert.equal(formatOverhead(-10.5, [-25, 4]), 'no detectable difference (-10.5 % [-25.0, +4.0])');
  assert.equal(formatOverhead(-3, [-5, -1]), '-3.0 % [-5.0, -1.0]');
  assert.equal(formatOverhead(7), '+7.0 %');
  assert.equal(formatOverhead(undefined), '-');
});

test('terminal table and HTML report say "no detectable difference" for an overhead whose interval contains 0', () => {
  // The demo's case: 3 repetitions with overlapping spreads; the user model costs a clear 20 %.
  const run = runOf('r1', [
    { none: [10, 11.5], user: [10, 8] },
    { none: [12, 10.2], user: [12, 9.7] },
    { none: [11, 11.9], user: [11, 8.8] },
  ]);
  const table = summaryTable(run);
  const none = table.split('\n').find((l) => l.startsWith('iperf3     none'))!;
  const user = table.split('\n').find((l) => l.startsWith('iperf3     user'))!;
  assert.match(none, /no detectable difference \(-\d+\.\d % \[-\d+\.\d, \+\d+\.\d\]\)/, table);
  assert.match(user, /\+20\.0 % \[\+\d+\.\d, \+\d+\.\d\]/, table);
  assert.doesNotMatch(user, /no detectable/);
  assert.match(table.split('\n')[0], /vs placement none \[95 % CI\]/);
  const html = reportHtml(run);
  assert.match(html, /<td>no detectable difference \(-\d+\.\d % \[-\d+\.\d, \+\d+\.\d\]\)<\/td>/);
  assert.match(html, /<td>\+20\.0 % \[\+\d+\.\d, \+\d+\.\d\]<\/td>/);
});
