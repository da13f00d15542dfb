import type { BenchContext, BenchOutcome, Benchmark } from './benchmark';
import { BenchmarkOutputError } from './benchmark';
import { quantile } from '../results/stats';

const INTERVAL_S = 0.2;

/**
 * Parses iputils ping output: the per-reply lines and the closing summary. Sample:
 *
 *   64 bytes from 198.18.2.2: icmp_seq=1 ttl=63 time=0.284 ms
 *   ...
 *   --- 198.18.2.2 ping statistics ---
 *   5 packets transmitted, 5 received, 0% packet loss, time 823ms
 *   rtt min/avg/max/mdev = 0.059/0.113/0.284/0.085 ms
 */
export function parsePing(raw: string): BenchOutcome {
  const summary = /(\d+) packets transmitted, (\d+) received/.exec(raw);
  if (!summary) throw new BenchmarkOutputError('ping', 'no packet summary in the output', raw);
  const sent = Number(summary[1]);
  const received = Number(summary[2]);
  const metrics: BenchOutcome['metrics'] = {
    loss: { value: sent ? ((sent - received) / sent) * 100 : 100, unit: '%', better: 'lower' },
  };
  const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\/([\d.]+) ms/.exec(raw);
  if (rtt) {
    metrics.rttAvg = { value: Number(rtt[2]), unit: 'ms', better: 'lower' };
    metrics.rttMin = { value: Number(rtt[1]), unit: 'ms', better: 'lower' };
    metrics.rttMax = { value: Number(rtt[3]), unit: 'ms', better: 'lower' };
    metrics.rttMdev = { value: Number(rtt[4]), unit: 'ms', better: 'lower' };
  }
  const points: Array<[number, number]> = [];
  for (const m of raw.matchAll(/icmp_seq=(\d+) ttl=\d+ time=([\d.]+) ms/g)) points.push([Number(((Number(m[1]) - 1) * INTERVAL_S).toFixed(3)), Number(m[2])]);
  const sorted = points.map((p) => p[1]).sort((a, b) => a - b);
  if (sorted.length) {
    for (const p of [50, 90, 99]) metrics[`rttP${p}`] = { value: quantile(sorted, p / 100), unit: 'ms', better: 'lower' };
  }
  return { raw, metrics, series: { rtt: { unit: 'ms', points } } };
}

export const ping: Benchmark = {
  id: 'ping',
  title: 'ping round-trip time',
  headline: 'rttAvg',
  requires: { client: [['ping', 'iputils-ping']], server: [] },

  async run(ctx: BenchContext): Promise<BenchOutcome> {
    const count = Math.max(5, Math.round(ctx.durationS / INTERVAL_S));
    const argv = ['ping', '-n', '-c', String(count), '-i', String(INTERVAL_S), '-W', '1', ctx.target];
    const r = await ctx.client.exec(argv, { signal: ctx.signal, timeoutMs: (count * INTERVAL_S + 10) * 1000, onStdout: ctx.onOutput });
    if (r.cancelled) throw new Error('ping was cancelled');
    // ping exits 1 when replies are missing; the loss is then a result, not an error.
    return parsePing(r.stdout + r.stderr);
  },
};
