import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { spawn, execFileSync } from 'node:child_process';
import { CLI, namespaces, tempWorkspace } from '../helpers/workspace';
import { runBenchmarks } from '../../extension/core/bench/runner';
import { ResultsStore } from '../../extension/core/results/store';
import { pollUntil } from '../../extension/core/util/poll';

const serverPids = (name: string) => execFileSync('ip', ['netns', 'pids', `hs-${name}-server`], { encoding: 'utf8' }).trim();

describe('benchmark runs on a real namespace testbed', () => {
  const ws = tempWorkspace('tbench');
  before(async () => { await ws.backend().up(); });
  after(() => ws.cleanup());

  test('iperf3 and ping, direct and model, interleaved, with metadata and statistics', async () => {
    const store = new ResultsStore(ws.dir);
    const lines: string[] = [];
    const run = await runBenchmarks(ws.backend(), { benchmarks: ['iperf3', 'ping'], modes: ['direct', 'model'], repetitions: 2, warmup: 0, durationS: 1 },
      { workspace: ws.dir, store, progress: { report: (m) => lines.push(m) } });
    assert.equal(run.status, 'complete');
    assert.deepEqual(run.results.map((r) => `${r.benchmark}/${r.mode}/${r.repetition}`), [
      'iperf3/direct/1', 'ping/direct/1', 'iperf3/model/1', 'ping/model/1',
      'iperf3/model/2', 'ping/model/2', 'iperf3/direct/2', 'ping/direct/2',
    ]);
    for (const r of run.results) assert.equal(r.error, undefined, r.error);
    const tput = run.summary.find((s) => s.benchmark === 'iperf3' && s.mode === 'model' && s.metric === 'throughput')!;
    assert.ok(tput.stats.median > 0.5, `throughput through the model ${tput.stats.median} Gbit/s`);
    assert.equal(typeof tput.overheadPercent, 'number');
    assert.equal(tput.overheadTooFewRounds?.reason, 'too few rounds (n=2, need 6 paired)', 'no interval from 2 rounds');
    assert.equal(tput.detectable, undefined);
    assert.equal(run.metadata.hosts.length, 3);
    assert.match(run.metadata.hosts[0].kernel, /^\d+\.\d+/);
    assert.match(run.metadata.hosts[0].tools.iperf3, /^iperf 3/);
    assert.equal(run.metadata.hosts[1].sysctls['net.ipv4.ip_forward'], '1');
    assert.deepEqual(store.read(run.id), run, 'the file on disk is the run');
    assert.ok(lines.some((l) => l.includes('repetition 2/2 (8/8)')));
    assert.equal(serverPids('tbench'), '', 'iperf3 server stopped after the run');
    assert.equal(ws.backend().state.read()!.mode, 'model', 'mode restored');
  });

  test('another command cannot switch the mode under a running bench; Ctrl-C keeps what finished, marks the run incomplete and leaves the testbed as it was', async () => {
    const child = spawn(CLI[0], [CLI[1], '-w', ws.dir, 'bench', '--benchmarks', 'ping', '--duration', '2', '--reps', '5', '--warmup', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let refused: { status: number | null; stderr: string } | undefined;
    let started = false;
    let interruptedDuring = 0;
    // The refused command runs without blocking this process, so the interrupt is sent as soon as it is due even on a
    // loaded machine; it is due once the refusal is seen and the third measurement has begun.
    const interruptWhenDue = () => {
      if (!refused || interruptedDuring || !err.includes('(3/10)')) return;
      interruptedDuring = Math.max(...[...err.matchAll(/\((\d+)\/10\)/g)].map((m) => Number(m[1])));
      child.kill('SIGINT');
    };
    child.stderr.on('data', (d) => {
      err += d;
      if (!started && err.includes('(1/10)')) {
        started = true;
        const mode = spawn(CLI[0], [CLI[1], '-w', ws.dir, 'mode', 'direct'], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        mode.stderr.on('data', (e) => { stderr += e; });
        mode.on('close', (status) => { refused = { status, stderr }; interruptWhenDue(); });
      }
      interruptWhenDue();
    });
    const code = await new Promise((r) => child.on('close', r));
    assert.equal(code, 130, err);
    assert.match(err, /^warning: Too few repetitions \(5\) for a 95 % interval or verdict of model vs direct, which pair rounds: raise --reps to 6 or more\.$/m, 'said up front');
    assert.ok(err.indexOf('warning: Too few') < err.indexOf('(1/10)'));
    assert.notEqual(refused?.status, 0);
    assert.match(refused!.stderr, /Testbed tbench is busy: bench \(process \d+, since .*\) is still running\. Wait for it to finish or stop it, then mode direct again\./);
    const run = new ResultsStore(ws.dir).latest()!;
    assert.equal(run.status, 'incomplete');
    assert.equal(run.reason, 'interrupted');
    // What finished before the interrupt is kept; the measurement it cut short is not recorded.
    assert.ok(run.results.length === interruptedDuring - 1 || run.results.length === interruptedDuring, `${run.results.length} results, interrupted during measurement ${interruptedDuring}`);
    assert.equal(ws.backend().state.read()!.mode, 'model');
  });

  test('kill -9 during bench, then down, leaves nothing behind', async () => {
    const child = spawn(CLI[0], [CLI[1], '-w', ws.dir, 'bench', '--benchmarks', 'iperf3', '--duration', '5', '--reps', '3', '--warmup', '0'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    await new Promise<void>((resolve, reject) => {
      let err = '';
      child.stderr.on('data', (d) => { err += d; if (err.includes('repetition 1/3')) resolve(); });
      child.on('close', () => reject(new Error(`bench ended before it could be killed:\n${err}`)));
    });
    await new Promise((r) => setTimeout(r, 1500));
    assert.notEqual(serverPids('tbench'), '', 'the iperf3 server is running when the CLI dies');
    // tsx runs the CLI in a child process: kill the whole group like a crash would.
    process.kill(-child.pid!, 'SIGKILL');
    await new Promise((r) => child.on('close', r));
    // The pipes close as the killed process starts exiting, a moment before the kernel marks it dead.
    const run = await pollUntil(async () => { const r = new ResultsStore(ws.dir).latest()!; return r.status === 'running' ? undefined : r; },
      { timeoutMs: 5000, intervalMs: 50, onTimeout: () => new Error('a run whose writer died still reads as running after 5 s') });
    assert.equal(run.status, 'incomplete', 'a run whose writer died reads as incomplete');
    execFileSync(CLI[0], [CLI[1], '-w', ws.dir, 'down']);
    assert.deepEqual(namespaces('hs-tbench-'), []);
    assert.equal(fs.existsSync(ws.backend().state.file), false);
    assert.equal(fs.existsSync('/run/hypershield/tbench'), false, 'the dead iperf3 server\'s pid and log files are gone too');
  });
});
