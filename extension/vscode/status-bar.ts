import * as vscode from 'vscode';
import { statusBarEnabled } from './config';
import { runHeadline } from './headline';
import type { TestbedView, Workbench } from './workbench';

/** "$(shield) tvsc: up · model | iperf3 none: direct 9.41 · model 9.12 Gbit/s (+3.1 %)"; a click opens the sidebar. */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('hypershield.status', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[];

  constructor(private readonly workbench: Workbench) {
    this.item.name = 'HyperShield';
    this.item.command = 'hypershield.testbed.focus';
    this.disposables = [
      this.item,
      workbench.onDidChangeTestbed(() => this.update()),
      workbench.onDidChangeRuns(() => this.update()),
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('hypershield.statusBar') && this.update()),
    ];
    this.update();
  }

  private update(): void {
    if (!statusBarEnabled() || !this.workbench.folder) {
      this.item.hide();
      return;
    }
    const view: TestbedView = this.workbench.testbed;
    const fileError = view.kind === 'error' || (view.kind === 'status' && !!view.fileError);
    const testbed = view.kind === 'status' ? `${view.status.name}: ${view.status.state}${view.status.mode && view.status.state === 'up' ? ` · ${view.status.mode}` : ''}${view.fileError ? ' (testbed file has errors)' : ''}`
      : view.kind === 'error' ? 'testbed file has errors' : 'testbed …';
    // A run that recorded nothing says nothing: the last run with measurements (or one under way) keeps the headline.
    const latest = this.workbench.runs().find((r) => r.run.status === 'running' || r.run.results.length > 0)?.run;
    const headline = latest ? runHeadline(latest) : undefined;
    this.item.text = `$(shield) ${testbed}${headline ? ` | ${headline}` : ''}`;
    this.item.tooltip = `HyperShield testbed ${testbed}${latest ? `\nLast run ${latest.id}: ${headline}` : '\nNo runs yet'}`;
    this.item.backgroundColor = fileError || (view.kind === 'status' && view.status.state === 'partial')
      ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.show();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
