import type { BaselineDrift, Measurement } from './run-file';
import { describe } from './stats';

/**
 * How much the baseline cells moved across the rounds of a run: direct mode (the model host is off the path) and
 * model mode with placement none (plain forwarding). Their true value is the same in every round, so their change is
 * the machine's drift, which interleaving spreads over all cells instead of onto one placement or mode.
 * Only each benchmark's headline metric, and only cells measured in two or more rounds.
 */
export function baselineDrift(results: readonly Measurement[], headlineOf: (benchmark: string) => string | undefined): BaselineDrift[] {
  const cells = new Map<string, BaselineDrift>();
  for (const m of results) {
    if (m.error || !(m.mode === 'direct' || m.placement === 'none')) continue;
    const metric = headlineOf(m.benchmark);
    const v = metric ? m.metrics[metric] : undefined;
    if (!metric || !v || !Number.isFinite(v.value)) continue;
    const key = [m.benchmark, m.mode, m.placement].join('\u0000');
    let d = cells.get(key);
    if (!d) cells.set(key, (d = { benchmark: m.benchmark, mode: m.mode, placement: m.placement, metric, unit: v.unit, rounds: [], rangePercent: 0, trendPercentPerRound: 0 }));
    d.rounds.push([m.repetition, v.value]);
  }
  const out: BaselineDrift[] = [];
  for (const d of cells.values()) {
    if (d.rounds.length < 2) continue;
    const s = describe(d.rounds.map(([, v]) => v));
    if (s.median === 0) continue;
    d.rangePercent = ((s.max - s.min) / Math.abs(s.median)) * 100;
    d.trendPercentPerRound = (slope(d.rounds) / Math.abs(s.median)) * 100;
    out.push(d);
  }
  return out;
}

/** Least-squares slope of value over round. */
function slope(points: ReadonlyArray<[number, number]>): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / sxx;
}
