import type { BenchOutcome } from './benchmark';
import { BenchmarkOutputError } from './benchmark';
import { clientServerBenchmark } from './client-server';

const PORT = '12865';
const FIELDS = ['MIN_LATENCY', 'MEAN_LATENCY', 'P50_LATENCY', 'P90_LATENCY', 'P99_LATENCY', 'MAX_LATENCY', 'STDDEV_LATENCY', 'TRANSACTION_RATE'] as const;
const NAMES: Record<(typeof FIELDS)[number], string> = {
  MIN_LATENCY: 'rttMin', MEAN_LATENCY: 'rttAvg', P50_LATENCY: 'rttP50', P90_LATENCY: 'rttP90', P99_LATENCY: 'rttP99',
  MAX_LATENCY: 'rttMax', STDDEV_LATENCY: 'rttStdev', TRANSACTION_RATE: 'transactionRate',
};

/**
 * Parses netperf TCP_RR omni output in key=value form (`-P 0 -- -k FIELDS`); latencies are microseconds per
 * transaction (one request and its response). Sample (netperf 2.7.1):
 *
 *   MIN_LATENCY=17
 *   MEAN_LATENCY=116.81
 *   P50_LATENCY=22
 *   ...
 *   TRANSACTION_RATE=8543.322
 *
 * and without a server: `establish control: are you sure there is a netserver listening on ...`.
 */
export function parseNetperf(raw: string): BenchOutcome {
  const kv = new Map([...raw.matchAll(/^([A-Z_0-9]+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
  if (!kv.has('MEAN_LATENCY')) {
    const why = raw.trim().split('\n')[0];
    throw new BenchmarkOutputError('netperf', why ? why : 'no MEAN_LATENCY=... line in the output (was it run with -- -k?)', raw);
  }
  const metrics: BenchOutcome['metrics'] = {};
  for (const f of FIELDS) {
    const v = kv.get(f);
    if (v === undefined) continue;
    if (!Number.isFinite(Number(v))) throw new BenchmarkOutputError('netperf', `${f}=${v} is not a number`, raw);
    metrics[NAMES[f]] = f === 'TRANSACTION_RATE'
      ? { value: Number(v), unit: 'transaction/s', better: 'higher' }
      : { value: Number(v), unit: 'µs', better: 'lower' };
  }
  return { raw, metrics };
}

export const netperf = clientServerBenchmark({
  id: 'netperf',
  title: 'netperf TCP request/response latency',
  headline: 'rttP50',
  requires: { client: [['netperf', 'netperf']], server: [['netserver', 'netperf']] },
  install: 'not in Debian: build netperf from https://github.com/HewlettPackard/netperf and put netperf and netserver on the PATH',
  // -D: stay in the foreground; -L: only on the testbed address.
  server: (ctx) => ({ name: 'netserver', port: PORT, argv: ['netserver', '-D', '-4', '-L', ctx.target, '-p', PORT] }),
  client: (ctx) => ['netperf', '-H', ctx.target, '-p', PORT, '-l', String(ctx.durationS), '-t', 'TCP_RR', '-P', '0', '--', '-k', FIELDS.join(',')],
  parse: parseNetperf,
});
