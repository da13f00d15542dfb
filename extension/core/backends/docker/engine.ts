// Which Docker engine a testbed talks to, and the one client connected to it.
import Docker from 'dockerode';

export const DEFAULT_ENGINE = 'unix:///var/run/docker.sock';

/**
 * Bound on one engine request that is not a command's own run (list, inspect, create, remove): an engine that stops
 * answering (a wedged or frozen dockerd) fails the request instead of hanging `down` or a run's `finally`.
 */
export const ENGINE_TIMEOUT_MS = 30_000;

/** The signal of one bounded engine request: ENGINE_TIMEOUT_MS, and the caller's signal when there is one. */
export function engineDeadline(signal?: AbortSignal): AbortSignal {
  return signal ? AbortSignal.any([AbortSignal.timeout(ENGINE_TIMEOUT_MS), signal]) : AbortSignal.timeout(ENGINE_TIMEOUT_MS);
}

/** Where the engine's API is. */
export type EngineTarget =
  | { kind: 'unix'; socketPath: string }
  | { kind: 'tcp'; host: string; port: number }
  /**
   * An engine on another machine, reached over SSH. The seam for the SSH transport (extension/core/hosts/ssh):
   * dockerode accepts an http.Agent whose createConnection returns a stream; one that opens a channel of an
   * SshConnection to the remote /var/run/docker.sock (with that connection's host-key rules) plugs in here. Until
   * then it is refused: docker-modem's own ssh:// support accepts any host key.
   */
  | { kind: 'ssh'; url: string };

/** The engine of a testbed: its `docker.engine` setting, else DOCKER_HOST, else the default socket. */
export function engineTarget(configured?: string): EngineTarget {
  const spec = configured || process.env.DOCKER_HOST || DEFAULT_ENGINE;
  const url = (() => {
    try {
      return new URL(spec.includes('://') ? spec : `tcp://${spec}`);
    } catch {
      throw new Error(`The Docker engine "${spec}" is not an address: use unix:///path/to/docker.sock, tcp://host:port or ssh://user@host.`);
    }
  })();
  switch (url.protocol) {
    case 'unix:':
      return { kind: 'unix', socketPath: url.pathname || '/var/run/docker.sock' };
    case 'tcp:':
    case 'http:':
      return { kind: 'tcp', host: url.hostname, port: Number(url.port || 2375) };
    case 'ssh:':
      return { kind: 'ssh', url: spec };
    default:
      throw new Error(`The Docker engine "${spec}" uses ${url.protocol}, which is not supported: use unix://, tcp:// or ssh://.`);
  }
}

export function describeEngine(t: EngineTarget): string {
  return t.kind === 'unix' ? `unix://${t.socketPath}` : t.kind === 'tcp' ? `tcp://${t.host}:${t.port}` : t.url;
}

/** A client for the engine; it connects per request, so creating one costs nothing. */
export function engineClient(t: EngineTarget): Docker {
  switch (t.kind) {
    case 'unix':
      return new Docker({ socketPath: t.socketPath });
    case 'tcp':
      return new Docker({ host: t.host, port: t.port, protocol: 'http' });
    case 'ssh':
      throw new Error(`The Docker engine ${t.url} is reached over SSH, which the docker backend does not support yet: ` +
        'run the workbench on that machine, or forward its socket (ssh -L /tmp/docker.sock:/var/run/docker.sock HOST) and use unix:///tmp/docker.sock.');
  }
}

/** Arguments of the docker CLI that reach the same engine (for terminals). */
export function dockerCliArgs(t: EngineTarget): string[] {
  return ['-H', describeEngine(t)];
}

/** Answers within timeoutMs, or throws saying how to start the engine. */
export async function pingEngine(docker: Docker, t: EngineTarget, timeoutMs = 5000): Promise<void> {
  try {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs / 1000} s`)), timeoutMs); });
    await Promise.race([docker.ping(), late]).finally(() => clearTimeout(timer));
  } catch (err) {
    const hint = t.kind === 'unix'
      ? 'Start it (`systemctl start docker`, or `dockerd &` where there is no systemd; `hypershield doctor --install` installs Debian\'s docker.io), or point DOCKER_HOST or "docker.engine" in hypershield.testbed.json at a running one.'
      : 'Check that the engine runs there and listens on that address.';
    throw new Error(`The Docker engine at ${describeEngine(t)} does not answer (${(err as Error).message}). ${hint}`);
  }
}
