// Regression tracking per model build on synthetic runs of the core's seeded generator: which run is the previous
// build's, and what changed between them with intervals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { syntheticRun, type SyntheticOptions } from '../vscode/synthetic-run';
import { buildComparisonLines, compareBuilds, formatBuildChange, headlineChanges, previousBuildRun } from '../../extension/core/results/build-regression';
import { summarize } from '../../extension/core/results/summary';
import { ResultsStore } from '../../extension/core/results/store';
import { buildAnnotations } from '../../extension/core/results/build-annotations';
import { templatesDir } from '../../extension/core/model/templates';
import type { ModelInfo, RunFile } from '../../extension/core/results/run-file';

const DIR = '/work/project/model';
const build = (n: number, dir = DIR): ModelInfo => ({ placement: 'user', dir, sourceHash: String(n).repeat(64), buildId: String(n + 5).repeat(64) });

/** A run of build `b` of the user model, started at `at`; `modelCost` scales the model path's throughput only. */
function run(id: string, b: ModelInfo, at: string, o: Partial<SyntheticOptions> & { modelCost?: number } = {}): RunFile {
  const r = syntheticRun({ id, benchmarks: 2, modes: ['direct', 'model'], placements: ['none', 'user'], repetitions: 8, startedAt: at, ...o });
  if (o.modelCost) {
    for (const m of r.results) if (m.mode === 'model' && m.placement === 'user' && m.metrics.throughput) m.metrics.throughput.value *= o.modelCost;
    r.summary = summarize(r.results);
  }
  return { ...r, metadata: { ...r.metadata, models: [b] } };
}

test('the previous build is the latest earlier complete run of another build of the same model with a comparable plan', () => {
  const b1 = run('b1', build(1), '2026-11-30T10:00:00Z');
  const b1again = run('b1again', build(1), '2026-11-30T11:00:00Z');
  const b2early = run('b2early', build(2), '2026-11-30T12:00:00Z');
  const otherPlan = run('other-plan', build(3), '2026-11-30T13:00:00Z', { benchmarks: 1 });
  const otherDir = run('other-dir', build(3, '/elsewhere/model'), '2026-11-30T13:30:00Z');
  const failed = { ...run('failed', build(3), '2026-11-30T14:00:00Z'), status: 'failed' as const };
  const b2 = run('b2', build(2), '2026-11-30T15:00:00Z');
  const later = run('later', build(1), '2026-12-01T09:00:00Z');
  const all = [b1, b1again, b2early, otherPlan, otherDir, failed, b2, later];
  // b2's previous build is build 1 (its latest run), not the earlier run of build 2 itself, nor runs that do not compare.
  assert.equal(previousBuildRun(b2, 'user', all)?.id, 'b1again');
  assert.equal(previousBuildRun(b1, 'user', all), undefined, 'nothing before the first run');
  // A reverted build compares with the build it replaced.
  assert.equal(previousBuildRun(later, 'user', all)?.id, 'b2');
  assert.equal(previousBuildRun(b2, 'ebpf', all), undefined, 'a placement the run did not measure has no previous build');
});

test('a run that measured two builds of a placement has no single build to compare', () => {
  const mixed = run('mixed', build(2), '2026-11-30T15:00:00Z');
  mixed.metadata.models.push(build(3));
  assert.equal(previousBuildRun(mixed, 'user', [run('b1', build(1), '2026-11-30T10:00:00Z'), mixed]), undefined);
});

test('a model 10 % slower in the new build shows as a detectable throughput change with its interval', () => {
  const prev = run('prev', build(1), '2026-12-01T02:10:00Z');
  const cur = run('cur', build(2), '2026-12-01T03:00:00Z', { modelCost: 0.9 });
  const c = compareBuilds(prev, cur, 'user');
  const tp = c.changes.find((ch) => ch.benchmark === 'iperf3' && ch.metric === 'throughput')!;
  assert.equal(tp.basis, 'vs-direct');
  assert.ok(tp.changePercent < -6 && tp.changePercent > -14, `change ${tp.changePercent}`);
  assert.ok(tp.ci95 && tp.ci95[0] <= tp.changePercent && tp.changePercent <= tp.ci95[1]);
  assert.equal(tp.detectable, true);
  assert.match(formatBuildChange(tp, c), /^throughput -\d+\.\d % \[-\d+\.\d, -\d+\.\d\] vs previous build \(run 2026-12-01 02:10\)$/);
  assert.deepEqual(headlineChanges(c).map((ch) => `${ch.benchmark}/${ch.metric}`), ['iperf3/throughput', 'ping/rttAvg']);
  const rtt = headlineChanges(c)[1];
  assert.equal(rtt.detectable, false, 'the model change left latency alone');
  assert.match(formatBuildChange(rtt, c), /^rttAvg no detectable difference \([+-]\d+\.\d % \[-\d+\.\d, \+\d+\.\d\]\) vs previous build/);
  // Only the model path of the compared placement counts.
  assert.ok(c.changes.every((ch) => ch.benchmark === 'iperf3' || ch.benchmark === 'ping'));
  assert.equal(c.previous.model.sourceHash, build(1).sourceHash);
  const lines = buildComparisonLines(c, ['throughput']);
  assert.equal(lines.length, 4);
  assert.match(lines[3], /iperf3: throughput -\d+\.\d % .* relative to direct in each run$/);
});

