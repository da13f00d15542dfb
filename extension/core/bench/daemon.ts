import { run, type Host } from '../hosts/host';
import type { StopServer } from './benchmark';
import { pollUntil, sleep } from '../util/poll';

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
  await run(host, ['mkdir', '-p', spec.runDir]);
  await stopByPidFile(host, spec.name, pidFile);
  const argv = spec.argv(pidFile, logFile);
  // A fixed script; the files and the command are positional arguments, never spliced into its text. setsid runs
  // in place (a background job of a script leads no process group), so $! is the daemon's own pid.
  await run(host, spec.foreground ? ['sh', '-c', 'p=$1 l=$2; shift 2; setsid "$@" >"$l" 2>&1 </dev/null & echo $! >"$p"', 'sh', pidFile, logFile, ...argv] : argv,
    { signal: spec.signal, timeoutMs: 10_000, stdin: spec.stdin });
  await pollUntil(async () => {
    const ss = await host.exec(['ss', spec.protocol === 'udp' ? '-Hlun' : '-Hltn', `sport = :${spec.port}`], { signal: spec.signal });
    return ss.code === 0 && ss.stdout.trim() ? true : undefined;
  }, {
    timeoutMs: spec.readyTimeoutMs ?? 5000,
    intervalMs: 50,
    signal: spec.signal,
    onTimeout: async () => {
      const log = await host.exec(['tail', '-n', '5', logFile]);
      return new Error(`${spec.name} did not start listening on port ${spec.port} on ${host.label}: ${log.stdout.trim() || 'no log output'}`);
    },
  });
  return () => stopByPidFile(host, spec.name, pidFile);
}

async function stopByPidFile(host: Host, name: string, pidFile: string): Promise<void> {
  const pid = (await host.exec(['cat', pidFile])).stdout.trim();
  if (/^\d+$/.test(pid)) {
    const comm = (await host.exec(['cat', `/proc/${pid}/comm`])).stdout.trim();
    if (comm === name) {
      await host.exec(['kill', pid]);
      for (let i = 0; i < 40 && (await host.exec(['kill', '-0', pid])).code === 0; i++) await sleep(50);
      await host.exec(['kill', '-9', pid]);
    }
  }
  await host.exec(['rm', '-f', pidFile]);
}
