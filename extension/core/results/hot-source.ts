// The hot lines of a run placed in the model's source files on this machine, for the editor.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HotLine } from './run-file';
import type { HotSpots } from './hot-spots';

export interface PlacedHotLine extends HotLine {
  placement: HotSpots['placement'];
  /** Absolute path of the source file on this machine. */
  path: string;
}

/** Where a recorded source file is: relative names join the run's model project folder; absolute ones stay. */
function placed(s: HotSpots, file: string): string | undefined {
  if (!path.isAbsolute(file)) return s.modelDir ? path.join(s.modelDir, file) : undefined;
  return file;
}

/** Every sampled line of the run's model source, hottest first. */
export function placedHotLines(spots: readonly HotSpots[]): PlacedHotLine[] {
  return spots.flatMap((s) => s.lines.flatMap((l) => {
    const p = placed(s, l.file);
    return p ? [{ ...l, placement: s.placement, path: p }] : [];
  })).sort((a, b) => b.percent - a.percent);
}

/** The sampled lines of one source file; a file of the same name in the model project matches a build made elsewhere. */
export function hotLinesOfFile(spots: readonly HotSpots[], file: string): PlacedHotLine[] {
  const all = placedHotLines(spots);
  const exact = all.filter((l) => l.path === file);
  if (exact.length) return exact;
  return all.filter((l) => path.isAbsolute(l.file) && path.basename(l.file) === path.basename(file)
    && spots.some((s) => s.placement === l.placement && s.modelDir && path.dirname(file) === s.modelDir));
}

/** A hot line a view asks to open: placement, file as the run recorded it, and line. */
export interface HotLineRef {
  placement: HotSpots['placement'];
  file: string;
  line: number;
}

const inside = (dir: string, p: string) => p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);

/**
 * The file on this machine of a hot line the run recorded, for opening it: only a line the run holds (a function's
 * hottest line or a sampled line), only inside the model project folder of its placement, symbolic links followed.
 * A file recorded with an absolute path outside the folder (a build made elsewhere) is looked for by its name in the
 * folder, as the editor's decorations do. Throws, naming what is missing, otherwise.
 */
export function resolveHotLine(spots: readonly HotSpots[], ref: HotLineRef): string {
  const where = `${ref.file}:${ref.line} (${ref.placement} placement)`;
  const s = spots.find((x) => x.placement === ref.placement);
  const recorded = s && (s.lines.some((l) => l.file === ref.file && l.line === ref.line) || s.functions.some((f) => f.file === ref.file && f.line === ref.line));
  if (!s || !recorded) throw new Error(`The run has no hot line ${where}.`);
  if (!s.modelDir) throw new Error(`The run does not record the model project folder of its ${ref.placement} placement, so ${where} cannot be found.`);
  let dir: string;
  try {
    dir = fs.realpathSync(s.modelDir);
  } catch {
    throw new Error(`The model project folder ${s.modelDir} of this run is gone: ${where} cannot be opened.`);
  }
  const candidates = path.isAbsolute(ref.file) ? [ref.file, path.join(dir, path.basename(ref.file))] : [path.join(dir, ref.file)];
  for (const c of candidates) {
    let real: string;
    try {
      real = fs.realpathSync(c);
    } catch {
      continue;
    }
    if (inside(dir, real) && fs.statSync(real).isFile()) return real;
  }
  throw new Error(`${where} is not a file inside the model project folder ${s.modelDir}: only the model's own sources open from a run.`);
}
