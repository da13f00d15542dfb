// A reproducibility bundle: one JSON file with a run (testbed, hosts' kernels and tool versions, plan, results),
// the sources of every model it measured and the command line that re-runs it. `hypershield bench --replay`
// runs the same plan again on the current testbed and compares the two runs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { modelSources, sourceHash } from '../model/source-hash';
import { readJson } from '../util/atomic-file';
import { describeErrors, validator } from '../util/schemas';
import type { ModelInfo, Placement, RunFile } from './run-file';
import { formatOverhead } from './table';

export interface BundledModel {
  sourceHash: string;
  placements: Array<ModelInfo['placement']>;
  /** Relative path -> text of each source file. */
  files: Record<string, string>;
}

export interface Bundle {
  bundleVersion: 1;
  createdAt: string;
  run: RunFile;
  models: BundledModel[];
  commandLine: string[];
}

/** The `hypershield bench` command line of a run's plan. */
export function commandLineOf(run: RunFile): string[] {
  const p = run.metadata.plan;
  const argv = ['hypershield', 'bench', '--benchmarks', p.benchmarks.join(','), '--modes', p.modes.join(','),
    '--reps', String(p.repetitions), '--warmup', String(p.warmup), '--duration', String(p.durationS)];
  if (run.metadata.models.length || p.placements.some((x) => x !== 'none')) argv.push('--placements', p.placements.join(','), '--model', 'MODEL_DIR');
  if (p.pin === 'auto') argv.push('--pin');
  else if (p.pin) argv.push('--pin', ...Object.entries(p.pin).map(([role, cpus]) => `${role}=${cpus}`));
  return argv;
}

/**
 * Bundles a run with the sources of its models, read from the model folders the run recorded. Refuses when those
 * sources changed since the run (their hash differs): the bundle would not reproduce it.
 */
export function createBundle(run: RunFile): Bundle {
  const byHash = new Map<string, BundledModel>();
  for (const m of run.metadata.models) {
    const known = byHash.get(m.sourceHash);
    if (known) {
      if (!known.placements.includes(m.placement)) known.placements.push(m.placement);
      continue;
    }
    if (!fs.existsSync(m.dir)) throw new Error(`The ${m.placement} model of run ${run.id} was built from ${m.dir}, which is gone: restore it to bundle the run.`);
    const now = sourceHash(m.dir);
    if (now !== m.sourceHash) {
      throw new Error(`The model sources in ${m.dir} changed since run ${run.id} (source hash ${m.sourceHash.slice(0, 12)} then, ${now.slice(0, 12)} now): ` +
        `restore the sources of the run${run.metadata.git ? ` (git commit ${run.metadata.git.commit.slice(0, 12)})` : ''} and bundle again.`);
    }
    byHash.set(m.sourceHash, { sourceHash: m.sourceHash, placements: [m.placement], files: Object.fromEntries(modelSources(m.dir).map((f) => [f, fs.readFileSync(path.join(m.dir, f), 'utf8')])) });
  }
  return { bundleVersion: 1, createdAt: new Date().toISOString(), run, models: [...byHash.values()], commandLine: commandLineOf(run) };
}

/** Reads and validates a bundle (schemas/bundle.schema.json). */
export function readBundle(file: string): Bundle {
  const bundle = readJson<unknown>(path.resolve(file));
  if (bundle === undefined) throw new Error(`No bundle at ${path.resolve(file)}; make one with \`hypershield bundle RUN -o FILE\`.`);
  const validate = validator('bundle');
  if (!validate(bundle)) {
    const problems = describeErrors(validate.errors, bundle);
    throw new Error(`${file} is not a valid bundle (schemas/bundle.schema.json):\n${problems.slice(0, 5).map((p) => `  ${p}`).join('\n')}`);
  }
  return bundle as Bundle;
}

/**
 * Writes each bundled model's sources under dir/<first 12 hex of its hash>/ and checks they hash as recorded.
 * Returns the folder of each placement.
 */
export function extractModels(bundle: Bundle, dir: string): Map<Placement, string> {
  const folders = new Map<Placement, string>();
  for (const m of bundle.models) {
    const target = path.join(dir, m.sourceHash.slice(0, 12));
    fs.rmSync(target, { recursive: true, force: true });
    for (const [rel, text] of Object.entries(m.files)) {
      const file = path.join(target, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
    }
    const got = sourceHash(target);
    if (got !== m.sourceHash) throw new Error(`The bundled sources of the ${m.placements.join('/')} model do not hash as recorded (${got.slice(0, 12)} instead of ${m.sourceHash.slice(0, 12)}): the bundle is damaged.`);
    for (const p of m.placements) folders.set(p, target);
  }
  return folders;
}

/**
 * One line per overhead both runs have: the original's and the replay's figure and interval, and whether they agree
 * (the intervals overlap) or differ.
 */
export function replayComparison(original: RunFile, replay: RunFile): string[] {
  const lines: string[] = [];
  for (const o of original.summary) {
    if (o.mode !== 'model' || o.overheadPercent === undefined) continue;
    const r = replay.summary.find((e) => e.mode === 'model' && e.benchmark === o.benchmark && e.placement === o.placement && e.metric === o.metric);
    if (r?.overheadPercent === undefined) continue;
    const verdict = o.overheadCi95 && r.overheadCi95
      ? (o.overheadCi95[0] <= r.overheadCi95[1] && r.overheadCi95[0] <= o.overheadCi95[1] ? 'consistent (the intervals overlap)' : 'DIFFERENT (the intervals do not overlap)')
      : 'no interval to compare';
    lines.push(`${o.benchmark} ${o.placement} ${o.metric}: original ${formatOverhead(o.overheadPercent, o.overheadCi95, o.overheadTooFewRounds)}, replay ${formatOverhead(r.overheadPercent, r.overheadCi95, r.overheadTooFewRounds)}: ${verdict}`);
  }
  return lines;
}
