import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Backend } from '../core/backends/backend';
import { modelCounters } from '../core/model/deploy/deploy';
import type { ModelCounters } from '../core/model/deploy/model-host';
import { ResultsStore, type RunListing } from '../core/results/store';
import { testbedStatus, type TestbedStatus } from '../core/testbed/status';
import { TESTBED_FILE } from '../core/testbed/testbed';
import { errorMessage } from './log';

/** What the views show about the testbed: its status, or why it cannot be read. */
export type TestbedView =
  | { kind: 'status'; status: TestbedStatus; model?: ModelState }
  | { kind: 'error'; error: Error }
  | { kind: 'none' };

/** How the deployed model is doing: its counters, or why they cannot be read. */
export type ModelState = { counters: ModelCounters } | { error: string };

const REFRESH_DEBOUNCE_MS = 150;

/**
 * The extension's view of one workspace folder: the testbed's status and the run files, re-read when the files
 * behind them change (testbed description, state files, result files) and after every command that changes them.
 */
export class Workbench implements vscode.Disposable {
  private readonly disposables: vscode.Disposable[] = [];
  private readonly statusEmitter = new vscode.EventEmitter<TestbedView>();
  private readonly runsEmitter = new vscode.EventEmitter<RunListing[]>();
  private testbedTimer: NodeJS.Timeout | undefined;
  private runsTimer: NodeJS.Timeout | undefined;
  private reading: Promise<TestbedView> | undefined;
  private nextRead: Promise<TestbedView> | undefined;
  private current: TestbedView = { kind: 'none' };
  private runList: RunListing[] | undefined;
  /** The backend whose own notices (a container killed outside, a VM that died) refresh the view, and its description. */
  private watched: { key: string; backend: Backend; stop: () => void } | undefined;

  readonly onDidChangeTestbed = this.statusEmitter.event;
  readonly onDidChangeRuns = this.runsEmitter.event;

  constructor(readonly folder: string | undefined, private readonly log: vscode.LogOutputChannel) {
    this.disposables.push(this.statusEmitter, this.runsEmitter);
    if (!folder) return;
    const watch = (glob: string, onChange: () => void) => {
      const w = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(folder), glob));
      w.onDidCreate(onChange);
      w.onDidChange(onChange);
      w.onDidDelete(onChange);
      this.disposables.push(w);
    };
    watch(TESTBED_FILE, () => this.refreshTestbed());
    watch('.hypershield/state/*.json', () => this.refreshTestbed());
    watch('.hypershield/results/*.json', () => this.refreshRuns());
  }

  get testbed(): TestbedView {
    return this.current;
  }

  get store(): ResultsStore {
    return new ResultsStore(this.requireFolder());
  }

  requireFolder(): string {
    if (!this.folder) throw new Error('Open a workspace folder first: HyperShield keeps the testbed description and results in it.');
    return this.folder;
  }

  hasTestbedFile(): boolean {
    return !!this.folder && fs.existsSync(path.join(this.folder, TESTBED_FILE));
  }

  /**
   * The backend of the testbed described now (the file may have changed since the last call). The testbed loader
   * (with its schema validator) is loaded on first use, not while the extension activates.
   */
  async backend(): Promise<Backend> {
    const { openTestbed } = await import('../core/backends/open');
    return openTestbed(this.requireFolder());
  }

  /** Re-reads the testbed status soon; several calls in a burst (file events) cost one read. */
  refreshTestbed(): void {
    clearTimeout(this.testbedTimer);
    this.testbedTimer = setTimeout(() => void this.readTestbed(), REFRESH_DEBOUNCE_MS);
  }

  /**
   * Reads the status and tells the views. A read already under way may have started before the caller's change, so
   * callers get the next read, started after it; callers arriving meanwhile share that one.
   */
  readTestbed(): Promise<TestbedView> {
    this.nextRead ??= (this.reading ?? Promise.resolve()).then(() => {
      this.nextRead = undefined;
      const read = this.computeTestbed().then((view) => {
        this.current = view;
        this.statusEmitter.fire(view);
        return view;
      });
      this.reading = read;
      return read;
    });
    return this.nextRead;
  }

  private async computeTestbed(): Promise<TestbedView> {
    if (!this.folder) return { kind: 'none' };
    try {
      const backend = await this.backend();
      this.watch(backend);
      const status = await testbedStatus(backend);
      if (!status.deployed || status.state !== 'up') return { kind: 'status', status };
      const model: ModelState = await modelCounters(backend).then(
        (counters) => (counters ? { counters } : { error: 'no counters' }),
        (err: Error) => ({ error: err.message }),
      );
      return { kind: 'status', status, model };
    } catch (err) {
      this.log.warn(`Cannot read the testbed: ${errorMessage(err)}`);
      return { kind: 'error', error: err instanceof Error ? err : new Error(String(err)) };
    }
  }

  /** Follows what the backend notices by itself, for the testbed described now (a new description: a new watch). */
  private watch(backend: Backend): void {
    const key = JSON.stringify(backend.testbed);
    if (this.watched?.key === key) return;
    this.unwatch();
    const stop = backend.onDidChange((change) => {
      this.log.info(`Testbed ${backend.testbed.name}: ${change.what}`);
      this.refreshTestbed();
    });
    this.watched = { key, backend, stop };
  }

  private unwatch(): void {
    this.watched?.stop();
    void this.watched?.backend.dispose();
    this.watched = undefined;
  }

  refreshRuns(): void {
    clearTimeout(this.runsTimer);
    this.runsTimer = setTimeout(() => this.readRuns(), REFRESH_DEBOUNCE_MS);
  }

  /** Run files, newest first (cached until a result file changes). */
  runs(): RunListing[] {
    return this.runList ?? this.readRuns();
  }

  private readRuns(): RunListing[] {
    if (!this.folder) return (this.runList = []);
    const { runs, skipped } = this.store.list();
    for (const s of skipped) this.log.warn(`Skipped a run file: ${s}`);
    this.runList = runs;
    this.runsEmitter.fire(runs);
    return runs;
  }

  dispose(): void {
    clearTimeout(this.testbedTimer);
    clearTimeout(this.runsTimer);
    this.unwatch();
    for (const d of this.disposables) d.dispose();
  }
}
