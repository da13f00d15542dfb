// The work behind build and bench tasks. Commands run it as tasks too, so output always streams to a terminal and
// stopping the task stops the work on the hosts.
import * as path from 'node:path';
import type * as vscode from 'vscode';
import { runBenchmarks } from '../../core/bench/runner';
import { planWarnings } from '../../core/bench/warnings';
import type { RunPlan } from '../../core/bench/plan';
import type { PinOption } from '../../core/bench/pinning';
import { buildModel, type BuildResult } from '../../core/model/build';
import { formatDiagnostic } from '../../core/model/diagnostics/diagnostic';
import { preparePlacement } from '../../core/model/placement';
import type { ModelPlacement } from '../../core/model/templates';
import type { Placement, RunFile } from '../../core/results/run-file';
import { summaryTable } from '../../core/results/table';
import type { Mode } from '../../core/testbed/testbed';
import { benchDefaults } from '../config';
import type { Diagnostics } from '../diagnostics/diagnostics';
import type { Workbench } from '../workbench';
import type { TaskIO } from './pseudoterminal';

export const TASK_TYPE = 'hypershield' as const;

export interface BuildTaskDefinition extends vscode.TaskDefinition {
  type: typeof TASK_TYPE;
  task: 'build';
  /** Model project folder, relative to the workspace folder (or absolute). */
  model: string;
  placement: ModelPlacement;
}

export interface BenchTaskDefinition extends vscode.TaskDefinition {
  type: typeof TASK_TYPE;
  task: 'bench';
  benchmarks?: string[];
  modes?: Mode[];
  placements?: Placement[];
  model?: string;
  repetitions?: number;
  warmup?: number;
  durationSeconds?: number;
  pin?: PinOption;
}

export type TaskDefinition = BuildTaskDefinition | BenchTaskDefinition;

export interface JobDeps {
  workbench: Workbench;
  diagnostics: Diagnostics;
  log: vscode.LogOutputChannel;
}

function modelDirOf(workbench: Workbench, model: string | undefined): string {
  if (!model) throw new Error('This task needs "model": the model project folder, relative to the workspace.');
  return path.resolve(workbench.requireFolder(), model);
}

/** Compiles a model and puts its errors and warnings in the Problems panel (replacing the previous build's). */
export async function buildJob(deps: JobDeps, def: BuildTaskDefinition, io: TaskIO): Promise<BuildResult> {
  const dir = modelDirOf(deps.workbench, def.model);
  const result = await buildModel(await deps.workbench.backend(), dir, def.placement, { signal: io.signal, progress: io.progress, onOutput: io.write });
  deps.diagnostics.setBuild(dir, result.diagnostics);
  for (const d of result.diagnostics) io.line(formatDiagnostic(d));
  const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = result.diagnostics.filter((d) => d.severity === 'warning').length;
  if (!result.ok) throw new Error(`Build of the ${def.placement} model failed: ${errors} error(s), ${warnings} warning(s); see the Problems panel.`);
  io.line(`Built ${path.relative(dir, result.artifacts[0])} in ${result.durationMs} ms (${warnings} warning(s)); build ${result.buildId?.slice(0, 12)}.`);
  return result;
}

/** The plan of a bench task: its own fields, else the settings. */
function planOf(def: BenchTaskDefinition): RunPlan {
  const d = benchDefaults();
  return {
    benchmarks: def.benchmarks ?? d.benchmarks,
    modes: def.modes ?? d.modes,
    placements: def.placements,
    repetitions: def.repetitions ?? d.repetitions,
    warmup: def.warmup ?? d.warmup,
    durationS: def.durationSeconds ?? d.durationS,
    ...(def.pin ? { pin: def.pin } : {}),
  };
}

/** Runs benchmarks; each measurement is printed as it is recorded and the Runs view updates from the run file. */
export async function benchJob(deps: JobDeps, def: BenchTaskDefinition, io: TaskIO): Promise<RunFile> {
  const plan = planOf(def);
  const workspace = deps.workbench.requireFolder();
  const backend = await deps.workbench.backend();
  // A placement matrix deploys the model project's placements in turn ("none" undeploys).
  const modelDir = plan.placements ? modelDirOf(deps.workbench, def.model) : undefined;
  const option = def.repetitions !== undefined ? 'the task\'s "repetitions"' : 'the setting hypershield.bench.repetitions';
  for (const w of planWarnings(plan, { option })) io.line(`warning: ${w}`);
  const run = await runBenchmarks(backend, plan, {
    workspace,
    store: deps.workbench.store,
    signal: io.signal,
    progress: io.progress,
    preparePlacement: modelDir ? (placement, opts) => preparePlacement(backend, modelDir, placement, { ...opts, build: { onOutput: io.write } }) : undefined,
    onMeasurement: (m) => {
      const figures = Object.entries(m.metrics).slice(0, 3).map(([k, v]) => `${k} ${Number(v.value.toPrecision(4))} ${v.unit}`).join(', ');
      io.line(`  ${m.benchmark} ${m.mode} ${m.placement} #${m.repetition}: ${m.error ? `failed: ${m.error}` : figures}`);
    },
  });
  if (run.status !== 'complete' && run.results.length === 0) {
    // Nothing was measured: an empty run would only push the last real one out of the Runs view and status bar.
    deps.workbench.store.remove(run.id);
    io.line(`Run ${run.id} stopped before its first measurement (${run.reason ?? run.status}); nothing was recorded, so it was not kept.`);
    return run;
  }
  io.line(`\n${summaryTable(run)}\n`);
  io.line(`Run ${run.id}: ${run.status}${run.reason ? ` (${run.reason})` : ''}; ${deps.workbench.store.fileOf(run.id)}`);
  return run;
}
