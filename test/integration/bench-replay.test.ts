import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { CLI, tempWorkspace } from '../helpers/workspace';
import { runBenchmarks } from '../../extension/core/bench/runner';
import { preparePlacement } from '../../extension/core/model/placement';
import { scaffoldModel } from '../../extension/core/model/scaffold';
import { ResultsStore } from '../../extension/core/results/store';
import type { Bundle } from '../../extension/core/results/bundle';

const here = tempWorkspace('sta-rp');
const elsewhere = tempWorkspace('sta-rp2');
const modelDir = path.join(here.dir, 'model');
before(async () => {
  scaffoldModel(modelDir, 'user');
  await here.backend().up();
  await elsewhere.backend().up();
});
after(async () => {
  await here.cleanup();
  await elsewhere.cleanup();
});

test('bundle a run, then re-run it from the bundle alone on another testbed and compare', async () => {
  const backend = here.backend();
  const original = await runBenchmarks(backend, { benchmarks: ['iperf3'], modes: ['direct', 'model'], placements: ['none', 'user'], repetitions: 2, warmup: 0, durationS: 1 }, {
    workspace: here.dir, store: new ResultsStore(here.dir),
    preparePlacement: (p, w) => preparePlacement(backend, modelDir, p, w),
  });
  assert.equal(original.status, 'complete', original.reason);
  const bundleFile = path.join(here.dir, 'run.bundle.json');

  const made = spawnSync(CLI[0], [CLI[1], '-w', here.dir, 'bundle', original.id, '-o', bundleFile], { encoding: 'utf8' });
  assert.equal(made.status, 0, made.stderr);
  assert.match(made.stdout, /Re-run it elsewhere with: hypershield bench --replay run\.bundle\.json/);
  const bundle = JSON.parse(fs.readFileSync(bundleFile, 'utf8')) as Bundle;
  assert.equal(bundle.run.id, original.id);
  assert.deepEqual(bundle.models.map((m) => [m.sourceHash, m.placements]), [[original.metadata.models[0].sourceHash, ['user']]]);
  assert.equal(bundle.models[0].files['user_space_model.c'], fs.readFileSync(path.join(modelDir, 'user_space_model.c'), 'utf8'));
  assert.deepEqual(bundle.commandLine, ['hypershield', 'bench', '--benchmarks', 'iperf3', '--modes', 'direct,model', '--reps', '2', '--warmup', '0', '--duration', '1', '--placements', 'none,user', '--model', 'MODEL_DIR']);
  assert.ok(bundle.run.metadata.hosts.every((h) => h.kernel), 'the hosts\' kernels and tool versions travel with the run');

  // Sources edited after the run: the bundle would not reproduce it.
  const source = path.join(modelDir, 'user_space_model.c');
  const text = fs.readFileSync(source, 'utf8');
  fs.writeFileSync(source, `${text}\n/* edited */\n`);
  const refused = spawnSync(CLI[0], [CLI[1], '-w', here.dir, 'bundle', original.id, '-o', path.join(here.dir, 'other.json')], { encoding: 'utf8' });
  fs.writeFileSync(source, text);
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /The model sources in .*model changed since run .* \(source hash [0-9a-f]{12} then, [0-9a-f]{12} now\): restore the sources of the run/);

  // Elsewhere: another workspace and testbed, no model project, only the bundle file.
  const copy = path.join(elsewhere.dir, 'run.bundle.json');
  fs.copyFileSync(bundleFile, copy);
  const replay = spawnSync(CLI[0], [CLI[1], '-w', elsewhere.dir, 'bench', '--replay', copy], { encoding: 'utf8' });
  assert.equal(replay.status, 0, replay.stderr);
  assert.match(replay.stdout, new RegExp(`Compared with the original run ${original.id} \\(netns, `));
  // Two rounds keep the test short; they are too few for intervals, which the replay says up front and in the comparison
  // (intervals that overlap or not: test/unit/results-report.test.ts).
  assert.match(replay.stderr, /^warning: Too few repetitions \(2\) for a 95 % interval or verdict of model vs direct, each placement vs none, which pair rounds: raise --reps to 6 or more\.$/m);
  assert.match(replay.stdout, /\n  iperf3 user throughput: original [+-]\d+\.\d %, too few rounds \(n=2, need 6 paired\), replay [+-]\d+\.\d %, too few rounds \(n=2, need 6 paired\): no interval to compare\n/);
  const rerun = new ResultsStore(elsewhere.dir).latest()!;
  assert.equal(rerun.status, 'complete');
  assert.deepEqual(rerun.metadata.replayOf, { run: original.id, bundle: copy });
  assert.deepEqual(rerun.metadata.plan, original.metadata.plan);
  assert.equal(rerun.metadata.testbed.name, 'sta-rp2');
  assert.deepEqual(rerun.metadata.models.map((m) => m.sourceHash), original.metadata.models.map((m) => m.sourceHash), 'the same model sources were built and measured');
  assert.equal(elsewhere.backend().state.read()!.deployed, undefined, 'nothing left deployed');
});

test('a damaged bundle is refused with what is wrong', () => {
  const file = path.join(elsewhere.dir, 'bad.json');
  fs.writeFileSync(file, JSON.stringify({ bundleVersion: 1, createdAt: 'now', run: {}, models: [{ sourceHash: 'x', placements: ['user'], files: { '../etc/passwd': '' } }], commandLine: [] }));
  const r = spawnSync(CLI[0], [CLI[1], '-w', elsewhere.dir, 'bench', '--replay', file], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /bad\.json is not a valid bundle \(schemas\/bundle\.schema\.json\):/);
  assert.match(r.stderr, /\/run must have required property 'schemaVersion'/);
});
