import type { Measurement, SummaryEntry } from './run-file';
import { describe, overheadPercent } from './stats';

export type EntryKey = Pick<SummaryEntry, 'benchmark' | 'placement' | 'mode' | 'metric'>;

/** The summary entry of one benchmark, placement, mode and metric. */
export function findEntry(summary: readonly SummaryEntry[], key: EntryKey): SummaryEntry | undefined {
  return summary.find((e) => e.benchmark === key.benchmark && e.placement === key.placement && e.mode === key.mode && e.metric === key.metric);
}

/** Per benchmark x mode x placement x metric statistics, with the model-vs-direct overhead on model entries. */
export function summarize(results: readonly Measurement[]): SummaryEntry[] {
  const groups = new Map<string, { entry: Omit<SummaryEntry, 'stats'>; values: number[] }>();
  for (const m of results) {
    if (m.error) continue;
    for (const [metric, v] of Object.entries(m.metrics)) {
      if (!Number.isFinite(v.value)) continue;
      const key = [m.benchmark, m.placement, m.mode, metric].join('\u0000');
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { entry: { benchmark: m.benchmark, mode: m.mode, placement: m.placement, metric, unit: v.unit, better: v.better }, values: [] }));
      g.values.push(v.value);
    }
  }
  const entries: SummaryEntry[] = [...groups.values()].map((g) => ({ ...g.entry, stats: describe(g.values) }));
  for (const e of entries) {
    if (e.mode !== 'model') continue;
    const base = findEntry(entries, { ...e, mode: 'direct' });
    if (base) {
      const o = overheadPercent(base.stats.median, e.stats.median, e.better);
      if (o !== undefined) e.overheadPercent = o;
    }
  }
  return entries;
}
