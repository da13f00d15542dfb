import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { tempWorkspace } from '../helpers/workspace';
import { runBenchmarks } from '../../extension/core/bench/runner';
import { BENCHMARKS } from '../../extension/core/bench/registry';
import type { Measurement } from '../../extension/core/results/run-file';
import { ResultsStore } from '../../extension/core/results/store';
import type { BenchContext } from '../../extension/core/bench/benchmark';
import { hostRunDir, serverAddress } from '../../extension/core/testbed/testbed';
import { redis } from '../../extension/core/bench/redis';
import { sysbenchOltp } from '../../extension/core/bench/sysbench-oltp';

const NAME = 'sui-suite';
/** netperf is not in Debian: on a machine without it the catalog run leaves it out and a separate test proves it is refused. */
const NETPERF_HERE = spawnSync('sh', ['-c', 'command -v netperf && command -v netserver']).status === 0;
const pids = (role: string) => execFileSync('ip', ['netns', 'pids', `hs-${NAME}-${role}`], { encoding: 'utf8' }).trim();

/** What a sane result of each benchmark looks like on a namespace testbed, whatever the load of the machine. */
const SANE: Record<string, (m: Measurement) => void> = {
  iperf3: (m) => assert.ok(m.metrics.throughput.value > 0.1, `${m.metrics.throughput.value} Gbit/s`),
  ping: (m) => { assert.equal(m.metrics.loss.value, 0); assert.ok(m.metrics.rttP50.value > 0 && m.metrics.rttP50.value < 50); },
  // Loss on a loaded 2-core machine is a result, not a failure; a run that received nothing is not.
  'iperf3-udp': (m) => { assert.ok(m.metrics.throughput.value > 0.01); assert.ok(m.metrics.loss.value < 100); assert.ok(m.metrics.jitter.value >= 0); },
  'iperf3-parallel': (m) => assert.ok(m.metrics.throughput.value > 0.1),
  'iperf3-reverse': (m) => assert.ok(m.metrics.throughput.value > 0.1),
  'iperf3-capped': (m) => {
    assert.ok(m.metrics.throughput.value > 0.5 && m.metrics.throughput.value < 1.05, `${m.metrics.throughput.value} Gbit/s under a 1 Gbit/s cap`);
    assert.match(m.warnings?.[0] ?? '', /sits at the bandwidth cap/);
  },
  'iperf3-udp64': (m) => assert.ok(m.metrics.packetRate.value > 5, `${m.metrics.packetRate.value} kpacket/s`),
  traceroute: (m) => assert.equal(m.metrics.hops.value, m.mode === 'model' ? 2 : 1),
  nuttcp: (m) => { assert.ok(m.metrics.throughput.value > 0.1); assert.ok(m.metrics.retransmits.value >= 0); },
  sockperf: (m) => { assert.ok(m.metrics.rttP50.value > 1 && m.metrics.rttP50.value < 50_000, `${m.metrics.rttP50.value} µs`); assert.ok(m.metrics.rttP99.value >= m.metrics.rttP50.value); },
  netperf: (m) => { assert.ok(m.metrics.rttP50.value > 1); assert.ok(m.metrics.transactionRate.value > 10); },
  redis: (m) => { assert.ok(m.metrics.getRate.value > 100); assert.ok(m.metrics.setRate.value > 100); },
  // InnoDB may abort a transaction on a deadlock between sysbench's threads; sysbench retries it and counts it.
  'sysbench-oltp': (m) => { assert.ok(m.metrics.transactionRate.value > 1); assert.ok(m.metrics.errors.value <= m.metrics.transactionRate.value * 0.01 + 1); },
  'sysbench-cpu': (m) => assert.ok(m.metrics.eventRate.value > 10),
  'sysbench-memory': (m) => assert.ok(m.metrics.bandwidth.value > 10),
  fio: (m) => { assert.ok(m.metrics.readIops.value > 10); assert.ok(m.metrics.writeIops.value > 10); },
  pagefault: (m) => { assert.ok(m.metrics.faultRate.value > 1); assert.ok(Math.abs(m.metrics.faultsPerPage.value - 1) < 0.1); },
};

