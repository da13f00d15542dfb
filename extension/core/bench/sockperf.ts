import type { BenchOutcome } from './benchmark';
import { BenchmarkOutputError } from './benchmark';
import { clientServerBenchmark } from './client-server';

const PORT = '11111';

/**
 * Parses `sockperf ping-pong --full-rtt` output (colour escapes included): the round trip of the valid (post
 * warm-up) part of the test and its percentiles, in microseconds. Abridged sample:
 *
 *   sockperf: [Valid Duration] RunTime=0.546 sec; SentMessages=6795; ReceivedMessages=6795
 *   sockperf: ====> avg-rtt=80.249 (std-dev=680.202)
 *   sockperf: # dropped messages = 0; # duplicated messages = 0; # out-of-order messages = 0
 *   sockperf: ---> <MAX> observation = 41274.157
 *   sockperf: ---> percentile 99.999 = 41274.157
 *   ...
 *   sockperf: ---> percentile 50.000 =   23.593
 *   sockperf: ---> <MIN> observation =   19.206
 */
export function parseSockperf(raw: string): BenchOutcome {
  const text = raw.replace(/\x1b\[[0-9;]*m/g, '');
  const avg = /avg-rtt=([\d.]+) \(std-dev=([\d.]+)\)/.exec(text);
  if (!avg) {
    const why = /sockperf: (No messages were received.*|ERROR.*)/.exec(text);
    throw new BenchmarkOutputError('sockperf', why ? why[1] : 'no avg-rtt line in the output (was it run as ping-pong with --full-rtt?)', raw);
  }
  const us = (value: string) => ({ value: Number(value), unit: 'µs', better: 'lower' as const });
  const metrics: BenchOutcome['metrics'] = { rttAvg: us(avg[1]), rttStdev: us(avg[2]) };
  for (const m of text.matchAll(/---> percentile ([\d.]+) =\s*([\d.]+)/g)) metrics[`rttP${m[1].replace(/\.?0+$/, '').replace('.', '_')}`] = us(m[2]);
  const min = /<MIN> observation =\s*([\d.]+)/.exec(text);
  const max = /<MAX> observation =\s*([\d.]+)/.exec(text);
  if (min) metrics.rttMin = us(min[1]);
  if (max) metrics.rttMax = us(max[1]);
  const valid = /\[Valid Duration\] RunTime=([\d.]+) sec; SentMessages=(\d+); ReceivedMessages=(\d+)/.exec(text);
  if (valid) metrics.messageRate = { value: Number(valid[3]) / Number(valid[1]) / 1e3, unit: 'kmessage/s', better: 'higher' };
  const dropped = /# dropped messages = (\d+)/.exec(text);
  if (dropped) metrics.dropped = { value: Number(dropped[1]), unit: 'messages', better: 'lower' };
  return { raw, metrics };
}

export const sockperf = clientServerBenchmark({
  id: 'sockperf',
  title: 'sockperf UDP ping-pong latency',
  headline: 'rttP50',
  requires: { client: [['sockperf', 'sockperf']], server: [['sockperf', 'sockperf']] },
  server: (ctx) => ({ name: 'sockperf', port: PORT, protocol: 'udp', argv: ['sockperf', 'server', '-i', ctx.target, '-p', PORT] }),
  client: (ctx) => ['sockperf', 'ping-pong', '-i', ctx.target, '-p', PORT, '-t', String(ctx.durationS), '--full-rtt'],
  parse: parseSockperf,
});
