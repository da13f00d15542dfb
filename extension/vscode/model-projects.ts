import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { MODEL_PLACEMENTS, PLACEMENT_FILES, type ModelPlacement } from '../core/model/templates';

export interface ModelProject {
  dir: string;
  /** Placements whose main source the project has (user_space_model.c, ebpf_model.c, kernel_space.c). */
  placements: ModelPlacement[];
}

/** The placements a folder can build, judged by its Makefile and each placement's main source file. */
export function projectAt(dir: string): ModelProject | undefined {
  if (!fs.existsSync(path.join(dir, 'Makefile'))) return undefined;
  const placements = MODEL_PLACEMENTS.filter((p) => fs.existsSync(path.join(dir, PLACEMENT_FILES[p][0])));
  return placements.length ? { dir, placements } : undefined;
}

/** Model projects in the workspace (folders with a Makefile and a model source), nearest first. */
export async function findModelProjects(): Promise<ModelProject[]> {
  const makefiles = await vscode.workspace.findFiles('**/Makefile', '{**/node_modules/**,**/.hypershield/**,**/.git/**}', 200);
  return makefiles.map((u) => projectAt(path.dirname(u.fsPath))).filter((p): p is ModelProject => !!p)
    .sort((a, b) => a.dir.split(path.sep).length - b.dir.split(path.sep).length || a.dir.localeCompare(b.dir));
}

/** The project a file belongs to (the nearest folder above it that is a model project). */
export function projectOf(file: string, workspace: string): ModelProject | undefined {
  for (let dir = path.dirname(file); dir.startsWith(workspace); dir = path.dirname(dir)) {
    const p = projectAt(dir);
    if (p) return p;
    if (dir === workspace) break;
  }
  return undefined;
}
