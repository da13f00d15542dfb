import * as vscode from 'vscode';

/** The `when`-clause keys the manifest's menus and welcome views use. */
export type ContextKey = 'hypershield.testbedState' | 'hypershield.hasTestbedFile' | 'hypershield.testbedError' | 'hypershield.modelDeployed' | 'hypershield.hasModel' | 'hypershield.compareSelected'
  | 'hypershield.hasCompleteRun';

export function setContext(key: ContextKey, value: string | boolean): void {
  void vscode.commands.executeCommand('setContext', key, value);
}
