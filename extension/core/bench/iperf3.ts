import { HostCommandError, run } from '../hosts/host';
import type { BenchContext, BenchOutcome, Benchmark, StopServer } from './benchmark';
import { BenchmarkOutputError } from './benchmark';
import { startDaemon } from './daemon';

const PORT = '5201';

/** Above this share of a bandwidth cap the cap, not the path, is what was measured. */
const AT_CAP = 0.95;

interface IperfSum {
  bits_per_second: number;
  bytes: number;
  seconds: number;
  retransmits?: number;
  jitter_ms?: number;
  lost_packets?: number;
  packets?: number;
  lost_percent?: number;
}

interface IperfJson {
  error?: string;
  start?: { test_start?: { protocol: 'TCP' | 'UDP'; num_streams: number; blksize: number; reverse: number; target_bitrate: number } };
  intervals?: Array<{ sum: { start: number; end: number; bits_per_second: number } }>;
  end?: {
    sum_sent?: IperfSum;
    sum_received?: IperfSum;
    cpu_utilization_percent?: { host_total: number; remote_total: number };
  };
}

/**
 * Parses `iperf3 -c ... -J` output of a TCP or UDP test, any number of streams, either direction. Throughput is
 * what the receiver got; UDP adds loss, jitter and packet rates. Abridged sample (UDP, 64-byte datagrams):
 *
 *   { "start": { ..., "test_start": { "protocol": "UDP", "num_streams": 1, "blksize": 64, "reverse": 0, "target_bitrate": 0 } },
 *     "intervals": [ { "sum": { "start": 0, "end": 1.000072, "bits_per_second": 71459814.7, "packets": 139580, ... } } ],
 *     "end": { "sum_sent": { "seconds": 1.000072, "bytes": 8933120, "bits_per_second": 71459814.9, "packets": 139580, ... },
 *              "sum_received": { "seconds": 1.00035, "bytes": 8389888, "bits_per_second": 67095620.5, "jitter_ms": 0.0036,
 *                                "lost_packets": 8488, "packets": 139580, "lost_percent": 6.08, "sender": false },
 *              "cpu_utilization_percent": { "host_total": 61.2, "remote_total": 38.5, ... } } }
 */
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
  const test = j.start?.test_start;
  const gbit = (bps: number) => bps / 1e9;
  const metrics: BenchOutcome['metrics'] = {
    throughput: { value: gbit(recv.bits_per_second), unit: 'Gbit/s', better: 'higher' },
  };
  const warnings: string[] = [];
  if (test?.protocol === 'UDP') {
    if (recv.packets === undefined || recv.lost_packets === undefined || recv.jitter_ms === undefined) {
      throw new BenchmarkOutputError('iperf3', 'a UDP test without packet counts or jitter in the receiver summary', raw);
    }
    const received = recv.packets - recv.lost_packets;
    metrics.loss = { value: recv.packets ? (recv.lost_packets / recv.packets) * 100 : 100, unit: '%', better: 'lower' };
    metrics.jitter = { value: recv.jitter_ms, unit: 'ms', better: 'lower' };
    metrics.packetRate = { value: received / recv.seconds / 1e3, unit: 'kpacket/s', better: 'higher' };
    metrics.sentPacketRate = { value: recv.packets / sent.seconds / 1e3, unit: 'kpacket/s', better: 'higher' };
  } else {
    metrics.retransmits = { value: sent.retransmits ?? 0, unit: 'segments', better: 'lower' };
  }
  // For UDP -b is the offered load, the experiment itself; for TCP it is a cap that can hide a slower path.
  const cap = test?.protocol === 'TCP' && test.target_bitrate ? test.target_bitrate * (test.num_streams || 1) : 0;
  if (cap && recv.bits_per_second >= cap * AT_CAP) {
    warnings.push(`iperf3: the result (${gbit(recv.bits_per_second).toFixed(3)} Gbit/s) sits at the bandwidth cap of ${gbit(cap).toFixed(3)} Gbit/s: ` +
      'the cap, not the path, was measured, and an overhead of the path below the cap is invisible. Raise or remove the cap to compare paths.');
  }
  const cpu = j.end?.cpu_utilization_percent;
  if (cpu) {
    // In reverse mode the client receives: host_total is then the receiver's CPU.
    const reverse = test?.reverse === 1;
    metrics.senderCpu = { value: reverse ? cpu.remote_total : cpu.host_total, unit: '%', better: 'lower' };
    metrics.receiverCpu = { value: reverse ? cpu.host_total : cpu.remote_total, unit: '%', better: 'lower' };
  }
  return {
    raw,
    metrics,
    series: {
      throughput: { unit: 'Gbit/s', points: (j.intervals ?? []).map((i) => [i.sum.end, gbit(i.sum.bits_per_second)]) },
    },
    ...(warnings.length ? { warnings } : {}),
  };
}

interface Iperf3Variant {
  id: string;
  title: string;
  headline: string;
  /** Client options beyond target, port, duration and -J. */
  args: readonly string[];
}

function iperf3Benchmark(v: Iperf3Variant): Benchmark {
  return {
    id: v.id,
    title: v.title,
    headline: v.headline,
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
      const argv = ['iperf3', '-c', ctx.target, '-p', PORT, '-t', String(ctx.durationS), '-J', ...v.args];
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
}

export const iperf3 = iperf3Benchmark({ id: 'iperf3', title: 'iperf3 TCP throughput', headline: 'throughput', args: [] });

export const iperf3Variants: readonly Benchmark[] = [
  // An offered load well below what either path carries, so loss and jitter show what the model adds.
  iperf3Benchmark({ id: 'iperf3-udp', title: 'iperf3 UDP at 200 Mbit/s: loss and jitter', headline: 'loss', args: ['-u', '-b', '200M'] }),
  iperf3Benchmark({ id: 'iperf3-parallel', title: 'iperf3 TCP, 4 parallel streams', headline: 'throughput', args: ['-P', '4'] }),
  iperf3Benchmark({ id: 'iperf3-reverse', title: 'iperf3 TCP, server to client', headline: 'throughput', args: ['-R'] }),
  iperf3Benchmark({ id: 'iperf3-capped', title: 'iperf3 TCP capped at 1 Gbit/s', headline: 'throughput', args: ['-b', '1G'] }),
  // Per-packet cost dominates with the smallest datagrams; -b 0 offers as many as the client can send.
  iperf3Benchmark({ id: 'iperf3-udp64', title: 'iperf3 64-byte UDP packet rate', headline: 'packetRate', args: ['-u', '-l', '64', '-b', '0'] }),
];
