import type { RunFile, SummaryEntry, TooFewRounds } from './run-file';
import { detectable, tooFewRoundsText } from './stats';
import { findEntry } from './summary';

function columns(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3));

const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(1)}`;

/**
 * An overhead as a reader should take it: "+12.3 % [+8.1, +15.0]" when its 95 % interval excludes 0, "no detectable
 * difference (-1.2 % [-4.0, +2.1])" when it does not, "+7.0 %, too few rounds (n=3, need 6 paired)" when the run has
 * too few rounds for an interval, "+7.0 % (no interval)" when there is none for another reason (a baseline whose
 * resampled median can be 0, as with a few retransmits).
 */
export function formatOverhead(percent: number | undefined, ci?: readonly [number, number], tooFew?: TooFewRounds): string {
  if (percent === undefined) return '-';
  if (tooFew) return `${signed(percent)} %, ${tooFewRoundsText(tooFew)}`;
  if (!ci) return `${signed(percent)} % (no interval)`;
  const figure = `${signed(percent)} % [${signed(ci[0])}, ${signed(ci[1])}]`;
  return detectable(ci) ? figure : `no detectable difference (${figure})`;
}

/** Whether a run measured arms of an A/B run (then every table of it names each row's arm). */
export const hasArms = (run: Pick<RunFile, 'summary'>): boolean => run.summary.some((e) => e.arm !== undefined);

/**
 * The headline rows of a run: each benchmark's metrics, direct vs model, per placement (and arm, on an A/B run),
 * overheads with 95 % intervals.
 */
export function summaryTable(run: RunFile, metrics?: readonly string[]): string {
  const vsNone = run.summary.some((e) => e.overheadVsNonePercent !== undefined);
  const arms = hasArms(run);
  const rows: string[][] = [['benchmark', ...(arms ? ['arm'] : []), 'placement', 'metric', 'direct median [IQR]', 'model median [IQR]', 'n', 'overhead vs direct [95 % CI]', ...(vsNone ? ['vs placement none [95 % CI]'] : [])]];
  const keys = new Set<string>();
  for (const e of run.summary) {
    if (metrics && !metrics.includes(e.metric)) continue;
    const key = `${e.benchmark}|${e.arm ?? ''}|${e.placement}|${e.metric}`;
    if (keys.has(key)) continue;
    keys.add(key);
    const d = findEntry(run.summary, { ...e, mode: 'direct' });
    const m = findEntry(run.summary, { ...e, mode: 'model' });
    const cell = (x?: SummaryEntry) => (x ? `${fmt(x.stats.median)} [${fmt(x.stats.iqr)}] ${x.unit}` : '-');
    rows.push([e.benchmark, ...(arms ? [e.arm ?? '-'] : []), e.placement, e.metric, cell(d), cell(m), String(Math.max(d?.stats.n ?? 0, m?.stats.n ?? 0)),
      formatOverhead(m?.overheadPercent, m?.overheadCi95, m?.overheadTooFewRounds),
      ...(vsNone ? [formatOverhead(m?.overheadVsNonePercent, m?.overheadVsNoneCi95, m?.overheadVsNoneTooFewRounds)] : [])]);
  }
  return columns(rows);
}

/** "iperf3 model none throughput: B vs A +3.1 % [+1.0, +5.2]": each change of an A/B run, one line each. */
export function abLines(run: Pick<RunFile, 'abComparison'>): string[] {
  return (run.abComparison ?? []).map((ch) => `${ch.benchmark} ${ch.mode} ${ch.placement} ${ch.metric}: ${ch.arm} vs ${ch.vs} ${formatOverhead(ch.changePercent, ch.ci95, ch.tooFewRounds)}`);
}

/** Cells with flagged measurements: "iperf3 direct none: 2 of 3 measurements flagged: <the first warning>". */
export function warningLines(run: RunFile): string[] {
  const cells = new Map<string, { n: number; flagged: number; first?: string }>();
  for (const m of run.results) {
    const key = `${m.benchmark} ${m.mode} ${m.placement}`;
    const c = cells.get(key) ?? { n: 0, flagged: 0 };
    c.n += 1;
    if (m.warnings?.length) {
      c.flagged += 1;
      c.first ??= m.warnings[0];
    }
    cells.set(key, c);
  }
  return [...cells].filter(([, c]) => c.flagged > 0).map(([key, c]) => `${key}: ${c.flagged} of ${c.n} measurements flagged: ${c.first}`);
}

/** How the baseline cells drifted: "baseline drift: iperf3 direct none throughput over 5 rounds: range 12.3 %, trend +1.2 %/round". */
export function driftLines(run: RunFile): string[] {
  return (run.drift ?? []).map((d) => `baseline drift: ${d.benchmark} ${d.mode} ${d.placement} ${d.metric} over ${d.rounds.length} rounds: ` +
    `range ${d.rangePercent.toFixed(1)} %, trend ${signed(d.trendPercentPerRound)} %/round`);
}

/** One CSV row per measured metric. */
export function toCsv(run: RunFile): string {
  const q = (s: string | number) => (typeof s === 'number' ? String(s) : /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const arms = run.results.some((m) => m.arm !== undefined);
  const lines = [`run,benchmark,${arms ? 'arm,' : ''}mode,placement,repetition,started_at,metric,value,unit,error`];
  for (const m of run.results) {
    const cell = [run.id, m.benchmark, ...(arms ? [m.arm ?? ''] : []), m.mode, m.placement, m.repetition, m.startedAt];
    const entries = Object.entries(m.metrics);
    if (entries.length === 0) lines.push([...cell, '', '', '', m.error ?? ''].map(q).join(','));
    for (const [name, v] of entries) lines.push([...cell, name, v.value, v.unit, ''].map(q).join(','));
  }
  return lines.join('\n') + '\n';
}

/** Median of every metric in two runs side by side, with b/a, for comparing placements, backends or builds. */
export function compareTable(a: RunFile, b: RunFile): string {
  const arms = hasArms(a) || hasArms(b);
  const rows: string[][] = [['benchmark', ...(arms ? ['arm'] : []), 'placement', 'mode', 'metric', a.id, b.id, 'b/a']];
  for (const ea of a.summary) {
    const eb = findEntry(b.summary, ea);
    if (!eb) continue;
    const ratio = ea.stats.median !== 0 ? (eb.stats.median / ea.stats.median).toFixed(3) : '-';
    rows.push([ea.benchmark, ...(arms ? [ea.arm ?? '-'] : []), ea.placement, ea.mode, ea.metric, `${fmt(ea.stats.median)} ${ea.unit}`, `${fmt(eb.stats.median)} ${eb.unit}`, ratio]);
  }
  if (rows.length === 1) return `Runs ${a.id} and ${b.id} share no benchmark, placement and mode to compare.`;
  return columns(rows);
}
