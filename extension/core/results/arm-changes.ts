// The changes between the arms of an A/B run of hypervisor builds (bench/hypervisor-ab.ts runs them): pure statistics
// over a run's measurements, so the views and their test runs can compute them without the bench machinery.
import type { ArmChange, Measurement } from './run-file';
import { bootstrapOverheadCi, describe, intervalFields, overheadPercent } from './stats';
import { cellSamples } from './summary';

/**
 * Every cell's metrics of arm `b` relative to arm `a`, in percent (signed as the metric moved). Both arms are measured
 * in each round, so the bootstrap resamples whole rounds (paired): the machine's drift cancels within a round. Fewer
 * than MIN_PAIRED_ROUNDS rounds give no interval and no verdict (tooFewRounds).
 */
export function compareArms(results: readonly Measurement[], a: string, b: string): ArmChange[] {
  const changes: ArmChange[] = [];
  const seen = new Set<string>();
  for (const m of results) {
    if (m.arm !== b || m.error) continue;
    for (const [metric, v] of Object.entries(m.metrics)) {
      const key = [m.benchmark, m.mode, m.placement, metric].join('\0');
      if (seen.has(key)) continue;
      seen.add(key);
      const cell = { benchmark: m.benchmark, mode: m.mode, placement: m.placement, metric };
      const samples = (arm: string) => cellSamples(results, { ...cell, arm });
      const [sa, sb] = [samples(a), samples(b)];
      if (sa.length === 0 || sb.length === 0) continue;
      const changePercent = overheadPercent(describe(sa.map(([, x]) => x)).median, describe(sb.map(([, x]) => x)).median, 'lower');
      if (changePercent === undefined) continue;
      changes.push({ arm: b, vs: a, ...cell, unit: v.unit, better: v.better, changePercent, ...intervalFields(bootstrapOverheadCi(sa, sb, 'lower')) });
    }
  }
  return changes;
}
