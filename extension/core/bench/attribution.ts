import type { Better, Measurement, Placement } from '../results/run-file';
import type { Mode } from '../testbed/testbed';
import { describe } from '../results/stats';

/** The figures --profile derives and counts on the model host; the harness's own share is about the tool, not the model. */
const PROFILE_METRIC = /^(modelCpuTime|softirqShare|modelCpuPerPacket|modelCpuPerByte|modelCyclesPerPacket|contextSwitchesPer1kPackets|ipc|perf[A-Z]\w*)$/;

export interface Change {
  metric: string;
  unit: string;
  better: Better;
  from: number;
  to: number;
  /** Relative change of the medians, in percent of `from`. */
  changePercent: number;
}

export interface Comparison {
  benchmark: string;
  /** e.g. "direct -> model (placement user)" or "none -> user (model mode)". */
  label: string;
  /** Largest relative change first. */
  changes: Change[];
}

type Cell = { mode: Mode; placement: Placement };

function medians(results: readonly Measurement[], benchmark: string, cell: Cell): Map<string, { value: number; unit: string; better: Better }> {
  const byMetric = new Map<string, { values: number[]; unit: string; better: Better }>();
  for (const m of results) {
    if (m.benchmark !== benchmark || m.mode !== cell.mode || m.placement !== cell.placement || m.error) continue;
    for (const [name, metric] of Object.entries(m.metrics)) {
      if (!PROFILE_METRIC.test(name)) continue;
      const entry = byMetric.get(name) ?? { values: [], unit: metric.unit, better: metric.better };
      entry.values.push(metric.value);
      byMetric.set(name, entry);
    }
  }
  return new Map([...byMetric].map(([name, e]) => [name, { value: describe(e.values).median, unit: e.unit, better: e.better }]));
}

function compare(results: readonly Measurement[], benchmark: string, label: string, a: Cell, b: Cell): Comparison | undefined {
  const from = medians(results, benchmark, a);
  const to = medians(results, benchmark, b);
  const changes: Change[] = [];
  for (const [metric, f] of from) {
    const t = to.get(metric);
    if (!t || f.value === 0) continue;
    changes.push({ metric, unit: f.unit, better: f.better, from: f.value, to: t.value, changePercent: ((t.value - f.value) / Math.abs(f.value)) * 100 });
  }
  changes.sort((x, y) => Math.abs(y.changePercent) - Math.abs(x.changePercent));
  return changes.length ? { benchmark, label, changes } : undefined;
}

/**
 * Which model-host figures changed most between direct and model (per placement), and between the placements in
 * model mode (each against "none" when it was measured, i.e. plain forwarding): where the model's cost goes.
 * Medians of the recorded repetitions; metrics present on one side only (per-packet figures in direct mode) are
 * left out.
 */
export function attribution(results: readonly Measurement[]): Comparison[] {
  const out: Comparison[] = [];
  const benchmarks = [...new Set(results.map((m) => m.benchmark))];
  const placements = [...new Set(results.map((m) => m.placement))];
  for (const b of benchmarks) {
    for (const p of placements) {
      const c = compare(results, b, `direct -> model (placement ${p})`, { mode: 'direct', placement: p }, { mode: 'model', placement: p });
      if (c) out.push(c);
    }
    if (placements.includes('none')) {
      for (const p of placements.filter((x) => x !== 'none')) {
        const c = compare(results, b, `none -> ${p} (model mode)`, { mode: 'model', placement: 'none' }, { mode: 'model', placement: p });
        if (c) out.push(c);
      }
    }
  }
  return out;
}

/** A few lines per comparison for a terminal. */
export function formatAttribution(comparisons: readonly Comparison[], top = 3): string {
  const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));
  return comparisons.map((c) => [
    `${c.benchmark}, ${c.label}: changed most`,
    ...c.changes.slice(0, top).map((x) => `  ${x.metric.padEnd(28)} ${fmt(x.from)} -> ${fmt(x.to)} ${x.unit} (${x.changePercent >= 0 ? '+' : ''}${x.changePercent.toFixed(1)} %)`),
  ].join('\n')).join('\n');
}
