import * as vscode from 'vscode';
import { isTestbedFileError } from '../diagnostics/diagnostics';
import { errorMessage } from '../log';
import { isWebviewMessage, whyInvalid } from '../../../webview/shared/protocol';

export interface ErrorAction {
  title: string;
  command: string;
  args?: unknown[];
}

/** A failure whose notification offers the next step (a command) before "Show Logs". */
export class ActionableError extends Error {
  constructor(message: string, readonly actions: ErrorAction[]) {
    super(message);
  }
}

export const SHOW_PROBLEMS: ErrorAction = { title: 'Show Problems', command: 'workbench.actions.view.problems' };

function actionsOf(err: unknown): ErrorAction[] {
  if (err instanceof ActionableError) return err.actions;
  return isTestbedFileError(err) ? [SHOW_PROBLEMS] : [];
}

export interface CommandSpec {
  id: string;
  run: (...args: unknown[]) => unknown;
  /** True on the commands a webview may run; schemas/webview-messages.schema.json fixes their arguments. */
  fromWebview?: true;
}

/**
 * The one table of commands. The palette, tree menus, welcome-view links, the status bar and webviews all reach a
 * handler through its registered id. Failures are logged and shown once, with a way to the log; cancellation is quiet.
 */
export class CommandRegistry implements vscode.Disposable {
  private readonly specs = new Map<string, CommandSpec>();
  private readonly registrations: vscode.Disposable[] = [];
  /** The last failure, for callers that invoke commands programmatically (tests, scripts). */
  lastError: Error | undefined;

  constructor(private readonly log: vscode.LogOutputChannel) {}

  add(specs: readonly CommandSpec[]): void {
    for (const spec of specs) {
      if (this.specs.has(spec.id)) throw new Error(`Command ${spec.id} is registered twice`);
      this.specs.set(spec.id, spec);
      this.registrations.push(vscode.commands.registerCommand(spec.id, (...args: unknown[]) => this.invoke(spec, args)));
    }
  }

  get ids(): string[] {
    return [...this.specs.keys()];
  }

  private async invoke(spec: CommandSpec, args: unknown[]): Promise<unknown> {
    try {
      return await spec.run(...args);
    } catch (err) {
      if (err instanceof vscode.CancellationError || (err as Error).name === 'AbortError') {
        this.log.info(`${spec.id}: cancelled`);
        return undefined;
      }
      const message = errorMessage(err);
      this.lastError = err instanceof Error ? err : new Error(message);
      this.log.error(`${spec.id} failed: ${(err as Error).stack ?? message}`);
      const actions = actionsOf(err);
      void vscode.window.showErrorMessage(`HyperShield: ${message}`, ...actions.map((a) => a.title), 'Show Logs').then((pick) => {
        const action = actions.find((a) => a.title === pick);
        if (action) void vscode.commands.executeCommand(action.command, ...(action.args ?? []));
        else if (pick) this.log.show();
      });
      return undefined;
    }
  }

  /** Runs a command on behalf of a webview, only when the command allows it and the arguments pass its check. */
  async runFromWebview(id: string, args: unknown[]): Promise<unknown> {
    const spec = this.specs.get(id);
    if (!spec?.fromWebview) throw new Error(`A webview asked for ${id}, which webviews may not run`);
    if (!isWebviewMessage({ type: 'command', command: id, args })) throw new Error(`A webview called ${id} with invalid arguments (${whyInvalid.webviewMessage()})`);
    return vscode.commands.executeCommand(id, ...args);
  }

  dispose(): void {
    for (const r of this.registrations.splice(0)) r.dispose();
  }
}
