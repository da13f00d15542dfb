import type { Backend, Progress } from '../core/backends/backend';
import { openTestbed } from '../core/backends/open';
import { terminalSecretPrompt } from './secret-prompt';

/** What every CLI command gets: the workspace, a way to report progress, and cancellation on Ctrl-C. */
export interface CliContext {
  workspace: string;
  /** The workspace's testbed, opened once per command (one connection per host for the whole command). */
  testbed(): Backend;
  /** Closes what testbed() opened. */
  dispose(): Promise<void>;
  signal: AbortSignal;
  progress: Progress;
  out(line: string): void;
}

export function createContext(workspace: string): CliContext {
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('\nInterrupted: finishing cleanly (press Ctrl-C again to force)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  const tty = process.stderr.isTTY;
  let backend: Backend | undefined;
  return {
    workspace,
    testbed: () => (backend ??= openTestbed(workspace, { askSecret: terminalSecretPrompt() })),
    dispose: async () => { await backend?.dispose(); },
    signal: controller.signal,
    // Progress goes to stderr so stdout stays clean for --json and pipes.
    progress: { report: (m) => process.stderr.write(tty ? `\x1b[2m${m}\x1b[0m\n` : `${m}\n`) },
    out: (line) => process.stdout.write(`${line}\n`),
  };
}
