// What the editor shows on a model's hook function: how the newest measured build of the model changed each
// benchmark's headline metric since the previous build, and which runs to open for the comparison.
import type { ModelPlacement } from '../model/templates';
import { findHookFunction } from '../model/hook-function';
import { compareBuilds, formatBuildChange, headlineChanges, latestRunOfModel, modelOf, previousBuildRun } from './build-regression';
import type { RunFile } from './run-file';

export interface BuildAnnotation {
  placement: ModelPlacement;
  /** 0-based line of the hook function's definition. */
  line: number;
  title: string;
  tooltip: string;
  /** The runs to open: [previous build's run, this build's run] to compare, or the one run when there is no previous build. */
  runs: [string] | [string, string];
}

/**
 * Annotations for one source file of the model project in `dir` that builds `placements`: for each placement whose
 * hook function the file defines and that a complete run measured, one per headline metric, or one saying there is no
 * previous build to compare with. `currentSourceHash` (the project's sources now) says when the file changed since.
 */
export function buildAnnotations(runs: readonly RunFile[], dir: string, placements: readonly ModelPlacement[], text: string, currentSourceHash?: string): BuildAnnotation[] {
  const annotations: BuildAnnotation[] = [];
  for (const placement of placements) {
    const hook = findHookFunction(placement, text);
    const run = hook && latestRunOfModel(runs, dir, placement);
    const model = run && modelOf(run, placement);
    if (!hook || !run || !model) continue;
    const stale = currentSourceHash && currentSourceHash !== model.sourceHash ? '\nThe sources changed since this build was measured.' : '';
    const previous = previousBuildRun(run, placement, runs);
    if (!previous) {
      annotations.push({
        placement, line: hook.line, runs: [run.id],
        title: `${placement} build ${model.buildId.slice(0, 8)}: no previous build measured with a comparable plan`,
        tooltip: `Run ${run.id} measured this build (source ${model.sourceHash.slice(0, 12)}); an earlier complete run of another build with the same benchmarks, placements and backend is compared with it.${stale}`,
      });
      continue;
    }
    const c = compareBuilds(previous, run, placement);
    for (const ch of headlineChanges(c)) {
      annotations.push({
        placement, line: hook.line, runs: [previous.id, run.id],
        title: formatBuildChange(ch, c),
        tooltip: `${ch.benchmark} ${ch.metric} of the ${placement} model, run ${run.id} (build ${model.buildId.slice(0, 12)}) against run ${previous.id} (build ${c.previous.model.buildId.slice(0, 12)})` +
          `${ch.basis === 'vs-direct' ? ', each relative to the direct path of its own run' : ''}; bootstrap 95 % interval. Click to compare the runs.${stale}`,
      });
    }
  }
  return annotations;
}
