// `hypershield new`: a model project made from the templates.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMON_FILES, MODEL_PLACEMENTS, PLACEMENT_FILES, templateFiles, templatesDir, type ModelPlacement } from './templates';

export interface ScaffoldResult {
  dir: string;
  files: string[];
}

/**
 * The template files a project for these placements gets, in a stable order: the common files, the placements'
 * sources, and any other template file no placement claims (editor settings such as .clangd).
 */
export function filesFor(placement: ModelPlacement | 'all', from: string = templatesDir()): string[] {
  const placements = placement === 'all' ? MODEL_PLACEMENTS : [placement];
  const claimed = new Set([...COMMON_FILES, ...MODEL_PLACEMENTS.flatMap((p) => PLACEMENT_FILES[p])]);
  const unclaimed = fs.existsSync(from) ? templateFiles(from).filter((f) => !claimed.has(f)) : [];
  return [...COMMON_FILES, ...placements.flatMap((p) => PLACEMENT_FILES[p]), ...unclaimed];
}

/**
 * Copies the templates a placement needs into dir. dir must be missing or empty. The files are staged next to dir
 * and renamed into place, so a failure leaves nothing behind.
 */
export function scaffoldModel(dir: string, placement: ModelPlacement | 'all' = 'all', from: string = templatesDir()): ScaffoldResult {
  const target = path.resolve(dir);
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new Error(`Cannot create a model project in ${target}: it is a file. Choose a new folder.`);
    if (code !== 'ENOENT') throw new Error(`Cannot read ${target}: ${(err as Error).message}`);
  }
  if (entries.length) {
    throw new Error(`Cannot create a model project in ${target}: the folder is not empty (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''}). Choose a new or empty folder.`);
  }
  const files = filesFor(placement, from);
  const missing = files.filter((f) => !fs.existsSync(path.join(from, f)));
  if (missing.length) throw new Error(`The model templates in ${from} lack ${missing.join(', ')}; reinstall HyperShield.`);

  const createdParent = fs.mkdirSync(path.dirname(target), { recursive: true });
  const stage = fs.mkdtempSync(path.join(path.dirname(target), `.${path.basename(target)}.new-`));
  try {
    fs.chmodSync(stage, 0o755);
    for (const f of files) fs.copyFileSync(path.join(from, f), path.join(stage, f));
    // rename(2) replaces an empty directory, so an existing empty dir is fine too.
    fs.renameSync(stage, target);
  } catch (err) {
    fs.rmSync(stage, { recursive: true, force: true });
    if (createdParent) fs.rmSync(createdParent, { recursive: true, force: true });
    throw new Error(`Could not create the model project in ${target}: ${(err as Error).message}`);
  }
  return { dir: target, files };
}
