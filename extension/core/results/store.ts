import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJson, writeFileAtomic } from '../util/atomic-file';
import { processAlive } from '../util/pid';
import { SCHEMA_VERSION, type ModelInfo, type RunFile } from './run-file';
import { latestRunOfModel, previousBuildRun } from './build-regression';
import { describeErrors, validator } from '../util/schemas';

export interface RunListing {
  id: string;
  file: string;
  run: RunFile;
}

/** Run files under <workspace>/.hypershield/results: one file a run, never overwritten by another run. */
export class ResultsStore {
  readonly dir: string;

  constructor(workspace: string) {
    this.dir = path.join(workspace, '.hypershield', 'results');
  }

  fileOf(id: string): string {
    return path.join(this.dir, `${id}.json`);
  }

  /** Claims a new, unique run id by creating its file exclusively. */
  create(run: Omit<RunFile, 'id'>): RunFile {
    fs.mkdirSync(this.dir, { recursive: true });
    for (let attempt = 0; ; attempt++) {
      const id = newRunId(new Date());
      const created: RunFile = { ...run, id };
      try {
        fs.writeFileSync(this.fileOf(id), JSON.stringify(created, null, 2) + '\n', { flag: 'wx' });
        return created;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 20) throw err;
      }
    }
  }

  /** Rewrites a run's own file atomically (only the run that created it does this). */
  save(run: RunFile): void {
    writeFileAtomic(this.fileOf(run.id), JSON.stringify(run, null, 2) + '\n');
  }

  read(idOrFile: string): RunFile {
    const file = idOrFile.endsWith('.json') ? path.resolve(idOrFile) : this.fileOf(idOrFile);
    const run = readJson<RunFile>(file);
    if (!run) throw new Error(`No run "${idOrFile}" (looked for ${file}); \`hypershield report\` lists runs.`);
    return settle(run, file);
  }

  /** All runs, newest first. Unreadable files are skipped with a note in `skipped`. */
  list(): { runs: RunListing[]; skipped: string[] } {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir).filter((n) => n.endsWith('.json'));
    } catch {
      return { runs: [], skipped: [] };
    }
    const runs: RunListing[] = [];
    const skipped: string[] = [];
    for (const name of names) {
      const file = path.join(this.dir, name);
      try {
        const run = settle(readJson<RunFile>(file)!, file);
        runs.push({ id: run.id, file, run });
      } catch (err) {
        skipped.push(`${file}: ${(err as Error).message}`);
      }
    }
    runs.sort((a, b) => b.run.metadata.startedAt.localeCompare(a.run.metadata.startedAt) || b.id.localeCompare(a.id));
    return { runs, skipped };
  }

  /** Deletes a run's file (Delete Run; a run stopped before its first measurement is not worth keeping). */
  remove(id: string): void {
    fs.rmSync(this.fileOf(id), { force: true });
  }

  latest(): RunFile | undefined {
    return this.list().runs[0]?.run;
  }

  /** The latest earlier run of the previous build of `run`'s model of that placement (see previousBuildRun). */
  previousBuild(run: RunFile, placement: ModelInfo['placement']): RunFile | undefined {
    return previousBuildRun(run, placement, this.list().runs.map((r) => r.run));
  }

  /** The newest complete run that measured the model of `placement` in folder `dir`. */
  latestOfModel(dir: string, placement: ModelInfo['placement']): RunFile | undefined {
    return latestRunOfModel(this.list().runs.map((r) => r.run), dir, placement);
  }
}

/**
 * Checks a run file against schemas/run.schema.json. A "running" file whose writer is gone was interrupted hard
 * (kill -9): it is reported as incomplete.
 */
function settle(run: RunFile, file: string): RunFile {
  if (typeof run?.schemaVersion === 'number' && run.schemaVersion > SCHEMA_VERSION) throw new Error(`${file} has schemaVersion ${run.schemaVersion}; this workbench reads up to ${SCHEMA_VERSION}: update it.`);
  const validate = validator('run');
  if (!validate(run)) {
    const problems = describeErrors(validate.errors, run);
    throw new Error(`${file} is not a valid run file (schemas/run.schema.json):\n${problems.slice(0, 5).map((p) => `  ${p}`).join('\n')}${problems.length > 5 ? `\n  … and ${problems.length - 5} more` : ''}`);
  }
  if (run.status === 'running' && !(run.pid && processAlive(run.pid))) {
    return { ...run, status: 'incomplete', reason: run.reason ?? 'the process writing this run ended without finishing it' };
  }
  return run;
}

function newRunId(d: Date): string {
  const stamp = d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}
