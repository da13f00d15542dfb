// Where the model templates live and which of them each placement needs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Placement } from '../results/run-file';

/** Where a model runs on the model host. */
export type ModelPlacement = Exclude<Placement, 'none'>;
export const MODEL_PLACEMENTS: readonly ModelPlacement[] = ['user', 'ebpf', 'kernel'];

/** Files every model project gets; other template files that belong to no placement (e.g. .clangd) come too. */
export const COMMON_FILES: readonly string[] = ['Makefile', 'README.md'];

/** What builds leave in the template folder (kbuild writes next to the sources); never copied. */
const BUILD_OUTPUT = /\.(?:o|ko|mod|mod\.c|cmd|d|tmp)$|^(?:Module\.symvers|modules\.order|compile_commands\.json)$/;

/** The sources of each placement. */
export const PLACEMENT_FILES: Readonly<Record<ModelPlacement, readonly string[]>> = {
  user: ['user_space_model.c', 'packet_queue.c', 'packet_queue.h'],
  ebpf: ['ebpf_model.c'],
  kernel: ['kernel_space.c', 'Kbuild'],
};

const TEMPLATES_SUBDIR = path.join('native-templates', 'model');

/**
 * The template folder, found from this code's location: dist/cli.js and dist/extension.js sit one level below the
 * package root, the TypeScript sources (run with tsx) three levels below.
 */
export function templatesDir(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, TEMPLATES_SUBDIR);
    if (fs.existsSync(path.join(candidate, 'Makefile'))) return candidate;
    if (path.dirname(dir) === dir) break;
  }
  throw new Error(`The model templates (${TEMPLATES_SUBDIR}) were not found above ${from}; the HyperShield installation is incomplete: reinstall it.`);
}

/** The files of the template folder that a project can get: sources and settings, not build outputs or folders. */
export function templateFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile() && !BUILD_OUTPUT.test(e.name)).map((e) => e.name).sort();
}

export function parsePlacement(value: string): ModelPlacement {
  if ((MODEL_PLACEMENTS as readonly string[]).includes(value)) return value as ModelPlacement;
  throw new Error(`Unknown placement "${value}": use ${MODEL_PLACEMENTS.join(', ')}.`);
}
