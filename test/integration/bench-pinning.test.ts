import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { CLI, tempWorkspace } from '../helpers/workspace';
import { runBenchmarks } from '../../extension/core/bench/runner';
import { preparePlacement } from '../../extension/core/model/placement';
import { scaffoldModel } from '../../extension/core/model/scaffold';
import { ResultsStore } from '../../extension/core/results/store';

const ws = tempWorkspace('sta-pin');
const modelDir = path.join(ws.dir, 'model');
before(async () => {
  scaffoldModel(modelDir, 'user');
  await ws.backend().up();
});
after(() => ws.cleanup());

/** The CPUs every thread of a process may run on, from /proc. */
const affinity = (pid: string) => [...new Set(fs.readdirSync(`/proc/${pid}/task`).map((t) =>
  /Cpus_allowed_list:\s*(\S+)/.exec(fs.readFileSync(`/proc/${pid}/task/${t}/status`, 'utf8'))![1]))];

test('--pin runs the client and server programs and every thread of the user-space model on their CPUs, and the run records it', async () => {
  const backend = ws.backend();
  const cpus = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  const seen: string[] = [];
  const run = await runBenchmarks(backend, { benchmarks: ['iperf3', 'ping'], modes: ['direct', 'model'], placements: ['user'], repetitions: 1, warmup: 0, durationS: 1, pin: 'auto' }, {
    workspace: ws.dir, store: new ResultsStore(ws.dir),
    preparePlacement: (p, w) => preparePlacement(backend, modelDir, p, w),
    // ping streams its output while it runs: look at the client's processes then.
    onOutput: () => {
      const client = execFileSync('ip', ['netns', 'pids', 'hs-sta-pin-client'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
      for (const pid of client) {
        try { seen.push(`client ${fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim()} ${affinity(pid).join(' ')}`); } catch { /* ended meanwhile */ }
      }
    },
    onMeasurement: () => {
      const server = execFileSync('ip', ['netns', 'pids', 'hs-sta-pin-server'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
      for (const pid of server) seen.push(`server ${fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim()} ${affinity(pid).join(' ')}`);
      const pidFile = backend.state.read()!.deployed!.detail.pidFile;
      seen.push(`model ${affinity(fs.readFileSync(pidFile, 'utf8').trim()).join(' ')}`);
    },
  });
  assert.equal(run.status, 'complete', run.reason);
  for (const r of run.results) assert.equal(r.error, undefined, r.error);
  assert.deepEqual(new ResultsStore(ws.dir).read(run.id), run, 'the run file matches schemas/run.schema.json');
  const expected = { client: '0', server: String(1 % cpus), model: String(2 % cpus) };
  assert.deepEqual(run.metadata.pinning, { ...expected, notes: [`user-space model: every thread of its process pinned to CPUs ${expected.model}`] });
  assert.ok(seen.includes(`server iperf3 ${expected.server}`), seen.join('\n'));
  assert.ok(seen.includes(`model ${expected.model}`), seen.join('\n'));
  assert.ok(seen.every((s) => !s.startsWith('model') || s === `model ${expected.model}`), seen.join('\n'));
  assert.ok(seen.includes(`client ping ${expected.client}`), seen.join('\n'));
});

test('a CPU the host lacks, or a malformed --pin, is refused before anything is measured', () => {
  const bad = spawnSync(CLI[0], [CLI[1], '-w', ws.dir, 'bench', '--benchmarks', 'ping', '--reps', '1', '--warmup', '0', '--duration', '1', '--pin', 'client=999'], { encoding: 'utf8' });
  assert.equal(bad.status, 1, bad.stderr);
  assert.match(bad.stderr, /Pinning the client to CPUs 999 failed on client \(netns hs-sta-pin-client\) \(it has \d+ CPUs; taskset is in util-linux\)/);
  const malformed = spawnSync(CLI[0], [CLI[1], '-w', ws.dir, 'bench', '--pin', 'client:0'], { encoding: 'utf8' });
  assert.equal(malformed.status, 1);
  assert.match(malformed.stderr, /--pin: "client:0" is not ROLE=CPUS/);
  assert.equal(new ResultsStore(ws.dir).list().runs.length, 1, 'no run file for a refused plan');
});
