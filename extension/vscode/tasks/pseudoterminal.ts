import * as vscode from 'vscode';
import type { Progress } from '../../core/backends/backend';

/** What a task's work gets: a place to write, a progress reporter, and cancellation when the task is stopped. */
export interface TaskIO {
  signal: AbortSignal;
  progress: Progress;
  /** Writes text; "\n" becomes the terminal's "\r\n". */
  write(text: string): void;
  line(text: string): void;
}

export interface TaskOutcome<T> {
  /** 0 on success, 1 on failure, 130 when cancelled. */
  code: number;
  value?: T;
  error?: Error;
}

const DIM = '\x1b[2m';
const RED = '\x1b[31m';
const RESET = '\x1b[0m';
/**
 * VS Code reports a terminal that exits non-zero within its first 500 ms as "failed to launch"; a task that fails
 * fast (e.g. the testbed is down) closes after this, so the terminal shows the work's own message instead.
 */
const MIN_FAILED_LIFETIME_MS = 600;

/**
 * A terminal that runs one piece of work and streams its output. Terminating the task (or closing the terminal)
 * aborts the work's signal, which ends the processes it started on the hosts; the task ends with code 130.
 */
export class WorkPseudoterminal<T> implements vscode.Pseudoterminal {
  private readonly writeEmitter = new vscode.EventEmitter<string>();
  private readonly closeEmitter = new vscode.EventEmitter<number>();
  private readonly controller = new AbortController();
  private settle!: (o: TaskOutcome<T>) => void;
  readonly onDidWrite = this.writeEmitter.event;
  readonly onDidClose = this.closeEmitter.event;
  readonly done = new Promise<TaskOutcome<T>>((resolve) => (this.settle = resolve));
  private openedAt = 0;

  constructor(
    private readonly title: string,
    private readonly work: (io: TaskIO) => Promise<T>,
    private readonly onProgress?: (message: string) => void,
    private readonly log?: vscode.LogOutputChannel,
  ) {}

  open(): void {
    this.openedAt = Date.now();
    const write = (text: string) => this.writeEmitter.fire(text.replace(/\r?\n/g, '\r\n'));
    const io: TaskIO = {
      signal: this.controller.signal,
      write,
      line: (text) => write(`${text}\n`),
      progress: {
        report: (message) => {
          write(`${DIM}${message}${RESET}\n`);
          this.log?.info(`${this.title}: ${message}`);
          this.onProgress?.(message);
        },
      },
    };
    io.line(`> ${this.title}`);
    this.work(io).then(
      (value) => this.finish({ code: this.controller.signal.aborted ? 130 : 0, value }),
      (err: Error) => {
        const cancelled = this.controller.signal.aborted;
        if (!cancelled) {
          write(`${RED}${err.message}${RESET}\n`);
          this.log?.error(`${this.title} failed: ${err.stack ?? err.message}`);
        }
        this.finish({ code: cancelled ? 130 : 1, error: err });
      },
    );
  }

  private finish(outcome: TaskOutcome<T>): void {
    if (outcome.code === 130) this.writeEmitter.fire(`\r\n${DIM}Cancelled; the processes started on the hosts were stopped.${RESET}\r\n`);
    this.settle(outcome);
    const wait = outcome.code === 0 ? 0 : Math.max(0, this.openedAt + MIN_FAILED_LIFETIME_MS - Date.now());
    setTimeout(() => this.closeEmitter.fire(outcome.code), wait);
  }

  /** Called when the task is terminated or its terminal closed. */
  close(): void {
    if (!this.controller.signal.aborted) {
      this.log?.info(`${this.title}: stopped by the user`);
      this.controller.abort();
    }
  }
}
