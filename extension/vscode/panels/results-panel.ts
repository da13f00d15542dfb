import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { resolveHotLine, type HotLineRef } from '../../core/results/hot-source';
import { hotSpots } from '../../core/results/hot-spots';
import { reportData } from '../../core/results/report-data';
import { isPersistedState, isWebviewMessage, whyInvalid, type HostMessage, type ReportData, type ViewState, type WebviewMessage } from '../../../webview/shared/protocol';
import type { Workbench } from '../workbench';
import { resultsHtml } from './webview-html';

const RESULTS_VIEW_TYPE = 'hypershield.results';

export interface Rendered {
  /** Drawing time in the webview. */
  ms: number;
  /** Time since the webview's page started loading. */
  pageMs: number;
  /** Charts drawn; those further down are drawn when they scroll near. */
  charts: number;
  deferred: number;
  /**
   * When each phase of this drawing ended, in ms since the Unix epoch (extension host and webview run on one
   * machine's clock): the extension's (command, read, panel, html, posted, received) and the webview's marks.
   */
  marks: Record<string, number>;
}

/** Now, in ms since the Unix epoch, comparable with the webview's marks. */
const epochNow = () => performance.timeOrigin + performance.now();

/** Runs a command a webview asked for; the registry checks the command and its arguments. */
type WebviewCommandRunner = (command: string, args: unknown[]) => Promise<unknown>;

interface PanelDeps {
  extensionUri: vscode.Uri;
  workbench: Workbench;
  log: vscode.LogOutputChannel;
  memento: vscode.Memento;
  runCommand: WebviewCommandRunner;
}

/** Report data for one run, or two runs compared; read fresh from the run files each time. */
function readReportData(workbench: Workbench, runId: string, compareId?: string): ReportData {
  const store = workbench.store;
  const run = store.read(runId);
  return reportData(run, compareId ? store.read(compareId) : undefined);
}

/** One results panel: a run (or a pair of runs) and the person's choices in it, kept per run in workspace state. */
class ResultsPanel {
  private waiters: Array<{ resolve: (r: Rendered) => void; reject: (e: Error) => void }> = [];
  private readonly disposables: vscode.Disposable[] = [];
  /**
   * The page asks for its data with 'ready' (first load, and each reload VS Code makes when a hidden panel is shown
   * again): `data` is what it is sent then, once read; `sent` says whether this page has it already.
   */
  private data: ReportData | undefined;
  private pageReady = false;
  private sent = false;
  /** The extension's marks of the drawing under way. */
  marks: Record<string, number> = {};

