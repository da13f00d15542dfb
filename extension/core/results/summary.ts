import type { Measurement, SummaryEntry } from './run-file';
import { describe, overheadPercent } from './stats';

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
    const base = entries.find((d) => d.mode === 'direct' && d.benchmark === e.benchmark && d.placement === e.placement && d.metric === e.metric);
    if (base) {
      const o = overheadPercent(base.stats.median, e.stats.median, e.better);
      if (o !== undefined) e.overheadPercent = o;
    }
  }
  return entries;
}
