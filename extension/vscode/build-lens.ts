// The CodeLens on a model's hook function: each headline metric's change since the previous build (computed by the
// core, see build-annotations.ts); clicking compares the two runs in the results panel.
import * as vscode from 'vscode';
import { buildAnnotations } from '../core/results/build-annotations';
import { sourceHash } from '../core/model/source-hash';
import { projectOf } from './model-projects';
import type { Workbench } from './workbench';

export class BuildLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly workbench: Workbench) {
    this.subscription = workbench.onDidChangeRuns(() => this.changed.fire());
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const folder = this.workbench.folder;
    const project = folder ? projectOf(doc.uri.fsPath, folder) : undefined;
    if (!project) return [];
    const runs = this.workbench.runs().map((r) => r.run);
    if (!runs.some((r) => r.metadata.models.length > 0)) return [];
    let current: string | undefined;
    try {
      current = sourceHash(project.dir);
    } catch {
      current = undefined; // a project without sources yet: nothing to call stale
    }
    return buildAnnotations(runs, project.dir, project.placements, doc.getText(), current).map((a) => new vscode.CodeLens(new vscode.Range(a.line, 0, a.line, 0), a.runs.length === 2
      ? { title: a.title, tooltip: a.tooltip, command: 'hypershield.results.compare', arguments: a.runs }
      : { title: a.title, tooltip: a.tooltip, command: 'hypershield.results.open', arguments: a.runs }));
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
