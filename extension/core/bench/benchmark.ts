import type { Host } from '../hosts/host';
import type { Metric } from '../results/run-file';

export interface BenchContext {
  client: Host;
  server: Host;
  /** Address the client sends to; the same in direct and model mode. */
  target: string;
  durationS: number;
  /** Per-testbed folder on each host for pid and log files. */
  runDir: string;
  signal?: AbortSignal;
  onOutput?: (chunk: string) => void;
}

export interface BenchOutcome {
  raw: string;
  metrics: Record<string, Metric>;
  series?: Record<string, { unit: string; points: Array<[number, number]> }>;
  /** Reasons to doubt this measurement that the tool itself did not fail on, e.g. a result sitting at a cap. */
  warnings?: string[];
}

/** Something that stops what a benchmark started on the server host. */
export type StopServer = () => Promise<void>;

export interface Benchmark {
  id: string;
  title: string;
  /** The metric a headline, a chart and the overhead figure use first. */
  headline: string;
  /** Programs each side needs, with the Debian package that provides them. */
  requires: { client: Array<[program: string, pkg: string]>; server: Array<[program: string, pkg: string]> };
  /** Where to get the programs when Debian does not package them; said instead of the package when one is missing. */
  install?: string;
  startServer?(ctx: BenchContext): Promise<StopServer>;
  run(ctx: BenchContext): Promise<BenchOutcome>;
}

export class BenchmarkOutputError extends Error {
  constructor(benchmark: string, why: string, readonly raw: string) {
    super(`${benchmark}: ${why}`);
    this.name = 'BenchmarkOutputError';
  }
}
