// Markdown and LaTeX tables of one or more runs, for a paper: per benchmark, metric, run (backend) and placement
// the direct and model medians and the overheads with their bootstrap 95 % intervals.
import type { RunFile, SummaryEntry, TooFewRounds } from './run-file';
import { MIN_PAIRED_ROUNDS, detectable, tooFewRoundsText } from './stats';
import { findEntry } from './summary';
import { formatOverhead } from './table';

/** An overhead with its interval, or why it has none. */
export interface PaperOverhead {
  percent: number;
  ci?: [number, number];
  tooFewRounds?: TooFewRounds;
}

export interface PaperRow {
  benchmark: string;
  metric: string;
  unit: string;
  better: SummaryEntry['better'];
  run: string;
  /** The arm of an A/B run of hypervisor builds the row measured. */
  arm?: string;
  placement: string;
  n: number;
  direct?: number;
  model?: number;
  overhead?: PaperOverhead;
  vsNone?: PaperOverhead;
}

/** A short name per run: its backend (", pinned" when it pinned CPUs), with the run id when that is not unique. */
export function runLabels(runs: readonly RunFile[]): string[] {
  const names = runs.map((r) => `${r.metadata.testbed.backend}${r.metadata.pinning ? ', pinned' : ''}`);
  return runs.map((r, i) => (names.filter((b) => b === names[i]).length > 1 ? `${names[i]} ${r.id}` : names[i]));
}

/** The rows of the tables: every model entry of the given metrics (each benchmark's headline when none are given). */
export function paperRows(runs: readonly RunFile[], metricsOf: (benchmark: string) => readonly string[]): PaperRow[] {
  const labels = runLabels(runs);
  const rows: PaperRow[] = [];
  runs.forEach((run, i) => {
    for (const m of run.summary) {
      if (m.mode !== 'model' || !metricsOf(m.benchmark).includes(m.metric)) continue;
      const d = findEntry(run.summary, { ...m, mode: 'direct' });
      rows.push({
        benchmark: m.benchmark, metric: m.metric, unit: m.unit, better: m.better, run: labels[i], ...(m.arm !== undefined ? { arm: m.arm } : {}), placement: m.placement,
        n: Math.min(m.stats.n, d?.stats.n ?? m.stats.n),
        direct: d?.stats.median,
        model: m.stats.median,
        ...(m.overheadPercent !== undefined ? { overhead: { percent: m.overheadPercent, ci: m.overheadCi95, tooFewRounds: m.overheadTooFewRounds } } : {}),
        ...(m.overheadVsNonePercent !== undefined ? { vsNone: { percent: m.overheadVsNonePercent, ci: m.overheadVsNoneCi95, tooFewRounds: m.overheadVsNoneTooFewRounds } } : {}),
      });
    }
  });
  // Benchmarks and metrics together, then runs in the order given, then placements in the order measured.
  const order = (r: PaperRow) => `${r.benchmark}\u0000${r.metric}`;
  const keys = [...new Set(rows.map(order))];
  return rows.map((r, i) => ({ r, i })).sort((a, b) => keys.indexOf(order(a.r)) - keys.indexOf(order(b.r)) || a.i - b.i).map(({ r }) => r);
}

const num = (v: number | undefined) => (v === undefined ? '' : Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3));
const withArms = (rows: readonly PaperRow[]) => rows.some((r) => r.arm !== undefined);
const armCell = (rows: readonly PaperRow[], r: PaperRow) => (withArms(rows) ? [r.arm ?? '-'] : []);

/** The columns; "Arm" only when a row has one (an A/B run), so tables of other runs read as before. */
function head(rows: readonly PaperRow[]): string[] {
  return ['Benchmark', 'Metric', 'Run', ...(withArms(rows) ? ['Arm'] : []), 'Placement', 'n', 'Direct', 'Model', 'Overhead vs direct [95 % CI]', 'vs none [95 % CI]'];
}

function footer(runs: readonly RunFile[]): string[] {
  const labels = runLabels(runs);
  return runs.map((r, i) => `${labels[i]}: run ${r.id}, testbed ${r.metadata.testbed.name}, ${r.metadata.startedAt}${r.metadata.emulated ? ', emulated hosts' : ''}${r.status !== 'complete' ? `, ${r.status}` : ''}`);
}

