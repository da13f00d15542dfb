import * as vscode from 'vscode';
import type { Diagnostic as ModelDiagnostic } from '../../core/model/diagnostics/diagnostic';
import type { TestbedFileError } from '../../core/testbed/load';

const SEVERITY: Record<ModelDiagnostic['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

/** Zero-width at the reported column: the editor underlines the word there. */
function at(line: number, column: number): vscode.Range {
  const p = new vscode.Position(Math.max(0, line - 1), Math.max(0, column - 1));
  return new vscode.Range(p, p);
}

function toVscode(d: ModelDiagnostic): vscode.Diagnostic {
  const diag = new vscode.Diagnostic(at(d.line, d.column), d.symbol ? `${d.message} (symbol ${d.symbol})` : d.message, SEVERITY[d.severity]);
  diag.source = `hypershield ${d.source}`;
  diag.relatedInformation = d.related.map((r) => new vscode.DiagnosticRelatedInformation(new vscode.Location(vscode.Uri.file(r.file), at(r.line, r.column)), r.message));
  return diag;
}

/** Checked by shape: the testbed loader is loaded lazily, so its class is not at hand here. */
export function isTestbedFileError(err: unknown): err is TestbedFileError {
  return err instanceof Error && err.name === 'TestbedFileError' && Array.isArray((err as TestbedFileError).problems);
}

/**
 * The Problems panel entries HyperShield owns: build and load messages of each model project (replaced by the next
 * build, so a successful build clears them) and the testbed description's validation errors.
 */
export class Diagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('hypershield');
  /** Files that carry entries, per owner ("build:<dir>", "testbed"), so an owner's entries can be replaced. */
  private readonly owned = new Map<string, Map<string, vscode.Diagnostic[]>>();

  private replace(owner: string, entries: Map<string, vscode.Diagnostic[]>): void {
    const previous = this.owned.get(owner) ?? new Map<string, vscode.Diagnostic[]>();
    this.owned.set(owner, entries);
    for (const file of new Set([...previous.keys(), ...entries.keys()])) {
      const all = [...this.owned.values()].flatMap((m) => m.get(file) ?? []);
      this.collection.set(vscode.Uri.file(file), all);
    }
  }

  /** Shows a build's messages (errors, warnings and their notes); an empty list clears the project's entries. */
  setBuild(modelDir: string, diagnostics: readonly ModelDiagnostic[]): void {
    const byFile = new Map<string, vscode.Diagnostic[]>();
    for (const d of diagnostics) byFile.set(d.file, [...(byFile.get(d.file) ?? []), toVscode(d)]);
    this.replace(`build:${modelDir}`, byFile);
  }

  /** Adds load failures (e.g. the kernel log of a rejected module) to the project's entries until the next build. */
  addLoad(modelDir: string, diagnostics: readonly ModelDiagnostic[]): void {
    const owner = `build:${modelDir}`;
    const byFile = new Map(this.owned.get(owner) ?? []);
    for (const d of diagnostics) byFile.set(d.file, [...(byFile.get(d.file) ?? []), toVscode(d)]);
    this.replace(owner, byFile);
  }

  private testbedError: unknown;
  private readonly documentEvents = [
    vscode.workspace.onDidOpenTextDocument(() => this.setTestbed(this.testbedError)),
    vscode.workspace.onDidCloseTextDocument(() => this.setTestbed(this.testbedError)),
  ];

  /**
   * Shows (or clears, with undefined) the testbed description's validation errors at their lines. While the file is
   * open, VS Code's JSON support reports the schema's findings (the manifest's jsonValidation): only what lies beyond
   * the schema is added then, so no problem is listed twice.
   */
  setTestbed(error: unknown): void {
    this.testbedError = error;
    const byFile = new Map<string, vscode.Diagnostic[]>();
    if (isTestbedFileError(error)) {
      const open = vscode.workspace.textDocuments.some((d) => d.uri.scheme === 'file' && d.uri.fsPath === error.file);
      byFile.set(error.file, error.problems.filter((p) => !open || p.beyondSchema).map((p) => {
        const d = new vscode.Diagnostic(at(p.line, p.column), `${p.jsonPath || '(document)'}: ${p.message}`, vscode.DiagnosticSeverity.Error);
        d.source = 'hypershield testbed';
        return d;
      }));
    }
    this.replace('testbed', byFile);
  }

  dispose(): void {
    for (const d of this.documentEvents) d.dispose();
    this.collection.dispose();
  }
}
