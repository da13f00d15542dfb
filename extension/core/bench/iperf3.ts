import { HostCommandError, run } from '../hosts/host';
import type { BenchContext, BenchOutcome, Benchmark, StopServer } from './benchmark';
import { BenchmarkOutputError } from './benchmark';
import { startDaemon } from './daemon';

const PORT = '5201';

interface IperfJson {
  error?: string;
  intervals?: Array<{ sum: { start: number; end: number; bits_per_second: number } }>;
  end?: {
    sum_sent?: { bits_per_second: number; retransmits?: number; bytes: number };
    sum_received?: { bits_per_second: number; bytes: number; seconds: number };
    cpu_utilization_percent?: { host_total: number; remote_total: number };
  };
}

/** Parses `iperf3 -c ... -J` output of a TCP test. Throughput is what the receiver got. */
export function parseIperf3(raw: string): BenchOutcome {
  let j: IperfJson;
  try {
    j = JSON.parse(raw) as IperfJson;
  } catch {
    throw new BenchmarkOutputError('iperf3', 'output is not JSON (was it run with -J?)', raw);
  }
  if (j.error) throw new BenchmarkOutputError('iperf3', j.error, raw);
  const recv = j.end?.sum_received;
  const sent = j.end?.sum_sent;
  if (!recv || !sent) throw new BenchmarkOutputError('iperf3', 'no end-of-test summary in the output', raw);
  const gbit = (bps: number) => bps / 1e9;
  const metrics: BenchOutcome['metrics'] = {
    throughput: { value: gbit(recv.bits_per_second), unit: 'Gbit/s', better: 'higher' },
    retransmits: { value: sent.retransmits ?? 0, unit: 'segments', better: 'lower' },
  };
  const cpu = j.end?.cpu_utilization_percent;
  if (cpu) {
    metrics.senderCpu = { value: cpu.host_total, unit: '%', better: 'lower' };
    metrics.receiverCpu = { value: cpu.remote_total, unit: '%', better: 'lower' };
  }
  return {
    raw,
    metrics,
    series: {
      throughput: { unit: 'Gbit/s', points: (j.intervals ?? []).map((i) => [i.sum.end, gbit(i.sum.bits_per_second)]) },
    },
  };
}

export const iperf3: Benchmark = {
  id: 'iperf3',
  title: 'iperf3 TCP throughput',
  headline: 'throughput',
  requires: { client: [['iperf3', 'iperf3']], server: [['iperf3', 'iperf3']] },

  startServer(ctx: BenchContext): Promise<StopServer> {
    return startDaemon(ctx.server, {
      name: 'iperf3',
      runDir: ctx.runDir,
      port: PORT,
      argv: (pidFile, logFile) => ['iperf3', '-s', '-p', PORT, '-D', '-I', pidFile, '--logfile', logFile],
      signal: ctx.signal,
    });
  },

  async run(ctx: BenchContext): Promise<BenchOutcome> {
    const argv = ['iperf3', '-c', ctx.target, '-p', PORT, '-t', String(ctx.durationS), '-J'];
    try {
      const raw = await run(ctx.client, argv, { signal: ctx.signal, timeoutMs: (ctx.durationS + 30) * 1000 });
      return parseIperf3(raw);
    } catch (err) {
      // iperf3 -J reports its own errors as JSON on stdout with a non-zero exit.
      if (err instanceof HostCommandError && err.result.stdout.trim().startsWith('{')) return parseIperf3(err.result.stdout);
      throw err;
    }
  },
};
