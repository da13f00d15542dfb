#!/usr/bin/env node
// Real VS Code (code-server) run by an ordinary user, as researchers run it: as root, this script makes a user,
// runs `hypershield setup` for them, then starts code-server AS THAT USER and runs test/vscode/as-user-suite.ts in its
// extension host (testbed up, user-space and eBPF models, a benchmark run, down). Afterwards it undoes the setup and
// removes the user. Prints "N passed, N failed". code-server loads the extension from the checkout: when the user
// cannot read it (it may lie in root's home), the built checkout is copied where they can. `--verbose` shows
// code-server's and the extension host's output.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { ensureCodeServer, serverDirs, startCodeServer } from './code-server.mjs';
import { OUT, ROOT, buildForTests, launchBrowser, makeWorkspace, runInExtensionHost, tempBase } from './harness.mjs';

const verbose = process.argv.includes('--verbose');
const cli = path.join(ROOT, 'dist', 'cli.js');
const suffix = Math.random().toString(36).slice(2, 7).replace(/^\d/, 'x');

if (process.argv[2] === '--inner') {
  // As the user: code-server, Chromium and the extension-host tests.
  const home = process.argv[3];
  const ws = makeWorkspace(home, 'ws');
  fs.writeFileSync(path.join(ws, 'hypershield.testbed.json'), JSON.stringify({ name: process.argv[4], backend: 'netns', mode: 'model' }, null, 2) + '\n');
  const resultsFile = path.join(home, 'results.json');
  const server = await startCodeServer({ dirs: serverDirs(path.join(home, 'server')), env: { HS_VSCODE_TEST_RESULTS: resultsFile }, log: verbose ? (l) => process.stderr.write(`[code-server] ${l}\n`) : undefined });
  const browser = await launchBrowser();
  let code;
  try {
    code = await runInExtensionHost(browser, server, {
      workspace: ws, extensionPath: ROOT, testsEntry: path.join(OUT, 'as-user-suite'),
      onLog: (l) => verbose && process.stderr.write(`[extension host] ${l}\n`),
    });
  } finally {
    await browser.close();
    await server.stop();
    spawnSync(process.execPath, [cli, '-w', ws, 'down'], { stdio: 'ignore', timeout: 60_000 });
  }
  const outcomes = fs.existsSync(resultsFile) ? JSON.parse(fs.readFileSync(resultsFile, 'utf8')) : [];
  for (const o of outcomes) process.stdout.write(`${o.state === 'passed' ? 'ok  ' : 'FAIL'} ${o.title} (${o.ms} ms)\n${o.error ? `     ${o.error.split('\n').slice(0, 8).join('\n     ')}\n` : ''}`);
  if (!outcomes.length) process.stdout.write(`FAIL the extension host exited with ${code} without running tests; run with --verbose\n`);
  const passed = outcomes.filter((o) => o.state === 'passed').length;
  process.stdout.write(`\n${passed} passed, ${outcomes.length - passed + (outcomes.length ? 0 : 1)} failed\n`);
  process.exit(passed === outcomes.length && outcomes.length ? 0 : 1);
}

/** The checkout when user can read it, else a copy of it (built, with code-server installed) at copy. */
function readableCheckout(user, copy) {
  if (spawnSync('runuser', ['-u', user, '--', 'test', '-r', path.join(ROOT, 'package.json')]).status === 0) return ROOT;
  const cp = spawnSync('cp', ['-a', `${ROOT}/.`, copy], { stdio: 'inherit' });
  if (cp.status !== 0) throw new Error(`Copying the checkout to ${copy} for ${user} failed`);
  return copy;
}

if (process.getuid?.() !== 0) {
  console.error('as-user.mjs makes a user and runs `hypershield setup` for them: run it as root.');
  process.exit(1);
}
const user = `nrv${suffix}`;
const base = tempBase('nr-vscode-');
const home = path.join(base, 'home');
let status = 1;
try {
  await buildForTests();
  await build({ entryPoints: [path.join(ROOT, 'test', 'vscode', 'as-user-suite.ts')], outfile: path.join(OUT, 'as-user-suite.js'), bundle: true, platform: 'node',
    format: 'cjs', target: 'node20', sourcemap: 'inline', logLevel: 'warning', mainFields: ['module', 'main'], external: ['vscode', 'mocha'] });
  ensureCodeServer();
  fs.chmodSync(base, 0o755);
  fs.mkdirSync(home);
  spawnSync('useradd', ['-M', '-d', home, '-s', '/bin/sh', user], { stdio: 'inherit' });
  spawnSync('chown', [`${user}:${user}`, home]);
  const setup = spawnSync(process.execPath, [cli, 'setup', '--user', user], { stdio: 'inherit' });
  if (setup.status !== 0) throw new Error('hypershield setup failed');
  const root = readableCheckout(user, path.join(base, 'checkout'));
  // The environment of a login: an ordinary user's PATH has no /usr/sbin.
  const inner = spawnSync('runuser', ['-u', user, '--', 'env', '-i', `HOME=${home}`, `USER=${user}`, 'PATH=/usr/local/bin:/usr/bin:/bin', process.execPath, path.join(root, 'test', 'vscode', 'as-user.mjs'),
    '--inner', home, `nr${suffix}`, ...(verbose ? ['--verbose'] : [])], { stdio: 'inherit', cwd: home });
  status = inner.status ?? 1;
} catch (err) {
  process.stdout.write(`FAIL as-user harness: ${err.stack ?? err.message}\n`);
} finally {
  spawnSync(process.execPath, [cli, 'setup', '--undo'], { stdio: 'inherit' });
  spawnSync('pkill', ['-KILL', '-u', user]);
  spawnSync('userdel', [user]);
  fs.rmSync(base, { recursive: true, force: true });
}
process.exit(status);
