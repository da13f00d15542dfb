import type { Better, Stats, TooFewRounds } from './run-file';

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
 * Fewest paired rounds (both sides measured in the same rounds) from which an interval is claimed. A percentile
 * bootstrap of n pairs has only n^n resamples and cannot reach 95 % coverage with a handful; the exact sign test is
 * the yardstick: with every pair moving the same way its two-sided p is 2 / 2^n, 2/64 = 0.031 with 6 pairs but
 * 2/32 = 0.0625 with 5, so 5 pairs cannot show a difference at the 5 % level whatever they measure.
 */
export const MIN_PAIRED_ROUNDS = 6;

/**
 * Fewest values a side from which an unpaired interval is claimed, by the same yardstick (the exact Mann-Whitney
 * test): with every value of one side above every value of the other its two-sided p is 2 / C(2n, n), 2/70 = 0.029
 * with 4 against 4 but 2/20 = 0.1 with 3 against 3 (a larger other side lowers it: the smaller side is counted).
 */
export const MIN_UNPAIRED_VALUES = 4;

/** Whether [round, value] samples of two sides are paired: each side measured once in each of the same rounds. */
function isPaired(base: ReadonlyArray<[number, number]>, other: ReadonlyArray<[number, number]>): boolean {
  const otherRounds = new Set(other.map(([r]) => r));
  return base.length === other.length && otherRounds.size === other.length && new Set(base.map(([r]) => r)).size === base.length && base.every(([r]) => otherRounds.has(r));
}

/**
 * The one decision whether a comparison has enough rounds for a 95 % interval and a verdict: undefined when it has,
 * else what it has and needs. Paired comparisons count rounds, unpaired ones the values of the smaller side.
 */
export function tooFewRounds(nBase: number, nOther: number, paired: boolean): TooFewRounds | undefined {
  const n = Math.min(nBase, nOther);
  const need = paired ? MIN_PAIRED_ROUNDS : MIN_UNPAIRED_VALUES;
  if (n >= need) return undefined;
  const t = { n, need, paired };
  return { ...t, reason: tooFewRoundsText(t) };
}

/** The one wording of a missing interval, in records and in every view: "too few rounds (n=3, need 6 paired)". */
export function tooFewRoundsText(t: Pick<TooFewRounds, 'n' | 'need' | 'paired'>): string {
  return `too few rounds (n=${t.n}, need ${t.need} ${t.paired ? 'paired' : 'a side'})`;
}

/** A comparison's 95 % interval and whether it shows a difference, or why it has none. */
export type OverheadInterval = { ci: [number, number]; detectable: boolean } | { tooFewRounds: TooFewRounds };

/**
 * Percentile-bootstrap 95 % interval of overheadPercent(median(base), median(other)). Samples are [round, value]:
 * when both sides were measured in the same rounds, whole rounds are resampled (a paired bootstrap: a round's cells
 * were measured minutes apart, so the machine's drift cancels in each pair); otherwise each side is resampled on its
 * own. With fewer rounds than MIN_PAIRED_ROUNDS (paired) or MIN_UNPAIRED_VALUES a side, no interval: the reason.
 * Undefined when the overhead is undefined (a base median, resampled, of 0).
 */
export function bootstrapOverheadCi(base: ReadonlyArray<[number, number]>, other: ReadonlyArray<[number, number]>, better: Better, opts: BootstrapOptions = {}): OverheadInterval | undefined {
  const paired = opts.paired !== false && isPaired(base, other);
  const tooFew = tooFewRounds(base.length, other.length, paired);
  if (tooFew) return { tooFewRounds: tooFew };
  const resamples = opts.resamples ?? 2000;
  const random = seededRandom(opts.seed ?? BOOTSTRAP_SEED);
  const pick = (n: number) => Math.floor(random() * n);
  const otherByRound = new Map(other);
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
  const ci: [number, number] = [quantile(estimates, 0.025), quantile(estimates, 0.975)];
  return { ci, detectable: detectable(ci) };
}

/** The fields a change record (ArmChange, BuildChange) carries for an interval: ci95 and detectable, or tooFewRounds. */
export function intervalFields(i: OverheadInterval | undefined): { ci95: [number, number]; detectable: boolean } | { tooFewRounds: TooFewRounds } | Record<string, never> {
  if (!i) return {};
  return 'ci' in i ? { ci95: i.ci, detectable: i.detectable } : { tooFewRounds: i.tooFewRounds };
}

/** An interval says there is a difference only when it excludes zero. */
export const detectable = (ci: readonly [number, number]): boolean => ci[0] > 0 || ci[1] < 0;