test('a faster machine with the same model cost is no detectable difference: each run is taken relative to its own direct path', () => {
  const prev = run('prev', build(1), '2026-12-01T02:10:00Z');
  const cur = run('cur', build(2), '2026-12-01T03:00:00Z', { scale: 1.25 });
  const tp = compareBuilds(prev, cur, 'user').changes.find((ch) => ch.metric === 'throughput')!;
  assert.equal(tp.detectable, false, `change ${tp.changePercent} ${tp.ci95}`);
});

test('runs of 3 rounds give the change "too few rounds" and no verdict; 4 rounds a run give one (the runs are unpaired)', () => {
  const short = { repetitions: 3 };
  const tp = compareBuilds(run('prev', build(1), '2026-12-01T02:10:00Z', short), run('cur', build(2), '2026-12-01T03:00:00Z', { ...short, modelCost: 0.8 }), 'user')
    .changes.find((ch) => ch.metric === 'throughput')!;
  assert.ok(tp.changePercent < -12, `change ${tp.changePercent}`);
  assert.equal(tp.ci95, undefined);
  assert.equal(tp.detectable, undefined);
  assert.deepEqual(tp.tooFewRounds, { n: 3, need: 4, paired: false, reason: 'too few rounds (n=3, need 4 a side)' });
  const c = compareBuilds(run('prev', build(1), '2026-12-01T02:10:00Z', short), run('cur', build(2), '2026-12-01T03:00:00Z', short), 'user');
  assert.match(formatBuildChange(c.changes.find((ch) => ch.metric === 'throughput')!, c),
    /^throughput [+-]\d+\.\d %, too few rounds \(n=3, need 4 a side\) vs previous build \(run 2026-12-01 02:10\)$/);
  const four = { repetitions: 4 };
  const tp4 = compareBuilds(run('prev', build(1), '2026-12-01T02:10:00Z', four), run('cur', build(2), '2026-12-01T03:00:00Z', { ...four, modelCost: 0.8 }), 'user')
    .changes.find((ch) => ch.metric === 'throughput')!;
  assert.equal(tp4.tooFewRounds, undefined);
  assert.equal(tp4.detectable, true, JSON.stringify(tp4));
});

test('without direct values the change is of the model path\'s absolute values', () => {
  const modelOnly = { modes: ['model' as const] };
  const prev = run('prev', build(1), '2026-12-01T02:10:00Z', modelOnly);
  const cur = run('cur', build(2), '2026-12-01T03:00:00Z', { ...modelOnly, scale: 1.25 });
  const tp = compareBuilds(prev, cur, 'user').changes.find((ch) => ch.metric === 'throughput')!;
  assert.equal(tp.basis, 'absolute');
  assert.ok(tp.changePercent > 18 && tp.changePercent < 32, `change ${tp.changePercent}`);
  assert.equal(tp.detectable, true);
});

test('the results store finds the previous build among the run files and the newest run of a model', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-rgstore-'));
  try {
    const store = new ResultsStore(dir);
    fs.mkdirSync(store.dir, { recursive: true });
    const runs = [run('20261201-010000-aaaa', build(1), '2026-12-01T01:00:00Z'), run('20261201-020000-bbbb', build(2), '2026-12-01T02:00:00Z')];
    for (const r of runs) store.save(r);
    const cur = store.latestOfModel(DIR, 'user')!;
    assert.equal(cur.id, '20261201-020000-bbbb');
    assert.equal(store.previousBuild(cur, 'user')?.id, '20261201-010000-aaaa');
    assert.equal(store.latestOfModel('/elsewhere', 'user'), undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the hook function of the user template carries one annotation per headline metric, opening both runs', () => {
  const text = fs.readFileSync(path.join(templatesDir(), 'user_space_model.c'), 'utf8');
  const hookLine = text.split('\n').findIndex((l) => l.startsWith('static void handle_packet('));
  const prev = run('prev', build(1), '2026-12-01T02:10:00Z');
  const cur = run('cur', build(2), '2026-12-01T03:00:00Z', { modelCost: 0.9 });
  const annotations = buildAnnotations([cur, prev], DIR, ['user', 'ebpf'], text, build(3).sourceHash);
  assert.deepEqual(annotations.map((a) => [a.line, a.runs]), [[hookLine, ['prev', 'cur']], [hookLine, ['prev', 'cur']]]);
  assert.match(annotations[0].title, /^throughput -\d+\.\d % \[.*\] vs previous build \(run 2026-12-01 02:10\)$/);
  assert.match(annotations[1].title, /^rttAvg no detectable difference/);
  assert.match(annotations[0].tooltip, /sources changed since/);
  // Only one build measured: the annotation says so and opens that run.
  const [only] = buildAnnotations([prev], DIR, ['user'], text, build(1).sourceHash);
  assert.deepEqual(only.runs, ['prev']);
  assert.match(only.title, /^user build 66666666: no previous build measured with a comparable plan$/);
  assert.doesNotMatch(only.tooltip, /changed since/);
  // A file that does not define the hook gets none.
  assert.deepEqual(buildAnnotations([cur, prev], DIR, ['user'], 'int main(void) { return 0; }\n'), []);
});
