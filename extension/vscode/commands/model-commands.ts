import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BuildResult } from '../../core/model/build';
import { deployModel, undeployModel, type DeployResult } from '../../core/model/deploy/deploy';
import { DeployError } from '../../core/model/deploy/model-host';
import { scaffoldModel } from '../../core/model/scaffold';
import { MODEL_PLACEMENTS, PLACEMENT_FILES, type ModelPlacement } from '../../core/model/templates';
import { announce } from '../announce';
import { setContext } from '../context-keys';
import { findModelProjects, projectAt, projectOf, type ModelProject } from '../model-projects';
import { withCancellableProgress } from '../progress';
import type { Services } from '../services';
import { TASK_TYPE } from '../tasks/jobs';
import { runTask } from '../tasks/task-provider';
import { ActionableError, SHOW_PROBLEMS, type CommandSpec } from './registry';

const PLACEMENT_LABELS: Record<ModelPlacement, string> = {
  user: 'user space: an NFQUEUE filter program',
  ebpf: 'eBPF: a tc classifier program',
  kernel: 'kernel: a netfilter module',
};

function isPlacement(x: unknown): x is ModelPlacement {
  return (MODEL_PLACEMENTS as readonly unknown[]).includes(x);
}

/** The placement whose sources a file belongs to (kernel_space.c -> kernel), if any. */
function placementOfFile(file: string): ModelPlacement | undefined {
  return MODEL_PLACEMENTS.find((p) => PLACEMENT_FILES[p].includes(path.basename(file)));
}

/** The project and placement to build: from the arguments, else the active editor, else asking. */
async function resolveTarget(workspace: string, arg: unknown, placementArg: unknown): Promise<{ project: ModelProject; placement: ModelPlacement } | undefined> {
  const file = arg instanceof vscode.Uri ? arg.fsPath : vscode.window.activeTextEditor?.document.uri.fsPath;
  let project = typeof arg === 'string' ? projectAt(path.resolve(workspace, arg)) : file ? projectOf(file, workspace) : undefined;
  if (typeof arg === 'string' && !project) throw new Error(`${path.resolve(workspace, arg)} is not a model project (no Makefile with a model source).`);
  if (!project) {
    const projects = await findModelProjects();
    if (projects.length === 0) throw new Error('There is no model project in this workspace: run "HyperShield: New Security Model" first.');
    project = projects.length === 1 ? projects[0]
      : (await vscode.window.showQuickPick(projects.map((p) => ({ label: vscode.workspace.asRelativePath(p.dir), p })), { title: 'Build which model project?' }))?.p;
    if (!project) return undefined;
  }
  // From the editor (title menu passes its Uri) the file says which placement it is.
  const fromFile = file && (arg === undefined || arg instanceof vscode.Uri) ? placementOfFile(file) : undefined;
  let placement = isPlacement(placementArg) ? placementArg : fromFile && project.placements.includes(fromFile) ? fromFile : project.placements.length === 1 ? project.placements[0] : undefined;
  placement ??= (await vscode.window.showQuickPick(project.placements.map((p) => ({ label: p, description: PLACEMENT_LABELS[p], p })), { title: 'Build which placement?' }))?.p;
  return placement ? { project, placement } : undefined;
}

/** `base`, or base-2, base-3, ... : the first that is missing or empty, so the offered default is accepted. */
function freeFolder(workspace: string, base: string): string {
  const usable = (name: string) => {
    const dir = path.join(workspace, name);
    return !fs.existsSync(dir) || fs.readdirSync(dir).length === 0;
  };
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    if (usable(name)) return name;
  }
}

/** Opens a template source at its POLICY section, where a researcher's own logic goes. */
async function showAtPolicy(file: string): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
  const line = doc.getText().split('\n').findIndex((l) => l.includes('POLICY:'));
  const at = new vscode.Range(Math.max(0, line), 0, Math.max(0, line), 0);
  await vscode.window.showTextDocument(doc, { selection: at });
  vscode.window.activeTextEditor?.revealRange(at, vscode.TextEditorRevealType.AtTop);
}

/** Menus pass tree nodes; only a folder (string) or a file (Uri) names what to build. */
function targetArg(arg: unknown): string | vscode.Uri | undefined {
  return typeof arg === 'string' || arg instanceof vscode.Uri ? arg : undefined;
}

