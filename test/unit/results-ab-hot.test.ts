// What the tables and views show of an A/B run of hypervisor builds (an arm column, B vs A per metric) and of a
// profiled run (hot functions and lines, and which of them a view may open), on runs summarised by the core itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hotSpots } from '../../extension/core/results/hot-spots';
import { resolveHotLine } from '../../extension/core/results/hot-source';
import { latexTable, markdownTable, paperRows } from '../../extension/core/results/paper-table';
import { reportHtml } from '../../extension/core/results/report-html';
import { ResultsStore } from '../../extension/core/results/store';
import { abLines, compareTable, summaryTable, toCsv } from '../../extension/core/results/table';
import { abChangesOf, formatChange, groupsOf, numbersOf, overheadsOf, perfCountersOf, seriesOf } from '../../webview/shared/run-data';
import { HOT_SOURCE, syntheticRun } from '../vscode/synthetic-run';

const ab = (repetitions: number) => syntheticRun({ id: `rv-ab${repetitions}`, benchmarks: 2, modes: ['direct', 'model'], placements: ['none'], repetitions, arms: ['A', 'B'], armScale: 0.9 });
const plain = syntheticRun({ id: 'rv-plain', benchmarks: 1, modes: ['direct', 'model'], placements: ['none', 'user'], repetitions: 3 });

test('the terminal table of an A/B run has an arm column and a row per arm; other runs keep their columns', () => {
  const lines = summaryTable(ab(8), ['throughput']).split('\n');
  assert.match(lines[0], /^benchmark +arm +placement +metric +direct median/);
  assert.equal(lines.length, 3, lines.join('\n'));
  assert.match(lines[1], /^iperf3 +A +none +throughput +[\d.]+ \[[\d.]+\] Gbit\/s/);
  assert.match(lines[2], /^iperf3 +B +none +throughput +[\d.]+ \[[\d.]+\] Gbit\/s/);
  assert.notEqual(lines[1].replace(/^iperf3 +A/, ''), lines[2].replace(/^iperf3 +B/, ''), 'each arm its own figures');
  assert.doesNotMatch(summaryTable(plain).split('\n')[0], /\barm\b/);
  assert.match(compareTable(ab(8), ab(6)).split('\n')[0], /^benchmark +arm +placement/);
  assert.doesNotMatch(compareTable(plain, plain).split('\n')[0], /\barm\b/);
});

test('the CSV of an A/B run names each measurement\'s arm; a run without arms keeps its columns', () => {
  const csv = toCsv(ab(2)).split('\n');
  assert.equal(csv[0], 'run,benchmark,arm,mode,placement,repetition,started_at,metric,value,unit,error');
  assert.match(csv[1], /^rv-ab2,iperf3,A,direct,none,1,/);
  assert.ok(csv.some((l) => /^rv-ab2,iperf3,B,model,none,2,.*,throughput,/.test(l)));
  assert.equal(toCsv(plain).split('\n')[0], 'run,benchmark,mode,placement,repetition,started_at,metric,value,unit,error');
});

test('Markdown and LaTeX tables of an A/B run have an Arm column; of other runs, not', () => {
  const run = ab(8);
  const rows = paperRows([run], () => ['throughput']);
  assert.deepEqual(rows.map((r) => r.arm), ['A', 'B']);
  const md = markdownTable([run], rows).split('\n');
  assert.equal(md[0], '| Benchmark | Metric | Run | Arm | Placement | n | Direct | Model | Overhead vs direct [95 % CI] | vs none [95 % CI] |');
  assert.equal(md[1], '| --- | --- | --- | --- | --- | ---: | ---: | ---: | --- | --- |');
  assert.match(md[2], /^\| iperf3 \| throughput \(Gbit\/s, higher is better\) \| netns \| A \| none \| 8 \| /);
  assert.match(md[3], /^\| iperf3 \| .* \| netns \| B \| none \| 8 \| /);
  const tex = latexTable([run], rows);
  assert.ok(tex.includes('\\begin{tabular}{lllllrrrll}'), tex);
  assert.ok(tex.includes('Benchmark & Metric & Run & Arm & Placement & n &'));
  assert.match(tex, /netns & B & none & 8 & /);
  assert.doesNotMatch(markdownTable([plain], paperRows([plain], () => ['throughput'])), /\| Arm \|/);
});

