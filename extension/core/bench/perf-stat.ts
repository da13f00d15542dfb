import type { PerfCounter } from '../results/run-file';

/** Events counted on the model host; the hardware ones are "unsupported" on machines without a PMU (VMs). */
export const PERF_EVENTS = [
  'cycles', 'instructions', 'cache-references', 'cache-misses', 'branches', 'branch-misses', 'LLC-load-misses',
  'dTLB-load-misses', 'context-switches', 'cpu-migrations', 'page-faults',
] as const;

/** Fields of a counter line; interval (-I) and aggregation (-A, --per-*) output put more columns in front. */
const FIELDS = 7;

/**
 * Parses `perf stat -x,` output (CSV, see perf-stat(1) "CSV FORMAT"): counter value, unit, event name, counter
 * run time, percentage of the measurement the counter ran (below 100 when counters were multiplexed), then an
 * optional metric value and unit. A counter the machine lacks reads `<not supported>`, one never scheduled
 * `<not counted>`: both are recorded as unsupported, never as 0. A line with only a metric (no value, no event)
 * belongs to the counter above it and is skipped. Samples, a VM without a PMU (perf 6.1):
 *
 *   # started on Mon Nov 30 23:29:49 2026
 *
 *   <not supported>,,cycles,0,100.00,,
 *   14278,,context-switches,2220383542,100.00,,
 *
 * and a machine with one (AMD Ryzen 7 2700X, test/fixtures/bench/perf-stat-published/):
 *
 *   264690533400,,cycles,64701157666,100.00,4.091,GHz
 *   425064193324,,instructions,64701157666,100.00,1.61,insn per cycle
 *   ,,,,,0.04,stalled cycles per insn
 */
export function parsePerfStat(csv: string): Record<string, PerfCounter> {
  const counters: Record<string, PerfCounter> = {};
  for (const line of csv.split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const fields = line.split(',').map((f) => f.trim());
    if (fields.length > FIELDS) {
      throw new Error(`perf stat: line "${line}" has ${fields.length} fields, not ${FIELDS}: interval (-I) or per-CPU/aggregated output is not read; run perf stat -x, without -I, -A or --per-*`);
    }
    const [value, unit, event, , running] = fields;
    if (!value && !event && fields.length === FIELDS) continue;
    if (!event) throw new Error(`perf stat: unexpected line "${line}" (expected value,unit,event,... from perf stat -x,)`);
    if (value.startsWith('<')) {
      counters[event] = { supported: false, reason: value.replace(/[<>]/g, '') };
      continue;
    }
    const n = Number(value);
    if (!value || !Number.isFinite(n)) throw new Error(`perf stat: counter value "${value}" of ${event} is not a number`);
    counters[event] = { supported: true, value: n, ...(unit ? { unit } : {}), runningPercent: Number(running) };
  }
  return counters;
}
