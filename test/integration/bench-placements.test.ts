import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { tempWorkspace } from '../helpers/workspace';
import { runBenchmarks } from '../../extension/core/bench/runner';
import { preparePlacement } from '../../extension/core/model/placement';
import { scaffoldModel } from '../../extension/core/model/scaffold';
import { ResultsStore } from '../../extension/core/results/store';

const ws = tempWorkspace('tplace');
const modelDir = path.join(ws.dir, 'model');
before(async () => {
  scaffoldModel(modelDir, 'all');
  await ws.backend().up();
});
after(() => ws.cleanup());

test('bench --placements deploys each placement in turn and records which model was on the path', async () => {
  const backend = ws.backend();
  const run = await runBenchmarks(backend, { benchmarks: ['iperf3', 'ping'], modes: ['direct', 'model'], placements: ['none', 'user', 'ebpf'], repetitions: 1, warmup: 0, durationS: 1 }, {
    workspace: ws.dir, store: new ResultsStore(ws.dir),
    preparePlacement: (p, w) => preparePlacement(backend, modelDir, p, w),
  });
  assert.equal(run.status, 'complete', run.reason);
  assert.deepEqual([...new Set(run.results.map((r) => r.placement))], ['none', 'user', 'ebpf']);
  for (const r of run.results) assert.equal(r.error, undefined, `${r.benchmark}/${r.mode}/${r.placement}: ${r.error}`);
  assert.deepEqual(run.metadata.models.map((m) => m.placement), ['user', 'ebpf']);
  for (const m of run.metadata.models) {
    assert.match(m.sourceHash, /^[0-9a-f]{64}$/);
    assert.ok(m.buildId, 'build id recorded');
  }
  assert.ok(run.summary.some((s) => s.placement === 'ebpf' && s.mode === 'model' && s.overheadPercent !== undefined));
  // Nothing was deployed before the run, so nothing is after it.
  assert.equal(backend.state.read()!.deployed, undefined);
  assert.equal(execFileSync('ip', ['netns', 'exec', 'hs-tplace-model', 'tc', 'filter', 'show', 'dev', 'to-client', 'ingress'], { encoding: 'utf8' }), '');
});