test('B vs A per metric: with an interval from 6 paired rounds, "too few rounds" below; in the CLI, the panel and the HTML report', () => {
  const eight = ab(8);
  const tp = (run: ReturnType<typeof ab>) => abChangesOf(run).find((c) => c.benchmark === 'iperf3' && c.metric === 'throughput')!;
  assert.ok(abChangesOf(eight).every((c) => !c.metric.startsWith('perf.')), 'perf counters are left out of the view');
  assert.equal(tp(eight).arm, 'B');
  assert.match(formatChange(tp(eight)), /^-\d+\.\d % \[-\d+\.\d, -\d+\.\d %\]$/, 'a 10 % lower throughput, signed as it moved, with its interval');
  const line = abLines(eight).find((l) => l.startsWith('iperf3 model none throughput'))!;
  assert.match(line, /^iperf3 model none throughput: B vs A -\d+\.\d % \[-\d+\.\d, -\d+\.\d\]$/);
  const two = ab(2);
  assert.match(formatChange(tp(two)), /^-\d+\.\d %, too few rounds \(n=2, need 6 paired\)$/);
  assert.ok(abLines(two).every((l) => l.includes('too few rounds (n=2, need 6 paired)')));
  const html = reportHtml(two);
  assert.match(html, /<section id="ab-comparison">/);
  assert.match(html, /<tr><td>iperf3<\/td><td>model<\/td><td>none<\/td><td>throughput \(Gbit\/s, higher is better\)<\/td><td>B vs A<\/td><td>-\d+\.\d %, too few rounds \(n=2, need 6 paired\)<\/td><\/tr>/);
  assert.match(reportHtml(eight), /<td>B vs A<\/td><td>-\d+\.\d % \[-\d+\.\d, -\d+\.\d\]<\/td>/);
  assert.doesNotMatch(reportHtml(plain), /<section id="ab-comparison">/);
  // The panel's numbers, charts and perf counters name the arm of each row and group.
  const rows = numbersOf(eight, 'iperf3').filter((r) => r.metric === 'throughput' && r.mode === 'model');
  assert.deepEqual(rows.map((r) => r.arm), ['A', 'B']);
  const groups = groupsOf(eight, 'iperf3', 'throughput');
  assert.deepEqual(groups.map((g) => g.label), ['direct · none · A', 'direct · none · B', 'model · none · A', 'model · none · B']);
  assert.ok(groups.every((g) => g.values.length === 8 && g.median !== undefined), 'each arm its own repetitions and median');
  assert.deepEqual(seriesOf(eight, 'iperf3', 'throughput').map((l) => l.label.replace(/ \(repetition \d+\)$/, '')), groups.map((g) => g.label));
  assert.deepEqual([...new Set(perfCountersOf(eight).map((r) => r.arm))], ['A', 'B']);
  const headlines = { iperf3: 'throughput', ping: 'rttAvg' };
  assert.deepEqual(overheadsOf({ run: eight, headlines }, eight).filter((o) => o.benchmark === 'iperf3').map((o) => `${o.placement} ${o.arm}`), ['none A', 'none B'], 'the overview has each arm\'s overhead');
  assert.deepEqual(groupsOf(plain, 'iperf3', 'throughput').map((g) => g.label), ['direct · none', 'model · none', 'direct · user', 'model · user']);
});

