import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CLI } from '../helpers/workspace';
import { ResultsStore } from '../../extension/core/results/store';
import { SCHEMA_VERSION, type Measurement, type Placement, type RunFile } from '../../extension/core/results/run-file';
import { summarize } from '../../extension/core/results/summary';
import { driftLines, formatOverhead, summaryTable, warningLines } from '../../extension/core/results/table';
import { baselineDrift } from '../../extension/core/results/drift';
import { reportHtml } from '../../extension/core/results/report-html';
import { latexEscape, latexTable, markdownTable, paperRows, runLabels } from '../../extension/core/results/paper-table';
import { replayComparison } from '../../extension/core/results/bundle';

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
    metadata: {
      tool: { name: 'hypershield', version: '0.1.0' }, startedAt: '2026-11-30T00:00:00Z', testbed: { name: 't', backend: 'netns' }, emulated: false, models: [], hosts: [],
      plan: { benchmarks: ['iperf3'], modes: ['direct', 'model'], placements: Object.keys(rounds[0]), repetitions: rounds.length, warmup: 0, durationS: 1 },
    } as unknown as RunFile['metadata'],
    results, summary: summarize(results),
  };
}

/** Rounds of [direct, model] throughput: placement none overlaps direct (-4.5 %), the user model costs 20 %. */
const THREE_ROUNDS: Array<Partial<Record<Placement, [number, number]>>> = [
  { none: [10, 11.5], user: [10, 8] },
  { none: [12, 10.2], user: [12, 9.7] },
  { none: [11, 11.9], user: [11, 8.8] },
];
const SIX_ROUNDS = [...THREE_ROUNDS, ...THREE_ROUNDS];

test('formatOverhead: the figure with its interval, "no detectable difference" when the interval contains 0, "too few rounds" without one', () => {
  assert.equal(formatOverhead(12.34, [8.06, 15]), '+12.3 % [+8.1, +15.0]');
  assert.equal(formatOverhead(-10.5, [-25, 4]), 'no detectable difference (-10.5 % [-25.0, +4.0])');
  assert.equal(formatOverhead(-3, [-5, -1]), '-3.0 % [-5.0, -1.0]');
  assert.equal(formatOverhead(7), '+7.0 % (no interval)');
  assert.equal(formatOverhead(-37, undefined, { n: 2, need: 6, paired: true, reason: '' }), '-37.0 %, too few rounds (n=2, need 6 paired)');
  assert.equal(formatOverhead(undefined), '-');
});

