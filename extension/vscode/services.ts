import type * as vscode from 'vscode';
import type { Diagnostics } from './diagnostics/diagnostics';
import type { ResultsPanels } from './panels/results-panel';
import type { TaskFactory } from './tasks/task-provider';
import type { RunsTree } from './tree/runs-tree';
import type { Workbench } from './workbench';

/** What command handlers work with; built once in activate(). */
export interface Services {
  workbench: Workbench;
  log: vscode.LogOutputChannel;
  diagnostics: Diagnostics;
  panels: ResultsPanels;
  runsTree: RunsTree;
  tasks: TaskFactory;
}
