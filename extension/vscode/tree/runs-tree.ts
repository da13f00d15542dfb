import * as vscode from 'vscode';
import type { RunFile, RunStatus } from '../../core/results/run-file';
import { headlineText, runHeadline } from '../headline';
import type { Workbench } from '../workbench';

export type RunNode =
  | { kind: 'run'; run: RunFile; file: string }
  | { kind: 'figure'; run: RunFile; benchmark: string; placement: string };

const STATUS_ICONS: Record<RunStatus, [string, string | undefined]> = {
  complete: ['pass', 'testing.iconPassed'],
  running: ['loading~spin', undefined],
  incomplete: ['warning', 'problemsWarningIcon.foreground'],
  failed: ['error', 'problemsErrorIcon.foreground'],
};

/** Run files, newest first, each with its headline figure; expanding a run lists each benchmark and placement. */
export class RunsTree implements vscode.TreeDataProvider<RunNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;
  /** The run picked with "Select Run for Compare". */
  selectedForCompare: string | undefined;

  constructor(private readonly workbench: Workbench) {
    this.subscription = workbench.onDidChangeRuns(() => this.changed.fire(undefined));
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(node?: RunNode): RunNode[] {
    if (!node) return this.workbench.runs().map((r): RunNode => ({ kind: 'run', run: r.run, file: r.file }));
    if (node.kind !== 'run') return [];
    const pairs = new Map<string, { benchmark: string; placement: string }>();
    for (const m of node.run.results) pairs.set(`${m.benchmark}\u0000${m.placement}`, { benchmark: m.benchmark, placement: m.placement });
    return [...pairs.values()].map((p): RunNode => ({ kind: 'figure', run: node.run, ...p }));
  }

  getTreeItem(node: RunNode): vscode.TreeItem {
    if (node.kind === 'figure') {
      const item = new vscode.TreeItem(`${node.benchmark} · ${node.placement}`, vscode.TreeItemCollapsibleState.None);
      item.id = `run/${node.run.id}/${node.benchmark}/${node.placement}`;
      item.description = headlineText(node.run, node.benchmark, node.placement);
      item.iconPath = new vscode.ThemeIcon('pulse');
      item.contextValue = 'figure';
      return item;
    }
    const { run } = node;
    const started = new Date(run.metadata.startedAt);
    const item = new vscode.TreeItem(Number.isNaN(started.getTime()) ? run.id : started.toLocaleString(), vscode.TreeItemCollapsibleState.Collapsed);
    item.id = `run/${run.id}`;
    const selected = this.selectedForCompare === run.id ? 'selected for compare · ' : '';
    item.description = `${selected}${runHeadline(run)}`;
    const plan = run.metadata.plan;
    item.tooltip = new vscode.MarkdownString([
      `**Run ${run.id}** (${run.status}${run.reason ? `: ${run.reason}` : ''})`,
      `Testbed ${run.metadata.testbed.name} (${run.metadata.testbed.backend})${run.metadata.emulated ? ', emulated hosts' : ''}`,
      `${plan.benchmarks.join(', ')} · ${plan.modes.join('/')} · placements ${plan.placements.join(', ')} · ${plan.repetitions} × ${plan.durationS} s`,
      `${run.results.length} measurements${run.results.some((m) => m.error) ? `, ${run.results.filter((m) => m.error).length} failed` : ''}`,
    ].join('\n\n'));
    const [icon, color] = STATUS_ICONS[run.status] ?? ['question', undefined];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    item.contextValue = `run:${run.status}`;
    item.command = { command: 'hypershield.results.open', title: 'Open Results', arguments: [run.id] };
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
