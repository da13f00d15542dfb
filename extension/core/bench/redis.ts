import type { BenchContext, BenchOutcome, Benchmark, StopServer } from './benchmark';
import { BenchmarkOutputError } from './benchmark';
import { startDaemon } from './daemon';
import { generatePassword, readSecret, writeSecret } from './server-access';
import { run } from '../hosts/host';

const PORT = '6379';
const TESTS = ['set', 'get'] as const;
/** redis-benchmark counts requests, not time: this many per second of the planned duration. */
const REQUESTS_PER_S = 15_000;
const CLIENTS = '10';

/**
 * Parses `redis-benchmark --csv`: one row per test, latencies in milliseconds. Sample (redis 7.0):
 *
 *   "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
 *   "SET","17123.29","0.437","0.040","0.183","2.087","5.623","30.623"
 *   "GET","12936.61","0.611","0.040","0.239","3.447","5.775","12.135"
 */
export function parseRedisBenchmark(raw: string): BenchOutcome {
  const rows = raw.split('\n').filter((l) => l.startsWith('"')).map((l) => l.trim().replace(/^"|"$/g, '').split('","'));
  const header = rows.shift();
  if (!header || header[0] !== 'test' || rows.length === 0) {
    const why = raw.split('\n').find((l) => /ERR|NOAUTH|WRONGPASS|Could not connect|error/i.test(l) && !l.startsWith('Node '));
    throw new BenchmarkOutputError('redis-benchmark', why ? why.trim() : 'no CSV rows in the output (was it run with --csv?)', raw);
  }
  const metrics: BenchOutcome['metrics'] = {};
  for (const row of rows) {
    const test = row[0].toLowerCase();
    const col = (name: string) => {
      const v = Number(row[header.indexOf(name)]);
      if (!Number.isFinite(v)) throw new BenchmarkOutputError('redis-benchmark', `${name} of ${row[0]} is not a number`, raw);
      return v;
    };
    metrics[`${test}Rate`] = { value: col('rps'), unit: 'request/s', better: 'higher' };
    metrics[`${test}LatencyAvg`] = { value: col('avg_latency_ms'), unit: 'ms', better: 'lower' };
    metrics[`${test}LatencyP50`] = { value: col('p50_latency_ms'), unit: 'ms', better: 'lower' };
    metrics[`${test}LatencyP99`] = { value: col('p99_latency_ms'), unit: 'ms', better: 'lower' };
  }
  return { raw, metrics };
}

const secretFile = (ctx: BenchContext) => `${ctx.runDir}/redis.secret`;

export const redis: Benchmark = {
  id: 'redis',
  title: 'redis-benchmark SET/GET against redis-server on the server host',
  headline: 'getRate',
  requires: { client: [['redis-benchmark', 'redis-tools']], server: [['redis-server', 'redis-server']] },

  async startServer(ctx: BenchContext): Promise<StopServer> {
    const password = generatePassword();
    await run(ctx.server, ['mkdir', '-p', ctx.runDir], { timeoutMs: 10_000 });
    await writeSecret(ctx.server, secretFile(ctx), password, ctx.signal);
    // The configuration comes on stdin ("redis-server -") so the password never shows in the process list.
    const stop = await startDaemon(ctx.server, {
      name: 'redis-server',
      runDir: ctx.runDir,
      port: PORT,
      argv: () => ['redis-server', '-'],
      stdin: [
        `bind ${ctx.target}`, `port ${PORT}`, 'protected-mode yes', `requirepass ${password}`,
        'daemonize yes', `pidfile ${ctx.runDir}/redis-server.pid`, `logfile ${ctx.runDir}/redis-server.log`, `dir ${ctx.runDir}`,
        'save ""', 'appendonly no',
      ].join('\n') + '\n',
      signal: ctx.signal,
    });
    return async () => {
      await stop();
      await ctx.server.exec(['rm', '-f', secretFile(ctx)], { timeoutMs: 10_000 });
    };
  },

  async run(ctx: BenchContext): Promise<BenchOutcome> {
    const password = await readSecret(ctx.server, secretFile(ctx), ctx.signal);
    const argv = ['redis-benchmark', '-h', ctx.target, '-p', PORT, '-a', password, '-c', CLIENTS,
      '-n', String(REQUESTS_PER_S * ctx.durationS), '-t', TESTS.join(','), '--csv'];
    const r = await ctx.client.exec(argv, { signal: ctx.signal, timeoutMs: (ctx.durationS * 10 + 30) * 1000 });
    if (r.cancelled) throw new Error('redis-benchmark was cancelled');
    return parseRedisBenchmark(r.stdout + r.stderr);
  },
};
