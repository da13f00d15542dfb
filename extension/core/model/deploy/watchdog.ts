// A dead man's switch on the model host: a model that drops everything (including the workbench's own traffic)
// must not lock the researcher out. Armed before a model is loaded, it runs the undo plan unless the workbench
// confirms within N seconds that it still reaches the host.
import { run, type Host } from '../../hosts/host';
import type { RunDir } from './run-dir';

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
for step in $(ls -r "$undo"); do
  xargs -0 -r env < "$undo/$step"
done
rm -rf "$root"
rmdir "\${root%/*}"
`;

/** Starts the watchdog as a process of its own on the host (it outlives this command). */
export async function armWatchdog(host: Host, dir: RunDir, seconds: number, signal?: AbortSignal): Promise<void> {
  if (!Number.isInteger(seconds) || seconds < 1) throw new Error(`The watchdog timeout must be a whole number of seconds >= 1 (got ${seconds}).`);
  await run(host, ['mkdir', '-p', dir.watchdog, dir.undo], { signal, timeoutMs: 15_000 });
  await run(host, ['setsid', '-f', 'sh', '-c', WATCHDOG_SCRIPT, 'hs-watchdog', dir.root, dir.undo, dir.decided, String(seconds)], { signal, timeoutMs: 15_000 });
}

export type ConfirmOutcome = 'confirmed' | 'unreachable' | 'rolled back';

/**
 * Tells the watchdog to stand down. reachable() is the workbench's own check that it still gets through to the host;
 * when it fails, nothing is confirmed and the watchdog rolls the model back.
 */
export async function confirmWatchdog(host: Host, dir: RunDir, reachable: (host: Host) => Promise<boolean>): Promise<ConfirmOutcome> {
  if (!(await reachable(host).catch(() => false))) return 'unreachable';
  const r = await host.exec(['mkdir', dir.decided], { timeoutMs: 10_000 });
  if (r.code === 0) return 'confirmed';
  return r.timedOut || r.cancelled ? 'unreachable' : 'rolled back';
}

/** The default reachability check: a command round trip to the host within 10 s. */
export async function commandRoundTrip(host: Host): Promise<boolean> {
  const r = await host.exec(['true'], { timeoutMs: 10_000 });
  return r.code === 0;
}

/**
 * Stops a watchdog that has not decided yet (before an undeploy). Returns false when the watchdog has already
 * started rolling back; the caller then waits for it to finish.
 */
export async function disarmWatchdog(host: Host, dir: RunDir, signal?: AbortSignal): Promise<boolean> {
  const r = await host.exec(['sh', '-c', '[ ! -d "$1" ] || mkdir "$2" 2>/dev/null || [ ! -e "$2/by" ]', 'hs-disarm', dir.watchdog, dir.decided], { signal, timeoutMs: 15_000 });
  return r.code === 0;
}
