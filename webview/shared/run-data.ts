// Shapes a run file into what the charts and tables show. Pure functions shared by the results panel and the
// HTML report.
import type { Better, Measurement, Placement, RunFile, SummaryEntry } from '../../extension/core/results/run-file';
import type { Mode } from '../../extension/core/testbed/testbed';
import type { ReportData } from './protocol';
import { findEntry } from '../../extension/core/results/summary';

const PLACEMENT_ORDER: readonly string[] = ['none', 'user', 'ebpf', 'kernel'];
const MODE_ORDER: readonly string[] = ['direct', 'model'];
/** Metrics named "perf.<event>" are perf counters of the model host. */
const PERF_PREFIX = 'perf.';

export interface Group {
  label: string;
  mode: Mode;
  placement: Placement;
  unit: string;
  better: Better;
  /** Every recorded repetition. */
  values: Array<{ repetition: number; value: number }>;
  median?: number;
  q1?: number;
  q3?: number;
}

const byOrder = (order: readonly string[]) => (a: string, b: string) => order.indexOf(a) - order.indexOf(b);

function groupLabel(mode: string, placement: string): string {
  return `${mode} · ${placement}`;
}

/** Benchmarks of a run: the planned order, then any others that have results. */
export function benchmarksOf(run: RunFile): string[] {
  return [...new Set([...run.metadata.plan.benchmarks, ...run.results.map((m) => m.benchmark)])];
}

/** Metrics a benchmark recorded, in the order they first appear; perf counters are listed separately. */
export function metricsOf(run: RunFile, benchmark: string): string[] {
  const names = new Set<string>();
  for (const m of run.results) if (m.benchmark === benchmark) for (const k of Object.keys(m.metrics)) names.add(k);
  return [...names].filter((n) => !n.startsWith(PERF_PREFIX));
}

export function headlineOf(data: Pick<ReportData, 'headlines'>, run: RunFile, benchmark: string): string | undefined {
  const metrics = metricsOf(run, benchmark);
  const preferred = data.headlines[benchmark];
  return preferred && metrics.includes(preferred) ? preferred : metrics[0];
}

function summaryOf(run: RunFile, benchmark: string, metric: string, mode: Mode, placement: Placement): SummaryEntry | undefined {
  return findEntry(run.summary, { benchmark, metric, mode, placement });
}

/** One group per mode x placement with every repetition's value and the summary's median and quartiles. */
export function groupsOf(run: RunFile, benchmark: string, metric: string): Group[] {
  const groups = new Map<string, Group>();
  for (const m of run.results) {
    const v = m.benchmark === benchmark && !m.error ? m.metrics[metric] : undefined;
    if (!v || !Number.isFinite(v.value)) continue;
    const key = groupLabel(m.mode, m.placement);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { label: key, mode: m.mode, placement: m.placement, unit: v.unit, better: v.better, values: [] }));
    g.values.push({ repetition: m.repetition, value: v.value });
  }
  const list = [...groups.values()].sort((a, b) => byOrder(PLACEMENT_ORDER)(a.placement, b.placement) || byOrder(MODE_ORDER)(a.mode, b.mode));
  for (const g of list) {
    const s = summaryOf(run, benchmark, metric, g.mode, g.placement)?.stats;
    if (s) Object.assign(g, { median: s.median, q1: s.q1, q3: s.q3 });
  }
  return list;
}

export interface OverheadRow {
  benchmark: string;
  metric: string;
  placement: Placement;
  unit: string;
  overheadPercent: number;
}

/** Model-vs-direct overhead of each benchmark's headline metric, per placement. */
export function overheadsOf(data: ReportData, run: RunFile): OverheadRow[] {
  const rows: OverheadRow[] = [];
  for (const benchmark of benchmarksOf(run)) {
    const metric = headlineOf(data, run, benchmark);
    for (const s of run.summary) {
      if (s.benchmark === benchmark && s.metric === metric && s.mode === 'model' && s.overheadPercent !== undefined) {
        rows.push({ benchmark, metric, placement: s.placement, unit: s.unit, overheadPercent: s.overheadPercent });
      }
    }
  }
  return rows.sort((a, b) => byOrder(PLACEMENT_ORDER)(a.placement, b.placement));
}

export interface SeriesLine {
  label: string;
  unit: string;
  points: Array<[number, number]>;
}

/**
 * The per-interval series of each mode x placement, taken from its median repetition (the one whose value of
 * `metric` is closest to the group's median), so one line stands for each group.
 */
