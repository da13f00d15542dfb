import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

/**
 * Bundled code that can sit inside a <script> element without ending it: "<" of an end tag or comment opener (only in
 * strings, regular expressions or comments of the bundle) as the escape "\x3C", which means "<" in all three.
 */
const scriptSafe = (code: string) => code.replace(/<(\/script|!--)/gi, '\\x3C$1');

/** The bundle and stylesheet, read once: every panel's page carries them. */
const assets = new Map<string, string>();
function asset(extensionUri: vscode.Uri, ...parts: string[]): string {
  const file = path.join(extensionUri.fsPath, ...parts);
  let text = assets.get(file);
  if (text === undefined) assets.set(file, (text = fs.readFileSync(file, 'utf8')));
  return text;
}

/**
 * The panel's page, self-contained: our bundle (an ES module) and stylesheet inline, allowed by a nonce. The page
 * fetches nothing through the webview's resource loader (in code-server a round trip through a service worker and the
 * remote connection); it carries no data, so VS Code can set it up while the run is read, and says 'ready' for it.
 * Nothing else runs: chart.js and Lit write styles through the CSSOM, which style-src without 'unsafe-inline' allows.
 */
export function resultsHtml(extensionUri: vscode.Uri, title: string): string {
  const nonce = randomBytes(16).toString('base64');
  const read = (...parts: string[]) => asset(extensionUri, ...parts);
  const csp = ["default-src 'none'", 'img-src data:', `style-src 'nonce-${nonce}'`, `script-src 'nonce-${nonce}'`].join('; ');
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style nonce="${nonce}">${read('media', 'results.css')}</style>
<title>${esc(title)}</title>
</head>
<body>
<main id="app"><p class="hs-note">Loading ${esc(title)}…</p></main>
<script type="module" nonce="${nonce}">${scriptSafe(read('dist', 'webview', 'results.js'))}</script>
</body>
</html>`;
}
