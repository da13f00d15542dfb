import * as vscode from 'vscode';
import { BENCHMARKS } from '../../core/bench/registry';
import { planWarnings } from '../../core/bench/warnings';
import { PLACEMENTS, type Placement, type RunFile } from '../../core/results/run-file';
import { MODES, type Mode } from '../../core/testbed/testbed';
import { benchDefaults, openResultsAfterRun } from '../config';
import { findModelProjects } from '../model-projects';
import type { Services } from '../services';
import { TASK_TYPE, type BenchTaskDefinition } from '../tasks/jobs';
import { runTask } from '../tasks/task-provider';
import { ActionableError, SHOW_PROBLEMS, type CommandSpec } from './registry';

/** Options of "Run Benchmarks" when called with arguments (tests, keybindings, other extensions). */
export type BenchOptions = Omit<BenchTaskDefinition, 'type' | 'task'>;

/** One step of the plan; it stays open when focus moves (to check the tree, say) so the plan is not lost. */
async function pickMany<T extends string>(title: string, items: Array<{ id: T; description?: string }>, preselected: readonly string[]): Promise<T[] | undefined> {
  const picks = await vscode.window.showQuickPick(items.map((i) => ({ label: i.id, description: i.description, picked: preselected.includes(i.id), id: i.id })), { title, canPickMany: true, ignoreFocusOut: true });
  return picks?.map((p) => p.id);
}

/** Options passed by a caller, as opposed to a tree node from a menu (which leads to asking). */
function isBenchOptions(x: unknown): x is BenchOptions {
  return typeof x === 'object' && x !== null && Array.isArray((x as BenchOptions).benchmarks);
}

/** "12 measurements, about 3 min": recorded and warm-up repetitions of every benchmark, mode and placement. */
function estimate(benchmarks: number, modes: number, placements: number, repetitions: number, d: { warmup: number; durationS: number }): string {
  const measurements = benchmarks * modes * Math.max(1, placements) * repetitions;
  const seconds = benchmarks * modes * Math.max(1, placements) * (repetitions + d.warmup) * d.durationS;
  const time = seconds < 90 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
  return `${measurements} measurements (${d.durationS} s each, +${d.warmup} warm-up per series): about ${time}`;
}

/** Asks for benchmarks, modes, placements and repetitions; undefined when the person backs out. */
async function askPlan(deployed: string | undefined): Promise<BenchOptions | undefined> {
  const d = benchDefaults();
  const benchmarks = await pickMany('Run Benchmarks (1/4): which benchmarks?', BENCHMARKS.map((b) => ({ id: b.id, description: b.title })), d.benchmarks);
  if (!benchmarks?.length) return undefined;
  const modes = await pickMany<Mode>('Run Benchmarks (2/4): which modes?', MODES.map((m) => ({ id: m, description: m === 'model' ? 'through the model host' : 'straight to the server (baseline)' })), d.modes);
  if (!modes?.length) return undefined;
  const now = deployed ? `the ${deployed} model` : 'no model';
  const placements = await pickMany<Placement>(`Run Benchmarks (3/4): placements to deploy in turn, or tick nothing to measure as deployed now (${now})`,
    PLACEMENTS.map((p) => ({ id: p, description: p === 'none' ? 'undeploy: measure without a model on the path' : `build and deploy the ${p} model` })), []);
  if (!placements) return undefined;
  let model: string | undefined;
  if (placements.some((p) => p !== 'none')) {
    const projects = await findModelProjects();
    if (!projects.length) throw new Error('Benchmarking placements needs a model project in the workspace: run "HyperShield: New Security Model" first.');
    const pick = projects.length === 1 ? projects[0] : (await vscode.window.showQuickPick(projects.map((p) => ({ label: vscode.workspace.asRelativePath(p.dir), project: p })), { title: 'Which model project?' }))?.project;
    if (!pick) return undefined;
    model = pick.dir;
  }
  const reps = await vscode.window.showInputBox({
    title: 'Run Benchmarks (4/4): recorded repetitions per benchmark, mode and placement',
    value: String(d.repetitions),
    ignoreFocusOut: true,
    // The total and the time it takes, updated as the number changes; a warning when it is too few for a verdict.
    validateInput: (v) => {
      if (!/^[1-9]\d{0,3}$/.test(v.trim())) return 'A whole number from 1 to 9999';
      const message = estimate(benchmarks.length, modes.length, placements.length, Number(v), d);
      const [warning] = planWarnings({ modes, placements: placements.length ? placements : undefined, repetitions: Number(v) }, { option: 'repetitions' });
      return warning
        ? { message: `${message}. ${warning}`, severity: vscode.InputBoxValidationSeverity.Warning }
        : { message, severity: vscode.InputBoxValidationSeverity.Info };
    },
  });
  if (!reps) return undefined;
  return { benchmarks, modes, ...(placements.length ? { placements, model } : {}), repetitions: Number(reps) };
}

export function benchCommands(s: Services): CommandSpec[] {
  return [{
    id: 'hypershield.bench.run',
    run: async (options?: unknown): Promise<RunFile | undefined> => {
      // Ask nothing before the testbed is known to be up.
      const view = await s.workbench.readTestbed();
      if (view.kind !== 'status' || view.status.state !== 'up') {
        const why = view.kind === 'error' ? 'its description has errors' : view.kind === 'status' ? `it is ${view.status.state}` : 'it is not up';
        const name = view.kind === 'status' ? `Testbed ${view.status.name}` : 'The testbed';
        throw new ActionableError(`${name} cannot run benchmarks: ${why}. Bring it up first.`, view.kind === 'error' ? [SHOW_PROBLEMS] : [{ title: 'Bring Testbed Up', command: 'hypershield.testbed.up' }]);
      }
      const opts = isBenchOptions(options) ? options : await askPlan(view.status.deployed?.placement);
      if (!opts) return undefined;
      const def: BenchTaskDefinition = { type: TASK_TYPE, task: 'bench', ...opts };
      const outcome = await runTask(s.tasks, 'HyperShield: running benchmarks', s.tasks.bench(def));
      s.workbench.refreshRuns();
      if (outcome.error) throw outcome.error;
      const run = outcome.value;
      if (!run) return undefined;
      if (run.status === 'complete' && openResultsAfterRun()) await s.panels.open(run.id);
      else if (run.results.length === 0) void vscode.window.showInformationMessage(`HyperShield: the run stopped before its first measurement (${run.reason ?? run.status}); nothing was kept.`);
      else if (run.status !== 'complete') void vscode.window.showWarningMessage(`HyperShield: run ${run.id} is ${run.status}${run.reason ? ` (${run.reason})` : ''}; what finished is saved.`);
      return run;
    },
  }];
}
