import type { PerfCounter } from '../results/run-file';

/** Events counted on the model host; the hardware ones are "unsupported" on machines without a PMU (VMs). */
export const PERF_EVENTS = [
  'cycles', 'instructions', 'cache-references', 'cache-misses', 'branches', 'branch-misses', 'LLC-load-misses',
  'dTLB-load-misses', 'context-switches', 'cpu-migrations', 'page-faults',
] as const;

/**
 * Parses `perf stat -x,` output (CSV, see perf-stat(1) "CSV FORMAT"): counter value, unit, event name, counter
 * run time, percentage of the measurement the counter ran (below 100 when counters were multiplexed), then an
 * optional metric value and unit. A counter the machine lacks reads `<not supported>`, one never scheduled
 * `<not counted>`: both are recorded as unsupported, never as 0. Sample (perf 6.1, a VM without a PMU):
 *
 *   # started on Mon Nov 30 23:29:49 2026
 *
 *   <not supported>,,cycles,0,100.00,,
 *   14278,,context-switches,2220383542,100.00,,
 *   51,,cpu-migrations,2220379004,100.00,,
 */
export function parsePerfStat(csv: string): Record<string, PerfCounter> {
  const counters: Record<string, PerfCounter> = {};
  for (const line of csv.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const [value, unit, event, , running] = line.split(',');
    if (!event) throw new Error(`perf stat: unexpected line "${line}" (expected value,unit,event,... from perf stat -x,)`);
    if (value.startsWith('<')) {
      counters[event] = { supported: false, reason: value.replace(/[<>]/g, '') };
      continue;
    }
    const n = Number(value);
    if (!Number.isFinite(n)) throw new Error(`perf stat: counter value "${value}" of ${event} is not a number`);
    counters[event] = { supported: true, value: n, ...(unit ? { unit } : {}), runningPercent: Number(running) };
  }
  return counters;
}
