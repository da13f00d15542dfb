// Shapes a run file into what the charts and tables show. Pure functions shared by the results panel and the
// HTML report.
import type { ArmChange, Better, Measurement, Placement, RunFile, SummaryEntry, TooFewRounds } from '../../extension/core/results/run-file';
import { tooFewRoundsText } from '../../extension/core/results/stats';
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
  /** The arm of an A/B run of hypervisor builds: each arm is a group of its own. */
  arm?: string;
  unit: string;
  better: Better;
  /** Every recorded repetition. */
  values: Array<{ repetition: number; value: number }>;
  median?: number;
  q1?: number;
  q3?: number;
}

const byOrder = (order: readonly string[]) => (a: string, b: string) => order.indexOf(a) - order.indexOf(b);

function groupLabel(mode: string, placement: string, arm?: string): string {
  return arm === undefined ? `${mode} · ${placement}` : `${mode} · ${placement} · ${arm}`;
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

function summaryOf(run: RunFile, benchmark: string, metric: string, mode: Mode, placement: Placement, arm?: string): SummaryEntry | undefined {
  return findEntry(run.summary, { benchmark, metric, mode, placement, arm });
}

/** One group per mode x placement with every repetition's value and the summary's median and quartiles. */
export function groupsOf(run: RunFile, benchmark: string, metric: string): Group[] {
  const groups = new Map<string, Group>();
  for (const m of run.results) {
    const v = m.benchmark === benchmark && !m.error ? m.metrics[metric] : undefined;
    if (!v || !Number.isFinite(v.value)) continue;
    const key = groupLabel(m.mode, m.placement, m.arm);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { label: key, mode: m.mode, placement: m.placement, ...(m.arm !== undefined ? { arm: m.arm } : {}), unit: v.unit, better: v.better, values: [] }));
    g.values.push({ repetition: m.repetition, value: v.value });
  }
  const list = [...groups.values()].sort((a, b) => byOrder(PLACEMENT_ORDER)(a.placement, b.placement) || byOrder(MODE_ORDER)(a.mode, b.mode) || (a.arm ?? '').localeCompare(b.arm ?? ''));
  for (const g of list) {
    const s = summaryOf(run, benchmark, metric, g.mode, g.placement, g.arm)?.stats;
    if (s) Object.assign(g, { median: s.median, q1: s.q1, q3: s.q3 });
  }
  return list;
}

export interface OverheadRow {
  benchmark: string;
  metric: string;
  placement: Placement;
  /** The arm of an A/B run of hypervisor builds. */
  arm?: string;
  unit: string;
  overheadPercent: number;
  ci95?: [number, number];
  /** False when the interval contains 0. */
  detectable?: boolean;
  /** Instead of an interval and a verdict: the run had too few rounds for one. */
  tooFewRounds?: TooFewRounds;
}

/** Whether an overhead is shown as a difference: only when its interval excludes 0 (not without an interval). */
export const shownAsDifference = (o: Pick<NumberRow, 'detectable'>): boolean => o.detectable === true;

/** Model-vs-direct overhead of each benchmark's headline metric, per placement. */
export function overheadsOf(data: ReportData, run: RunFile): OverheadRow[] {
  const rows: OverheadRow[] = [];
  for (const benchmark of benchmarksOf(run)) {
    const metric = headlineOf(data, run, benchmark);
    for (const s of run.summary) {
      if (s.benchmark === benchmark && s.metric === metric && s.mode === 'model' && s.overheadPercent !== undefined) {
        rows.push({ benchmark, metric, placement: s.placement, ...(s.arm !== undefined ? { arm: s.arm } : {}), unit: s.unit, overheadPercent: s.overheadPercent, ci95: s.overheadCi95, detectable: s.detectable, tooFewRounds: s.overheadTooFewRounds });
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
      m.benchmark === benchmark && m.mode === g.mode && m.placement === g.placement && m.arm === g.arm && !!m.series && !m.error);
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
  arm?: string;
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
    benchmark: s.benchmark, ...(s.arm !== undefined ? { arm: s.arm } : {}), mode: s.mode, placement: s.placement, counter: s.metric.slice(PERF_PREFIX.length), unit: s.unit, median: s.stats.median, n: s.stats.n,
  }));
}

export interface NumberRow {
  benchmark: string;
  /** The arm of an A/B run of hypervisor builds. */
  arm?: string;
  metric: string;
  unit: string;
  better: Better;
  placement: Placement;
  mode: Mode;
  median: number;
  q1: number;
  q3: number;
  iqr: number;
  n: number;
  overheadPercent?: number;
  ci95?: [number, number];
  detectable?: boolean;
  tooFewRounds?: TooFewRounds;
}

