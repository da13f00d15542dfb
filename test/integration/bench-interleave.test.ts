import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { tempWorkspace } from '../helpers/workspace';
import { runBenchmarks } from '../../extension/core/bench/runner';
import { schedule } from '../../extension/core/bench/schedule';
import { preparePlacement } from '../../extension/core/model/placement';
import { scaffoldModel } from '../../extension/core/model/scaffold';
import { ResultsStore } from '../../extension/core/results/store';

const ws = tempWorkspace('sta-il');
const modelDir = path.join(ws.dir, 'model');
before(async () => {
  scaffoldModel(modelDir, 'user');
  await ws.backend().up();
});
after(() => ws.cleanup());

test('placements and modes are measured in rotating rounds, each placement deployed once a round, and the baseline drift is recorded', async () => {
  const backend = ws.backend();
  const deploys: string[] = [];
  const run = await runBenchmarks(backend, { benchmarks: ['iperf3'], modes: ['direct', 'model'], placements: ['none', 'user'], repetitions: 2, warmup: 0, durationS: 1 }, {
    workspace: ws.dir, store: new ResultsStore(ws.dir),
    preparePlacement: (p, w) => { deploys.push(p); return preparePlacement(backend, modelDir, p, w); },
  });
  assert.equal(run.status, 'complete', run.reason);
  for (const r of run.results) assert.equal(r.error, undefined, `${r.placement}/${r.mode}: ${r.error}`);
  const measured = [...run.results].sort((a, b) => a.startedAt.localeCompare(b.startedAt)).map((r) => `${r.repetition}:${r.placement}/${r.mode}`);
  assert.deepEqual(measured, schedule(['none', 'user'], ['direct', 'model'], ['iperf3'], 0, 2).flat().map((c) => `${c.round}:${c.placement}/${c.mode}`));
  assert.deepEqual(measured, ['1:none/direct', '1:none/model', '1:user/model', '1:user/direct', '2:user/model', '2:user/direct', '2:none/direct', '2:none/model']);
  // Round 2 starts with the placement round 1 ended with: three deploys, then "none" again to leave the testbed as found.
  assert.deepEqual(deploys, ['none', 'user', 'none']);
  assert.deepEqual(run.metadata.models.map((m) => m.placement), ['user'], 'the user model is recorded once');
  const drift = run.drift ?? [];
  assert.deepEqual(drift.map((d) => `${d.placement}/${d.mode}`).sort(), ['none/direct', 'none/model', 'user/direct']);
  for (const d of drift) {
    assert.equal(d.metric, 'throughput');
    assert.deepEqual(d.rounds.map(([r]) => r), [1, 2]);
    assert.ok(Number.isFinite(d.rangePercent) && d.rangePercent >= 0, `range ${d.rangePercent}`);
    assert.ok(Number.isFinite(d.trendPercentPerRound));
  }
  assert.equal(backend.state.read()!.deployed, undefined);
});
