import * as vscode from 'vscode';
import type { RunListing } from '../core/results/store';
import { BuildLensProvider } from './build-lens';
import { benchCommands } from './commands/bench-commands';
import { modelCommands } from './commands/model-commands';
import { CommandRegistry } from './commands/registry';
import { resultsCommands } from './commands/results-commands';
import { testbedCommands } from './commands/testbed-commands';
import { setContext } from './context-keys';
import { Diagnostics } from './diagnostics/diagnostics';
import { createLog } from './log';
import { HotLines, hotLineCommands } from './hot-lines';
import { findModelProjects } from './model-projects';
import { ResultsPanels, type Rendered } from './panels/results-panel';
import type { Services } from './services';
import { StatusBar } from './status-bar';
import { TASK_TYPE } from './tasks/jobs';
import { HyperShieldTaskProvider, TaskFactory } from './tasks/task-provider';
import { RunsTree } from './tree/runs-tree';
import { TestbedTree } from './tree/testbed-tree';
import { Workbench } from './workbench';

/** What activate() returns: the views' data providers and the command registry, for tests and other extensions. */
export interface HyperShieldApi {
  testbedTree: TestbedTree;
  runsTree: RunsTree;
  workbench: Workbench;
  commands: CommandRegistry;
  /** Milliseconds activate() took. */
  activationMs: number;
  openResults(runId: string, compareId?: string): Promise<Rendered>;
}

function hasCompleteRun(runs: readonly RunListing[]): boolean {
  return runs.some((r) => r.run.status === 'complete');
}

export function activate(context: vscode.ExtensionContext): HyperShieldApi {
  const started = performance.now();
  const log = createLog();
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const workbench = new Workbench(folder, log);
  const diagnostics = new Diagnostics();
  const registry = new CommandRegistry(log);
  const panels = new ResultsPanels({
    extensionUri: context.extensionUri,
    workbench,
    log,
    memento: context.workspaceState,
    runCommand: (command, args) => registry.runFromWebview(command, args),
  });
  const testbedTree = new TestbedTree(workbench);
  const runsTree = new RunsTree(workbench);
  const tasks = new TaskFactory({ workbench, diagnostics, log });
  const services: Services = { workbench, log, diagnostics, panels, runsTree, tasks };
  const hotLines = new HotLines(workbench);
  registry.add([...testbedCommands(services), ...modelCommands(services), ...benchCommands(services), ...resultsCommands(services), ...hotLineCommands(hotLines)]);

  const testbedView = vscode.window.createTreeView('hypershield.testbed', { treeDataProvider: testbedTree, showCollapseAll: true });
  const runsView = vscode.window.createTreeView('hypershield.runs', { treeDataProvider: runsTree });
  // Each build's change since the previous build, on the model's hook function.
  const buildLens = new BuildLensProvider(workbench);
  context.subscriptions.push(
    log, workbench, diagnostics, registry, panels, tasks, testbedTree, runsTree, testbedView, runsView, hotLines,
    new StatusBar(workbench),
    buildLens, vscode.languages.registerCodeLensProvider({ language: 'c', scheme: 'file' }, buildLens),
    vscode.tasks.registerTaskProvider(TASK_TYPE, new HyperShieldTaskProvider(tasks, () => workbench.folder)),
    // The walkthrough's "Run benchmarks" step is done once a run completed, not when the command merely ran.
    workbench.onDidChangeRuns((runs) => setContext('hypershield.hasCompleteRun', hasCompleteRun(runs))),
    workbench.onDidChangeTestbed((view) => {
      const status = view.kind === 'status' ? view.status : undefined;
      setContext('hypershield.testbedState', status?.state ?? 'unknown');
      setContext('hypershield.testbedError', view.kind === 'error');
      setContext('hypershield.hasTestbedFile', workbench.hasTestbedFile());
      setContext('hypershield.modelDeployed', !!status?.deployed);
      diagnostics.setTestbed(view.kind === 'error' ? view.error : view.kind === 'status' ? view.fileError : undefined);
      testbedView.description = status ? `${status.name} · ${status.backend} · ${status.state}` : undefined;
    }),
  );

  // Everything that spawns processes or scans the workspace happens after activation returns.
  if (folder) {
    setContext('hypershield.hasTestbedFile', workbench.hasTestbedFile());
    setContext('hypershield.hasCompleteRun', hasCompleteRun(workbench.runs()));
    void workbench.readTestbed();
    void findModelProjects().then((p) => setContext('hypershield.hasModel', p.length > 0));
    hotLines.start();
  }
  const activationMs = performance.now() - started;
  log.info(`Activated in ${activationMs.toFixed(1)} ms${folder ? ` for ${folder}` : ' without a workspace folder'}`);
  return { testbedTree, runsTree, workbench, commands: registry, activationMs, openResults: (a, b) => panels.open(a, b) };
}

export function deactivate(): void {}
