import * as fs from 'node:fs';
import * as path from 'node:path';
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

/** The overheads as text, readable without scripts: every model entry's overhead vs direct (and vs none) with its interval. */
function overheadSection(run: RunFile): string {
  const entries = run.summary.filter((e) => e.mode === 'model' && e.overheadPercent !== undefined);
  if (entries.length === 0) return '';
  const vsNone = entries.some((e) => e.overheadVsNonePercent !== undefined);
  const cells = (values: string[], tag: 'td' | 'th') => `<tr>${values.map((v) => `<${tag}>${escapeHtml(v)}</${tag}>`).join('')}</tr>`;
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
${runs.map(overheadSection).join('\n')}
<script type="application/json" id="run-data">${scriptSafeJson(reportData(run, compare))}</script>
<script>${js}</script>
</body>
</html>
`;
}
