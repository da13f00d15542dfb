import type { Benchmark } from './benchmark';
import { iperf3, iperf3Variants } from './iperf3';
import { fio } from './fio';
import { netperf } from './netperf';
import { nuttcp } from './nuttcp';
import { pagefault } from './pagefault';
import { ping } from './ping';
import { redis } from './redis';
import { sockperf } from './sockperf';
import { sysbenchCpu, sysbenchMemory } from './sysbench';
import { sysbenchOltp } from './sysbench-oltp';
import { traceroute } from './traceroute';

export const BENCHMARKS: readonly Benchmark[] = [iperf3, ping, ...iperf3Variants, traceroute, nuttcp, sockperf, netperf,
  redis, sysbenchOltp, sysbenchCpu, sysbenchMemory, fio, pagefault];

export function benchmarkById(id: string): Benchmark {
  const b = BENCHMARKS.find((x) => x.id === id);
  if (!b) throw new Error(`Unknown benchmark "${id}": available are ${BENCHMARKS.map((x) => x.id).join(', ')}.`);
  return b;
}
