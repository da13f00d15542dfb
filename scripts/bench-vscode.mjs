#!/usr/bin/env node
// Figures of the VS Code extension, measured in a real VS Code (code-server) and Chromium: bundle and .vsix sizes,
// activation time, and the time to draw the results panel (its phases, several rounds) for a synthetic run of 10 benchmarks x 2 modes x
// 4 placements x 5 repetitions (400 measurements). Prints figures next to their goals; asserts nothing.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { serverDirs, startCodeServer } from '../test/vscode/code-server.mjs';
import { OUT, ROOT, buildForTests, launchBrowser, packageVsix, runInExtensionHost, syntheticRuns, tempBase } from '../test/vscode/harness.mjs';

const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
const size = (rel) => fs.statSync(path.join(ROOT, rel)).size;
const row = (label, value, goal = '') => process.stdout.write(`${label.padEnd(52)} ${String(value).padEnd(26)} ${goal}\n`);

await buildForTests({ production: true });
await build({ entryPoints: [path.join(ROOT, 'test', 'vscode', 'bench-entry.ts')], outfile: path.join(OUT, 'bench.js'), bundle: true, platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'], logLevel: 'warning' });
const vsix = packageVsix();

const { syntheticRun } = await syntheticRuns();
const run = syntheticRun({ id: 'bench-10x2x4x5', benchmarks: 10, modes: ['direct', 'model'], placements: ['none', 'user', 'ebpf', 'kernel'], repetitions: 5 });
const base = tempBase('hs-bench-vscode-');
const browser = await launchBrowser();
let server;
try {
  const runFile = path.join(base, `${run.id}.json`);
  fs.writeFileSync(runFile, JSON.stringify(run));
  const ws = path.join(base, 'ws');
  fs.mkdirSync(ws);
  const figures = path.join(base, 'figures.json');
  server = await startCodeServer({ dirs: serverDirs(path.join(base, 'server')), env: { HS_BENCH_OUT: figures, HS_BENCH_RUN: runFile } });
  const code = await runInExtensionHost(browser, server, { workspace: ws, extensionPath: ROOT, testsEntry: path.join(OUT, 'bench'), timeoutMs: 120_000 });
  if (code !== 0 || !fs.existsSync(figures)) throw new Error(`the measurement in VS Code failed (exit ${code})`);
  const f = JSON.parse(fs.readFileSync(figures, 'utf8'));

  // The same run as a self-contained HTML report (written by the CLI), opened straight in Chromium.
  const reportWs = path.join(base, 'report-ws');
  fs.mkdirSync(path.join(reportWs, '.hypershield', 'results'), { recursive: true });
  fs.copyFileSync(runFile, path.join(reportWs, '.hypershield', 'results', `${run.id}.json`));
  const reportFile = path.join(base, 'report.html');
  execFileSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), '--workspace', reportWs, 'report', run.id, '--html', reportFile], { stdio: 'pipe' });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const t = Date.now();
  await page.goto(`file://${reportFile}`);
  await page.waitForSelector('body[data-rendered="true"]', { timeout: 30_000 });
  const reportMs = Date.now() - t;
  const reportCharts = await page.locator('canvas').count();
  await page.close();

  process.stdout.write(`\nHyperShield VS Code extension (${run.results.length} measurements in the synthetic run)\n\n`);
  row('bundle dist/extension.js', kib(size('dist/extension.js')));
  row('bundle dist/webview/results.js (panel)', kib(size('dist/webview/results.js')));
  row('bundle dist/webview/report.js (HTML report)', kib(size('dist/webview/report.js')));
  row('bundle dist/cli.js', kib(size('dist/cli.js')));
  row('.vsix', kib(fs.statSync(vsix).size), 'goal < 5 MB');
  row('activation: load + activate()', `${f.activationMs.toFixed(1)} ms`, 'goal < 200 ms');
  row('activation: activate() body', `${f.activateBodyMs.toFixed(1)} ms`);
  const of = (kind) => f.renders.filter((r) => r.kind === kind);
  const spread = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return `median ${s[Math.floor((s.length - 1) / 2)].toFixed(0)} ms (${s[0].toFixed(0)}-${s[s.length - 1].toFixed(0)}, n=${s.length})`;
  };
  const [first] = of('first');
  row('results panel, first panel of the window: command to charts drawn', `${first.wallMs.toFixed(0)} ms (${first.charts} charts, ${first.deferred} deferred)`);
  row('results panel, new panel: command to charts drawn', spread(of('new').map((r) => r.wallMs)), 'goal < 700 ms');
  row('results panel, redraw of an open panel', spread(of('redraw').map((r) => r.wallMs)));
  // Each phase of a new panel: the time from the mark before it in time (extension host and webview share a clock), so
  // the phases read the same whichever order the panel takes them in.
  const labels = {
    read: 'run file read', panel: 'createWebviewPanel', html: 'HTML set', page: 'webview page starts loading', scriptFetched: 'script fetched',
    started: 'script parsed and started', posted: 'data posted', dataIn: 'data in the webview', drawn: 'charts drawn', received: '"rendered" back in the extension',
  };
  const steps = new Map();
  for (const r of of('new')) {
    const ordered = Object.entries(r.marks).filter(([m]) => m in labels || m === 'command').sort((a, b) => a[1] - b[1]);
    ordered.forEach(([mark, at], i) => {
      if (i === 0) return;
      steps.set(mark, [...(steps.get(mark) ?? []), at - ordered[i - 1][1]]);
    });
  }
  const order = (m) => Math.min(...of('new').map((r) => r.marks[m] - r.marks.command).filter((x) => Number.isFinite(x)));
  for (const mark of [...steps.keys()].sort((a, b) => order(a) - order(b))) row(`  new panel phase: ${labels[mark]}`, spread(steps.get(mark)));
  row('HTML report in Chromium: load to charts drawn', `${reportMs} ms (${reportCharts} charts)`);
} finally {
  await server?.stop();
  await browser.close();
  fs.rmSync(base, { recursive: true, force: true });
}
