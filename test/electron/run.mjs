#!/usr/bin/env node
// The same extension-host suite under @vscode/test-electron, for machines that can download desktop VS Code (or
// set VSCODE_EXECUTABLE to an installed one). Not used on machines without that access: test/vscode/run.mjs runs
// the suite in code-server there.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { OUT, ROOT, buildForTests, makeWorkspace, syntheticRuns, tempBase, testbedDown } from '../vscode/harness.mjs';

await buildForTests();
const { syntheticRun } = await syntheticRuns();
const base = tempBase('hs-electron-');
const ws = makeWorkspace(base, 'ws', [
  syntheticRun({ id: 'synthetic-a', benchmarks: 2, modes: ['direct', 'model'], placements: ['none', 'user'], repetitions: 5, startedAt: '2026-11-20T10:00:00Z' }),
  syntheticRun({ id: 'synthetic-b', benchmarks: 2, modes: ['direct', 'model'], placements: ['none', 'user'], repetitions: 5, scale: 0.9, startedAt: '2026-11-21T10:00:00Z' }),
]);
let code = 1;
try {
  code = await runTests({
    version: process.env.VSCODE_VERSION ?? '1.100.3',
    vscodeExecutablePath: process.env.VSCODE_EXECUTABLE,
    extensionDevelopmentPath: ROOT,
    extensionTestsPath: path.join(OUT, 'suite'),
    launchArgs: [ws, '--disable-extensions', '--disable-workspace-trust', `--user-data-dir=${path.join(base, 'user-data')}`, '--no-sandbox'],
  });
} catch (err) {
  process.stderr.write(`VS Code tests failed: ${err.message ?? err}\n`);
} finally {
  testbedDown(ws);
  fs.rmSync(base, { recursive: true, force: true });
}
process.exit(code);