test('terminal table and HTML report say "no detectable difference" for an overhead whose interval contains 0', () => {
  // The demo's case, 6 rounds with overlapping spreads; the user model costs a clear 20 %.
  const run = runOf('r1', SIX_ROUNDS);
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

test('terminal table, HTML report and paper tables say "too few rounds" instead of an interval below 6 paired rounds', () => {
  // Three rounds of the same 20 % cost: the figure stands, no interval or verdict is claimed.
  const run = runOf('r3', SIX_ROUNDS.slice(0, 3));
  const table = summaryTable(run);
  const user = table.split('\n').find((l) => l.startsWith('iperf3     user'))!;
  assert.match(user, /\+20\.0 %, too few rounds \(n=3, need 6 paired\) +\+23\.5 %, too few rounds \(n=3, need 6 paired\)$/, table);
  assert.doesNotMatch(table, /detectable|% \[/);
  assert.match(reportHtml(run), /<td>\+20\.0 %, too few rounds \(n=3, need 6 paired\)<\/td>/);
  const rows = paperRows([run], () => ['throughput']);
  assert.match(markdownTable([run], rows), /\| user \| 3 \| 11\.00 \| 8\.80 \| \+20\.0 %, too few rounds \(n=3, need 6 paired\) \| \+23\.5 %, too few rounds \(n=3, need 6 paired\) \|/);
  const tex = latexTable([run], rows);
  assert.match(tex, /user & 3 & 11\.00 & 8\.80 & \$\+20\.0\$, too few rounds \(n=3, need 6 paired\) & /);
  assert.ok(!tex.split('\n').find((l) => l.includes(' & user & '))!.includes('dagger'), tex);
});

test('Markdown and LaTeX tables compare runs across backends and placements, with intervals', () => {
  const a = runOf('20261130-0100-aaaa', SIX_ROUNDS);
  const ebpf: Array<Partial<Record<Placement, [number, number]>>> = [{ ebpf: [20, 19.5] }, { ebpf: [21, 20.4] }, { ebpf: [19, 18.6] }];
  const b = { ...runOf('20261130-0200-bbbb', [...ebpf, ...ebpf]), metadata: { ...a.metadata, testbed: { ...a.metadata.testbed, backend: 'docker' as const } } };
  assert.deepEqual(runLabels([a, { ...a, id: 'other' }, { ...a, id: 'p', metadata: { ...a.metadata, pinning: { client: '0', notes: [] } } }]),
    ['netns 20261130-0100-aaaa', 'netns other', 'netns, pinned']);
  const rows = paperRows([a, b], () => ['throughput']);
  assert.deepEqual(rows.map((r) => `${r.run}/${r.placement}`), ['netns/none', 'netns/user', 'docker/ebpf']);
  const md = markdownTable([a, b], rows);
  const lines = md.split('\n');
  assert.equal(lines[0], '| Benchmark | Metric | Run | Placement | n | Direct | Model | Overhead vs direct [95 % CI] | vs none [95 % CI] |');
  assert.equal(lines[1], '| --- | --- | --- | --- | ---: | ---: | ---: | --- | --- |');
  assert.match(lines[2], /^\| iperf3 \| throughput \(Gbit\/s, higher is better\) \| netns \| none \| 6 \| 11\.00 \| 11\.50 \| no detectable difference \(-4\.5 % \[-\d+\.\d, \+\d+\.\d\]\) \|  \|$/);
  assert.match(lines[3], /^\| iperf3 \| throughput \(Gbit\/s, higher is better\) \| netns \| user \| 6 \| 11\.00 \| 8\.80 \| \+20\.0 % \[\+\d+\.\d, \+\d+\.\d\] \| \+23\.5 % \[\+\d+\.\d, \+\d+\.\d\] \|$/);
  assert.match(lines[4], /^\| iperf3 \| .* \| docker \| ebpf \| 6 \| 20\.00 \| 19\.50 \| \+2\.5 % \[\+\d\.\d, \+\d\.\d\] \|  \|$/);
  assert.ok(md.includes('- netns: run 20261130-0100-aaaa, testbed t, 2026-11-30T00:00:00Z'));
  assert.ok(md.includes('- docker: run 20261130-0200-bbbb'));

  const tex = latexTable([a, b], rows);
  assert.ok(tex.includes('\\begin{tabular}{llllrrrll}'));
  assert.ok(tex.includes('Benchmark & Metric & Run & Placement & n & Direct & Model & Overhead vs direct & vs none \\\\'));
  assert.match(tex, /iperf3 & throughput \(Gbit\/s, \$\\uparrow\$\) & netns & none & 6 & 11\.00 & 11\.50 & \$-4\.5\$ \[\$-\d+\.\d\$, \$\+\d+\.\d\$\]\$\^\\dagger\$ &  \\\\/);
  assert.match(tex, /netns & user & 6 & 11\.00 & 8\.80 & \$\+20\.0\$ \[\$\+\d+\.\d\$, \$\+\d+\.\d\$\] & \$\+23\.5\$ /);
  assert.doesNotMatch(tex, /user & 6 .*dagger/);
  // Balanced braces and environments: it compiles as written.
  assert.equal((tex.match(/\{/g) ?? []).length, (tex.match(/\}/g) ?? []).length);
  assert.deepEqual(tex.match(/\\begin\{(\w+)\}/g)!.map((x) => x.replace('begin', 'end')), tex.match(/\\end\{(\w+)\}/g)!.reverse());
  assert.equal(latexEscape('rtt_avg 50% {x} & $ #1 ~ ^ \\'), 'rtt\\_avg 50\\% \\{x\\} \\& \\$ \\#1 \\textasciitilde{} \\textasciicircum{} \\textbackslash{}');
});

test('hypershield report RUN RUN --markdown FILE --latex FILE writes both tables of both runs', () => {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-sta-report-'));
  const store = new ResultsStore(ws);
  const a = runOf('20261130-0100-aaaa', [{ user: [10, 8] }, { user: [12, 9.7] }]);
  const b = runOf('20261130-0200-bbbb', [{ ebpf: [20, 19.5] }, { ebpf: [21, 20.4] }]);
  fs.mkdirSync(store.dir, { recursive: true });
  for (const r of [a, b]) store.save(r);
  const r = spawnSync(CLI[0], [CLI[1], '-w', ws, 'report', a.id, b.id, '--markdown', 'out/t.md', '--latex', 'out/t.tex'], { encoding: 'utf8', cwd: ws });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Wrote .*out\/t\.md\nWrote .*out\/t\.tex/);
  const md = fs.readFileSync(path.join(ws, 'out', 't.md'), 'utf8');
  assert.match(md, /\| netns 20261130-0100-aaaa \| user \| 2 \|/);
  assert.match(md, /\| netns 20261130-0200-bbbb \| ebpf \| 2 \|/);
  assert.match(fs.readFileSync(path.join(ws, 'out', 't.tex'), 'utf8'), /netns 20261130-0200-bbbb & ebpf & 2 &/);
  const none = spawnSync(CLI[0], [CLI[1], '-w', ws, 'report', a.id, '--markdown', 'x.md', '--metrics', 'nothing'], { encoding: 'utf8', cwd: ws });
  assert.equal(none.status, 1);
  assert.match(none.stderr, /No model-mode figures of the metrics nothing in 20261130-0100-aaaa/);
  fs.rmSync(ws, { recursive: true });
});

test('drift and flagged cells are listed under the tables, the HTML report too', () => {
  const run = runOf('r2', [{ none: [10, 9] }, { none: [11, 9] }, { none: [12, 9] }]);
  run.drift = baselineDrift(run.results, () => 'throughput');
  run.results[0].warnings = ['30000 TCP retransmits, 0.35 % of about 8600000 segments (over 0.1 %): the path reordered or dropped packets; try --pin'];
  assert.deepEqual(driftLines(run), [
    'baseline drift: iperf3 direct none throughput over 3 rounds: range 18.2 %, trend +9.1 %/round',
    'baseline drift: iperf3 model none throughput over 3 rounds: range 0.0 %, trend +0.0 %/round',
  ]);
  assert.deepEqual(warningLines(run), ['iperf3 direct none: 1 of 3 measurements flagged: 30000 TCP retransmits, 0.35 % of about 8600000 segments (over 0.1 %): the path reordered or dropped packets; try --pin']);
  const html = reportHtml(run);
  assert.ok(html.includes('<h3>Flagged measurements</h3>\n<ul><li>iperf3 direct none: 1 of 3 measurements flagged: 30000 TCP retransmits'));
  assert.ok(html.includes('<li>baseline drift: iperf3 direct none throughput over 3 rounds: range 18.2 %, trend +9.1 %/round</li>'));
});

test('a replay is compared with its original by their intervals, when both runs have enough rounds for them', () => {
  const original = runOf('orig', SIX_ROUNDS);
  const same = runOf('same', SIX_ROUNDS.map((r) => ({ user: r.user! })));
  const cheaper = runOf('cheaper', SIX_ROUNDS.map((r) => ({ user: [r.user![0], r.user![0] * 0.98] as [number, number] })));
  assert.match(replayComparison(original, same)[0], /^iperf3 user throughput: original \+20\.0 % \[.*\], replay \+20\.0 % \[.*\]: consistent \(the intervals overlap\)$/);
  assert.match(replayComparison(original, cheaper)[0], /: DIFFERENT \(the intervals do not overlap\)$/);
  assert.match(replayComparison(original, runOf('short', THREE_ROUNDS))[1], /replay \+20\.0 %, too few rounds \(n=3, need 6 paired\): no interval to compare$/);
});