/** Every summary figure of one benchmark (perf counters aside): per metric x placement x mode, in display order. */
export function numbersOf(run: RunFile, benchmark: string): NumberRow[] {
  const metrics = metricsOf(run, benchmark);
  return run.summary
    .filter((s) => s.benchmark === benchmark && metrics.includes(s.metric))
    .sort((a, b) => metrics.indexOf(a.metric) - metrics.indexOf(b.metric) || byOrder(PLACEMENT_ORDER)(a.placement, b.placement) || byOrder(MODE_ORDER)(a.mode, b.mode) || (a.arm ?? '').localeCompare(b.arm ?? ''))
    .map((s) => ({
      benchmark, ...(s.arm !== undefined ? { arm: s.arm } : {}), metric: s.metric, unit: s.unit, better: s.better, placement: s.placement, mode: s.mode,
      median: s.stats.median, q1: s.stats.q1, q3: s.stats.q3, iqr: s.stats.iqr, n: s.stats.n,
      overheadPercent: s.overheadPercent, ci95: s.overheadCi95, detectable: s.detectable, tooFewRounds: s.overheadTooFewRounds,
    }));
}

/**
 * "+3.1 % [+1.2, +5.0]"; "no detectable difference" when the interval contains 0; "+3.1 %, too few rounds (n=3,
 * need 6 paired)" when the run had too few rounds for an interval.
 */
export function formatOverhead(o: Pick<NumberRow, 'overheadPercent' | 'ci95' | 'detectable' | 'tooFewRounds'>): string {
  if (o.overheadPercent === undefined) return '';
  if (o.tooFewRounds) return `${formatPercent(o.overheadPercent)}, ${tooFewRoundsText(o.tooFewRounds)}`;
  const ci = o.ci95 ? ` [${formatPercent(o.ci95[0]).replace(' %', '')}, ${formatPercent(o.ci95[1])}]` : '';
  return `${formatPercent(o.overheadPercent)}${ci}${o.detectable === false ? ': no detectable difference' : ''}`;
}

/** The changes of an A/B run of hypervisor builds (perf counters aside), as the run recorded them. */
export function abChangesOf(run: RunFile): ArmChange[] {
  return (run.abComparison ?? []).filter((c) => !c.metric.startsWith(PERF_PREFIX));
}

/** A change of one arm relative to another, worded as an overhead is: "+3.1 % [+1.0, +5.2 %]", "…, too few rounds (…)". */
export function formatChange(c: Pick<ArmChange, 'changePercent' | 'ci95' | 'detectable' | 'tooFewRounds'>): string {
  return formatOverhead({ overheadPercent: c.changePercent, ci95: c.ci95, detectable: c.detectable, tooFewRounds: c.tooFewRounds });
}

/** A value with its unit, rounded for reading: "9.41 Gbit/s", "0.052 ms". */
export function formatValue(v: number, unit: string): string {
  return unit ? `${formatNumber(v)} ${unit}` : formatNumber(v);
}

/** A timestamp in the reader's local time (run files keep UTC). */
export function localTime(iso: string | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** The run's metadata as label/value rows. */
export function metadataRows(run: RunFile): Array<[string, string]> {
  const md = run.metadata;
  const rows: Array<[string, string]> = [
    ['Run', run.id],
    ['Status', run.reason ? `${run.status} (${run.reason})` : run.status],
    ['Started', localTime(md.startedAt)],
    ['Ended', localTime(md.endedAt)],
    ['Testbed', `${md.testbed.name} (${md.testbed.backend}, from ${md.testbed.source})`],
    ['Emulated hosts', md.emulated ? 'yes: absolute figures are not comparable to hardware' : 'no'],
    ['Plan', planText(md.plan)],
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

type Plan = RunFile['metadata']['plan'];

function planText(p: Plan): string {
  return `${p.benchmarks.join(', ')}; modes ${p.modes.join(', ')}; placements ${p.placements.join(', ') || 'as deployed'}; ${p.repetitions} repetitions (+${p.warmup} warm-up) of ${p.durationS} s`;
}

/** How two runs' plans differ, one phrase per difference: figures from different plans are not like for like. */
export function planDifferences(a: RunFile, b: RunFile): string[] {
  const pa = a.metadata.plan;
  const pb = b.metadata.plan;
  const diffs: string[] = [];
  const list = (x: readonly string[]) => x.join(', ') || 'none';
  if (pa.repetitions !== pb.repetitions || pa.durationS !== pb.durationS) diffs.push(`repetitions × duration: ${pa.repetitions} × ${pa.durationS} s (A) vs ${pb.repetitions} × ${pb.durationS} s (B)`);
  if (pa.warmup !== pb.warmup) diffs.push(`warm-up: ${pa.warmup} (A) vs ${pb.warmup} (B)`);
  if (list(pa.placements) !== list(pb.placements)) diffs.push(`placements: ${list(pa.placements)} (A) vs ${list(pb.placements)} (B)`);
  if (list(pa.modes) !== list(pb.modes)) diffs.push(`modes: ${list(pa.modes)} (A) vs ${list(pb.modes)} (B)`);
  if (list(pa.benchmarks) !== list(pb.benchmarks)) diffs.push(`benchmarks: ${list(pa.benchmarks)} (A) vs ${list(pb.benchmarks)} (B)`);
  if (a.metadata.testbed.backend !== b.metadata.testbed.backend) diffs.push(`backend: ${a.metadata.testbed.backend} (A) vs ${b.metadata.testbed.backend} (B)`);
  return diffs;
}

/** What a run measured, as "mode · placement" pairs of its benchmarks, for saying why two runs do not pair up. */
export function measuredPairs(run: RunFile): string[] {
  return [...new Set(run.summary.map((s) => `${s.mode} · ${s.placement}`))].sort();
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
