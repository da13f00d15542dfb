// Regression tracking per model build: a run of one build of a model against the latest earlier run of the previous
// build of the same model with a comparable plan, per metric, with bootstrap 95 % intervals.
import * as path from 'node:path';
import { BENCHMARKS } from '../bench/registry';
import type { ModelPlacement } from '../model/templates';
import type { Better, ModelInfo, RunFile, TooFewRounds } from './run-file';
import { bootstrapOverheadCi, describe, intervalFields, overheadPercent } from './stats';
import { cellSamples, type EntryKey } from './summary';
import { formatOverhead } from './table';

/** A build is its sources and the artefact built from them: a changed source, manifest, flag or compiler makes another. */
export const sameBuild = (a: ModelInfo, b: ModelInfo): boolean => a.sourceHash === b.sourceHash && a.buildId === b.buildId;

/**
 * The model of a placement a run measured. Undefined when the run measured none, or two builds of it (a run whose
 * model was rebuilt between rounds measured neither build alone).
 */
export function modelOf(run: RunFile, placement: ModelPlacement): ModelInfo | undefined {
  const models = run.metadata.models.filter((m) => m.placement === placement);
  return models.length > 0 && models.every((m) => sameBuild(m, models[0])) ? models[0] : undefined;
}

export const sameModelDir = (a: string, b: string): boolean => path.resolve(a) === path.resolve(b);

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join('\0') === [...b].sort().join('\0');

/** Plans whose figures may be compared: the same benchmarks and placements on the same kind of testbed. */
export function comparablePlans(a: RunFile, b: RunFile): boolean {
  return a.metadata.testbed.backend === b.metadata.testbed.backend
    && sameSet(a.metadata.plan.benchmarks, b.metadata.plan.benchmarks)
    && sameSet(a.metadata.plan.placements, b.metadata.plan.placements);
}

/**
 * The latest run before `run`, among `runs`, that measured another build of the same model (placement and folder)
 * with a comparable plan and completed. Runs of the same build in between are passed over: they are not "previous".
 */
export function previousBuildRun(run: RunFile, placement: ModelPlacement, runs: readonly RunFile[]): RunFile | undefined {
  const model = modelOf(run, placement);
  if (!model) return undefined;
  return runs
    .filter((r) => r.id !== run.id && r.status === 'complete' && r.metadata.startedAt < run.metadata.startedAt)
    .sort((a, b) => b.metadata.startedAt.localeCompare(a.metadata.startedAt))
    .find((r) => {
      const m = modelOf(r, placement);
      return m !== undefined && sameModelDir(m.dir, model.dir) && !sameBuild(m, model) && comparablePlans(r, run);
    });
}

/** The newest complete run among `runs` that measured the model of `placement` in folder `dir`. */
export function latestRunOfModel(runs: readonly RunFile[], dir: string, placement: ModelPlacement): RunFile | undefined {
  return runs.filter((r) => r.status === 'complete' && r.metadata.models.some((m) => m.placement === placement && sameModelDir(m.dir, dir)))
    .sort((a, b) => b.metadata.startedAt.localeCompare(a.metadata.startedAt))[0];
}

export interface BuildChange {
  benchmark: string;
  metric: string;
  unit: string;
  better: Better;
  /**
   * "vs-direct": the model path's value over the direct path's of the same round, compared between the two runs, so
   * the machine's drift between the runs cancels; "absolute": the model path's values, when a run has no direct
   * values of the rounds (or a direct value of 0).
   */
  basis: 'vs-direct' | 'absolute';
  /** (current - previous) / previous in percent, signed as the metric moved (negative = lower), whatever is better. */
  changePercent: number;
  /** Bootstrap 95 % interval of changePercent; absent with too few rounds (see tooFewRounds). */
  ci95?: [number, number];
  /** False when ci95 contains 0: no detectable difference between the builds. */
  detectable?: boolean;
  /** Instead of ci95 and detectable when a run has too few rounds (the runs are compared unpaired). */
  tooFewRounds?: TooFewRounds;
}

export interface BuildComparison {
  placement: ModelPlacement;
  current: { run: string; startedAt: string; model: ModelInfo };
  previous: { run: string; startedAt: string; model: ModelInfo };
  changes: BuildChange[];
}

