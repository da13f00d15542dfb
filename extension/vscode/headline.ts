import { BENCHMARKS } from '../core/bench/registry';
import type { Placement, RunFile, SummaryEntry } from '../core/results/run-file';
import { findEntry } from '../core/results/summary';
import type { Mode } from '../core/testbed/testbed';

function headlineMetric(benchmark: string): string | undefined {
  return BENCHMARKS.find((b) => b.id === benchmark)?.headline;
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Number(v.toPrecision(3)).toString());
const pct = (v: number) => `${v > 0 ? '+' : ''}${v.toFixed(1)} %`;

/** Headline summary entries of a benchmark in one placement: direct and model medians. */
function headlineEntries(run: RunFile, benchmark: string, placement: string): { direct?: SummaryEntry; model?: SummaryEntry } {
  const metric = headlineMetric(benchmark);
  if (!metric) return {};
  const pick = (mode: Mode) => findEntry(run.summary, { benchmark, placement: placement as Placement, mode, metric });
  return { direct: pick('direct'), model: pick('model') };
}

/** "direct 9.41 · model 9.12 Gbit/s (+3.1 %)" for one benchmark and placement. */
export function headlineText(run: RunFile, benchmark: string, placement: string): string {
  const { direct, model } = headlineEntries(run, benchmark, placement);
  const unit = (direct ?? model)?.unit ?? '';
  const parts = [direct && `direct ${fmt(direct.stats.median)}`, model && `model ${fmt(model.stats.median)}`].filter(Boolean);
  if (parts.length === 0) return 'no results';
  const overhead = model?.overheadPercent !== undefined ? ` (${pct(model.overheadPercent)})` : '';
  return `${parts.join(' · ')} ${unit}${overhead}`;
}

/**
 * The one figure that sums a run up: its first benchmark's headline, in the first placement that has a model on the
 * path and an overhead (what the run was for), else in its first placement.
 */
export function runHeadline(run: RunFile): string {
  if (run.status === 'running') return `running: ${run.results.length}${plannedMeasurements(run) ? ` of ${plannedMeasurements(run)}` : ''} measurements`;
  const first = run.results.find((m) => !m.error);
  if (!first) return run.status === 'complete' ? 'no results' : `${run.status}${run.reason ? `: ${run.reason}` : ''}`;
  const metric = headlineMetric(first.benchmark);
  const modelPlacement = run.summary.find((e) => e.benchmark === first.benchmark && e.metric === metric && e.placement !== 'none' && e.overheadPercent !== undefined)?.placement;
  const placement = modelPlacement ?? first.placement;
  return `${first.benchmark} ${placement}: ${headlineText(run, first.benchmark, placement)}`;
}

/** Recorded measurements the run's plan asks for (benchmarks x modes x placements x repetitions). */
export function plannedMeasurements(run: RunFile): number {
  const p = run.metadata.plan;
  return p.benchmarks.length * p.modes.length * Math.max(1, p.placements.length) * p.repetitions;
}
