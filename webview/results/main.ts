// Browser side of the results panel. It receives a run from the extension, draws it, and sends back only
// validated messages: the person's choices, commands (export, compare) and when the charts finished drawing.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { Chart } from 'chart.js';
import type { HotLineRef } from '../../extension/core/results/hot-source';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';
import { readTheme } from '../shared/charts';
import { isHostMessage, whyInvalid, type HostMessage, type PersistedState, type ReportData, type ViewState, type WebviewCommand, type WebviewMarks, type WebviewMessage } from '../shared/protocol';
import { ReportRenderer, el } from '../shared/render';
import { benchmarksOf, headlineOf, metricsOf } from '../shared/run-data';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): PersistedState | undefined;
  setState(state: PersistedState): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

/** When this script started, for the 'rendered' message's marks (ms since the page started loading). */
const startedAt = performance.now();
const vscode = acquireVsCodeApi();
const root = document.getElementById('app')!;
const post = (m: WebviewMessage) => vscode.postMessage(m);
const command = (c: WebviewCommand, ...args: unknown[]) => post({ type: 'command', command: c, args });

window.addEventListener('error', (e) => post({ type: 'error', message: `${e.message} (${e.filename}:${e.lineno})` }));
document.addEventListener('securitypolicyviolation', (e) => post({ type: 'error', message: `CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}` }));

function select(id: string, label: string, values: string[], selected: string | undefined, onChange: (v: string) => void): HTMLElement {
  const s = el('vscode-single-select', { id }) as VscodeSingleSelect;
  for (const v of values) s.append(el('vscode-option', { value: v, text: v, ...(v === selected ? { selected: '' } : {}) }));
  s.addEventListener('change', () => onChange(s.value));
  return el('span', {}, [el('label', { for: id, text: label }), document.createTextNode(' '), s]);
}

function button(text: string, onClick: () => void, secondary = true): HTMLElement {
  const b = el('vscode-button', { text, ...(secondary ? { secondary: '' } : {}) });
  b.addEventListener('click', onClick);
  return b;
}

class ResultsView {
  private data: ReportData | undefined;
  private view: ViewState = {};
  private readonly main: ReportRenderer;
  private readonly detail: ReportRenderer;
  private detailHost: HTMLElement | undefined;
  /** One drawing pass: reported to the extension once every chart it created has drawn. */
  private pass = { started: 0, rendered: 0, total: undefined as number | undefined };

  constructor() {
    const theme = readTheme();
    const hooks = {
      theme,
      // The first screen and a half is drawn at once; the rest as it scrolls near.
      deferBelowPx: window.innerHeight * 1.5,
      onRendered: () => {
        this.pass.rendered += 1;
        this.reportIfDrawn();
      },
      openHotLine: (ref: HotLineRef) => post({ type: 'openHotLine', ...ref }),
      decorateCard: (card: HTMLElement, chart: Chart, name: string) => {
        card.append(el('div', { class: 'hs-card-actions' }, [button('Save image', () => this.saveImage(chart, name))]));
      },
    };
    this.main = new ReportRenderer(hooks);
    this.detail = new ReportRenderer(hooks);
  }

  show(message: HostMessage): void {
    this.pass = { started: performance.now(), rendered: 0, total: undefined };
    this.data = message.data;
    this.view = message.view;
    this.main.destroyCharts();
    this.detail.destroyCharts();
    root.replaceChildren();
    const { data } = this;
    const benchmarks = benchmarksOf(data.run);
    const benchmark = this.view.benchmark && benchmarks.includes(this.view.benchmark) ? this.view.benchmark : benchmarks[0];
    const metric = benchmark && this.view.metric && metricsOf(data.run, benchmark).includes(this.view.metric) ? this.view.metric : benchmark && headlineOf(data, data.run, benchmark);
    this.view = { benchmark, metric };
    this.persist();

    this.main.header(root, data);
    root.append(this.toolbar());
    this.main.overview(root, data);
    // The chosen benchmark's numbers and charts come right after the overview, where the selectors' effect is seen.
    this.detailHost = el('div', { id: 'detail-host' });
    root.append(this.detailHost);
    this.renderDetail();
    this.main.headlines(root, data);
    this.main.abComparison(root, data.run);
    this.main.perf(root, data.run);
    this.main.hotFunctions(root, data.run);
    this.main.metadata(root, data);
    this.pass.total = this.main.charts.length + this.detail.charts.length;
    this.reportIfDrawn();
  }

