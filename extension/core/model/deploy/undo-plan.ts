// What undoes a deployment, kept ON THE MODEL HOST: one file per step, each holding an argv (every argument followed
// by a NUL, as `printf '%s\0'` writes it). Every step is recorded before the change it undoes is made, so the
// workbench (on failure or undeploy) and the watchdog (when the workbench stops answering) can roll back whatever
// was done, in reverse order, on the host itself (see UNDO_STEPS_SCRIPT).
import * as path from 'node:path';
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
 * gone" is not a failure); for each that fails it prints `undo-failed FILE: ARGV: OUTPUT` on one line. A step runs
 * through /bin/sh: busybox's xargs (the VM guest's) would start a step's `sh` as busybox's own shell, which runs
 * busybox's applets before the programs on the PATH (its tc knows no clsact).
 */
export const UNDO_STEPS_SCRIPT = `if [ -d "$undo" ]; then
  for step in $(ls -r "$undo"); do
    out=$(xargs -0 -r /bin/sh -c 'exec "$@"' hs-undo-step < "$undo/$step" 2>&1) ||
      printf 'undo-failed %s: %s: %s\\n' "$step" "$(tr '\\0' ' ' < "$undo/$step")" "$(printf '%s' "$out" | tr '\\n' ' ')"
  done
fi`;

/**
 * Shell text defining `record_steps`, for scripts that record undo steps on the host themselves (in the command that
 * then makes the changes): `record_steps "$@"` reads, from the front of its arguments, what stepArgs() made (a count,
 * then each step's file, N and the N words of its argv), writes each step to a hidden file beside its own, renamed
 * when whole, and sets rec_words to the number of arguments read (the caller then shifts them). Its variables start
 * with rec_.
 */
export const RECORD_FUNCTION = `record_steps() {
  rec_steps=$1 rec_words=1; shift
  while [ "$rec_steps" -gt 0 ]; do
    rec_file=$1 rec_n=$2; shift 2
    rec_words=$((rec_words + rec_n + 2))
    rec_tmp="\${rec_file%/*}/.\${rec_file##*/}"
    : > "$rec_tmp" || return 1
    while [ "$rec_n" -gt 0 ]; do printf '%s\\0' "$1" >> "$rec_tmp" || return 1; shift; rec_n=$((rec_n - 1)); done
    mv "$rec_tmp" "$rec_file" || return 1
    rec_steps=$((rec_steps - 1))
  done
}`;

/** The arguments RECORD_FUNCTION's record_steps reads: the count, then each step's file, its argv's length, its argv. */
export function stepArgs(steps: readonly UndoStep[]): string[] {
  return [String(steps.length), ...steps.flatMap((s) => [s.file, String(s.argv.length), ...s.argv])];
}

/** Names and places the steps of one deployment, in the order they are recorded. */
export class UndoPlan {
  private count = 0;

  constructor(private readonly dir: RunDir) {}

  /**
   * The next step. The caller records it on the host itself (RECORD_FUNCTION, or as kernel-module.ts's LOAD_SCRIPT
   * does) in the command that then makes the change, BEFORE making it.
   */
  next(name: string, argv: string[]): UndoStep {
    if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`Undo step names are lower-case words: ${name}`);
    this.count++;
    return { name, argv, file: path.posix.join(this.dir.undo, `${String(this.count).padStart(3, '0')}-${name}`) };
  }
}
