#!/usr/bin/env node
// The VS Code tests in one command: installs code-server into .cache/ when missing, runs the extension-host tests
// (the development build, loaded through VS Code's extension-test mechanism), then packages the .vsix, installs it
// and runs the UI tests with Chromium. Prints "N passed, N failed" and exits non-zero on any failure.
// Needs root (the tests bring a namespace testbed "tvsc" up) and /usr/bin/chromium.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureCodeServer, installVsix, serverDirs, startCodeServer } from './code-server.mjs';
import {
  ARTIFACTS, OUT, ROOT, buildForTests, launchBrowser, makeWorkspace, packageVsix, runInExtensionHost, syntheticRuns, tempBase, testbedDown,
} from './harness.mjs';
import { uiTests } from './ui.mjs';

const verbose = process.argv.includes('--verbose');
const keep = process.argv.includes('--keep'); // keep the workspaces and code-server logs for a look afterwards
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length); // "host" or "ui"
const started = Date.now();
const results = [];
const record = (title, state, ms, error) => {
  results.push({ title, state });
  const mark = state === 'passed' ? 'ok  ' : 'FAIL';
  process.stdout.write(`${mark} ${title} (${ms} ms)\n`);
  if (error) process.stdout.write(`     ${String(error).split('\n').slice(0, 12).join('\n     ')}\n`);
};

