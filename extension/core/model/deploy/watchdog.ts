// A dead man's switch on the model host: a model that drops everything (including the workbench's own traffic)
// must not lock the researcher out. Armed before a model is loaded, it runs the undo plan unless the workbench
// confirms within N seconds that it still reaches the host.
import type { RunDir } from './run-dir';
import { UNDO_STEPS_SCRIPT } from './undo-plan';

export const DEFAULT_WATCHDOG_SECONDS = 20;

/**
 * Fixed text; everything variable comes in as positional parameters ($1 run dir, $2 undo dir, $3 decided dir,
 * $4 seconds). Deciding is a mkdir, which only one of the watchdog and the workbench can win.
 */
const WATCHDOG_SCRIPT = `exec </dev/null >/dev/null 2>&1
root=$1 undo=$2 decided=$3 ticks=$(($4 * 5))
while [ "$ticks" -gt 0 ]; do
  [ -d "$decided" ] && exit 0
  sleep 0.2
  ticks=$((ticks - 1))
done
mkdir "$decided" 2>/dev/null || exit 0
echo watchdog > "$decided/by"
${UNDO_STEPS_SCRIPT}
rm -rf "$root"
rmdir "\${root%/*}"
`;

/** Makes the run folder ($1 watchdog dir, $2 undo dir), then starts "$@" as a process of its own (it outlives this command). */
const ARM_SCRIPT = 'mkdir -p "$1" "$2" || exit 1; shift 2; exec setsid -f "$@"';

/** The argv that arms the watchdog (one command, so it can go in a batch with others). */
export function armWatchdogArgv(dir: RunDir, seconds: number): string[] {
  if (!Number.isInteger(seconds) || seconds < 1) throw new Error(`The watchdog timeout must be a whole number of seconds >= 1 (got ${seconds}).`);
  return ['sh', '-c', ARM_SCRIPT, 'hs-arm', dir.watchdog, dir.undo, 'sh', '-c', WATCHDOG_SCRIPT, 'hs-watchdog', dir.root, dir.undo, dir.decided, String(seconds)];
}

export type ConfirmOutcome = 'confirmed' | 'unreachable' | 'rolled back';

/** The argv that confirms: whoever makes the decided folder first decides. */
export function confirmArgv(dir: RunDir): string[] {
  return ['mkdir', dir.decided];
}

/** What the confirming command's result means (it ran in time and made the folder, or the watchdog had decided). */
export function confirmOutcome(r: { code: number | null }): ConfirmOutcome {
  if (r.code === 0) return 'confirmed';
  return r.code === null ? 'unreachable' : 'rolled back';
}