/** Per round, model value / direct value; undefined unless every model round has a non-zero direct value. */
function ratioSamples(run: RunFile, key: EntryKey): Array<[number, number]> | undefined {
  const direct = new Map(cellSamples(run.results, { ...key, mode: 'direct' }));
  const model = cellSamples(run.results, { ...key, mode: 'model' });
  if (model.length === 0 || !model.every(([r]) => direct.get(r))) return undefined;
  return model.map(([r, v]) => [r, v / direct.get(r)!]);
}

const median = (samples: ReadonlyArray<[number, number]>): number => describe(samples.map(([, x]) => x)).median;

/** The change of every model-path metric of `placement` that both runs measured, from `previous` to `current`. */
export function compareBuilds(previous: RunFile, current: RunFile, placement: ModelPlacement): BuildComparison {
  const prevModel = modelOf(previous, placement);
  const curModel = modelOf(current, placement);
  if (!prevModel || !curModel) throw new Error(`Runs ${previous.id} and ${current.id} must each have measured one build of the ${placement} model.`);
  const changes: BuildChange[] = [];
  for (const e of current.summary) {
    if (e.mode !== 'model' || e.placement !== placement) continue;
    const key: EntryKey = e;
    const ratios = [ratioSamples(previous, key), ratioSamples(current, key)];
    const [prev, cur] = ratios[0] && ratios[1]
      ? ratios as [Array<[number, number]>, Array<[number, number]>]
      : [cellSamples(previous.results, key), cellSamples(current.results, key)];
    if (prev.length === 0 || cur.length === 0) continue;
    // 'lower' makes overheadPercent the plain signed change (other - base) / base.
    const changePercent = overheadPercent(median(prev), median(cur), 'lower');
    if (changePercent === undefined) continue;
    const interval = bootstrapOverheadCi(prev, cur, 'lower', { paired: false });
    changes.push({
      benchmark: e.benchmark, metric: e.metric, unit: e.unit, better: e.better,
      basis: ratios[0] && ratios[1] ? 'vs-direct' : 'absolute',
      changePercent,
      ...intervalFields(interval),
    });
  }
  return {
    placement,
    current: { run: current.id, startedAt: current.metadata.startedAt, model: curModel },
    previous: { run: previous.id, startedAt: previous.metadata.startedAt, model: prevModel },
    changes,
  };
}

/** The changes of each benchmark's headline metric (throughput, rttAvg, ...), in the order measured. */
export function headlineChanges(c: BuildComparison): BuildChange[] {
  return c.changes.filter((ch) => BENCHMARKS.find((b) => b.id === ch.benchmark)?.headline === ch.metric);
}

/** "2026-12-01 02:10" (UTC), as run ids are stamped. */
const runTime = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;

/**
 * "throughput -3.1 % [-5.0, -1.2] vs previous build (run 2026-12-01 02:10)", or "throughput no detectable
 * difference (-0.4 % [-2.1, +1.3]) vs previous build (...)" when the interval contains 0, "throughput -3.1 %, too few
 * rounds (n=3, need 4 a side) vs previous build (...)" when a run has too few rounds for an interval.
 */
export function formatBuildChange(ch: BuildChange, c: BuildComparison): string {
  return `${ch.metric} ${formatOverhead(ch.changePercent, ch.ci95, ch.tooFewRounds)} vs previous build (run ${runTime(c.previous.startedAt)})`;
}

/** The comparison as lines of text: the two builds and runs, then one line a metric. */
export function buildComparisonLines(c: BuildComparison, metrics?: readonly string[]): string[] {
  const id = (m: ModelInfo) => `source ${m.sourceHash.slice(0, 12)}, build ${m.buildId.slice(0, 12)}`;
  const lines = [
    `${c.placement} model ${c.current.model.dir}:`,
    `  this build      (${id(c.current.model)}): run ${c.current.run}`,
    `  previous build  (${id(c.previous.model)}): run ${c.previous.run}`,
  ];
  const shown = c.changes.filter((ch) => !metrics || metrics.includes(ch.metric));
  if (shown.length === 0) lines.push('  no metric measured by both runs');
  for (const ch of shown) lines.push(`  ${ch.benchmark}: ${formatBuildChange(ch, c)}${ch.basis === 'vs-direct' ? ', relative to direct in each run' : ''}`);
  return lines;
}
