// Extension-host tests for test/vscode/as-user.mjs: VS Code runs as an ordinary user (after `sudo hypershield
// setup` for that user). Testbed up, the user-space and eBPF models, a benchmark run and down, all from VS Code's
// own commands. Results go, as JSON, to the file named by HS_VSCODE_TEST_RESULTS.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';
import type { DeployResult } from '../../extension/core/model/deploy/deploy';
import type { RunFile } from '../../extension/core/results/run-file';
import type { TestbedState } from '../../extension/core/testbed/state';
import { exec, workspaceFolder } from './suite/helpers';

const TESTS: Array<[string, () => Promise<void>]> = [];
const it = (title: string, fn: () => Promise<void>) => TESTS.push([title, fn]);
const testbedName = () => (JSON.parse(fs.readFileSync(path.join(workspaceFolder(), 'hypershield.testbed.json'), 'utf8')) as { name: string }).name;
const state = () => {
  const file = path.join(workspaceFolder(), '.hypershield', 'state', `${testbedName()}.json`);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as TestbedState) : undefined;
};

it('the extension host runs as an ordinary user', async () => {
  assert.notEqual(process.getuid?.(), 0);
});

it('brings the testbed up in a user namespace of the user\'s own', async () => {
  await exec('hypershield.testbed.up');
  assert.equal(state()?.phase, 'up');
  assert.ok(state()?.objects.some((o) => o.kind === 'userns' && o.pid), 'the user namespace holder is recorded');
});

it('deploys the user-space (NFQUEUE) model', async () => {
  await exec('hypershield.model.new', 'model-user', 'user');
  const r = await exec<DeployResult>('hypershield.model.deploy', 'model-user', 'user');
  assert.equal(r?.deployed.placement, 'user');
  assert.match(r.verified, /counted \d+ packets/);
});

it('runs a benchmark', async () => {
  const run = await exec<RunFile>('hypershield.bench.run', { benchmarks: ['ping'], modes: ['direct', 'model'], repetitions: 1, warmup: 0, durationSeconds: 1 });
  assert.equal(run?.status, 'complete', `run ${run?.id}: ${run?.reason ?? ''}`);
});

it('deploys the eBPF model through the helper', async () => {
  await exec('hypershield.model.new', 'model-ebpf', 'ebpf');
  const r = await exec<DeployResult>('hypershield.model.deploy', 'model-ebpf', 'ebpf');
  assert.equal(r?.deployed.placement, 'ebpf');
  assert.match(r.verified, /counted \d+ packets/);
});

it('brings the testbed down', async () => {
  await exec('hypershield.testbed.down');
  assert.equal(state(), undefined);
});

interface Outcome { title: string; state: 'passed' | 'failed'; ms: number; error?: string }

export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 120_000, color: false, reporter: 'spec', bail: true });
  for (const [title, fn] of TESTS) mocha.suite.addTest(new Mocha.Test(title, fn));
  const outcomes: Outcome[] = [];
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const out = process.env.HS_VSCODE_TEST_RESULTS;
      if (out) fs.writeFileSync(out, JSON.stringify(outcomes, null, 2));
      if (failures > 0) reject(new Error(`${failures} test(s) failed`));
      else resolve();
    });
    runner.on('pass', (t) => outcomes.push({ title: `as an ordinary user: ${t.title}`, state: 'passed', ms: t.duration ?? 0 }));
    runner.on('fail', (t, err: Error) => outcomes.push({ title: `as an ordinary user: ${t.title}`, state: 'failed', ms: t.duration ?? 0, error: err.stack ?? err.message }));
  });
}
