// Two real runs of two builds of the user-space template on the namespace testbed: the second run finds the first
// as its previous build, `report --vs-previous-build` prints each change with its interval, and the hook function
// carries the change.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { CLI, tempWorkspace } from '../helpers/workspace';
import { runBenchmarks } from '../../extension/core/bench/runner';
import { preparePlacement } from '../../extension/core/model/placement';
import { scaffoldModel } from '../../extension/core/model/scaffold';
import { ResultsStore } from '../../extension/core/results/store';
import { compareBuilds } from '../../extension/core/results/build-regression';
import { buildAnnotations } from '../../extension/core/results/build-annotations';
import { sourceHash } from '../../extension/core/model/source-hash';
import type { RunPlan } from '../../extension/core/bench/plan';

const ws = tempWorkspace('rgbuild');
const modelDir = path.join(ws.dir, 'model');
const source = path.join(modelDir, 'user_space_model.c');
before(async () => {
  scaffoldModel(modelDir, 'user');
  await ws.backend().up();
});
after(() => ws.cleanup());

// 4 rounds: the fewest with which two runs compared value by value (unpaired) get an interval.
const plan: RunPlan = { benchmarks: ['iperf3'], modes: ['direct', 'model'], placements: ['user'], repetitions: 4, warmup: 0, durationS: 1 };

test('a run of a new build of the user template is compared with the run of the build before it', async (t) => {
  const backend = ws.backend();
  const store = new ResultsStore(ws.dir);
  const bench = () => runBenchmarks(backend, plan, { workspace: ws.dir, store, preparePlacement: (p, w) => preparePlacement(backend, modelDir, p, w) });
  const first = await bench();
  assert.equal(first.status, 'complete', first.reason);
  // A real change of the program: the verdict retry limit.
  const text = fs.readFileSync(source, 'utf8');
  assert.match(text, /#define HS_SEND_RETRIES 100\b/);
  fs.writeFileSync(source, text.replace(/#define HS_SEND_RETRIES 100\b/, '#define HS_SEND_RETRIES 200'));
  const second = await bench();
  assert.equal(second.status, 'complete', second.reason);
  const [m1, m2] = [first.metadata.models[0], second.metadata.models[0]];
  assert.notEqual(m1.sourceHash, m2.sourceHash);
  assert.notEqual(m1.buildId, m2.buildId, 'the changed program builds another artefact');

  assert.equal(store.previousBuild(second, 'user')?.id, first.id);
  assert.equal(store.previousBuild(first, 'user'), undefined);
  const c = compareBuilds(first, second, 'user');
  const tp = c.changes.find((ch) => ch.benchmark === 'iperf3' && ch.metric === 'throughput');
  assert.ok(tp, 'throughput compared');
  assert.equal(tp.basis, 'vs-direct');
  assert.ok(tp.ci95 && tp.ci95[0] <= tp.changePercent && tp.changePercent <= tp.ci95[1], `${tp.changePercent} in ${tp.ci95}`);
  assert.equal(typeof tp.detectable, 'boolean');
  assert.equal(tp.tooFewRounds, undefined);
  // Within each run, model vs direct pairs 4 rounds: too few for an interval there.
  const overhead = second.summary.find((e) => e.benchmark === 'iperf3' && e.mode === 'model' && e.metric === 'throughput')!;
  assert.deepEqual([overhead.overheadCi95, overhead.overheadTooFewRounds?.reason], [undefined, 'too few rounds (n=4, need 6 paired)']);

  const out = execFileSync(CLI[0], [CLI[1], '-w', ws.dir, 'report', second.id, '--vs-previous-build'], { encoding: 'utf8' });
  t.diagnostic(out);
  assert.match(out, new RegExp(`previous build .*: run ${first.id}`));
  assert.match(out, /iperf3: throughput (no detectable difference \()?[+-]\d+\.\d % \[[+-]\d+\.\d, [+-]\d+\.\d\]\)? vs previous build \(run \d{4}-\d\d-\d\d \d\d:\d\d\), relative to direct in each run/);
  const refused = (() => {
    try {
      execFileSync(CLI[0], [CLI[1], '-w', ws.dir, 'report', first.id, '--vs-previous-build'], { encoding: 'utf8', stdio: 'pipe' });
      return undefined;
    } catch (err) {
      return err as { status: number; stdout: string; stderr: string };
    }
  })();
  assert.ok(refused && refused.status !== 0, 'the first build has nothing to compare with');
  assert.match(refused.stdout, /user model: no earlier complete run of another build/);
  assert.match(refused.stderr, /No model of run .* has a previous build/);

  // The editor's annotation sits on handle_packet and opens both runs.
  const now = fs.readFileSync(source, 'utf8');
  const annotations = buildAnnotations(store.list().runs.map((r) => r.run), modelDir, ['user'], now, sourceHash(modelDir));
  assert.equal(annotations.length, 1);
  assert.match(now.split('\n')[annotations[0].line], /^static void handle_packet\(/);
  assert.deepEqual(annotations[0].runs, [first.id, second.id]);
  assert.doesNotMatch(annotations[0].tooltip, /changed since/);
});