describe('every benchmark of the catalog, end to end on a namespace testbed', () => {
  const ws = tempWorkspace(NAME);
  before(async () => { await ws.backend().up(); });
  after(() => ws.cleanup());

  test('direct and model, real servers started and stopped, metrics parsed with units and directions', async () => {
    assert.deepEqual(BENCHMARKS.map((b) => b.id).filter((id) => !SANE[id]), [], 'every catalog entry has a sanity check here');
    const ids = BENCHMARKS.map((b) => b.id).filter((id) => NETPERF_HERE || id !== 'netperf');
    const run = await runBenchmarks(ws.backend(), { benchmarks: ids, modes: ['direct', 'model'], repetitions: 1, warmup: 0, durationS: 1 },
      { workspace: ws.dir, store: new ResultsStore(ws.dir) });
    assert.equal(run.status, 'complete', run.reason);
    assert.equal(run.results.length, ids.length * 2);
    for (const m of run.results) {
      assert.equal(m.error, undefined, `${m.benchmark} ${m.mode}: ${m.error}`);
      const b = BENCHMARKS.find((x) => x.id === m.benchmark)!;
      assert.ok(m.metrics[b.headline], `${m.benchmark} has its headline metric ${b.headline}`);
      for (const [name, metric] of Object.entries(m.metrics)) {
        assert.ok(Number.isFinite(metric.value), `${m.benchmark}.${name} = ${metric.value}`);
        assert.ok(metric.unit, `${m.benchmark}.${name} has a unit`);
        assert.ok(metric.better === 'higher' || metric.better === 'lower', `${m.benchmark}.${name} has a direction`);
      }
      try {
        SANE[m.benchmark](m);
      } catch (err) {
        throw new Error(`${m.benchmark} ${m.mode}: ${(err as Error).message}\n${JSON.stringify(m.metrics)}`);
      }
    }
    const tools = Object.assign({}, ...run.metadata.hosts.map((h) => h.tools)) as Record<string, string>;
    assert.match(tools.nuttcp, /^nuttcp-\d/);
    assert.match(tools.mariadbd, /^mariadbd\s+Ver /);
    assert.match(tools.sockperf, /^sockperf, version /);
    assert.equal(pids('server'), '', 'every server stopped after the run');
    assert.equal(pids('client'), '');
  });

  test('redis and MariaDB listen on the server\'s testbed address only, with a generated password, and admit the client alone', async () => {
    const b = ws.backend();
    const ctx: BenchContext = { client: b.host('client'), server: b.host('server'), target: serverAddress(b.testbed), durationS: 1, runDir: hostRunDir(NAME, 'server') };
    const listening = async () => (await ctx.server.exec(['ss', '-Hltn'])).stdout;
    const stopRedis = await redis.startServer!(ctx);
    const stopDb = await sysbenchOltp.startServer!(ctx).catch(async (err) => { await stopRedis(); throw err; });
    try {
      const ss = await listening();
      assert.match(ss, /198\.18\.2\.2:6379 /);
      assert.match(ss, /198\.18\.2\.2:3306 /);
      assert.doesNotMatch(ss, /(0\.0\.0\.0|\*|\[::\]):(6379|3306) /, 'no wildcard listener');
      const password = (await ctx.server.exec(['cat', `${ctx.runDir}/mariadb.secret`])).stdout.trim();
      assert.match(password, /^[0-9a-f]{36}$/);
      assert.notEqual(password, (await ctx.server.exec(['cat', `${ctx.runDir}/redis.secret`])).stdout.trim(), 'one password per server');
      assert.equal((await ctx.server.exec(['stat', '-c', '%a', `${ctx.runDir}/mariadb.secret`])).stdout.trim(), '600');
      const noAuth = await ctx.client.exec(['redis-cli', '-h', ctx.target, 'ping']);
      assert.match(noAuth.stdout + noAuth.stderr, /NOAUTH/, 'redis refuses a client without the password');
      const sql = (host: typeof ctx.client, user: string, pw: string) => host.exec(['mariadb', '--no-defaults', '-h', ctx.target, '-u', user, `-p${pw}`, '-e', 'SELECT CURRENT_USER()']);
      const fromClient = await sql(ctx.client, 'hs_bench', password);
      assert.equal(fromClient.code, 0, fromClient.stderr);
      assert.match(fromClient.stdout, /hs_bench@198\.18\.1\.2/);
      assert.match((await sql(ctx.server, 'hs_bench', password)).stderr, /Host '198\.18\.2\.2' is not allowed to connect/, 'the same user from the server host is refused');
      assert.match((await sql(ctx.client, 'root', 'password')).stderr, /Access denied for user 'root'/, 'root is not reachable over the network');
      const rights = await ctx.client.exec(['mariadb', '--no-defaults', '-h', ctx.target, '-u', 'hs_bench', `-p${password}`, '-e', 'CREATE DATABASE other']);
      assert.match(rights.stderr, /Access denied for user 'hs_bench'/, 'rights on the benchmark database only');
    } finally {
      await stopDb();
      await stopRedis();
    }
    assert.doesNotMatch(await listening(), /:(6379|3306) /);
    assert.equal(pids('server'), '');
    assert.deepEqual((await ctx.server.exec(['ls', ctx.runDir])).stdout.trim().split('\n').filter((f) => f === 'mariadb' || f.endsWith('.secret')), [], 'data directory and secrets removed (logs stay until down)');
  });

  test('--profile: perf stat and /proc on the model host during each repetition, unsupported counters never 0, perf gone afterwards', async () => {
    const run = await runBenchmarks(ws.backend(), { benchmarks: ['iperf3', 'ping'], modes: ['direct', 'model'], repetitions: 1, warmup: 1, durationS: 1 },
      { workspace: ws.dir, store: new ResultsStore(ws.dir), profile: true });
    assert.equal(run.status, 'complete', run.reason);
    for (const m of run.results) {
      const p = m.profile!;
      assert.ok(p, `${m.benchmark} ${m.mode} has a profile`);
      for (const [event, c] of Object.entries(p.counters)) {
        if (c.supported) assert.ok(Number.isFinite(c.value), event);
        else assert.match(c.reason, /^not (supported|counted)$/, event);
      }
      assert.ok(p.counters['context-switches'].supported, 'software events work everywhere');
      if (!p.counters.cycles.supported) assert.equal(m.metrics.perfCycles, undefined, 'a missing counter gives no metric');
      assert.ok(p.cpu.busyMs > 0 && p.cpu.softirqMs >= 0 && p.cpu.cpus >= 1);
      assert.ok(m.metrics.softirqShare.value >= 0 && m.metrics.softirqShare.value <= 100);
      assert.ok(m.metrics.harnessCpuShare.value >= 0 && m.metrics.harnessCpuShare.value < 25, `harness ${m.metrics.harnessCpuShare.value} %`);
      if (m.benchmark === 'iperf3' && m.mode === 'model') {
        // GRO merges segments into 64 KiB packets on veth: a second of TCP is thousands of packets, not millions.
        assert.ok(p.traffic.packets >= 1000, `${p.traffic.packets} packets crossed the model host`);
        assert.ok(m.metrics.modelCpuPerPacket.value > 0);
        assert.ok(m.metrics.contextSwitchesPer1kPackets.value >= 0);
      }
      if (m.mode === 'direct') assert.equal(m.metrics.modelCpuPerPacket, undefined, 'nothing to divide by in direct mode');
    }
    assert.equal(pids('model'), '', 'no perf left on the model host');
    assert.equal((await ws.backend().host('model').exec(['ls', hostRunDir(NAME, 'model')])).stdout.includes('perf-stat'), false);
  });

  test(`netperf is ${NETPERF_HERE ? 'installed here and ran above' : 'not installed: a run that asks for it is refused, naming where to get it'}`, async () => {
    if (NETPERF_HERE) return;
    const store = new ResultsStore(ws.dir);
    const before = store.list().runs.length;
    await assert.rejects(runBenchmarks(ws.backend(), { benchmarks: ['ping', 'netperf'], modes: ['direct'], repetitions: 1, warmup: 0, durationS: 1 }, { workspace: ws.dir, store }),
      new RegExp(`^Error: Missing benchmark tools: netperf on client \\(netns hs-${NAME}-client\\) \\(not in Debian: build netperf from https://github.com/HewlettPackard/netperf .*\\); ` +
        `netserver on server \\(netns hs-${NAME}-server\\) \\(not in Debian`));
    assert.equal(store.list().runs.length, before, 'nothing recorded');
  });
});
