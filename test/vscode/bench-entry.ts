// Runs in VS Code's extension host for scripts/bench-vscode.mjs: measures activation and the results panel's
// drawing time for the run file named by HS_BENCH_RUN, and writes the figures to HS_BENCH_OUT.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { HyperShieldApi } from '../../extension/vscode/extension';

const EXTENSION_ID = 'hypershield.hypershield-workbench';

export async function run(): Promise<void> {
  const out = process.env.HS_BENCH_OUT;
  const runFile = process.env.HS_BENCH_RUN;
  if (!out || !runFile) throw new Error('HS_BENCH_OUT and HS_BENCH_RUN must be set');
  const ext = vscode.extensions.getExtension<HyperShieldApi>(EXTENSION_ID);
  if (!ext) throw new Error(`${EXTENSION_ID} is not loaded`);
  if (ext.isActive) throw new Error('The extension was already active: the bench workspace must not trigger activation');

  const t0 = performance.now();
  const api = await ext.activate();
  const activationMs = performance.now() - t0;

  // The run file goes into the workspace only now, so nothing activated the extension before.
  const folder = vscode.workspace.workspaceFolders![0].uri.fsPath;
  const results = path.join(folder, '.hypershield', 'results');
  fs.mkdirSync(results, { recursive: true });
  fs.copyFileSync(runFile, path.join(results, path.basename(runFile)));
  const id = path.basename(runFile, '.json');

  // The first panel of the window (VS Code sets up its webview machinery), a redraw of it, then rounds of a new
  // panel after closing every editor and its redraw.
  const renders: Array<{ kind: 'first' | 'new' | 'redraw'; wallMs: number; webviewMs: number; pageMs: number; charts: number; deferred: number; marks: Record<string, number> }> = [];
  const open = async (kind: 'first' | 'new' | 'redraw') => {
    const t = performance.now();
    const r = await api.openResults(id);
    renders.push({ kind, wallMs: performance.now() - t, webviewMs: r.ms, pageMs: r.pageMs, charts: r.charts, deferred: r.deferred, marks: r.marks });
  };
  await open('first');
  await open('redraw');
  const rounds = Number(process.env.HS_BENCH_ROUNDS ?? 7);
  for (let i = 0; i < rounds; i++) {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await open('new');
    await open('redraw');
  }
  fs.writeFileSync(out, JSON.stringify({ activationMs, activateBodyMs: api.activationMs, renders }, null, 2));
}
