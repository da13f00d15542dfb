import * as vscode from 'vscode';
import type { WorkOptions } from '../core/backends/backend';

/**
 * Runs long work under a cancellable notification. The core's progress lines show in the notification and the log;
 * Cancel aborts the work's AbortSignal, which stops the processes it started on the hosts.
 */
export function withCancellableProgress<T>(title: string, log: vscode.LogOutputChannel, work: (opts: WorkOptions) => Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
    const controller = new AbortController();
    const sub = token.onCancellationRequested(() => {
      log.info(`${title}: cancelled by the user`);
      controller.abort();
    });
    const report = (message: string) => {
      log.info(`${title}: ${message}`);
      progress.report({ message });
    };
    return work({ signal: controller.signal, progress: { report } }).finally(() => sub.dispose());
  });
}