test('an A/B run and a profiled run as the views draw them are valid run files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-hv-store-'));
  try {
    const store = new ResultsStore(dir);
    fs.mkdirSync(store.dir, { recursive: true });
    const runs = [ab(2), syntheticRun({ id: 'rv-hot', benchmarks: 1, modes: ['direct', 'model'], placements: ['user'], repetitions: 2, profile: { placement: 'user', modelDir: dir } })];
    for (const r of runs) {
      store.save(r);
      assert.deepEqual(store.read(r.id), r);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A model project folder with the profiled source, a file outside it, and a link from inside to outside. */
function modelFolder(): { root: string; modelDir: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-hv-hot-'));
  const modelDir = path.join(root, 'model');
  fs.mkdirSync(path.join(modelDir, 'src'), { recursive: true });
  fs.writeFileSync(path.join(modelDir, HOT_SOURCE.file), Array.from({ length: 60 }, (_, i) => `/* line ${i + 1} */`).join('\n'));
  fs.writeFileSync(path.join(root, 'secret.c'), 'outside\n');
  fs.symlinkSync(path.join(root, 'secret.c'), path.join(modelDir, 'src', 'link.c'));
  return { root, modelDir };
}

test('a profiled run\'s hot functions and lines are in the HTML report, readable without scripts', () => {
  const { root, modelDir } = modelFolder();
  try {
    const run = syntheticRun({ id: 'rv-hot', benchmarks: 1, modes: ['direct', 'model'], placements: ['none', 'user'], repetitions: 2, profile: { placement: 'user', modelDir } });
    const html = reportHtml(run);
    const section = html.slice(html.indexOf('<section id="hot-spots">'), html.indexOf('</section>', html.indexOf('<section id="hot-spots">')));
    assert.ok(section.length > 0, 'the report has a hot section');
    assert.match(section, /<h3>user: \d+ of \d+ samples are the model&#39;s, 2 repetition\(s\)<\/h3>/);
    assert.match(section, /<tr><td>match_payload<\/td><td>60\.0 %<\/td><td>\d+<\/td><td>src\/filter\.c:42<\/td><td>hs-filter<\/td><\/tr>/);
    assert.match(section, /<tr><td>memcpy<\/td><td>15\.0 %<\/td><td>\d+<\/td><td><\/td><td>libc\.so\.6<\/td><\/tr>/);
    assert.match(section, /<table class="hot-lines">\n<tr><th>source line<\/th>.*\n<tr><td>src\/filter\.c:42<\/td><td>match_payload<\/td><td>60\.0 %<\/td>/);
    assert.ok(section.includes(`Source lines are relative to ${modelDir}.`));
    assert.doesNotMatch(reportHtml(syntheticRun({ id: 'rv-cold', benchmarks: 1, modes: ['direct', 'model'], placements: ['user'], repetitions: 2 })), /<section id="hot-spots">/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a hot line opens only when the run holds it and its file is inside the run\'s model folder', () => {
  const { root, modelDir } = modelFolder();
  try {
    const run = syntheticRun({ id: 'rv-hot', benchmarks: 1, modes: ['direct', 'model'], placements: ['user'], repetitions: 2, profile: { placement: 'user', modelDir } });
    const spots = hotSpots(run);
    assert.equal(resolveHotLine(spots, { placement: 'user', file: HOT_SOURCE.file, line: 42 }), fs.realpathSync(path.join(modelDir, HOT_SOURCE.file)));
    assert.equal(resolveHotLine(spots, { placement: 'user', file: HOT_SOURCE.file, line: 17 }), fs.realpathSync(path.join(modelDir, HOT_SOURCE.file)));
    // Lines the run does not hold, whatever file they name.
    assert.throws(() => resolveHotLine(spots, { placement: 'user', file: HOT_SOURCE.file, line: 43 }), /The run has no hot line src\/filter\.c:43 \(user placement\)/);
    assert.throws(() => resolveHotLine(spots, { placement: 'ebpf', file: HOT_SOURCE.file, line: 42 }), /no hot line .*ebpf placement/);
    assert.throws(() => resolveHotLine(spots, { placement: 'user', file: '/etc/passwd', line: 1 }), /no hot line \/etc\/passwd:1/);
    // Lines the run holds but that lead outside the folder: a climb, a link, an absolute path (looked for by name).
    const tampered = (file: string) => hotSpots({ ...run, results: run.results.map((m) => (m.profile?.hot
      ? { ...m, profile: { ...m.profile, hot: { ...m.profile.hot, lines: [{ file, line: 1, function: 'f', samples: 5, percent: 50 }] } } } : m)) });
    assert.throws(() => resolveHotLine(tampered('../secret.c'), { placement: 'user', file: '../secret.c', line: 1 }), /\.\.\/secret\.c:1 \(user placement\) is not a file inside the model project folder/);
    assert.throws(() => resolveHotLine(tampered('src/link.c'), { placement: 'user', file: 'src/link.c', line: 1 }), /is not a file inside the model project folder/);
    assert.throws(() => resolveHotLine(tampered(path.join(root, 'secret.c')), { placement: 'user', file: path.join(root, 'secret.c'), line: 1 }), /is not a file inside/);
    assert.throws(() => resolveHotLine(tampered('src'), { placement: 'user', file: 'src', line: 1 }), /is not a file inside/, 'a folder is not opened');
    // A build made elsewhere: its absolute path, found by name in the model folder.
    fs.writeFileSync(path.join(modelDir, 'top.c'), 'int x;\n');
    const elsewhere = '/build/other-machine/top.c';
    assert.equal(resolveHotLine(tampered(elsewhere), { placement: 'user', file: elsewhere, line: 1 }), fs.realpathSync(path.join(modelDir, 'top.c')));
    // The model folder is gone.
    fs.rmSync(modelDir, { recursive: true });
    assert.throws(() => resolveHotLine(spots, { placement: 'user', file: HOT_SOURCE.file, line: 42 }), new RegExp(`The model project folder ${modelDir} of this run is gone`));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