const NOTE = 'Medians; overhead in percent, positive = the model path is worse; bootstrap 95 % confidence intervals, ' +
  `given from ${MIN_PAIRED_ROUNDS} paired rounds on (fewer cannot reach the 5 % level).`;

/**
 * A GitHub-flavoured Markdown table; an overhead whose interval contains 0 reads "no detectable difference (…)", one
 * of a run with too few rounds "+7.0 %, too few rounds (n=3, need 6 paired)".
 */
export function markdownTable(runs: readonly RunFile[], rows: readonly PaperRow[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  const cols = head(rows);
  const numeric = new Set(['n', 'Direct', 'Model']);
  const out = [line(cols), `|${cols.map((c) => (numeric.has(c) ? ' ---: ' : ' --- ')).join('|')}|`];
  for (const r of rows) {
    out.push(line([r.benchmark, `${r.metric} (${r.unit}, ${r.better} is better)`, r.run, ...armCell(rows, r), r.placement, String(r.n), num(r.direct), num(r.model),
      r.overhead ? formatOverhead(r.overhead.percent, r.overhead.ci, r.overhead.tooFewRounds) : '',
      r.vsNone ? formatOverhead(r.vsNone.percent, r.vsNone.ci, r.vsNone.tooFewRounds) : '']));
  }
  return [...out, '', NOTE, '', ...footer(runs).map((f) => `- ${f}`), ''].join('\n');
}

/** Text as LaTeX typesets it verbatim. */
export function latexEscape(s: string): string {
  return s.replace(/[\\{}&%$#_^~]/g, (c) => ({ '\\': '\\textbackslash{}', '~': '\\textasciitilde{}', '^': '\\textasciicircum{}' } as Record<string, string>)[c] ?? `\\${c}`);
}

const texSigned = (v: number) => `$${v < 0 ? '-' : '+'}${Math.abs(v).toFixed(1)}$`;

/**
 * "$+12.3$ [$+8.1$, $+15.0$]", with a dagger when the interval contains 0 (explained under the table); "$+7.0$, too
 * few rounds (n=3, need 6 paired)" without an interval.
 */
function texOverhead(o: PaperOverhead | undefined): string {
  if (!o) return '';
  if (o.tooFewRounds) return `${texSigned(o.percent)}, ${latexEscape(tooFewRoundsText(o.tooFewRounds))}`;
  if (!o.ci) return `${texSigned(o.percent)} (no interval)`;
  const shown = `${texSigned(o.percent)} [${texSigned(o.ci[0])}, ${texSigned(o.ci[1])}]`;
  return detectable(o.ci) ? shown : `${shown}$^\\dagger$`;
}

/** A booktabs table in a table float, with a caption that explains the intervals and the dagger. */
export function latexTable(runs: readonly RunFile[], rows: readonly PaperRow[]): string {
  const e = latexEscape;
  const cols = head(rows);
  const heading = cols.map((h) => e(h.replace(' [95 % CI]', ''))).join(' & ');
  const body = rows.map((r) => [e(r.benchmark), `${e(r.metric)} (${e(r.unit)}, ${r.better === 'higher' ? '$\\uparrow$' : '$\\downarrow$'})`, e(r.run), ...armCell(rows, r).map(e), e(r.placement),
    String(r.n), num(r.direct), num(r.model), texOverhead(r.overhead), texOverhead(r.vsNone)].join(' & ') + ' \\\\');
  return [
    '% Generated by hypershield report --latex; needs \\usepackage{booktabs}.',
    ...footer(runs).map((f) => `% ${f}`),
    '\\begin{table}',
    '\\centering',
    `\\begin{tabular}{${withArms(rows) ? 'lllll' : 'llll'}rrrll}`,
    '\\toprule',
    `${heading} \\\\`,
    '\\midrule',
    ...body,
    '\\bottomrule',
    '\\end{tabular}',
    '\\caption{Medians of each cell. Overhead in \\%, positive when the model path is worse, with its bootstrap 95~\\% ' +
      'confidence interval in brackets. $^\\dagger$: no detectable difference (the interval contains 0). ' +
      `No interval is given from fewer than ${MIN_PAIRED_ROUNDS} paired rounds: too few for the 5~\\% level. ` +
      '$\\uparrow$/$\\downarrow$: higher/lower is better.}',
    '\\label{tab:hypershield}',
    '\\end{table}',
    '',
  ].join('\n');
}
