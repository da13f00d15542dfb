import * as fs from 'node:fs';
import * as path from 'node:path';
import { reportData } from './report-data';
import type { RunFile } from './run-file';

/** Finds the bundled report renderer (it carries its own styles) next to the CLI/extension bundle, or in dist/ when running from source. */
function rendererDir(): string {
  const candidates = [path.join(__dirname, 'webview'), path.join(__dirname, '..', '..', '..', 'dist', 'webview')];
  const found = candidates.find((d) => fs.existsSync(path.join(d, 'report.js')));
  if (!found) throw new Error(`The report renderer is missing (looked in ${candidates.join(', ')}): run \`npm run build\`.`);
  return found;
}

/** JSON that can sit inside a <script> element without ending it. */
function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

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
<script type="application/json" id="run-data">${scriptSafeJson(reportData(run, compare))}</script>
<script>${js}</script>
</body>
</html>
`;
}