export function seriesOf(run: RunFile, benchmark: string, metric: string): SeriesLine[] {
  const lines: SeriesLine[] = [];
  for (const g of groupsOf(run, benchmark, metric)) {
    const median = g.median ?? g.values[0]?.value;
    const candidates = run.results.filter((m): m is Measurement & { series: NonNullable<Measurement['series']> } =>
      m.benchmark === benchmark && m.mode === g.mode && m.placement === g.placement && !!m.series && !m.error);
    if (candidates.length === 0 || median === undefined) continue;
    const distance = (m: Measurement) => Math.abs((m.metrics[metric]?.value ?? Infinity) - median);
    const pick = candidates.reduce((best, m) => (distance(m) < distance(best) ? m : best));
    const name = pick.series[metric] ? metric : Object.keys(pick.series)[0];
    const s = name ? pick.series[name] : undefined;
    if (s && s.points.length) lines.push({ label: `${g.label} (repetition ${pick.repetition})`, unit: s.unit, points: s.points });
  }
  return lines;
}

export interface PerfRow {
  benchmark: string;
  mode: Mode;
  placement: Placement;
  counter: string;
  unit: string;
  median: number;
  n: number;
}

/** Perf counters recorded on the model host, as medians per benchmark, mode and placement. */
export function perfCountersOf(run: RunFile): PerfRow[] {
  return run.summary.filter((s) => s.metric.startsWith(PERF_PREFIX)).map((s) => ({
    benchmark: s.benchmark, mode: s.mode, placement: s.placement, counter: s.metric.slice(PERF_PREFIX.length), unit: s.unit, median: s.stats.median, n: s.stats.n,
  }));
}

/** The run's metadata as label/value rows. */
export function metadataRows(run: RunFile): Array<[string, string]> {
  const md = run.metadata;
  const rows: Array<[string, string]> = [
    ['Run', run.id],
    ['Status', run.reason ? `${run.status} (${run.reason})` : run.status],
    ['Started', md.startedAt],
    ['Ended', md.endedAt ?? '-'],
    ['Testbed', `${md.testbed.name} (${md.testbed.backend}, from ${md.testbed.source})`],
    ['Emulated hosts', md.emulated ? 'yes: absolute figures are not comparable to hardware' : 'no'],
    ['Plan', `${md.plan.benchmarks.join(', ')}; modes ${md.plan.modes.join(', ')}; placements ${md.plan.placements.join(', ')}; ` +
      `${md.plan.repetitions} repetitions (+${md.plan.warmup} warm-up) of ${md.plan.durationS} s`],
    ['Models', md.models.length ? md.models.map((m) => `${m.placement} from ${m.dir} (source ${m.sourceHash.slice(0, 12)})`).join('; ') : 'none'],
    ['Workbench', `${md.tool.name} ${md.tool.version}, Node ${md.node}`],
    ['Git', md.git ? `${md.git.commit.slice(0, 12)}${md.git.dirty ? ' (uncommitted changes)' : ''}` : '-'],
  ];
  for (const h of md.hosts ?? []) {
    const tools = Object.entries(h.tools).map(([k, v]) => `${k}: ${v}`).join('; ');
    rows.push([`Host ${h.role}`, `${h.label}, kernel ${h.kernel}${tools ? `; ${tools}` : ''}`]);
  }
  return rows;
}

export interface CompareRow {
  benchmark: string;
  metric: string;
  unit: string;
  better: Better;
  mode: Mode;
  placement: Placement;
  medianA: number;
  medianB: number;
  /** Change of B relative to A in percent. */
  changePercent: number;
}

/** Headline medians present in both runs, with B's change relative to A. */
export function compareRowsOf(data: ReportData, a: RunFile, b: RunFile): CompareRow[] {
  const rows: CompareRow[] = [];
  for (const benchmark of benchmarksOf(a)) {
    const metric = headlineOf(data, a, benchmark);
    for (const sa of a.summary) {
      if (sa.benchmark !== benchmark || sa.metric !== metric) continue;
      const sb = summaryOf(b, benchmark, sa.metric, sa.mode, sa.placement);
      if (!sb) continue;
      const change = sa.stats.median === 0 ? NaN : ((sb.stats.median - sa.stats.median) / sa.stats.median) * 100;
      rows.push({ benchmark, metric: sa.metric, unit: sa.unit, better: sa.better, mode: sa.mode, placement: sa.placement, medianA: sa.stats.median, medianB: sb.stats.median, changePercent: change });
    }
  }
  return rows;
}

/** Three significant digits, without exponent notation for everyday magnitudes. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return '-';
  const abs = Math.abs(v);
  if (abs >= 1000) return v.toFixed(0);
  return Number(v.toPrecision(3)).toString();
}

export function formatPercent(v: number): string {
  return Number.isFinite(v) ? `${v > 0 ? '+' : ''}${v.toFixed(1)} %` : '-';
}
