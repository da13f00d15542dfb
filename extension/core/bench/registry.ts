import type { Benchmark } from './benchmark';
import { iperf3 } from './iperf3';
import { ping } from './ping';

export const BENCHMARKS: readonly Benchmark[] = [iperf3, ping];

export function benchmarkById(id: string): Benchmark {
  const b = BENCHMARKS.find((x) => x.id === id);
  if (!b) throw new Error(`Unknown benchmark "${id}": available are ${BENCHMARKS.map((x) => x.id).join(', ')}.`);
  return b;
}
