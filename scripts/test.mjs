// `npm test`: build, typecheck, lint, then every suite; ends with one "N passed, N failed" line.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const totals = { passed: 0, failed: 0 };

function step(title, argv, { tap = false } = {}) {
  process.stdout.write(`\n=== ${title}\n`);
  const r = spawnSync(argv[0], argv.slice(1), { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 256 * 1024 * 1024 });
  process.stdout.write(r.stdout ?? '');
  const count = (re) => [...(r.stdout ?? '').matchAll(re)].reduce((s, m) => s + Number(m[1]), 0);
  if (tap) {
    totals.passed += count(/^# pass (\d+)$/gm);
    totals.failed += count(/^# fail (\d+)$/gm);
  } else {
    const summary = /^(\d+) passed, (\d+) failed/m.exec(r.stdout ?? '');
    if (summary) { totals.passed += Number(summary[1]); totals.failed += Number(summary[2]); }
  }
  if (r.status !== 0) {
    if (!tap) totals.failed += 1;
    process.stdout.write(`=== ${title}: FAILED (exit ${r.status ?? r.signal})\n`);
  }
  return r.status === 0;
}

const testFiles = (dir) => fs.readdirSync(path.join(root, dir)).filter((f) => f.endsWith('.test.ts')).sort().map((f) => path.join(dir, f));

let ok = step('build', ['node', 'scripts/build.mjs']);
ok = step('typecheck', ['npx', 'tsc', '-p', '.', '--noEmit']) && ok;
ok = step('lint', ['npx', 'eslint', '.']) && ok;
// Integration suites share this machine's CPU: one file at a time keeps throughput figures honest.
ok = step('unit and integration tests', ['node', '--import', 'tsx', '--test', '--test-concurrency=1', ...testFiles('test/unit'), ...testFiles('test/integration')], { tap: true }) && ok;
ok = step('tests in a real VS Code', ['node', 'test/vscode/run.mjs']) && ok;
ok = step('tests in a real VS Code run by an ordinary user', ['node', 'test/vscode/as-user.mjs']) && ok;

process.stdout.write(`\n${totals.passed} passed, ${totals.failed} failed\n`);
process.exit(ok && totals.failed === 0 ? 0 : 1);
