import type { BenchContext, BenchOutcome, Benchmark } from './benchmark';
import { BenchmarkOutputError } from './benchmark';

const MAX_HOPS = 8;

/**
 * Parses `traceroute -I -n -N 1 -q 1` output: the hop count is the number of the line on which the target
 * answered. A second path proof beside the runner's packet count: each router on the way names itself.
 * Samples, through the model host and direct:
 *
 *   traceroute to 198.18.2.2 (198.18.2.2), 8 hops max, 60 byte packets
 *    1  198.18.1.1  0.077 ms
 *    2  198.18.2.2  0.062 ms
 *
 *   traceroute to 198.18.2.2 (198.18.2.2), 8 hops max, 60 byte packets
 *    1  198.18.2.2  0.086 ms
 */
export function parseTraceroute(raw: string): BenchOutcome {
  const head = /^traceroute to \S+ \(([\d.]+)\)/m.exec(raw);
  if (!head) throw new BenchmarkOutputError('traceroute', `no "traceroute to" line in the output: ${raw.trim().split('\n').at(-1) ?? ''}`, raw);
  const target = head[1];
  const hops = [...raw.matchAll(/^\s*(\d+)\s+(\S+)(?:\s+([\d.]+) ms)?/gm)].map((m) => ({ n: Number(m[1]), addr: m[2], ms: m[3] ? Number(m[3]) : undefined }));
  const reached = hops.find((h) => h.addr === target);
  if (!reached) {
    throw new BenchmarkOutputError('traceroute', `${target} did not answer within ${hops.length} hops (${hops.map((h) => h.addr).join(' ') || 'no hop lines'}): a firewall dropping ICMP echo or a broken route`, raw);
  }
  const metrics: BenchOutcome['metrics'] = { hops: { value: reached.n, unit: 'hops', better: 'lower' } };
  if (reached.ms !== undefined) metrics.lastHopRtt = { value: reached.ms, unit: 'ms', better: 'lower' };
  return { raw, metrics };
}

export const traceroute: Benchmark = {
  id: 'traceroute',
  title: 'traceroute hop count (path proof)',
  headline: 'hops',
  requires: { client: [['traceroute', 'traceroute']], server: [] },

  async run(ctx: BenchContext): Promise<BenchOutcome> {
    // ICMP echo probes, one at a time: Linux rate-limits the port-unreachable answers to UDP probes (one a second
    // per peer), and parallel probes used up that budget, so back-to-back runs lost the target's answer.
    const argv = ['traceroute', '-I', '-n', '-N', '1', '-q', '1', '-w', '1', '-m', String(MAX_HOPS), ctx.target];
    const r = await ctx.client.exec(argv, { signal: ctx.signal, timeoutMs: (MAX_HOPS * 1 + 10) * 1000, onStdout: ctx.onOutput });
    if (r.cancelled) throw new Error('traceroute was cancelled');
    return parseTraceroute(r.stdout + r.stderr);
  },
};
