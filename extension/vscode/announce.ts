import * as vscode from 'vscode';

const STATUS_BAR_MS = 8000;

/**
 * Says that something finished: a notification, and the same words in the status bar for a few seconds, since a
 * notification raised while a progress notification or a task terminal has the stage may only reach the
 * notification center. Actions (e.g. Open, Reveal) are offered on the notification; resolves with the one picked.
 */
export function announce<T extends string>(message: string, ...actions: T[]): Thenable<T | undefined> {
  const text = message.replace(/\.$/, '');
  vscode.window.setStatusBarMessage(`$(check) HyperShield: ${text}`, STATUS_BAR_MS);
  return vscode.window.showInformationMessage(`HyperShield: ${text}.`, ...actions);
}
