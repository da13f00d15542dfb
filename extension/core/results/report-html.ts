import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunFile } from './run-file';

/** Finds the bundled report renderer next to the CLI/extension bundle, or in dist/ when running from source. */
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

/** One self-contained HTML file: the run's data, the chart renderer and its styles, nothing fetched. */
export function reportHtml(runs: RunFile[]): string {
  const dir = rendererDir();
  const js = fs.readFileSync(path.join(dir, 'report.js'), 'utf8').replace(/<\/script/gi, '<\\/script');
  const cssFile = path.join(dir, 'report.css');
  const css = fs.existsSync(cssFile) ? fs.readFileSync(cssFile, 'utf8') : '';
  const title = `HyperShield run ${runs.map((r) => r.id).join(' vs ')}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${css}</style>
</head>
<body>
<div id="app"></div>
<script type="application/json" id="run-data">${scriptSafeJson(runs)}</script>
<script>${js}</script>
</body>
</html>
`;
}