  constructor(readonly panel: vscode.WebviewPanel, readonly runId: string, readonly compareId: string | undefined, private readonly deps: PanelDeps, onDispose: () => void) {
    // The page is self-contained (see resultsHtml): it may load nothing from disk.
    panel.webview.options = { enableScripts: true, localResourceRoots: [] };
    panel.iconPath = vscode.Uri.joinPath(deps.extensionUri, 'media', 'hypershield.svg');
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => this.receive(m)),
      panel.onDidDispose(() => {
        for (const w of this.waiters.splice(0)) w.reject(new Error(`The results panel of ${this.key} was closed before it finished drawing.`));
        for (const d of this.disposables) d.dispose();
        onDispose();
      }),
    );
  }

  get key(): string {
    return panelKey(this.runId, this.compareId);
  }

  private get stateKey(): string {
    return `hypershield.resultsView.${this.key}`;
  }

  /** Resolves when the webview reports that every chart has drawn. */
  whenRendered(): Promise<Rendered> {
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /**
   * Sets the page without its data, before the run is read: VS Code sets the webview up while the extension reads
   * the run files, and the page says 'ready' when it can draw.
   */
  load(): void {
    this.pageReady = false;
    this.sent = false;
    this.panel.webview.html = resultsHtml(this.deps.extensionUri, this.panel.title);
    this.marks.html = epochNow();
  }

  /** Fails the drawing under way (the run could not be read). */
  fail(err: Error): void {
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  /** Sends the run (given, or re-read from its file) to the page as soon as it is ready; it draws and reports back. */
  async send(given?: ReportData): Promise<void> {
    try {
      this.data = given ?? readReportData(this.deps.workbench, this.runId, this.compareId);
    } catch (err) {
      this.fail(err as Error);
      throw err;
    }
    this.sent = false;
    if (this.pageReady) await this.post();
  }

  private async post(): Promise<void> {
    this.sent = true;
    await this.panel.webview.postMessage({ type: 'show', data: this.data!, view: this.deps.memento.get<ViewState>(this.stateKey) ?? {} } satisfies HostMessage);
    this.marks.posted = epochNow();
  }

  cannotShow(err: Error): void {
    this.deps.log.error(`Results panel ${this.key}: ${err.message}`);
    void vscode.window.showErrorMessage(`HyperShield: cannot show run ${this.key}: ${err.message}`);
  }

  private receive(raw: unknown): void {
    if (!isWebviewMessage(raw)) {
      this.deps.log.warn(`Results panel ${this.key}: ignored an invalid message from the webview (${whyInvalid.webviewMessage()}): ${JSON.stringify(raw)?.slice(0, 200)}`);
      return;
    }
    const m: WebviewMessage = raw;
    switch (m.type) {
      case 'ready':
        this.pageReady = true;
        // A reloaded page (its data sent before) gets the run re-read: it may have changed while hidden.
        if (this.data && !this.sent) this.post().catch((err: Error) => this.cannotShow(err));
        else if (this.data) this.send().catch((err: Error) => this.cannotShow(err));
        break;
      case 'rendered':
        this.deps.log.info(`Results panel ${this.key}: ${m.charts} charts drawn in ${m.ms} ms (${m.pageMs} ms after the page started loading), ${m.deferred} more as they scroll near`);
        for (const w of this.waiters.splice(0)) w.resolve({ ms: m.ms, pageMs: m.pageMs, charts: m.charts, deferred: m.deferred, marks: { ...this.marks, ...m.marks, received: epochNow() } });
        break;
      case 'view':
        void this.deps.memento.update(this.stateKey, m.view);
        break;
      case 'command':
        this.deps.runCommand(m.command, m.args).catch((err: Error) => this.deps.log.error(`Results panel ${this.key}: ${m.command} failed: ${err.message}`));
        break;
      case 'openHotLine':
        this.openHotLine(m).catch((err: Error) => this.cannotOpen(err));
        break;
      case 'error':
        this.deps.log.error(`Results panel ${this.key}: ${m.message}`);
        break;
    }
  }

  /**
   * Opens a hot line of the panel's run in the column left of the panel (beside it when the panel is leftmost). The
   * webview names the line; the run file, read afresh, decides which file that is (see resolveHotLine).
   */
  private async openHotLine(ref: HotLineRef): Promise<void> {
    const file = resolveHotLine(hotSpots(this.deps.workbench.store.read(this.runId)), ref);
    const column = this.panel.viewColumn;
    const line = ref.line - 1;
    await vscode.window.showTextDocument(vscode.Uri.file(file), {
      viewColumn: column !== undefined && column > vscode.ViewColumn.One ? column - 1 : vscode.ViewColumn.Beside,
      selection: new vscode.Range(line, 0, line, 0),
      preview: true,
    });
  }

  private cannotOpen(err: Error): void {
    this.deps.log.error(`Results panel ${this.key}: ${err.message}`);
    void vscode.window.showErrorMessage(`HyperShield: ${err.message}`);
  }
}

function panelKey(runId: string, compareId?: string): string {
  return compareId ? `${runId}..${compareId}` : runId;
}

/** The results panels: one per run or pair of runs, restored after a window reload. */
export class ResultsPanels implements vscode.Disposable {
  private readonly panels = new Map<string, ResultsPanel>();
  private readonly registration: vscode.Disposable;

  constructor(private readonly deps: PanelDeps) {
    this.registration = vscode.window.registerWebviewPanelSerializer(RESULTS_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state: unknown) => {
        if (!isPersistedState(state)) {
          panel.dispose();
          return;
        }
        const p = this.attach(panel, state.runId, state.compareId);
        p.load();
        try {
          await p.send(readReportData(deps.workbench, state.runId, state.compareId));
        } catch (err) {
          p.cannotShow(err as Error);
          panel.dispose();
        }
      },
    });
  }

  /**
   * Shows a run (or compares two), beside the active C editor when there is one, and resolves when every chart has
   * drawn, with the time the webview took.
   */
  async open(runId: string, compareId?: string): Promise<Rendered> {
    const marks: Record<string, number> = { command: epochNow() };
    const existing = this.panels.get(panelKey(runId, compareId));
    if (existing) {
      const data = readReportData(this.deps.workbench, runId, compareId);
      marks.read = epochNow();
      existing.marks = marks;
      const rendered = existing.whenRendered();
      existing.panel.reveal();
      await existing.send(data);
      return rendered;
    }
    // A run that is not there fails (with the store's message) before any panel opens; one that cannot be read
    // closes the panel it opened.
    const store = this.deps.workbench.store;
    for (const id of compareId ? [runId, compareId] : [runId]) if (!fs.existsSync(store.fileOf(id))) store.read(id);
    const beside = vscode.window.activeTextEditor?.document.languageId === 'c';
    const title = compareId ? `Compare ${runId} / ${compareId}` : `Run ${runId}`;
    const panel = vscode.window.createWebviewPanel(RESULTS_VIEW_TYPE, title, { viewColumn: beside ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active, preserveFocus: beside });
    marks.panel = epochNow();
    const p = this.attach(panel, runId, compareId);
    p.marks = marks;
    p.load();
    let data: ReportData;
    try {
      data = readReportData(this.deps.workbench, runId, compareId);
    } catch (err) {
      panel.dispose();
      throw err;
    }
    marks.read = epochNow();
    const rendered = p.whenRendered();
    await p.send(data);
    return rendered;
  }

  private attach(panel: vscode.WebviewPanel, runId: string, compareId: string | undefined): ResultsPanel {
    const key = panelKey(runId, compareId);
    const p = new ResultsPanel(panel, runId, compareId, this.deps, () => this.panels.delete(key));
    this.panels.set(key, p);
    return p;
  }

  /** Closes the panels that show a run (alone or in a comparison), e.g. when it is deleted. */
  closeRun(runId: string): void {
    for (const p of [...this.panels.values()]) if (p.runId === runId || p.compareId === runId) p.panel.dispose();
  }

  dispose(): void {
    this.registration.dispose();
    for (const p of [...this.panels.values()]) p.panel.dispose();
  }
}