// Screenshots of this run only.
fs.rmSync(ARTIFACTS, { recursive: true, force: true });
fs.mkdirSync(ARTIFACTS, { recursive: true });
ensureCodeServer();
const base = tempBase('hs-vscode-');
const cleanups = [];
let browser;
try {
  await buildForTests();
  const { syntheticRun, HOT_SOURCE } = await syntheticRuns();
  const fixtures = [
    syntheticRun({ id: 'synthetic-a', benchmarks: 2, modes: ['direct', 'model'], placements: ['none', 'user'], repetitions: 6, startedAt: '2026-11-20T10:00:00Z' }),
    syntheticRun({ id: 'synthetic-b', benchmarks: 2, modes: ['direct', 'model'], placements: ['none', 'user'], repetitions: 6, scale: 0.9, startedAt: '2026-11-21T10:00:00Z' }),
    // Another placement and a shorter plan: nothing pairs up with the runs above when compared.
    syntheticRun({ id: 'synthetic-c', benchmarks: 2, modes: ['direct', 'model'], placements: ['ebpf'], repetitions: 2, durationS: 2, startedAt: '2026-11-19T10:00:00Z' }),
  ];
  browser = await launchBrowser();

  if (only !== 'ui') {
    process.stdout.write('\nExtension-host tests (development build, real VS Code API)\n');
    const ws = makeWorkspace(base, 'ws-host', fixtures);
    cleanups.push(() => testbedDown(ws));
    const resultsFile = path.join(base, 'host-results.json');
    const server = await startCodeServer({ dirs: serverDirs(path.join(base, 'server-host')), env: { HS_VSCODE_TEST_RESULTS: resultsFile }, log: verbose ? (l) => process.stderr.write(`[code-server] ${l}\n`) : undefined });
    cleanups.push(() => server.stop());
    const t0 = Date.now();
    const code = await runInExtensionHost(browser, server, {
      workspace: ws, extensionPath: ROOT, testsEntry: path.join(OUT, 'suite'), screenshot: '00-extension-host-tests.png',
      onLog: (l) => verbose && process.stderr.write(`[extension host] ${l}\n`),
    });
    await server.stop();
    const outcomes = fs.existsSync(resultsFile) ? JSON.parse(fs.readFileSync(resultsFile, 'utf8')) : [];
    for (const o of outcomes) record(o.title, o.state, o.ms, o.error);
    if (outcomes.length === 0 || (code !== 0 && !outcomes.some((o) => o.state === 'failed'))) {
      record('extension-host test run', 'failed', Date.now() - t0, `the extension host exited with ${code}${outcomes.length ? '' : ' without running tests'}; run with --verbose for its log`);
    }
    testbedDown(ws);
  }

  if (only !== 'host') {
    process.stdout.write('\nUI tests (packaged .vsix installed in code-server, Chromium)\n');
    await buildForTests({ production: true });
    const t0 = Date.now();
    const vsix = packageVsix();
    const dirs = serverDirs(path.join(base, 'server-ui'));
    installVsix(vsix, dirs);
    record(`packages a ${(fs.statSync(vsix).size / 1024).toFixed(0)} KiB .vsix and installs it into code-server`, 'passed', Date.now() - t0);
    // Short benchmarks for "Run Benchmarks", which takes duration and warm-up from the settings.
    // The UI workspace also has a profiled run whose model source is in it, and an A/B run of hypervisor builds; both
    // older than the runs above, so "Open Results" still opens synthetic-b.
    const uiWs = path.join(base, 'ws-ui');
    const modelDir = path.join(uiWs, 'hot-model');
    const uiFixtures = [...fixtures,
      syntheticRun({ id: 'hot-profile', benchmarks: 1, modes: ['direct', 'model'], placements: ['none', 'user'], repetitions: 2, startedAt: '2026-11-18T10:00:00Z', profile: { placement: 'user', modelDir } }),
      syntheticRun({ id: 'ab-arms', benchmarks: 2, modes: ['direct', 'model'], placements: ['none'], repetitions: 2, arms: ['A', 'B'], startedAt: '2026-11-17T10:00:00Z' }),
    ];
    const ws = makeWorkspace(base, 'ws-ui', uiFixtures, { 'hypershield.bench.durationSeconds': 1, 'hypershield.bench.warmup': 0 });
    fs.mkdirSync(path.join(modelDir, path.dirname(HOT_SOURCE.file)), { recursive: true });
    fs.writeFileSync(path.join(modelDir, HOT_SOURCE.file), Array.from({ length: 80 }, (_, i) => `/* line ${i + 1} of the profiled model */`).join('\n') + '\n');
    cleanups.push(() => testbedDown(ws));
    const server = await startCodeServer({ dirs, log: verbose ? (l) => process.stderr.write(`[code-server] ${l}\n`) : undefined });
    cleanups.push(() => server.stop());
    const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
    const page = await context.newPage();
    // Generous: on a loaded shared machine the first load of the workbench can take over 30 s.
    await page.goto(`${server.url}/?folder=${encodeURIComponent(ws)}`, { timeout: 120_000 });
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    for (const [title, fn] of uiTests) {
      const t = Date.now();
      try {
        await fn({ page, workspace: ws });
        record(title, 'passed', Date.now() - t);
      } catch (err) {
        record(title, 'failed', Date.now() - t, err.message);
        await page.screenshot({ path: path.join(ARTIFACTS, `failed-${results.length}.png`) }).catch(() => undefined);
      }
    }
    // The webview reports CSP violations and script errors to the extension's log.
    const logs = findFiles(dirs.userData, (f) => f.endsWith('HyperShield.log'));
    const lines = logs.flatMap((f) => fs.readFileSync(f, 'utf8').split('\n'));
    const problems = lines.filter((l) => /CSP violation|\[error\].*Results panel/.test(l));
    if (!lines.some((l) => /Results panel .*charts drawn/.test(l))) problems.push(`the extension log (${logs.join(', ') || 'not found'}) does not show the panels' reports`);
    record('the results panel reports no CSP violations or script errors', problems.length ? 'failed' : 'passed', 0, problems.join('\n') || undefined);
    await context.close();
    await server.stop();
    testbedDown(ws);
  }
} catch (err) {
  record('VS Code test harness', 'failed', Date.now() - started, err.stack ?? err.message);
} finally {
  for (const c of cleanups.reverse()) await c();
  await browser?.close();
  if (keep) process.stdout.write(`Kept ${base}\n`);
  else fs.rmSync(base, { recursive: true, force: true });
}

function findFiles(dir, match) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && match(e.name)).map((e) => path.join(e.parentPath ?? e.path, e.name));
}

const passed = results.filter((r) => r.state === 'passed').length;
const failed = results.length - passed;
process.stdout.write(`\nScreenshots: ${path.relative(ROOT, ARTIFACTS)}/ (${Math.round((Date.now() - started) / 1000)} s)\n${passed} passed, ${failed} failed\n`);
process.exit(failed ? 1 : 0);
