// The hot lines of a run placed in the model's source files on this machine, for the editor.
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
