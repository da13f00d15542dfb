import type { Better, Stats } from './run-file';

/**
 * Quantile q (0..1) of sorted values by linear interpolation between closest ranks (the common "type 7" definition,
 * as spreadsheets compute it). Few values make high quantiles the maximum: the 0.99 quantile of 20 says little.
 */
export function quantile(sorted: readonly number[], q: number): number {
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
export function overheadPercent(direct: number, model: number, better: Better): number | undefined {
  if (!Number.isFinite(direct) || !Number.isFinite(model) || direct === 0) return undefined;
  return better === 'higher' ? ((direct - model) / direct) * 100 : ((model - direct) / direct) * 100;
}

/** A small seeded PRNG (mulberry32): uniform in [0, 1), the same sequence for the same seed on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Median of a scratch array (sorted in place). */
function medianInPlace(values: Float64Array): number {
  values.sort();
  const mid = (values.length - 1) / 2;
  return (values[Math.floor(mid)] + values[Math.ceil(mid)]) / 2;
}

export interface BootstrapOptions {
  /** Number of resamples (default 2000). */
  resamples?: number;
  /** PRNG seed (default 1): the same data always gives the same interval. */
  seed?: number;
  /**
   * False resamples each side on its own even when both carry the same round numbers: samples of two different runs
   * (round 3 of one run has nothing to do with round 3 of another). Default: paired when the rounds match.
   */
  paired?: boolean;
}

/** Default seed of every interval in a run file, so re-summarizing a run reproduces its intervals exactly. */
export const BOOTSTRAP_SEED = 20261130;

/**
 * Percentile-bootstrap 95 % interval of overheadPercent(median(base), median(other)). Samples are [round, value]:
 * when both sides were measured in the same rounds, whole rounds are resampled (a paired bootstrap: a round's cells
 * were measured minutes apart, so the machine's drift cancels in each pair); otherwise each side is resampled on its
 * own. Undefined when a side has fewer than two values or the overhead is undefined (base median 0).
 */
export function bootstrapOverheadCi(base: ReadonlyArray<[number, number]>, other: ReadonlyArray<[number, number]>, better: Better, opts: BootstrapOptions = {}): [number, number] | undefined {
  if (base.length < 2 || other.length < 2) return undefined;
  const resamples = opts.resamples ?? 2000;
  const random = seededRandom(opts.seed ?? BOOTSTRAP_SEED);
  const pick = (n: number) => Math.floor(random() * n);
  const otherByRound = new Map(other);
  const paired = opts.paired !== false && base.length === other.length && otherByRound.size === other.length && base.every(([r]) => otherByRound.has(r));
  const estimates: number[] = [];
  const b = new Float64Array(base.length);
  const o = new Float64Array(other.length);
  for (let i = 0; i < resamples; i++) {
    if (paired) {
      for (let j = 0; j < base.length; j++) {
        const [round, v] = base[pick(base.length)];
        b[j] = v;
        o[j] = otherByRound.get(round)!;
      }
    } else {
      for (let j = 0; j < base.length; j++) b[j] = base[pick(base.length)][1];
      for (let j = 0; j < other.length; j++) o[j] = other[pick(other.length)][1];
    }
    const e = overheadPercent(medianInPlace(b), medianInPlace(o), better);
    if (e === undefined) return undefined;
    estimates.push(e);
  }
  estimates.sort((x, y) => x - y);
  return [quantile(estimates, 0.025), quantile(estimates, 0.975)];
}

/** An interval says there is a difference only when it excludes zero. */
export const detectable = (ci: readonly [number, number]): boolean => ci[0] > 0 || ci[1] < 0;
