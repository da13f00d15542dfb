// The sections of a results view, built with DOM calls only (no inline styles or markup strings), so they run
// under the webview's strict CSP and in the self-contained HTML report alike.
import type { Chart } from 'chart.js';
import type { RunFile } from '../../extension/core/results/run-file';
import { overheadChart, seriesChart, spreadChart, type ChartHooks } from './charts';
import type { ReportData } from './protocol';
import { hotSpots } from '../../extension/core/results/hot-spots';
import type { HotLineRef } from '../../extension/core/results/hot-source';
import {
  abChangesOf, benchmarksOf, compareRowsOf, formatChange, formatNumber, formatOverhead, formatPercent, shownAsDifference, formatValue, groupsOf, headlineOf, localTime, measuredPairs, metadataRows,
  numbersOf, overheadsOf, perfCountersOf, planDifferences, seriesOf, type Group,
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

/** A table cell: its text, or text with a tooltip and a class, or an element (a link). */
type Cell = string | { text: string; title?: string; class?: string } | HTMLElement;

/** Rows of the hot-functions table per placement; the editor shows every sampled line of the model's source. */
const HOT_ROWS = 20;

function table(head: string[], rows: Cell[][], className = 'hs-table', rowClass?: (i: number) => string | undefined): HTMLTableElement {
  return el('table', { class: className }, [
    el('thead', {}, [el('tr', {}, head.map((h) => el('th', { text: h })))]),
    el('tbody', {}, rows.map((r, i) => el('tr', { class: rowClass?.(i) }, r.map((c) => (c instanceof HTMLElement ? el('td', {}, [c]) : el('td', typeof c === 'string' ? { text: c } : c)))))),
  ]);
}

export interface RenderHooks extends ChartHooks {
  /** Lets the panel add controls (e.g. "save image") to each chart's card. */
  decorateCard?: (card: HTMLElement, chart: Chart, name: string) => void;
  /**
   * Charts whose card starts below this many pixels (from the top of the page's viewport) are drawn when they
   * scroll near, not at once: the panel shows its first screen sooner. Unset (the HTML report): all at once.
   */
  deferBelowPx?: number;
  /** Makes hot source lines links that open the line (the panel); without it they are text (the HTML report). */
  openHotLine?: (ref: HotLineRef) => void;
}

/** Builds sections into a parent and keeps the charts it made, so a re-render can destroy them first. */
export class ReportRenderer {
  readonly charts: Chart[] = [];
  private readonly observers = new Set<IntersectionObserver>();

  constructor(private readonly hooks: RenderHooks) {}

  /** Charts waiting to scroll near before they are drawn. */
  get deferred(): number {
    return this.observers.size;
  }

  destroyCharts(): void {
    for (const o of this.observers) o.disconnect();
    this.observers.clear();
    for (const c of this.charts.splice(0)) c.destroy();
  }

  private chartCard(parent: HTMLElement, name: string, label: string, make: (canvas: HTMLCanvasElement) => Chart, wide = false): void {
    const canvas = el('canvas', { role: 'img', 'aria-label': label });
    const card = el('figure', { class: wide ? 'hs-card hs-card-wide' : 'hs-card', 'data-chart': name }, [el('div', { class: 'hs-chart-box' }, [canvas])]);
    parent.append(card);
    const draw = () => {
      const chart = make(canvas);
      this.charts.push(chart);
      this.hooks.decorateCard?.(card, chart, name);
    };
    const limit = this.hooks.deferBelowPx;
    if (limit === undefined || card.getBoundingClientRect().top < limit) {
      draw();
      return;
    }
    const observer = new IntersectionObserver((entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      observer.disconnect();
      this.observers.delete(observer);
      draw();
    }, { rootMargin: '300px 0px' });
    observer.observe(card);
    this.observers.add(observer);
  }

  header(parent: HTMLElement, data: ReportData): void {
    const { run, compare } = data;
    const title = compare ? `Run ${run.id} (A) compared with ${compare.id} (B)` : `Run ${run.id}`;
    const facts = [`${run.metadata.testbed.name} (${run.metadata.testbed.backend})`, localTime(run.metadata.startedAt), run.status];
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
    if (compare) {
      const diffs = planDifferences(run, compare);
      if (diffs.length) header.append(el('p', { class: 'hs-warning', id: 'plan-differences', text: `The runs were planned differently, so their figures are not like for like: ${diffs.join('; ')}.` }));
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
      section.append(el('p', { class: 'hs-note hs-explain', text: 'No overhead figure: an overhead needs direct and model mode results of the same benchmark and placement' +
        `${data.compare ? ' within one run' : ''}; ${data.compare ? `A measured ${measuredPairs(data.run).join(', ') || 'nothing'}, B ${measuredPairs(data.compare).join(', ') || 'nothing'}` : `this run measured ${measuredPairs(data.run).join(', ') || 'nothing'}`}.` }));
    }
    if (data.compare) {
      const rows = compareRowsOf(data, data.run, data.compare);
      if (rows.length) {
        section.append(table(['Benchmark', 'Metric', 'Mode', 'Placement', 'Median A', 'Median B', 'Change B vs A'],
          rows.map((r) => [r.benchmark, `${r.metric} (${r.better} is better)`, r.mode, r.placement, formatValue(r.medianA, r.unit), formatValue(r.medianB, r.unit), formatPercent(r.changePercent)]), 'hs-table hs-compare'));
      } else {
        section.append(el('p', { class: 'hs-note hs-explain', id: 'no-pairs', text: 'No figure of A pairs up with one of B: a change needs the same benchmark, mode and placement in both runs. ' +
          `A measured ${measuredPairs(data.run).join(', ') || 'nothing'}; B measured ${measuredPairs(data.compare).join(', ') || 'nothing'}.` }));
      }
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
    const section = el('section', { class: 'hs-section hs-detail', id: `detail-${benchmark}` }, [el('h2', { text: `${benchmark} in detail` })]);
    for (const [tag, run] of data.compare ? [['A', data.run], ['B', data.compare]] as const : [['', data.run]] as const) this.numbers(section, run, benchmark, metric, tag);
    section.append(grid);
    parent.append(section);
    if (metric !== headlineOf(data, data.run, benchmark)) this.spread(grid, data, benchmark, metric, `detail-${benchmark}-${metric}`);
    const runs = data.compare ? [['A', data.run], ['B', data.compare]] as const : [['', data.run]] as const;
    for (const [tag, run] of runs) {
      const lines = seriesOf(run, benchmark, metric);
      if (lines.length === 0) continue;
      const title = `${benchmark}: per-interval ${lines[0].unit}${tag ? ` (run ${tag})` : ''}`;
      this.chartCard(grid, `series-${benchmark}${tag ? `-${tag}` : ''}`, title, (c) => seriesChart(c, title, lines, this.hooks));
    }
  }

  /**
   * The numbers behind the charts: median, IQR and n per metric x placement x mode, and the model path's overhead
   * with its 95 % interval when the run has one. The chosen metric's rows are marked.
   */
  private numbers(parent: HTMLElement, run: RunFile, benchmark: string, metric: string, tag: string): void {
    const rows = numbersOf(run, benchmark);
    if (rows.length === 0) return;
    if (tag) parent.append(el('h3', { text: `${tag}: run ${run.id}` }));
    const arms = rows.some((r) => r.arm !== undefined);
    parent.append(table(['Metric', ...(arms ? ['Arm'] : []), 'Placement', 'Mode', 'Median', 'IQR (Q1 – Q3)', 'n', 'Overhead vs direct [95 % CI]'],
      rows.map((r) => [
        `${r.metric} (${r.better} is better)`, ...(arms ? [r.arm ?? '-'] : []), r.placement, r.mode,
        { text: formatValue(r.median, r.unit), title: `exact: ${r.median} ${r.unit} (median of ${r.n})` },
        { text: `${formatValue(r.iqr, r.unit)} (${formatNumber(r.q1)} – ${formatNumber(r.q3)})`, title: `exact: Q1 ${r.q1}, Q3 ${r.q3} ${r.unit}` },
        String(r.n),
        { text: formatOverhead(r), class: r.overheadPercent !== undefined && !shownAsDifference(r) ? 'hs-undetectable' : undefined },
      ]), 'hs-table hs-numbers', (i) => (rows[i].metric === metric ? 'hs-selected' : undefined)));
  }

  /** Perf counters of the model host, when the run recorded any. */
  perf(parent: HTMLElement, run: RunFile): void {
    const rows = perfCountersOf(run);
    if (rows.length === 0) return;
    const arms = rows.some((r) => r.arm !== undefined);
    parent.append(el('section', { class: 'hs-section', id: 'perf' }, [
      el('h2', { text: 'Perf counters (model host, median per measurement)' }),
      table(['Benchmark', ...(arms ? ['Arm'] : []), 'Mode', 'Placement', 'Counter', 'Median', 'Unit', 'n'],
        rows.map((r) => [r.benchmark, ...(arms ? [r.arm ?? '-'] : []), r.mode, r.placement, r.counter, formatNumber(r.median), r.unit, String(r.n)])),
    ]));
  }

  /** perf record of the model (bench --profile, model mode): its hottest functions per placement, with source lines. */
  hotFunctions(parent: HTMLElement, run: RunFile): void {
    const spots = hotSpots(run);
    if (spots.length === 0) return;
    const section = el('section', { class: 'hs-section', id: 'hot-functions' }, [el('h2', { text: 'Hot functions of the model (perf record)' })]);
    for (const s of spots) {
      section.append(
        el('h3', { text: `${s.placement}: ${s.samples.model} of ${s.samples.total} samples are the model's, ${s.measurements} repetition(s)` }),
        el('p', { text: `Model samples: ${s.scope}.${s.notes.length ? ` ${s.notes.join(' ')}` : ''}` }),
        table(['Function', 'Share of model samples', 'Samples', 'Hottest line', 'Object'],
          s.functions.slice(0, HOT_ROWS).map((f) => [f.name, `${f.percent.toFixed(1)} %`, String(f.samples),
            f.file && f.line ? this.hotLine({ placement: s.placement, file: f.file, line: f.line }, s.modelDir) : '', f.object])),
      );
    }
    parent.append(section);
  }

  /** A hot line as text, or, in the panel, a link that opens it in the model's source. */
  private hotLine(ref: HotLineRef, modelDir: string | undefined): Cell {
    const text = `${ref.file}:${ref.line}`;
    const open = this.hooks.openHotLine;
    if (!open || !modelDir) return text;
    // A button that looks like a link: VS Code's webview host takes over clicks on <a href> (navigation, scrolling).
    const link = el('button', { type: 'button', class: 'hs-hot-line', title: `Open ${text} of ${modelDir}`, text });
    link.addEventListener('click', () => open(ref));
    return link;
  }

  /** An A/B run of hypervisor builds: each later arm relative to the first, per cell and metric. */
  abComparison(parent: HTMLElement, run: RunFile): void {
    const rows = abChangesOf(run);
    if (rows.length === 0) return;
    parent.append(el('section', { class: 'hs-section', id: 'ab-comparison' }, [
      el('h2', { text: 'A/B of hypervisor builds (change of each metric, paired bootstrap 95 % interval)' }),
      table(['Benchmark', 'Mode', 'Placement', 'Metric', 'Arms', 'Median change'],
        rows.map((r) => [r.benchmark, r.mode, r.placement, `${r.metric} (${r.better} is better)`, `${r.arm} vs ${r.vs}`,
          { text: formatChange(r), class: shownAsDifference(r) ? undefined : 'hs-undetectable' }]), 'hs-table hs-ab'),
    ]));
  }

  /** One table per run; when comparing, labelled A and B, with the rows where they differ marked. */
  metadata(parent: HTMLElement, data: ReportData): void {
    const section = el('section', { class: 'hs-section', id: 'metadata' }, [el('h2', { text: 'Run metadata' })]);
    if (!data.compare) {
      section.append(table(['Item', 'Value'], metadataRows(data.run), 'hs-table hs-metadata'));
    } else {
      const a = metadataRows(data.run);
      const b = metadataRows(data.compare);
      const other = (rows: Array<[string, string]>, item: string) => rows.find(([k]) => k === item)?.[1];
      const SAME_BY_DESIGN = new Set(['Run', 'Started', 'Ended']);
      for (const [tag, rows, theirs] of [['A', a, b], ['B', b, a]] as const) {
        const differs = (i: number) => !SAME_BY_DESIGN.has(rows[i][0]) && other(theirs, rows[i][0]) !== rows[i][1];
        section.append(el('h3', { text: `${tag}: run ${tag === 'A' ? data.run.id : data.compare.id}` }),
          table(['Item', `Value (${tag})`], rows.map(([k, v], i) => [k, differs(i) ? { text: v, title: `differs from ${tag === 'A' ? 'B' : 'A'}`, class: 'hs-differs' } : v]), `hs-table hs-metadata hs-metadata-${tag.toLowerCase()}`));
      }
    }
    parent.append(section);
  }
}
