// What the edit-to-result loop relies on being quick without being less careful: fresh model counters on SIGHUP,
// daemons that count as stopped once they have exited, read-only checks asked at once, servers started while the
// path is proven. On a real namespace testbed with the real template, iperf3 and ping.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkTools } from '../../extension/core/bench/tools';
import { netperf } from '../../extension/core/bench/netperf';
import { iperf3 } from '../../extension/core/bench/iperf3';
import { stopByPidFile } from '../../extension/core/bench/daemon';
import { runBenchmarks } from '../../extension/core/bench/runner';
import { deployModel, modelCounters, undeployModel } from '../../extension/core/model/deploy/deploy';
import { scaffoldModel } from '../../extension/core/model/scaffold';
import { ResultsStore } from '../../extension/core/results/store';
import { hostRunDir } from '../../extension/core/testbed/testbed';
import { tempWorkspace } from '../helpers/workspace';

const NAME = 'elloopt';
const ns = (role: string) => `hs-${NAME}-${role}`;
const inNs = (role: string, ...argv: string[]) => execFileSync('ip', ['netns', 'exec', ns(role), ...argv], { encoding: 'utf8' });
const procState = (pid: string) => { try { return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0]; } catch { return 'gone'; } };

describe('the edit-to-result loop on a namespace testbed', () => {
  const ws = tempWorkspace(NAME);
  const backend = () => ws.backend();
  let dir: string;

  before(async () => {
    await backend().up();
    dir = scaffoldModel(path.join(ws.dir, 'model'), 'user').dir;
  });
  after(async () => {
    await undeployModel(backend()).catch(() => undefined);
    await ws.cleanup();
  });

  test('missing tools are found with one command per host and named with their host and source', async () => {
    await checkTools(backend(), [iperf3]);
    const has = (p: string) => execFileSync('sh', ['-c', 'command -v "$1" || true', 'sh', p], { encoding: 'utf8' }).trim() !== '';
    assert.ok(!has('netperf') && !has('netserver'), 'this test needs a machine without netperf (Debian does not package it)');
    await assert.rejects(checkTools(backend(), [iperf3, netperf]),
      new RegExp(`^Error: Missing benchmark tools: netperf on client \\(netns ${ns('client')}\\) \\(not in Debian: .*\\); netserver on server \\(netns ${ns('server')}\\) \\(not in Debian: .*\\)\\. Install them`));
  });

  test('a daemon that has exited counts as stopped at once, even while its parent has not reaped it', async () => {
    const server = backend().host('server');
    const runDir = hostRunDir(NAME, 'server');
    fs.mkdirSync(runDir, { recursive: true });
    const pidFile = path.join(runDir, 'sleep.pid');
    const parentFile = path.join(runDir, 'parent.pid');
    // The child's parent becomes a sleep, which never waits for it: once killed, the child stays a zombie.
    inNs('server', 'setsid', '-f', 'sh', '-c', 'exec </dev/null >/dev/null 2>&1; echo $$ > "$2"; sleep 30 & echo $! > "$1"; exec sleep 60', 'sh', pidFile, parentFile);
    const read = (f: string) => {
      for (let i = 0; i < 200; i++) {
        const pid = fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim() : '';
        if (/^\d+$/.test(pid)) return pid;
        execFileSync('sleep', ['0.01']);
      }
      throw new Error(`${f} was not written`);
    };
    const child = read(pidFile);
    const parent = read(parentFile);
    try {
      assert.match(procState(child), /^[SR]$/);
      const started = performance.now();
      await stopByPidFile(server, 'sleep', pidFile);
      const ms = performance.now() - started;
      assert.equal(procState(child), 'Z', 'the child exited and nobody reaped it');
      assert.ok(ms < 1000, `stopping took ${ms.toFixed(0)} ms: it waited for a zombie to go (the check gives up after 2 s)`);
      assert.equal(fs.existsSync(pidFile), false, 'the pid file is removed');
    } finally {
      process.kill(Number(parent), 'SIGKILL');
    }
  });

  test('a run whose first path check fails while its server starts records the failure and leaves no server', async () => {
    inNs('model', 'sysctl', '-qw', 'net.ipv4.ip_forward=0');
    const store = new ResultsStore(ws.dir);
    try {
      await assert.rejects(runBenchmarks(backend(), { benchmarks: ['iperf3'], modes: ['model'], repetitions: 1, warmup: 0, durationS: 1 }, { workspace: ws.dir, store }),
        /Traffic does not cross the model host in model mode/);
    } finally {
      inNs('model', 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    }
    const run = store.latest()!;
    assert.equal(run.status, 'failed');
    assert.equal(run.results.length, 0);
    assert.equal(run.metadata.hosts.length, 3, 'metadata recorded before the run started');
    assert.equal(execFileSync('ip', ['netns', 'pids', ns('server')], { encoding: 'utf8' }).trim(), '', 'the iperf3 server was stopped');
    const ok = await runBenchmarks(backend(), { benchmarks: ['iperf3'], modes: ['model'], repetitions: 1, warmup: 0, durationS: 1 }, { workspace: ws.dir, store });
    assert.equal(ok.status, 'complete', ok.reason);
  });

  test('the deployed template writes its counters on SIGHUP, so every read is fresh, not up to a second old', async () => {
    const r = await deployModel(backend(), dir, 'user');
    assert.match(r.verified, /^counted \d+ packets of a ping/);
    const statsFile = r.deployed.detail.statsFile;
    assert.match(fs.readFileSync(statsFile, 'utf8'), /"refresh_signal": "SIGHUP"/);
    const uptimes = new Set<number>();
    const started = performance.now();
    for (let i = 0; i < 8; i++) {
      await modelCounters(backend());
      uptimes.add((JSON.parse(fs.readFileSync(statsFile, 'utf8')) as { uptime_ms: number }).uptime_ms);
    }
    const periodic = Math.ceil((performance.now() - started) / 1000) + 1;
    assert.ok(uptimes.size > periodic, `${uptimes.size} distinct writes in ${(performance.now() - started).toFixed(0)} ms: at most ${periodic} are the once-a-second ones`);

    const before = (await modelCounters(backend()))!.packets;
    inNs('client', 'ping', '-n', '-q', '-c', '2', '-i', '0.01', '198.18.2.2');
    assert.ok((await modelCounters(backend()))!.packets >= before + 4, 'the ping and its replies are counted at once');
  });

  test('a model whose stats file does not offer SIGHUP is never sent it (it would die of it)', async () => {
    const plain = path.join(ws.dir, 'plain');
    fs.cpSync(dir, plain, { recursive: true });
    const file = path.join(plain, 'user_space_model.c');
    const src = fs.readFileSync(file, 'utf8');
    const edited = src.replace(/\tsb_printf\(&sb, " {2}\\"refresh_signal\\": \\"SIGHUP\\",\\n"\);\n/, '').replace('\tsigaddset(&sigs, SIGHUP);\n', '');
    assert.notEqual(edited.length, src.length);
    assert.ok(!/refresh_signal|SIGHUP\)/.test(edited.replace(/\/\*[\s\S]*?\*\//g, '')), 'neither the offer nor the SIGHUP handling is left');
    fs.writeFileSync(file, edited);
    const r = await deployModel(backend(), plain, 'user');
    assert.match(r.verified, /^counted \d+ packets of a ping/);
    assert.doesNotMatch(fs.readFileSync(r.deployed.detail.statsFile, 'utf8'), /refresh_signal/);
    await modelCounters(backend());
    const pid = fs.readFileSync(r.deployed.detail.pidFile, 'utf8').trim();
    assert.match(procState(pid), /^[SR]$/, 'the model still runs');
    await undeployModel(backend());
  });
});