  private reportIfDrawn(): void {
    const { total, rendered, started } = this.pass;
    if (total === undefined || rendered < total) return;
    this.pass.total = undefined;
    const now = performance.now();
    const at = (t: number) => performance.timeOrigin + t;
    const script = performance.getEntriesByType('resource').find((e) => e.name.endsWith('/results.js')) as PerformanceResourceTiming | undefined;
    const marks: WebviewMarks = { page: at(0), ...(script ? { scriptFetched: at(script.responseEnd) } : {}), started: at(startedAt), dataIn: at(started), drawn: at(now) };
    post({ type: 'rendered', ms: Math.round(now - started), pageMs: Math.round(now), charts: total, deferred: this.main.deferred + this.detail.deferred, marks });
  }

  private toolbar(): HTMLElement {
    const data = this.data!;
    const benchmarks = benchmarksOf(data.run);
    const bar = el('div', { class: 'hs-toolbar', role: 'toolbar' });
    const metricSlot = el('span');
    const fillMetrics = () => metricSlot.replaceChildren(select('metric', 'Metric', metricsOf(data.run, this.view.benchmark ?? ''), this.view.metric, (metric) => {
      this.view = { ...this.view, metric };
      this.changed();
    }));
    fillMetrics();
    bar.append(
      select('benchmark', 'Benchmark', benchmarks, this.view.benchmark, (benchmark) => {
        this.view = { benchmark, metric: headlineOf(data, data.run, benchmark) };
        fillMetrics();
        this.changed();
      }),
      metricSlot,
      el('span', { class: 'hs-spacer' }),
      button('Export CSV', () => command('hypershield.results.export', data.run.id, 'csv')),
      button('Export JSON', () => command('hypershield.results.export', data.run.id, 'json')),
      button(data.compare ? 'Compare with another run' : 'Compare with…', () => command('hypershield.results.compare', data.run.id), false),
    );
    return bar;
  }

  private changed(): void {
    this.persist();
    post({ type: 'view', view: this.view });
    this.pass = { started: performance.now(), rendered: 0, total: undefined };
    this.renderDetail();
    this.pass.total = this.detail.charts.length;
    this.reportIfDrawn();
    this.revealDetail();
  }

  /** Brings the redrawn section into view when the person has scrolled away from it. */
  private revealDetail(): void {
    const box = this.detailHost?.getBoundingClientRect();
    if (box && (box.top < 0 || box.top > window.innerHeight * 0.6)) this.detailHost!.scrollIntoView({ block: 'start' });
  }

  private renderDetail(): void {
    this.detail.destroyCharts();
    const host = this.detailHost!;
    host.replaceChildren();
    const { benchmark, metric } = this.view;
    if (this.data && benchmark && metric) this.detail.detail(host, this.data, benchmark, metric);
  }

  private persist(): void {
    if (this.data) vscode.setState({ runId: this.data.run.id, compareId: this.data.compare?.id, view: this.view });
  }

  private saveImage(chart: Chart, name: string): void {
    command('hypershield.results.exportImage', this.data!.run.id, name, chart.toBase64Image('image/png', 1));
  }
}

const view = new ResultsView();
/** Whether this page has drawn; a page VS Code reloaded keeps the person's later choices in its state. */
let shown = false;
function show(message: unknown): void {
  if (!isHostMessage(message)) {
    post({ type: 'error', message: `The results panel received a message it does not understand (${whyInvalid.hostMessage()}); it was ignored.` });
    return;
  }
  const saved = shown ? undefined : vscode.getState();
  shown = true;
  const same = saved?.view && saved.runId === message.data.run.id && saved.compareId === message.data.compare?.id;
  try {
    view.show(same ? { ...message, view: saved.view! } : message);
  } catch (err) {
    root.replaceChildren(el('p', { class: 'hs-error', text: `Cannot draw this run: ${(err as Error).message}` }));
    post({ type: 'error', message: `render failed: ${(err as Error).stack ?? String(err)}` });
  }
}
window.addEventListener('message', (e: MessageEvent<unknown>) => show(e.data));
// The data comes when the extension hears this (it reads the run while VS Code sets the page up).
post({ type: 'ready' });
