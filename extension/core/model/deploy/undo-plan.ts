// What undoes a deployment, kept ON THE MODEL HOST: one file per step, each holding an argv (every argument followed
// by a NUL, as `printf '%s\0'` writes it). Every step is recorded before the change it undoes is made, so the
// workbench (on failure or undeploy) and the watchdog (when the workbench stops answering) can roll back whatever
// was done, in reverse order, on the host itself (see UNDO_STEPS_SCRIPT).
import * as path from 'node:path';
import { run, type Host } from '../../hosts/host';
import type { RunDir } from './run-dir';

export interface UndoStep {
  name: string;
  argv: string[];
  /** Where the step is kept on the host. */
  file: string;
}

/**
 * Shell text (a fragment of the watchdog's and the undeploy's scripts) that runs every step in "$undo", last
 * recorded first, and keeps going after a failure so as much as possible is undone. Steps are idempotent ("already
 * gone" is not a failure); for each that fails it prints `undo-failed FILE: ARGV: OUTPUT` on one line.
 */
export const UNDO_STEPS_SCRIPT = `if [ -d "$undo" ]; then
  for step in $(ls -r "$undo"); do
    out=$(xargs -0 -r env < "$undo/$step" 2>&1) ||
      printf 'undo-failed %s: %s: %s\\n' "$step" "$(tr '\\0' ' ' < "$undo/$step")" "$(printf '%s' "$out" | tr '\\n' ' ')"
  done
fi`;

export class UndoPlan {
  private count = 0;

  constructor(private readonly host: Host, private readonly dir: RunDir) {}

  /**
   * The next step, for a caller that records it on the host itself (in the same command that then makes the change,
   * writing it with `printf '%s\0'` to a hidden file beside step.file and renaming it).
   */
  next(name: string, argv: string[]): UndoStep {
    if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`Undo step names are lower-case words: ${name}`);
    this.count++;
    return { name, argv, file: path.posix.join(this.dir.undo, `${String(this.count).padStart(3, '0')}-${name}`) };
  }

  /** Records a step on the host; call it BEFORE making the change the step undoes. */
  async add(name: string, argv: string[], signal?: AbortSignal): Promise<void> {
    const step = this.next(name, argv);
    await run(this.host, ['sh', '-c', 'cat > "$1"', 'hs-undo-write', step.file], { stdin: argv.map((a) => `${a}\0`).join(''), signal, timeoutMs: 15_000 });
  }
}
