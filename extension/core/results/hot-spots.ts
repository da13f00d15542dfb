// A run's hot functions and lines per placement: the perf record samples of all its profiled repetitions together.
import type { HotFunction, HotLine, HotProfile, RunFile } from './run-file';

export interface HotSpots {
  placement: HotProfile['placement'];
  /** The model project the run deployed for this placement: HotLine.file is relative to it. */
  modelDir?: string;
  scope: string;
  /** Profiled repetitions summed. */
  measurements: number;
  samples: { total: number; model: number };
  /** Hottest first; percentages are of the model's samples over all those repetitions. */
  functions: HotFunction[];
  lines: HotLine[];
  notes: string[];
}

const round = (v: number) => Math.round(v * 100) / 100;

/** Sums samples per function and per line over the run's profiled model-mode repetitions, one entry per placement. */
export function hotSpots(run: RunFile): HotSpots[] {
  const byPlacement = new Map<HotProfile['placement'], HotProfile[]>();
  for (const m of run.results) {
    const hot = m.profile?.hot;
    if (hot && !m.error) byPlacement.set(hot.placement, [...(byPlacement.get(hot.placement) ?? []), hot]);
  }
  return [...byPlacement].map(([placement, profiles]) => {
    const modelDir = [...run.metadata.models].reverse().find((m) => m.placement === placement)?.dir;
    const model = profiles.reduce((s, p) => s + p.samples.model, 0);
    const percent = (n: number) => (model ? round((n / model) * 100) : 0);
    const fns = new Map<string, HotFunction & { lineSamples: number }>();
    const lines = new Map<string, HotLine>();
    for (const p of profiles) {
      for (const f of p.functions) {
        const key = `${f.name}\0${f.object}`;
        const sum = fns.get(key) ?? { ...f, samples: 0, lineSamples: 0 };
        sum.samples += f.samples;
        // The hottest line of the repetition where the function was hottest.
        if (f.line && f.samples > sum.lineSamples) Object.assign(sum, { file: f.file, line: f.line, lineSamples: f.samples });
        fns.set(key, sum);
      }
      for (const l of p.lines) {
        const key = `${l.file}:${l.line}`;
        const sum = lines.get(key) ?? { ...l, samples: 0 };
        sum.samples += l.samples;
        lines.set(key, sum);
      }
    }
    return {
      placement,
      ...(modelDir ? { modelDir } : {}),
      scope: profiles[0].scope,
      measurements: profiles.length,
      samples: { total: profiles.reduce((s, p) => s + p.samples.total, 0), model },
      functions: [...fns.values()].sort((a, b) => b.samples - a.samples).map(({ lineSamples: _, ...f }) => ({ ...f, percent: percent(f.samples) })),
      lines: [...lines.values()].sort((a, b) => b.samples - a.samples).map((l) => ({ ...l, percent: percent(l.samples) })),
      notes: [...new Set(profiles.flatMap((p) => p.notes ?? []))],
    };
  });
}

/** A few lines per placement for a terminal: the hottest functions, then the hottest lines of the model's source. */
export function formatHotSpots(spots: readonly HotSpots[], top = 5): string {
  const pct = (v: number) => `${v.toFixed(1).padStart(5)} %`;
  return spots.map((s) => [
    `Hot functions, ${s.placement} placement (${s.samples.model} of ${s.samples.total} samples are the model's: ${s.scope}):`,
    ...s.functions.slice(0, top).map((f) => `  ${pct(f.percent)}  ${f.name.padEnd(32)} ${f.file ? `${f.file}:${f.line}` : f.object}`),
    ...(s.lines.length ? [`  hottest lines of the model's source${s.modelDir ? ` (${s.modelDir})` : ''}:`] : []),
    ...s.lines.slice(0, top).map((l) => `  ${pct(l.percent)}  ${`${l.file}:${l.line}`.padEnd(32)} ${l.function}`),
    ...s.notes.map((n) => `  note: ${n}`),
  ].join('\n')).join('\n');
}
