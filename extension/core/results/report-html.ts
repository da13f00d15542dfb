import * as fs from 'node:fs';
import * as path from 'node:path';
import { hotSpots } from './hot-spots';
import { reportData } from './report-data';
import type { RunFile } from './run-file';
import { driftLines, formatOverhead, warningLines } from './table';

/** Finds the bundled report renderer (it carries its own styles) next to the CLI/extension bundle, or in dist/ when running from source. */
function rendererDir(): string {
  const candidates = [path.join(__dirname, 'webview'), path.join(__dirname, '..', '..', '..', 'dist', 'webview')];
  const found = candidates.find((d) => fs.existsSync(path.join(d, 'report.js')));
  if (!found) throw new Error(`The report renderer is missing (looked in ${candidates.join(', ')}): run \`npm run build\`.`);
  return found;
}

/** JSON that can sit inside a <script> element without ending it. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const cells = (values: string[], tag: 'td' | 'th') => `<tr>${values.map((v) => `<${tag}>${escapeHtml(v)}</${tag}>`).join('')}</tr>`;

/** Rows per placement of the report's hot tables; the run file keeps them all. */
const HOT_ROWS = 20;

/** The overheads as text, readable without scripts: every model entry's overhead vs direct (and vs none) with its interval. */
function overheadSection(run: RunFile): string {
  const entries = run.summary.filter((e) => e.mode === 'model' && e.overheadPercent !== undefined);
  if (entries.length === 0) return '';
  const vsNone = entries.some((e) => e.overheadVsNonePercent !== undefined);
  const rows = entries.map((e) => cells([e.benchmark, e.placement, `${e.metric} (${e.unit}, ${e.better} is better)`, String(e.stats.n),
    formatOverhead(e.overheadPercent, e.overheadCi95, e.overheadTooFewRounds),
    ...(vsNone ? [formatOverhead(e.overheadVsNonePercent, e.overheadVsNoneCi95, e.overheadVsNoneTooFewRounds)] : [])], 'td'));
  const list = (title: string, items: string[]) => (items.length ? `\n<h3>${title}</h3>\n<ul>${items.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>` : '');
  const flagged = list('Flagged measurements', warningLines(run)) + list('Baseline drift across rounds', driftLines(run));
  return `<section id="overheads">
<h2>Overheads of run ${escapeHtml(run.id)} (positive = the model path is worse; bootstrap 95 % confidence intervals)</h2>
<table>
${cells(['benchmark', 'placement', 'metric', 'n', 'vs direct [95 % CI]', ...(vsNone ? ['vs placement none [95 % CI]'] : [])], 'th')}
${rows.join('\n')}
</table>${flagged}
</section>`;
}

/** An A/B run of hypervisor builds: each arm after the first relative to the first, per cell and metric. */
function abSection(run: RunFile): string {
  const changes = run.abComparison ?? [];
  if (changes.length === 0) return '';
  return `<section id="ab-comparison">
<h2>A/B of hypervisor builds in run ${escapeHtml(run.id)} (change of the metric, signed as it moved; paired bootstrap 95 % confidence intervals)</h2>
<table>
${cells(['benchmark', 'mode', 'placement', 'metric', 'arms', 'change [95 % CI]'], 'th')}
${changes.map((c) => cells([c.benchmark, c.mode, c.placement, `${c.metric} (${c.unit}, ${c.better} is better)`, `${c.arm} vs ${c.vs}`, formatOverhead(c.changePercent, c.ci95, c.tooFewRounds)], 'td')).join('\n')}
</table>
</section>`;
}

/** A profiled run's hottest functions and source lines of the model, per placement (bench --profile). */
function hotSection(run: RunFile): string {
  const spots = hotSpots(run);
  if (spots.length === 0) return '';
  const pct = (v: number) => `${v.toFixed(1)} %`;
  const parts = spots.map((s) => {
    const functions = s.functions.slice(0, HOT_ROWS).map((f) => cells([f.name, pct(f.percent), String(f.samples), f.file ? `${f.file}:${f.line}` : '', f.object], 'td'));
    const lines = s.lines.slice(0, HOT_ROWS).map((l) => cells([`${l.file}:${l.line}`, l.function, pct(l.percent), String(l.samples)], 'td'));
    return `<h3>${escapeHtml(`${s.placement}: ${s.samples.model} of ${s.samples.total} samples are the model's, ${s.measurements} repetition(s)`)}</h3>
<p>${escapeHtml(`Model samples: ${s.scope}.${s.notes.length ? ` ${s.notes.join(' ')}` : ''}${s.modelDir ? ` Source lines are relative to ${s.modelDir}.` : ''}`)}</p>
<table class="hot-functions">
${cells(['function', 'share of model samples', 'samples', 'hottest line', 'object'], 'th')}
${functions.join('\n')}
</table>${lines.length ? `
<table class="hot-lines">
${cells(['source line', 'function', 'share of model samples', 'samples'], 'th')}
${lines.join('\n')}
</table>` : ''}`;
  });
  return `<section id="hot-spots">
<h2>Hot functions and lines of the model in run ${escapeHtml(run.id)} (perf record, model mode)</h2>
${parts.join('\n')}
</section>`;
}

/** One self-contained HTML file: the run's data (and a run to compare with), the chart renderer, nothing fetched. */
export function reportHtml(run: RunFile, compare?: RunFile): string {
  const runs = compare ? [run, compare] : [run];
  const dir = rendererDir();
  const js = fs.readFileSync(path.join(dir, 'report.js'), 'utf8').replace(/<\/script/gi, '<\\/script');
  const title = `HyperShield run ${runs.map((r) => r.id).join(' vs ')}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
</head>
<body>
<main id="report"></main>
${runs.map((r) => [overheadSection(r), abSection(r), hotSection(r)].filter(Boolean).join('\n')).join('\n')}
<script type="application/json" id="run-data">${scriptSafeJson(reportData(run, compare))}</script>
<script>${js}</script>
</body>
</html>
`;
}
