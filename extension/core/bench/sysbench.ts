import type { BenchContext, BenchOutcome, Benchmark } from './benchmark';
import { BenchmarkOutputError } from './benchmark';

/**
 * Parses the report sysbench 1.0 prints for any test (cpu, memory, oltp_*), taking what is present. Abridged
 * samples:
 *
 *   CPU speed:
 *       events per second:  2078.11
 *
 *   9361.00 MiB transferred (9323.37 MiB/sec)
 *
 *   SQL statistics:
 *       transactions:                        219    (216.01 per sec.)
 *       queries:                             4380   (4320.16 per sec.)
 *       ignored errors:                      0      (0.00 per sec.)
 *
 *   Latency (ms):
 *            avg:                                    9.22
 *            95th percentile:                       16.12
 *
 * and on failure lines starting "FATAL: ".
 */
export function parseSysbench(raw: string): BenchOutcome {
  const fatal = raw.split('\n').filter((l) => l.startsWith('FATAL: '));
  if (fatal.length) throw new BenchmarkOutputError('sysbench', fatal.map((l) => l.slice(7)).join('; '), raw);
  const num = (re: RegExp) => { const m = re.exec(raw); return m ? Number(m[1]) : undefined; };
  const metrics: BenchOutcome['metrics'] = {};
  const put = (name: string, value: number | undefined, unit: string, better: 'higher' | 'lower') => {
    if (value !== undefined) metrics[name] = { value, unit, better };
  };
  put('eventRate', num(/events per second:\s*([\d.]+)/), 'event/s', 'higher');
  put('bandwidth', num(/MiB transferred \(([\d.]+) MiB\/sec\)/), 'MiB/s', 'higher');
  put('transactionRate', num(/transactions:\s+\d+\s+\(([\d.]+) per sec\.\)/), 'transaction/s', 'higher');
  put('queryRate', num(/queries:\s+\d+\s+\(([\d.]+) per sec\.\)/), 'query/s', 'higher');
  put('errors', num(/ignored errors:\s+(\d+)/), 'errors', 'lower');
  put('reconnects', num(/reconnects:\s+(\d+)/), 'reconnects', 'lower');
  put('latencyAvg', num(/Latency \(ms\):[\s\S]*?avg:\s+([\d.]+)/), 'ms', 'lower');
  put('latencyP95', num(/Latency \(ms\):[\s\S]*?95th percentile:\s+([\d.]+)/), 'ms', 'lower');
  if (metrics.latencyAvg === undefined || Object.keys(metrics).length < 2) {
    throw new BenchmarkOutputError('sysbench', 'no result figures in the output (an unknown report format?)', raw);
  }
  return { raw, metrics };
}

function hostSysbench(id: string, title: string, headline: string, args: readonly string[]): Benchmark {
  return {
    id,
    title,
    headline,
    requires: { client: [], server: [['sysbench', 'sysbench']] },
    async run(ctx: BenchContext): Promise<BenchOutcome> {
      const argv = ['sysbench', ...args, `--time=${ctx.durationS}`, 'run'];
      const r = await ctx.server.exec(argv, { signal: ctx.signal, timeoutMs: (ctx.durationS + 30) * 1000 });
      if (r.cancelled) throw new Error('sysbench was cancelled');
      return parseSysbench(r.stdout + r.stderr);
    },
  };
}

// Host workloads on the server host: the network path does not touch them, so direct and model should match;
// a difference is what the mechanism costs the machine itself (e.g. a hypervisor-level memory protection).
export const sysbenchCpu = hostSysbench('sysbench-cpu', 'sysbench cpu on the server host', 'eventRate', ['cpu', '--threads=1']);
export const sysbenchMemory = hostSysbench('sysbench-memory', 'sysbench memory write bandwidth on the server host', 'bandwidth',
  ['memory', '--threads=1', '--memory-block-size=1M', '--memory-total-size=1T']);
