import * as vscode from 'vscode';

/** The extension's one log, shown by "HyperShield: Show Logs"; its level follows "Developer: Set Log Level". */
export function createLog(): vscode.LogOutputChannel {
  return vscode.window.createOutputChannel('HyperShield', { log: true });
}

/** A message for people: the error's own text, which in this project always carries its context. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
