import { run, type Host } from '../hosts/host';
import type { StopServer } from './benchmark';

export interface DaemonSpec {
  /** Program name as /proc/PID/comm shows it; a pid file is trusted only when it names this program. */
  name: string;
  runDir: string;
  /** Port the daemon listens on when ready. */
  port: string;
  /** Default tcp. */
  protocol?: 'tcp' | 'udp';
  /**
   * The command. By default it must daemonize itself and write its pid to pidFile; with `foreground` it stays in
   * the foreground and is started in a session of its own, its output going to logFile.
   */
  argv: (pidFile: string, logFile: string) => string[];
  foreground?: boolean;
  /** Given to the command on stdin, e.g. a configuration holding a secret that must not show in `ps`. */
  stdin?: string;
  signal?: AbortSignal;
  readyTimeoutMs?: number;
}

/**
 * Starts a self-daemonizing server on a host and returns how to stop it. The pid file lives on the host, so a
 * server left running by a killed workbench is found and stopped before the next one starts.
 */
export async function startDaemon(host: Host, spec: DaemonSpec): Promise<StopServer> {
  const pidFile = `${spec.runDir}/${spec.name}.pid`;
  const logFile = `${spec.runDir}/${spec.name}.log`;
  await run(host, ['mkdir', '-p', spec.runDir], { timeoutMs: 10_000 });
  await stopByPidFile(host, spec.name, pidFile);
  const argv = spec.argv(pidFile, logFile);
  // A fixed script; the files and the command are positional arguments, never spliced into its text. setsid runs
  // in place (a background job of a script leads no process group), so $! is the daemon's own pid.
  await run(host, spec.foreground ? ['sh', '-c', 'p=$1 l=$2; shift 2; setsid "$@" >"$l" 2>&1 </dev/null & echo $! >"$p"', 'sh', pidFile, logFile, ...argv] : argv,
    { signal: spec.signal, timeoutMs: 10_000, stdin: spec.stdin });
  // The host waits for the port itself: one round trip instead of one every 50 ms (a VM or SSH host pays each).
  const waitS = (spec.readyTimeoutMs ?? 5000) / 1000;
  const ready = await host.exec(['sh', '-c', WAIT_FOR_PORT, 'wait-for-port', spec.port, String(Math.ceil(waitS * 20)), spec.protocol === 'udp' ? '-Hlun' : '-Hltn'],
    { signal: spec.signal, timeoutMs: (waitS + 10) * 1000 });
  if (ready.code !== 0) {
    spec.signal?.throwIfAborted();
    const log = await host.exec(['tail', '-n', '5', logFile], { timeoutMs: 10_000 });
    throw new Error(`${spec.name} did not start listening on port ${spec.port} on ${host.label} within ${waitS} s: ${log.stdout.trim() || 'no log output'}`);
  }
  return () => stopByPidFile(host, spec.name, pidFile);
}

/** Waits (polling every 50 ms, $2 times at most) until something listens on port $1 (ss flags $3); exits 1 if nothing does. */
const WAIT_FOR_PORT = 'i=0; while [ "$i" -lt "$2" ]; do [ -n "$(ss "$3" "sport = :$1")" ] && exit 0; sleep 0.05; i=$((i+1)); done; exit 1';

/**
 * Stops the process of pid file $1 if it is still program $2 (a reused pid is left alone), then removes the file.
 * A zombie has exited: a self-daemonized server is its init's child, and an init that reaps late (a container's or
 * this kind of machine's, about a second) must not make every stop wait for it. Checked every 10 ms, for 2 s at most.
 */
const STOP_BY_PID_FILE = `pid=$(cat "$1" 2>/dev/null)
case "$pid" in ''|*[!0-9]*) pid= ;; esac
running() { s=$(cat /proc/$pid/stat 2>/dev/null) && s=\${s##*) } && [ "\${s%% *}" != Z ]; }
if [ -n "$pid" ] && [ "$(cat /proc/$pid/comm 2>/dev/null)" = "$2" ]; then
  kill "$pid"; i=0
  while [ "$i" -lt 200 ] && running; do sleep 0.01; i=$((i+1)); done
  running && kill -9 "$pid" 2>/dev/null
fi
rm -f "$1"`;

/** Stops the daemon of pidFile if it still is program name: what the StopServer of startDaemon does. */
export async function stopByPidFile(host: Host, name: string, pidFile: string): Promise<void> {
  await run(host, ['sh', '-c', STOP_BY_PID_FILE, 'stop', pidFile, name], { timeoutMs: 15_000 });
}
