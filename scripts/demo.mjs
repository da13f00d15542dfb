// `npm run demo [-- WORKSPACE [TESTBED_NAME]]`: the main job on the embedded namespace testbed, from a fresh clone.
// As root it installs missing prerequisites; an ordinary user gets the testbed in a user namespace of their own (the
// doctor names anything missing). Brings the testbed up, runs iperf3 and ping direct vs through the model host,
// writes a run and an HTML report, prints where they are, and tears the testbed down again.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const workspace = path.resolve(process.argv[2] ?? path.join(root, 'demo-workspace'));
const name = process.argv[3] ?? 'demo';
const asRoot = process.getuid?.() === 0;
const cli = (...args) => {
  const r = spawnSync(process.execPath, [path.join(root, 'dist', 'cli.js'), '-w', workspace, ...args], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`hypershield ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
};

fs.mkdirSync(workspace, { recursive: true });
fs.writeFileSync(path.join(workspace, 'hypershield.testbed.json'), JSON.stringify({ name, backend: 'netns', mode: 'model' }, null, 2) + '\n');

let failed = false;
try {
  cli('doctor', ...(asRoot ? ['--install'] : []), '--features', 'testbed,bench');
  cli('up');
  cli('status');
  cli('bench', '--benchmarks', 'iperf3,ping', '--modes', 'direct,model', '--reps', '6', '--duration', '2');
  const report = path.join(workspace, 'report.html');
  cli('report', '--html', report, '--csv', path.join(workspace, 'report.csv'));
  console.log(`\nResults: ${path.join(workspace, '.hypershield', 'results')}\nReport:  ${report}`);
} catch (err) {
  failed = true;
  console.error(`demo: ${err.message}`);
} finally {
  cli('down');
}
process.exit(failed ? 1 : 0);
