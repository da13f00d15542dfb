import { PLACEMENTS, type Measurement, type Placement, type SummaryEntry } from './run-file';
import { bootstrapOverheadCi, describe, overheadPercent, type OverheadInterval } from './stats';

export type EntryKey = Pick<SummaryEntry, 'benchmark' | 'placement' | 'mode' | 'metric' | 'arm'>;

/** The summary entry of one benchmark, placement, mode and metric. */
export function findEntry(summary: readonly SummaryEntry[], key: EntryKey): SummaryEntry | undefined {
  return summary.find((e) => e.benchmark === key.benchmark && e.placement === key.placement && e.mode === key.mode && e.metric === key.metric && e.arm === key.arm);
}

/** The [repetition, value] samples of one cell's metric, failed measurements left out. */
export function cellSamples(results: readonly Measurement[], key: EntryKey): Array<[number, number]> {
  return results.filter((m) => !m.error && m.benchmark === key.benchmark && m.placement === key.placement && m.mode === key.mode && m.arm === key.arm && Number.isFinite(m.metrics[key.metric]?.value))
    .map((m) => [m.repetition, m.metrics[key.metric].value]);
}

/**
 * Per benchmark x mode x placement x metric statistics. Model entries carry the model-vs-direct overhead and, on
 * placements other than none, the overhead relative to placement none, each with its bootstrap 95 % interval (or, with
 * too few rounds for one, why not).
 */
export function summarize(results: readonly Measurement[]): SummaryEntry[] {
  const groups = new Map<string, { entry: Omit<SummaryEntry, 'stats'>; samples: Array<[number, number]> }>();
  for (const m of results) {
    if (m.error) continue;
    for (const [metric, v] of Object.entries(m.metrics)) {
      if (!Number.isFinite(v.value)) continue;
      const key = [m.benchmark, m.placement, m.mode, metric, m.arm ?? ''].join('\u0000');
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { entry: { benchmark: m.benchmark, mode: m.mode, placement: m.placement, metric, unit: v.unit, better: v.better, ...(m.arm !== undefined ? { arm: m.arm } : {}) }, samples: [] }));
      g.samples.push([m.repetition, v.value]);
    }
  }
  const samplesOf = (key: EntryKey) => groups.get([key.benchmark, key.placement, key.mode, key.metric, key.arm ?? ''].join('\u0000'))?.samples;
  // Benchmarks in the order measured, placements in their catalog order (none first), whatever round came first.
  const entries: SummaryEntry[] = [...groups.values()].map((g) => ({ ...g.entry, stats: describe(g.samples.map(([, v]) => v)) }));
  const benchmarkOrder = [...new Set(entries.map((e) => e.benchmark))];
  entries.sort((a, b) => benchmarkOrder.indexOf(a.benchmark) - benchmarkOrder.indexOf(b.benchmark) || PLACEMENTS.indexOf(a.placement) - PLACEMENTS.indexOf(b.placement));
  for (const e of entries) {
    if (e.mode !== 'model') continue;
    const vsDirect = compare(entries, samplesOf, e, { ...e, mode: 'direct' });
    if (vsDirect) {
      e.overheadPercent = vsDirect.percent;
      if (vsDirect.interval && 'ci' in vsDirect.interval) Object.assign(e, { overheadCi95: vsDirect.interval.ci, detectable: vsDirect.interval.detectable });
      else if (vsDirect.interval) e.overheadTooFewRounds = vsDirect.interval.tooFewRounds;
    }
    if (e.placement === 'none') continue;
    const vsNone = compare(entries, samplesOf, e, { ...e, placement: 'none' as Placement });
    if (vsNone) {
      e.overheadVsNonePercent = vsNone.percent;
      if (vsNone.interval && 'ci' in vsNone.interval) Object.assign(e, { overheadVsNoneCi95: vsNone.interval.ci, detectableVsNone: vsNone.interval.detectable });
      else if (vsNone.interval) e.overheadVsNoneTooFewRounds = vsNone.interval.tooFewRounds;
    }
  }
  return entries;
}

function compare(entries: readonly SummaryEntry[], samplesOf: (k: EntryKey) => Array<[number, number]> | undefined, e: SummaryEntry, baseKey: EntryKey):
  { percent: number; interval?: OverheadInterval } | undefined {
  const base = findEntry(entries, baseKey);
  if (!base) return undefined;
  const percent = overheadPercent(base.stats.median, e.stats.median, e.better);
  if (percent === undefined) return undefined;
  const interval = bootstrapOverheadCi(samplesOf(baseKey)!, samplesOf(e)!, e.better);
  return interval ? { percent, interval } : { percent };
}
