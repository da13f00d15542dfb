import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { toCsv } from '../../core/results/table';
import { announce } from '../announce';
import { setContext } from '../context-keys';
import { runHeadline } from '../headline';
import type { Services } from '../services';
import type { RunNode } from '../tree/runs-tree';
import type { CommandSpec } from './registry';

const PNG_DATA_URL = /^data:image\/png;base64,[A-Za-z0-9+/=]+$/;

function isRunNode(arg: unknown): arg is RunNode {
  const node = arg as RunNode | undefined;
  return typeof node === 'object' && node !== null && (node.kind === 'run' || node.kind === 'figure');
}

/** A run id from a string (palette, webview) or a Runs tree node (menus). */
function runIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  return isRunNode(arg) ? arg.run.id : undefined;
}

function targetOf(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  return typeof arg === 'string' && path.isAbsolute(arg) ? vscode.Uri.file(arg) : undefined;
}

export function resultsCommands(s: Services): CommandSpec[] {
  const { workbench, panels, runsTree, log } = s;

  async function pickRun(title: string, exclude?: string): Promise<string | undefined> {
    const runs = workbench.runs().filter((r) => r.id !== exclude);
    if (runs.length === 0) throw new Error('There are no runs yet: run benchmarks first.');
    // Local times, as the Runs view shows them; the plan, so runs that will not pair up can be told apart.
    const pick = await vscode.window.showQuickPick(runs.map((r) => {
      const p = r.run.metadata.plan;
      return {
        label: r.id, id: r.id,
        description: `${r.run.status} · ${p.benchmarks.join(', ')} · placements ${p.placements.join(', ') || 'as deployed'} · ${p.repetitions} × ${p.durationS} s`,
        detail: `${new Date(r.run.metadata.startedAt).toLocaleString()} · ${runHeadline(r.run)}`,
      };
    }), { title, matchOnDescription: true });
    return pick?.id;
  }

  async function saveTarget(arg: unknown, defaultName: string, filters: Record<string, string[]>): Promise<vscode.Uri | undefined> {
    return targetOf(arg) ?? vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(path.join(workbench.requireFolder(), defaultName)), filters });
  }

  /** Writes an export and says where, with a way to it; `interactive` is false when a caller named the target. */
  function write(uri: vscode.Uri, data: string | Buffer, interactive: boolean): string {
    fs.mkdirSync(path.dirname(uri.fsPath), { recursive: true });
    fs.writeFileSync(uri.fsPath, data);
    log.info(`Wrote ${uri.fsPath}`);
    if (interactive) {
      void announce(`wrote ${vscode.workspace.asRelativePath(uri)}`, 'Open', 'Reveal in Explorer').then((pick) => {
        if (pick === 'Open') void vscode.commands.executeCommand('vscode.open', uri);
        if (pick === 'Reveal in Explorer') void vscode.commands.executeCommand('revealInExplorer', uri);
      });
    }
    return uri.fsPath;
  }

  return [
    {
      id: 'hypershield.results.open',
      run: async (arg?: unknown) => {
        const id = runIdOf(arg) ?? workbench.runs()[0]?.id ?? (await pickRun('Open which run?'));
        if (!id) throw new Error('There are no runs yet: run benchmarks first.');
        return panels.open(id);
      },
    },
    {
      id: 'hypershield.results.compare',
      fromWebview: true,
      run: async (first?: unknown, second?: unknown) => {
        const selected = runsTree.selectedForCompare;
        let a: string | undefined;
        let b: string | undefined;
        if (isRunNode(first) && selected && selected !== first.run.id) {
          // "Compare with Selected" on a run: the selected run is A, the clicked one B.
          [a, b] = [selected, first.run.id];
        } else {
          a = runIdOf(first) ?? selected ?? (await pickRun('Compare: first run (A)'));
          b = runIdOf(second);
        }
        if (!a) return undefined;
        b ??= await pickRun(`Compare ${a} with which run (B)?`, a);
        if (!b) return undefined;
        return panels.open(a, b);
      },
    },
    {
      id: 'hypershield.results.selectForCompare',
      run: (arg?: unknown) => {
        const id = runIdOf(arg);
        if (!id) throw new Error('Select for Compare needs a run from the Runs view.');
        runsTree.selectedForCompare = id;
        setContext('hypershield.compareSelected', true);
        runsTree.refresh();
        return id;
      },
    },
    {
      id: 'hypershield.results.export',
      fromWebview: true,
      run: async (runArg?: unknown, formatArg?: unknown, target?: unknown) => {
        const id = runIdOf(runArg) ?? (await pickRun('Export which run?'));
        if (!id) return undefined;
        const format = formatArg === 'csv' || formatArg === 'json' ? formatArg
          : (await vscode.window.showQuickPick(['csv', 'json'], { title: `Export run ${id} as` }));
        if (!format) return undefined;
        const run = workbench.store.read(id);
        const uri = await saveTarget(target, `${id}.${format}`, format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] });
        if (!uri) return undefined;
        return write(uri, format === 'csv' ? toCsv(run) : JSON.stringify(run, null, 2) + '\n', !targetOf(target));
      },
    },
    {
      id: 'hypershield.results.exportImage',
      fromWebview: true,
      run: async (runId?: unknown, name?: unknown, dataUrl?: unknown, target?: unknown) => {
        if (typeof dataUrl !== 'string' || !PNG_DATA_URL.test(dataUrl)) throw new Error('Save Chart Image is run from a results panel\'s "Save image" button.');
        const uri = await saveTarget(target, `${String(runId)}-${String(name)}.png`, { 'PNG image': ['png'] });
        if (!uri) return undefined;
        return write(uri, Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64'), !targetOf(target));
      },
    },
    {
      id: 'hypershield.results.delete',
      /** `confirmed` (true) skips the question, for callers that asked already. */
      run: async (arg?: unknown, confirmed?: unknown) => {
        const id = runIdOf(arg) ?? (await pickRun('Delete which run?'));
        if (!id) return undefined;
        const file = workbench.store.fileOf(id);
        if (confirmed !== true) {
          const pick = await vscode.window.showWarningMessage(`Delete run ${id}?`, { modal: true, detail: `Its file ${vscode.workspace.asRelativePath(file)} is removed; exports made from it stay.` }, 'Delete');
          if (pick !== 'Delete') return undefined;
        }
        panels.closeRun(id);
        workbench.store.remove(id);
        if (runsTree.selectedForCompare === id) {
          runsTree.selectedForCompare = undefined;
          setContext('hypershield.compareSelected', false);
        }
        workbench.refreshRuns();
        void announce(`deleted run ${id}`);
        return id;
      },
    },
    {
      id: 'hypershield.runs.refresh',
      run: () => {
        workbench.refreshRuns();
      },
    },
  ];
}
