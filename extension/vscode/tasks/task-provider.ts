import * as path from 'node:path';
import * as vscode from 'vscode';
import { describeErrors, validator } from '../../core/util/schemas';
import { findModelProjects } from '../model-projects';
import { benchJob, buildJob, TASK_TYPE, type BenchTaskDefinition, type BuildTaskDefinition, type JobDeps, type TaskDefinition } from './jobs';
import { WorkPseudoterminal, type TaskIO, type TaskOutcome } from './pseudoterminal';

/** A hypershield task; `T` is what its work returns. */
export interface HyperShieldTask<T> {
  task: vscode.Task;
  /** Identifies the work: VS Code may run an earlier task object's execution for an equal definition. */
  key: string;
  /** Carries the work's result type; never set. */
  readonly result?: T;
}

/** Problems of a task definition against schemas/task.schema.json; none means it is a TaskDefinition. */
function definitionProblems(d: vscode.TaskDefinition): string[] {
  const validate = validator('task');
  return validate(d) ? [] : describeErrors(validate.errors, d);
}

/** The same key for equal definitions, whatever the order of their properties. */
function keyOf(def: TaskDefinition): string {
  return JSON.stringify(Object.fromEntries(Object.entries(def).sort(([a], [b]) => a.localeCompare(b))));
}

/**
 * Creates hypershield tasks whose work runs in a pseudoterminal. Progress and outcomes are published by
 * definition key rather than through the task object, because VS Code reuses the execution of the first task it
 * saw for an equal definition.
 */
export class TaskFactory implements vscode.Disposable {
  private readonly reports = new vscode.EventEmitter<{ key: string; message: string }>();
  private readonly finishes = new vscode.EventEmitter<{ key: string; outcome: TaskOutcome<unknown> }>();
  readonly onDidReport = this.reports.event;
  readonly onDidFinish = this.finishes.event;

  constructor(private readonly deps: JobDeps) {}

  build(def: BuildTaskDefinition): HyperShieldTask<Awaited<ReturnType<typeof buildJob>>> {
    return this.create(def, `build ${def.placement} ${def.model}`, vscode.TaskGroup.Build, (io) => buildJob(this.deps, def, io));
  }

  bench(def: BenchTaskDefinition): HyperShieldTask<Awaited<ReturnType<typeof benchJob>>> {
    const name = `bench ${def.benchmarks?.join(',') ?? '(settings)'}${def.placements ? ` ${def.placements.join(',')}` : ''}`;
    return this.create(def, name, vscode.TaskGroup.Test, (io) => benchJob(this.deps, def, io));
  }

  /** A task from tasks.json (or one VS Code hands back), with its execution attached. */
  resolve(task: vscode.Task): vscode.Task | undefined {
    const problems = definitionProblems(task.definition);
    if (problems.length) {
      this.deps.log.warn(`Ignored a hypershield task with an invalid definition ${JSON.stringify(task.definition)}: ${problems.join('; ')}`);
      return undefined;
    }
    const def = task.definition as TaskDefinition;
    const made = def.task === 'build' ? this.build(def) : this.bench(def);
    // Keep the definition object VS Code gave, so it recognises the task as the one in tasks.json.
    return new vscode.Task(def, task.scope ?? vscode.TaskScope.Workspace, task.name, TASK_TYPE, made.task.execution, []);
  }

  private create<T>(def: TaskDefinition, name: string, group: vscode.TaskGroup, work: (io: TaskIO) => Promise<T>): HyperShieldTask<T> {
    const key = keyOf(def);
    const execution = new vscode.CustomExecution(async () => {
      const pty = new WorkPseudoterminal<T>(`HyperShield: ${name}`, work, (message) => this.reports.fire({ key, message }), this.deps.log);
      void pty.done.then((outcome) => this.finishes.fire({ key, outcome }));
      return pty;
    });
    const task = new vscode.Task(def, vscode.TaskScope.Workspace, name, TASK_TYPE, execution, []);
    task.group = group;
    task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated, clear: true };
    return { task, key };
  }

  dispose(): void {
    this.reports.dispose();
    this.finishes.dispose();
  }
}

/** Offers a build task per model project and placement, and a bench task with the settings' defaults. */
export class HyperShieldTaskProvider implements vscode.TaskProvider {
  constructor(private readonly factory: TaskFactory, private readonly workspace: () => string | undefined) {}

  async provideTasks(): Promise<vscode.Task[]> {
    const folder = this.workspace();
    if (!folder) return [];
    const tasks: vscode.Task[] = [];
    for (const p of await findModelProjects()) {
      const model = path.relative(folder, p.dir) || '.';
      for (const placement of p.placements) tasks.push(this.factory.build({ type: TASK_TYPE, task: 'build', model, placement }).task);
    }
    tasks.push(this.factory.bench({ type: TASK_TYPE, task: 'bench' }).task);
    return tasks;
  }

  resolveTask(task: vscode.Task): vscode.Task | undefined {
    return this.factory.resolve(task);
  }
}

/** How long a task waits for the end of an active one of the same definition before it starts anyway. */
const SAME_TASK_WAIT_MS = 10_000;

/**
 * VS Code does not start a task while one of the same definition is still active (say the terminal of the last
 * build has not closed yet): it answers "already active" and the new work would never run. Waits, bounded, until no
 * such execution is left.
 */
async function sameTaskEnded(task: vscode.Task): Promise<void> {
  const key = JSON.stringify(task.definition);
  const active = () => vscode.tasks.taskExecutions.filter((e) => e.task.source === task.source && JSON.stringify(e.task.definition) === key);
  if (!active().length) return;
  await new Promise<void>((resolve) => {
    const done = () => { sub.dispose(); clearTimeout(timer); resolve(); };
    const sub = vscode.tasks.onDidEndTask(() => { if (!active().length) done(); });
    const timer = setTimeout(done, SAME_TASK_WAIT_MS);
    if (!active().length) done();
  });
}

/**
 * Runs a task and waits for its work, showing its progress lines in a notification whose Cancel terminates the task
 * (which aborts the work and stops its processes on the hosts).
 */
export function runTask<T>(factory: TaskFactory, title: string, t: HyperShieldTask<T>): Thenable<TaskOutcome<T>> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    const subs: vscode.Disposable[] = [factory.onDidReport((r) => r.key === t.key && progress.report({ message: r.message }))];
    try {
      const done = new Promise<TaskOutcome<T>>((resolve) => subs.push(factory.onDidFinish((f) => f.key === t.key && resolve(f.outcome as TaskOutcome<T>))));
      await sameTaskEnded(t.task);
      const execution = await vscode.tasks.executeTask(t.task);
      subs.push(token.onCancellationRequested(() => execution.terminate()));
      return await done;
    } finally {
      for (const s of subs) s.dispose();
    }
  });
}
