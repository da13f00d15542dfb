// Bundles the extension host code, the CLI and the webview code with esbuild.
import * as fs from 'node:fs';
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { build } from 'esbuild';

const production = process.argv.includes('--production');
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', legalComments: 'none' };
// ssh2 falls back to pure-JS crypto when its optional native parts are missing.
const nodeExternals = ['cpu-features', '*.node'];
// jsonc-parser's UMD build requires files dynamically; its ESM build bundles cleanly.
const mainFields = ['module', 'main'];

/**
 * "hypershield:message-validators": the results panel's message schema compiled to plain functions at build time,
 * so neither side compiles a schema at run time (the webview's CSP forbids eval, and activation stays fast).
 */
const messageValidators = {
  name: 'message-validators',
  setup(b) {
    b.onResolve({ filter: /^hypershield:message-validators$/ }, () => ({ path: 'message-validators', namespace: 'hs-generated' }));
    b.onLoad({ filter: /.*/, namespace: 'hs-generated' }, () => {
      const file = 'schemas/webview-messages.schema.json';
      const schema = JSON.parse(fs.readFileSync(file, 'utf8'));
      // strictTuples off: compare takes zero or one argument, a tuple without minItems on purpose. inlineRefs off:
      // the run file's checks once, not once per place that refers to them (a third less code).
      const ajv = new Ajv({ code: { source: true, esm: true }, strictTuples: false, inlineRefs: false, schemas: [schema] });
      const refs = Object.fromEntries(['webviewMessage', 'hostMessage', 'persistedState'].map((d) => [d, `${schema.$id}#/definitions/${d}`]));
      return { contents: standaloneCode(ajv, refs), loader: 'js', resolveDir: process.cwd(), watchFiles: [file] };
    });
  },
};
const plugins = [messageValidators];

await Promise.all([
  build({ ...common, entryPoints: ['extension/vscode/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', target: 'node20', mainFields, external: ['vscode', ...nodeExternals], plugins }),
  build({ ...common, entryPoints: ['extension/cli/main.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', target: 'node20', mainFields, external: nodeExternals, banner: { js: '#!/usr/bin/env node' } }),
  // The root helper: `hypershield setup` installs it with the absolute path of the system's node in its first line.
  build({ ...common, sourcemap: false, entryPoints: ['extension/helper/main.ts'], outfile: 'dist/helper.js', platform: 'node', format: 'cjs', target: 'node20', mainFields }),
  // The results panel loads its bundle as an ES module (<script type="module" nonce>); the HTML report inlines its
  // bundle in a plain <script>, stylesheet included.
  build({ ...common, entryPoints: { results: 'webview/results/main.ts' }, outdir: 'dist/webview', platform: 'browser', format: 'esm', target: 'es2022', plugins }),
  build({ ...common, entryPoints: { report: 'webview/report/main.ts' }, outdir: 'dist/webview', platform: 'browser', format: 'iife', target: 'es2022', loader: { '.css': 'text' }, plugins }),
]);
