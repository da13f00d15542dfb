// Shared by the VS Code test runner and the VS Code benchmark: building the bundles the tests load, a test
// workspace with its own testbed, Chromium, and VS Code's extension-test mechanism driven through a browser.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
export const OUT = path.join(ROOT, 'out', 'vscode-tests');
export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'vscode');
/** The test workspaces' testbed name; its namespaces are hs-tvsc-*. */
export const TESTBED = 'tvsc';

/** Bundles the extension (development build), the extension-host test suite and the synthetic run generator. */
export async function buildForTests({ production = false } = {}) {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs'), ...(production ? ['--production'] : [])], { cwd: ROOT, stdio: 'inherit' });
  const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', sourcemap: 'inline', logLevel: 'warning', mainFields: ['module', 'main'] };
  await Promise.all([
    build({ ...common, entryPoints: [path.join(ROOT, 'test', 'vscode', 'suite', 'index.ts')], outfile: path.join(OUT, 'suite.js'), external: ['vscode', 'mocha'] }),
    build({ ...common, entryPoints: [path.join(ROOT, 'test', 'vscode', 'synthetic-run.ts')], outfile: path.join(OUT, 'synthetic-run.cjs') }),
  ]);
}

/** Loads the synthetic run generator built by buildForTests. */
export async function syntheticRuns() {
  const mod = await import(path.join(OUT, 'synthetic-run.cjs'));
  return mod.default ?? mod;
}

/** A fresh workspace with the tests' testbed description and, optionally, run files. */
export function makeWorkspace(base, name, runs = [], settings = undefined) {
  const ws = path.join(base, name);
  fs.mkdirSync(path.join(ws, '.hypershield', 'results'), { recursive: true });
  if (settings) {
    fs.mkdirSync(path.join(ws, '.vscode'));
    fs.writeFileSync(path.join(ws, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2) + '\n');
  }
  fs.writeFileSync(path.join(ws, 'hypershield.testbed.json'), JSON.stringify({ name: TESTBED, backend: 'netns', mode: 'model' }, null, 2) + '\n');
  for (const run of runs) fs.writeFileSync(path.join(ws, '.hypershield', 'results', `${run.id}.json`), JSON.stringify(run, null, 2) + '\n');
  return ws;
}

/** Removes the test testbed of a workspace with the CLI, whatever state the tests left it in. */
export function testbedDown(ws) {
  try {
    execFileSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), '--workspace', ws, 'down'], { stdio: 'pipe', timeout: 60_000 });
  } catch (err) {
    process.stderr.write(`Could not bring the test testbed down in ${ws}: ${err.stderr ?? err.message}\n`);
  }
}

export function tempBase(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Debian's Chromium (or HS_CHROMIUM), headless; playwright-core downloads no browser. */
export async function launchBrowser() {
  const executablePath = process.env.HS_CHROMIUM ?? '/usr/bin/chromium';
  if (!fs.existsSync(executablePath)) throw new Error(`${executablePath} is missing: apt-get install chromium (or set HS_CHROMIUM to a Chromium binary)`);
  return chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Opens the workbench with VS Code's extension-development payload: the extension from `extensionPath` and the tests
 * module `testsEntry`, which VS Code runs in its extension host. Resolves with the exit code it reports; `screenshot`
 * names a picture of the workbench taken at the end, in test-artifacts/vscode/.
 */
export async function runInExtensionHost(browser, server, { workspace, extensionPath, testsEntry, timeoutMs = 300_000, onLog = () => {}, screenshot }) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  let settle;
  const exited = new Promise((resolve) => (settle = resolve));
  await page.exposeFunction('codeAutomationLog', (type, args) => onLog(`${args?.join?.(' ') ?? args}`));
  await page.exposeFunction('codeAutomationExit', (code) => settle(code));
  const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${p}`;
  const payload = [['extensionDevelopmentPath', remote(extensionPath)], ['extensionTestsPath', remote(testsEntry)]];
  await page.goto(`${server.url}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
  let timer;
  const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  try {
    return await Promise.race([exited, timeout]);
  } finally {
    clearTimeout(timer);
    if (screenshot) await page.screenshot({ path: path.join(ARTIFACTS, screenshot) }).catch(() => undefined);
    await context.close();
  }
}

const VSCE = [path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce')];
const VSCE_FLAGS = ['--no-dependencies', '--no-rewrite-relative-links', '--skip-license', '--allow-missing-repository'];
/** What must never be in the .vsix: dependencies, source maps, sources, build output of the templates. */
const NOT_PACKAGED = /(^|\/)node_modules\/|\.map$|\.ts$|\.(o|ko|cmd|mod|mod\.c|order|symvers|d)$|compile_commands\.json$|\/build\//;

/** Packages the extension as a .vsix with vsce (production bundles; no node_modules inside). */
export function packageVsix() {
  const files = execFileSync(process.execPath, [...VSCE, 'ls', '--no-dependencies'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n');
  const wrong = files.filter((f) => NOT_PACKAGED.test(f));
  if (wrong.length) throw new Error(`The .vsix would contain files it must not (fix .vscodeignore): ${wrong.join(', ')}`);
  const out = path.join(ROOT, 'out', 'hypershield-workbench.vsix');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  execFileSync(process.execPath, [...VSCE, 'package', ...VSCE_FLAGS, '--out', out], { cwd: ROOT, stdio: 'pipe' });
  return out;
}
