// The sections of a results view, built with DOM calls only (no inline styles or markup strings), so they run
// under the webview's strict CSP and in the self-contained HTML report alike.
import type { Chart } from 'chart.js';
import type { RunFile } from '../../extension/core/results/run-file';
import { overheadChart, seriesChart, spreadChart, type ChartHooks } from './charts';
import type { ReportData } from './protocol';
import {
  benchmarksOf, compareRowsOf, formatNumber, formatPercent, groupsOf, headlineOf, metadataRows, overheadsOf, perfCountersOf, seriesOf, type Group,
} from './run-data';

type Attrs = { class?: string; text?: string; [attr: string]: string | undefined };

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, children: Array<Node | undefined> = []): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

function table(head: string[], rows: string[][], className = 'hs-table'): HTMLTableElement {
  return el('table', { class: className }, [
    el('thead', {}, [el('tr', {}, head.map((h) => el('th', { text: h })))]),
    el('tbody', {}, rows.map((r) => el('tr', {}, r.map((c) => el('td', { text: c }))))),
  ]);
}

export interface RenderHooks extends ChartHooks {
  /** Lets the panel add controls (e.g. "save image") to each chart's card. */
  decorateCard?: (card: HTMLElement, chart: Chart, name: string) => void;
}

/** Builds sections into a parent and keeps the charts it made, so a re-render can destroy them first. */
export class ReportRenderer {
  readonly charts: Chart[] = [];

  constructor(private readonly hooks: RenderHooks) {}

  destroyCharts(): void {
    for (const c of this.charts.splice(0)) c.destroy();
  }

  private chartCard(parent: HTMLElement, name: string, label: string, make: (canvas: HTMLCanvasElement) => Chart, wide = false): void {
    const canvas = el('canvas', { role: 'img', 'aria-label': label });
    const card = el('figure', { class: wide ? 'hs-card hs-card-wide' : 'hs-card', 'data-chart': name }, [el('div', { class: 'hs-chart-box' }, [canvas])]);
    parent.append(card);
    const chart = make(canvas);
    this.charts.push(chart);
    this.hooks.decorateCard?.(card, chart, name);
  }

  header(parent: HTMLElement, data: ReportData): void {
    const { run, compare } = data;
    const title = compare ? `Run ${run.id} (A) compared with ${compare.id} (B)` : `Run ${run.id}`;
    const facts = [`${run.metadata.testbed.name} (${run.metadata.testbed.backend})`, run.metadata.startedAt, run.status];
    const header = el('header', { class: 'hs-header' }, [
      el('h1', { text: title }),
      el('p', { class: 'hs-facts', text: facts.join(' · ') }),
    ]);
    for (const r of compare ? [run, compare] : [run]) {
      if (r.metadata.emulated) header.append(el('p', { class: 'hs-warning', text: `${r.id}: hosts are emulated; absolute figures are not comparable to hardware.` }));
      if (r.status !== 'complete') header.append(el('p', { class: 'hs-warning', text: `${r.id} is ${r.status}${r.reason ? `: ${r.reason}` : ''}.` }));
      const failed = r.results.filter((m) => m.error).length;
      if (failed) header.append(el('p', { class: 'hs-warning', text: `${r.id}: ${failed} measurement(s) failed and are left out of the charts (see the CSV export).` }));
    }
    parent.append(header);
  }

  /** Model-vs-direct overhead of every benchmark, and when comparing, the change of each headline median. */
  overview(parent: HTMLElement, data: ReportData): void {
    const section = el('section', { class: 'hs-section', id: 'overview' }, [el('h2', { text: data.compare ? 'Overhead and change' : 'Overhead of the model path' })]);
    const grid = el('div', { class: 'hs-grid' });
    section.append(grid);
    parent.append(section);
    const sets = data.compare
      ? [{ label: 'A', rows: overheadsOf(data, data.run) }, { label: 'B', rows: overheadsOf(data, data.compare) }]
      : [{ label: '', rows: overheadsOf(data, data.run) }];
    if (sets.some((s) => s.rows.length)) {
      this.chartCard(grid, 'overhead', 'Model-vs-direct overhead per benchmark and placement',
        (c) => overheadChart(c, 'Model path vs direct: overhead of each headline metric', sets, this.hooks), true);
    } else {
      section.append(el('p', { class: 'hs-note', text: 'No overhead figure: the run needs both direct and model mode results of a benchmark.' }));
    }
    if (data.compare) {
      const rows = compareRowsOf(data, data.run, data.compare);
      section.append(table(['Benchmark', 'Metric', 'Mode', 'Placement', 'Median A', 'Median B', 'Change B vs A'],
        rows.map((r) => [r.benchmark, `${r.metric} (${r.unit}, ${r.better} is better)`, r.mode, r.placement, formatNumber(r.medianA), formatNumber(r.medianB), formatPercent(r.changePercent)])));
    }
  }

