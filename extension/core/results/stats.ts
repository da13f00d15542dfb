import type { Stats } from './run-file';

/** Quantile by linear interpolation between closest ranks (the common "type 7" definition). */
function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function describe(values: readonly number[]): Stats {
  if (values.length === 0) throw new Error('describe: no values');
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const mean = sorted.reduce((s, v) => s + v, 0) / n;
  const variance = n > 1 ? sorted.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1) : 0;
  const q1 = quantile(sorted, 0.25);
  const q3 = quantile(sorted, 0.75);
  return { n, median: quantile(sorted, 0.5), min: sorted[0], max: sorted[n - 1], q1, q3, iqr: q3 - q1, mean, stdev: Math.sqrt(variance) };
}

/** Cost of `model` relative to `direct` in percent; positive means the model path is worse. */
export function overheadPercent(direct: number, model: number, better: 'higher' | 'lower'): number | undefined {
  if (!Number.isFinite(direct) || !Number.isFinite(model) || direct === 0) return undefined;
  return better === 'higher' ? ((direct - model) / direct) * 100 : ((model - direct) / direct) * 100;
}
