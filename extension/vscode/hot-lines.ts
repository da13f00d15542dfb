// Shows the model's hot source lines (bench --profile, perf record) beside the code, from the newest run that has them.
import * as vscode from 'vscode';
import { hotSpots, type HotSpots } from '../core/results/hot-spots';
import { hotLinesOfFile, placedHotLines } from '../core/results/hot-source';
import type { RunListing } from '../core/results/store';
import type { CommandSpec } from './commands/registry';
import type { Workbench } from './workbench';

export class HotLines implements vscode.Disposable {
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.warningForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Right,
    after: { color: new vscode.ThemeColor('editorCodeLens.foreground'), margin: '0 0 0 2em' },
  });
  private readonly disposables: vscode.Disposable[] = [];
  private source: { runId: string; spots: HotSpots[] } | undefined;

  constructor(private readonly workbench: Workbench) {
    this.disposables.push(
      this.decoration,
      workbench.onDidChangeRuns((runs) => this.update(runs)),
      vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach((e) => this.decorate(e))),
    );
  }

  /** Decorates from the runs read so far; later changes of the runs arrive through the workbench. */
  start(): void {
    this.update(this.workbench.runs());
  }

  private update(runs: readonly RunListing[]): void {
    // Runs are newest first: the newest one that sampled the model is what the code looks like now, most likely.
    this.source = undefined;
    for (const r of runs) {
      const spots = hotSpots(r.run);
      if (spots.some((s) => s.lines.length > 0)) {
        this.source = { runId: r.id, spots };
        break;
      }
    }
    vscode.window.visibleTextEditors.forEach((e) => this.decorate(e));
  }

  private decorate(editor: vscode.TextEditor): void {
    if (editor.document.uri.scheme !== 'file' || !this.source) return editor.setDecorations(this.decoration, []);
    const { runId, spots } = this.source;
    const lines = hotLinesOfFile(spots, editor.document.uri.fsPath).filter((l) => l.line <= editor.document.lineCount);
    editor.setDecorations(this.decoration, lines.map((l) => ({
      range: editor.document.lineAt(l.line - 1).range,
      hoverMessage: `${l.function}: ${l.samples} samples (${l.placement} placement, run ${runId})`,
      renderOptions: { after: { contentText: `${l.percent.toFixed(1)} % of model samples` } },
    })));
  }

  /** Opens the model source at its hottest line of the newest profiled run. */
  async goToHottest(): Promise<void> {
    const top = this.source && placedHotLines(this.source.spots)[0];
    if (!top) throw new Error('No run has hot lines of the model yet: run benchmarks with profiling (bench --profile) and a model deployed, in model mode.');
    const line = top.line - 1;
    await vscode.window.showTextDocument(vscode.Uri.file(top.path), { selection: new vscode.Range(line, 0, line, 0) });
  }

  dispose(): void {
    this.disposables.forEach((d) => d.dispose());
  }
}

export function hotLineCommands(hot: HotLines): CommandSpec[] {
  return [{ id: 'hypershield.results.goToHottestLine', run: () => hot.goToHottest() }];
}
