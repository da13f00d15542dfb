// Bundles the extension host code, the CLI and the webview code with esbuild.
import { build } from 'esbuild';

const production = process.argv.includes('--production');
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', legalComments: 'none' };
// ssh2 falls back to pure-JS crypto when its optional native parts are missing.
const nodeExternals = ['cpu-features', '*.node'];
// jsonc-parser's UMD build requires files dynamically; its ESM build bundles cleanly.
const mainFields = ['module', 'main'];

await Promise.all([
  build({ ...common, entryPoints: ['extension/vscode/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', target: 'node20', mainFields, external: ['vscode', ...nodeExternals] }),
  build({ ...common, entryPoints: ['extension/cli/main.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', target: 'node20', mainFields, external: nodeExternals, banner: { js: '#!/usr/bin/env node' } }),
  // The root helper: `hypershield setup` installs it with the absolute path of the system's node in its first line.
  build({ ...common, sourcemap: false, entryPoints: ['extension/helper/main.ts'], outfile: 'dist/helper.js', platform: 'node', format: 'cjs', target: 'node20', mainFields }),
  // The results panel loads its bundle as an ES module (<script type="module" nonce>); the HTML report inlines its
  // bundle in a plain <script>, stylesheet included.
  build({ ...common, entryPoints: { results: 'webview/results/main.ts' }, outdir: 'dist/webview', platform: 'browser', format: 'esm', target: 'es2022' }),
  build({ ...common, entryPoints: { report: 'webview/report/main.ts' }, outdir: 'dist/webview', platform: 'browser', format: 'iife', target: 'es2022', loader: { '.css': 'text' } }),
]);