export function modelCommands(s: Services): CommandSpec[] {
  const { workbench, diagnostics, log } = s;
  return [
    {
      id: 'hypershield.model.new',
      run: async (dirArg?: unknown, placementArg?: unknown) => {
        const workspace = workbench.requireFolder();
        let dir = typeof dirArg === 'string' ? dirArg : undefined;
        dir ??= await vscode.window.showInputBox({
          title: 'New Security Model: project folder (relative to the workspace)',
          value: freeFolder(workspace, 'model'),
          validateInput: (v) => {
            const target = path.resolve(workspace, v.trim());
            if (!v.trim()) return 'Name a folder';
            return fs.existsSync(target) && fs.readdirSync(target).length ? `${v} exists and is not empty` : undefined;
          },
        });
        if (!dir) return undefined;
        let placement: ModelPlacement | 'all' | undefined = isPlacement(placementArg) || placementArg === 'all' ? placementArg : undefined;
        placement ??= (await vscode.window.showQuickPick([
          { label: 'all', description: 'every placement, to compare them', p: 'all' as const },
          ...MODEL_PLACEMENTS.map((p) => ({ label: p, description: PLACEMENT_LABELS[p], p })),
        ], { title: 'New Security Model: placement' }))?.p;
        if (!placement) return undefined;
        const result = scaffoldModel(path.resolve(workspace, dir), placement);
        setContext('hypershield.hasModel', true);
        const main = result.files.find((f) => MODEL_PLACEMENTS.some((p) => PLACEMENT_FILES[p][0] === f));
        if (main) await showAtPolicy(path.join(result.dir, main));
        const rel = vscode.workspace.asRelativePath(result.dir);
        void vscode.window.showInformationMessage(`HyperShield: created ${rel}/ with ${result.files.join(', ')}. Your logic goes in the POLICY section${main ? ` of ${main}` : ''}.`, 'Reveal in Explorer').then((pick) => {
          if (pick) void vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(result.dir));
        });
        return result;
      },
    },
    {
      id: 'hypershield.model.build',
      run: async (arg?: unknown, placementArg?: unknown): Promise<BuildResult | undefined> => {
        const target = await resolveTarget(workbench.requireFolder(), targetArg(arg), placementArg);
        if (!target) return undefined;
        await vscode.workspace.saveAll(false);
        const def = { type: TASK_TYPE, task: 'build' as const, model: path.relative(workbench.requireFolder(), target.project.dir) || '.', placement: target.placement };
        const outcome = await runTask(s.tasks, `HyperShield: building the ${target.placement} model`, s.tasks.build(def));
        if (outcome.value) {
          announce(`built the ${target.placement} model (${outcome.value.diagnostics.length} message(s))`);
          return outcome.value;
        }
        if (outcome.error && outcome.code !== 130) {
          void vscode.window.showErrorMessage(`HyperShield: ${outcome.error.message}`, 'Show Problems').then((pick) => {
            if (pick) void vscode.commands.executeCommand('workbench.actions.view.problems');
          });
        }
        return undefined;
      },
    },
    {
      id: 'hypershield.model.deploy',
      run: async (arg?: unknown, placementArg?: unknown): Promise<DeployResult | undefined> => {
        const target = await resolveTarget(workbench.requireFolder(), targetArg(arg), placementArg);
        if (!target) return undefined;
        await vscode.workspace.saveAll(false);
        const { project, placement } = target;
        const backend = await workbench.backend();
        try {
          const result = await withCancellableProgress(`Deploying the ${placement} model on testbed ${backend.testbed.name}`, log,
            (opts) => deployModel(backend, project.dir, placement, { ...opts, build: { onOutput: (chunk) => log.trace(chunk.trimEnd()) } }));
          // A successful build replaces the previous build's and load's messages (warnings stay).
          diagnostics.setBuild(project.dir, result.build.diagnostics);
          announce(`deployed the ${placement} model on ${backend.testbed.name}: ${result.verified}`);
          return result;
        } catch (err) {
          // Build errors replace the project's messages; a load failure (kernel log) comes after a clean build.
          if (err instanceof DeployError && err.diagnostics.length) {
            diagnostics.setBuild(project.dir, err.diagnostics.filter((d) => d.source !== 'load'));
            diagnostics.addLoad(project.dir, err.diagnostics.filter((d) => d.source === 'load'));
            throw new ActionableError(err.message, [SHOW_PROBLEMS]);
          }
          throw err;
        } finally {
          await workbench.readTestbed();
        }
      },
    },
    {
      id: 'hypershield.model.undeploy',
      run: async () => {
        const backend = await workbench.backend();
        try {
          const { removed } = await withCancellableProgress(`Undeploying the model of testbed ${backend.testbed.name}`, log, (opts) => undeployModel(backend, opts));
          const msg = removed ? `Undeployed the model of testbed ${backend.testbed.name}; traffic crosses the model host unfiltered.` : `No model was deployed on testbed ${backend.testbed.name}.`;
          log.info(msg);
          announce(msg);
          return removed;
        } finally {
          await workbench.readTestbed();
        }
      },
    },
  ];
}
