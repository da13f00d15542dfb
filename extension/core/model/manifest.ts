// hypershield.model.json: how each placement of a model project is built and what the build produces, so a project
// laid out differently from the templates (its own Makefile target, ./user_space_model at the top) builds too.
// `hypershield new` copies the templates' manifest; a project without one is built as the templates are.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import schema from '../../../schemas/model.schema.json';
import { templatesDir, type ModelPlacement } from './templates';

export const MANIFEST_FILE = 'hypershield.model.json';

export interface PlacementBuild {
  /** argv, run in the project folder. */
  build: string[];
  /** Relative to the project folder. */
  artifact: string;
}

export interface ModelManifest {
  placements: Partial<Record<ModelPlacement, PlacementBuild>>;
}

let compiled: ValidateFunction | undefined;
const validator = (): ValidateFunction => (compiled ??= new Ajv({ allErrors: true }).compile(schema));

/** Reads and validates a manifest file; throws naming the file and each problem. */
export function readManifest(file: string): ModelManifest {
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`Cannot read ${file}: ${(err as Error).message}`);
  }
  const validate = validator();
  if (!validate(data)) {
    const problems = validate.errors!.map((e) => `${e.instancePath || '(document)'} ${e.message}`).join('; ');
    throw new Error(`${file} is not a valid model manifest: ${problems}. Fix it (its schema is schemas/model.schema.json).`);
  }
  return data as ModelManifest;
}

/** How the project in modelDir builds placement: from its manifest, or the templates' when it has none. */
export function placementBuild(modelDir: string, placement: ModelPlacement): PlacementBuild {
  const own = path.join(modelDir, MANIFEST_FILE);
  const file = fs.existsSync(own) ? own : path.join(templatesDir(), MANIFEST_FILE);
  const entry = readManifest(file).placements[placement];
  if (!entry) throw new Error(`${file} does not say how to build the ${placement} placement: add "placements": {"${placement}": {"build": [...], "artifact": "..."}}.`);
  return entry;
}
