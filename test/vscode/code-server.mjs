// Installs code-server (real VS Code served to a browser) into .cache/ for the tests, and starts it on loopback.
// The install is test-only: it never touches the project's dependencies.
import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as net from 'node:net';

const CODE_SERVER_VERSION = '4.100.3';
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const cacheDir = path.join(root, '.cache', `code-server-${CODE_SERVER_VERSION}`);
const binary = path.join(cacheDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

/** The path of code-server's entry script, installing it first when the cache does not have it yet. */
export function ensureCodeServer(log = (m) => process.stderr.write(`${m}\n`)) {
  if (fs.existsSync(binary)) return binary;
  log(`Installing code-server ${CODE_SERVER_VERSION} into ${cacheDir} (once, ~1 min)`);
  const tmp = path.join(cacheDir, 'tmp');
  fs.mkdirSync(tmp, { recursive: true });
  fs.writeFileSync(path.join(cacheDir, 'package.json'), '{ "private": true }\n');
  // @vscode/ripgrep downloads a binary in its postinstall; hand it the system's rg as a cached download.
  const rg = ['/usr/bin/rg', '/usr/local/bin/rg'].find((p) => fs.existsSync(p));
  if (!rg) throw new Error('ripgrep is missing: apt-get install ripgrep (code-server needs it)');
  const rgCache = path.join(tmp, 'vscode-ripgrep-cache-1.15.11');
  fs.mkdirSync(rgCache, { recursive: true });
  const stage = path.join(tmp, 'rg-stage');
  fs.mkdirSync(stage, { recursive: true });
  fs.copyFileSync(rg, path.join(stage, 'rg'));
  execFileSync('tar', ['-czf', path.join(rgCache, 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz'), '-C', stage, 'rg']);
  const env = {
    ...process.env,
    TMPDIR: tmp,
    npm_config_unsafe_perm: 'true',
    npm_config_yes: 'true',
    // Node's headers come from Debian's nodejs package; node-gyp must not download them.
    npm_config_nodedir: fs.existsSync('/usr/include/node/node.h') ? '/usr' : process.env.npm_config_nodedir ?? '',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
  };
  try {
    execFileSync('npm', ['install', '--no-save', '--no-package-lock', `code-server@${CODE_SERVER_VERSION}`], { cwd: cacheDir, env, stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (err) {
    throw new Error(`Installing code-server failed (needs the Debian packages libkrb5-dev and ripgrep, and Node's headers in /usr/include/node): ${err.message}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (!fs.existsSync(binary)) throw new Error(`code-server installed but ${binary} is missing`);
  return binary;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const USER_SETTINGS = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'telemetry.telemetryLevel': 'off',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
};

/** Installs a .vsix into an extensions folder. */
export function installVsix(vsix, dirs) {
  execFileSync(process.execPath, [ensureCodeServer(), '--install-extension', vsix, '--force', '--extensions-dir', dirs.extensions, '--user-data-dir', dirs.userData],
    { env: { ...process.env, HOME: dirs.home, XDG_CONFIG_HOME: path.join(dirs.home, '.config'), XDG_DATA_HOME: path.join(dirs.home, '.local', 'share') }, stdio: 'pipe' });
}

/** Folders code-server uses (its own HOME, user data and extensions), under `base`, with settings that skip workspace trust. */
export function serverDirs(base) {
  const dirs = { home: path.join(base, 'home'), userData: path.join(base, 'user-data'), extensions: path.join(base, 'extensions') };
  for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
  fs.mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  // Kept when it exists: a person's own settings survive restarts of `npm start`.
  const settings = path.join(dirs.userData, 'User', 'settings.json');
  if (!fs.existsSync(settings)) fs.writeFileSync(settings, JSON.stringify(USER_SETTINGS, null, 2));
  return dirs;
}

/**
 * Starts code-server on 127.0.0.1 without authentication and waits until /healthz answers.
 * Returns { url, port, stop() }; stop() ends the server and everything it started.
 */
export async function startCodeServer({ dirs, workspace, port, log = () => {}, env = {} }) {
  const entry = ensureCodeServer();
  port ??= await freePort();
  const args = [entry, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
    '--disable-workspace-trust', '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];
  if (workspace) args.push(workspace);
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env, HOME: dirs.home, XDG_CONFIG_HOME: path.join(dirs.home, '.config'), XDG_DATA_HOME: path.join(dirs.home, '.local', 'share') },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const collect = (d) => { output += d; log(String(d).trimEnd()); };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
    const timer = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 3000);
    await exited;
    clearTimeout(timer);
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited with code ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not answer ${url}/healthz within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, port, stop, output: () => output };
}