  private groups(data: ReportData, benchmark: string, metric: string): { groups: Group[]; color: (g: Group, i: number) => number } {
    if (!data.compare) return { groups: groupsOf(data.run, benchmark, metric), color: (g) => (g.mode === 'direct' ? 0 : 1) };
    const a = groupsOf(data.run, benchmark, metric);
    const b = groupsOf(data.compare, benchmark, metric);
    const labels = [...new Set([...a, ...b].map((g) => g.label))];
    const groups = labels.flatMap((label) => [
      ...a.filter((g) => g.label === label).map((g) => ({ ...g, label: `${label} · A` })),
      ...b.filter((g) => g.label === label).map((g) => ({ ...g, label: `${label} · B` })),
    ]);
    return { groups, color: (g) => (g.label.endsWith(' · B') ? 1 : 0) };
  }

  /** One spread chart per benchmark, of its headline metric (throughput, latency, ...). */
  headlines(parent: HTMLElement, data: ReportData): void {
    const grid = el('div', { class: 'hs-grid' });
    parent.append(el('section', { class: 'hs-section', id: 'headlines' }, [el('h2', { text: 'Per mode and placement (every repetition, median marked)' }), grid]));
    for (const benchmark of benchmarksOf(data.run)) {
      const metric = headlineOf(data, data.run, benchmark);
      if (!metric) continue;
      this.spread(grid, data, benchmark, metric, `headline-${benchmark}`);
    }
  }

  private spread(parent: HTMLElement, data: ReportData, benchmark: string, metric: string, name: string): void {
    const { groups, color } = this.groups(data, benchmark, metric);
    if (groups.length === 0) return;
    this.chartCard(parent, name, `${benchmark} ${metric} per mode and placement`,
      (c) => spreadChart(c, `${benchmark}: ${metric} (${groups[0].unit})`, groups, color, this.hooks));
  }

  /** One benchmark in depth: a chosen metric's spread (the headline's is already in the grid) and the per-interval series. */
  detail(parent: HTMLElement, data: ReportData, benchmark: string, metric: string): void {
    const grid = el('div', { class: 'hs-grid' });
    parent.append(el('section', { class: 'hs-section', id: `detail-${benchmark}` }, [el('h2', { text: `${benchmark} in detail` }), grid]));
    if (metric !== headlineOf(data, data.run, benchmark)) this.spread(grid, data, benchmark, metric, `detail-${benchmark}-${metric}`);
    const runs = data.compare ? [['A', data.run], ['B', data.compare]] as const : [['', data.run]] as const;
    for (const [tag, run] of runs) {
      const lines = seriesOf(run, benchmark, metric);
      if (lines.length === 0) continue;
      const title = `${benchmark}: per-interval ${lines[0].unit}${tag ? ` (run ${tag})` : ''}`;
      this.chartCard(grid, `series-${benchmark}${tag ? `-${tag}` : ''}`, title, (c) => seriesChart(c, title, lines, this.hooks));
    }
  }

  /** Perf counters of the model host, when the run recorded any. */
  perf(parent: HTMLElement, run: RunFile): void {
    const rows = perfCountersOf(run);
    if (rows.length === 0) return;
    parent.append(el('section', { class: 'hs-section', id: 'perf' }, [
      el('h2', { text: 'Perf counters (model host, median per measurement)' }),
      table(['Benchmark', 'Mode', 'Placement', 'Counter', 'Median', 'Unit', 'n'],
        rows.map((r) => [r.benchmark, r.mode, r.placement, r.counter, formatNumber(r.median), r.unit, String(r.n)])),
    ]));
  }

  metadata(parent: HTMLElement, data: ReportData): void {
    const section = el('section', { class: 'hs-section', id: 'metadata' }, [el('h2', { text: 'Run metadata' })]);
    for (const run of data.compare ? [data.run, data.compare] : [data.run]) section.append(table(['Item', 'Value'], metadataRows(run), 'hs-table hs-metadata'));
    parent.append(section);
  }
}
