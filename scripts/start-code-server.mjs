#!/usr/bin/env node
// `npm start [-- FOLDER] [--port N]`: serves VS Code (code-server) on 127.0.0.1 with the workbench extension
// installed from a freshly packaged .vsix, so the workbench can be tried in a browser on a machine without
// desktop VS Code. code-server is installed into .cache/ on first use. Ctrl-C stops it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { installVsix, serverDirs, startCodeServer } from '../test/vscode/code-server.mjs';
import { ROOT, buildForTests, packageVsix } from '../test/vscode/harness.mjs';

const args = process.argv.slice(2);
const portArg = args.indexOf('--port');
const port = portArg >= 0 ? Number(args[portArg + 1]) : Number(process.env.PORT ?? 8080);
if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port needs a port number (got "${args[portArg + 1]}")`);
const folder = path.resolve(args.find((a, i) => !a.startsWith('--') && i !== portArg + 1) ?? path.join(ROOT, 'demo-workspace'));
if (!fs.existsSync(folder)) throw new Error(`${folder} does not exist: name a workspace folder (npm start -- FOLDER).`);

await buildForTests({ production: true });
const vsix = packageVsix();
// Settings and installed extensions persist between starts in .cache/code-server-user.
const dirs = serverDirs(path.join(ROOT, '.cache', 'code-server-user'));
installVsix(vsix, dirs);
const server = await startCodeServer({ dirs, workspace: folder, port });
process.stdout.write(`\nHyperShield Workbench in VS Code: ${server.url}/?folder=${encodeURIComponent(folder)}\n` +
  'Listening on 127.0.0.1 only, without a password; from another machine use an SSH tunnel (ssh -L). Ctrl-C stops it.\n');
const stop = async () => {
  await server.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
