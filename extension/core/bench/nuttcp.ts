import type { BenchOutcome } from './benchmark';
import { BenchmarkOutputError } from './benchmark';
import { clientServerBenchmark } from './client-server';

const CONTROL_PORT = '5000';
const DATA_PORT = '5001';

/**
 * Parses the summary line of `nuttcp -fparse`: key=value pairs, TCP or UDP. Samples:
 *
 *   megabytes=1818.2053 real_seconds=1.00 rate_Mbps=15250.9153 tx_cpu=43 rx_cpu=41 retrans=0 rtt_ms=0.12
 *   megabytes=18.5459 real_seconds=1.00 rate_Mbps=155.8454 tx_cpu=46 rx_cpu=5 drop=5406 pkt=24397 data_loss=22.15847
 *
 * and on failure: `nuttcp-t: v6.1.2: Error: connect: Connection refused`.
 */
export function parseNuttcp(raw: string): BenchOutcome {
  const line = raw.split('\n').find((l) => /^megabytes=\S+ real_seconds=/.test(l));
  if (!line) {
    const error = /Error: (.*)/.exec(raw);
    throw new BenchmarkOutputError('nuttcp', error ? error[1] : 'no summary line (megabytes=... real_seconds=...) in the output; was it run with -fparse?', raw);
  }
  const kv = Object.fromEntries(line.trim().split(/\s+/).map((p) => p.split('=') as [string, string]));
  const num = (k: string) => (kv[k] === undefined ? undefined : Number(kv[k]));
  const metrics: BenchOutcome['metrics'] = {
    throughput: { value: num('rate_Mbps')! / 1e3, unit: 'Gbit/s', better: 'higher' },
    senderCpu: { value: num('tx_cpu')!, unit: '%', better: 'lower' },
    receiverCpu: { value: num('rx_cpu')!, unit: '%', better: 'lower' },
  };
  if (kv.retrans !== undefined) metrics.retransmits = { value: num('retrans')!, unit: 'segments', better: 'lower' };
  if (kv.rtt_ms !== undefined) metrics.rtt = { value: num('rtt_ms')!, unit: 'ms', better: 'lower' };
  if (kv.data_loss !== undefined) metrics.loss = { value: num('data_loss')!, unit: '%', better: 'lower' };
  for (const [name, m] of Object.entries(metrics)) {
    if (!Number.isFinite(m.value)) throw new BenchmarkOutputError('nuttcp', `${name} is missing or not a number in "${line.trim()}"`, raw);
  }
  return { raw, metrics };
}

export const nuttcp = clientServerBenchmark({
  id: 'nuttcp',
  title: 'nuttcp TCP throughput',
  headline: 'throughput',
  requires: { client: [['nuttcp', 'nuttcp']], server: [['nuttcp', 'nuttcp']] },
  // --nofork: one process to stop; --no3rdparty: the server relays to nobody else.
  server: () => ({ name: 'nuttcp', port: CONTROL_PORT, argv: ['nuttcp', '-S', '--nofork', '--no3rdparty', '-P', CONTROL_PORT, '-p', DATA_PORT] }),
  client: (ctx) => ['nuttcp', `-T${ctx.durationS}`, '-fparse', '-P', CONTROL_PORT, '-p', DATA_PORT, ctx.target],
  parse: parseNuttcp,
});
