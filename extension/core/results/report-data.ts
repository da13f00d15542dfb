import { BENCHMARKS } from '../bench/registry';
import type { RunFile } from './run-file';

/** Everything a results view draws: a run, optionally a second run to compare with, and each benchmark's headline metric. */
export interface ReportData {
  run: RunFile;
  compare?: RunFile;
  /** Benchmark id -> the metric shown first (e.g. iperf3 -> throughput, ping -> rttAvg). */
  headlines: Record<string, string>;
}

/**
 * A run as the results views receive it: without the tools' raw outputs, which no view draws and which are most of a
 * large run's bytes (a 10 s iperf3 run prints about 8 KB of JSON). The run file keeps them.
 */
function withoutRawOutputs(run: RunFile): RunFile {
  return { ...run, results: run.results.map((m) => ({ ...m, raw: '' })) };
}

/** What the results panel and the HTML report draw, for one run or two compared. */
export function reportData(run: RunFile, compare?: RunFile): ReportData {
  return {
    run: withoutRawOutputs(run),
    ...(compare ? { compare: withoutRawOutputs(compare) } : {}),
    headlines: Object.fromEntries(BENCHMARKS.map((b) => [b.id, b.headline])),
  };
}
