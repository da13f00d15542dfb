import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type Docker from 'dockerode';
import { bounded, type ExecOptions, type ExecResult, type Host, type HostStatus, type Role } from '../../hosts/host';
import { sleep } from '../../util/poll';
import { packAt, unpackTo } from './archive';
import { dockerCliArgs, type EngineTarget } from './engine';

/** Every exec carries this variable with a value of its own: how its processes are found again to end them. */
const EXEC_MARKER = 'HS_EXEC_ID';

/**
 * Sends signal $1 to every process whose environment holds the line $2. The Engine API can start an exec but not
 * signal it, and the pid it reports is this machine's (the engine may be elsewhere); the marker finds the exec's
 * process and everything it started, in the container's own pid namespace.
 */
const SIGNAL_SCRIPT = `for e in /proc/[0-9]*/environ; do
  if grep -qxzF "$2" "$e" 2>/dev/null; then p=\${e#/proc/}; kill -s "$1" "\${p%/environ}" 2>/dev/null; fi
done
exit 0`;

/** Bound on each engine request that is not the command itself (create, inspect, the signal exec). */
const ENGINE_TIMEOUT_MS = 30_000;

/** Collects a demultiplexed output stream as text, passing each chunk on. */
function collector(onChunk?: (chunk: string) => void): Writable & { text: () => string } {
  const decoder = new StringDecoder('utf8');
  let text = '';
  const w = new Writable({
    write(chunk: Buffer, _enc, done) {
      const s = decoder.write(chunk);
      text += s;
      if (s) onChunk?.(s);
      done();
    },
  });
  return Object.assign(w, { text: () => text + decoder.end() });
}

/** A host that is a container of a Docker engine: its own files and processes, this machine's kernel when the engine is local. */
export class DockerHost implements Host {
  readonly kind = 'docker' as const;
  readonly label: string;
  private kernel: Promise<string> | undefined;

  constructor(readonly role: Role, readonly container: string, private readonly engine: () => Docker, private readonly target: EngineTarget) {
    this.label = `${role} (container ${container})`;
  }

  async exec(argv: readonly string[], given?: ExecOptions): Promise<ExecResult> {
    const opts = bounded(given);
    const started = Date.now();
    if (argv.length === 0) throw new Error('DockerHost.exec: empty argv');
    if (opts.signal?.aborted) return { code: null, stdout: '', stderr: '', timedOut: false, cancelled: true, durationMs: 0 };
    const marker = `${EXEC_MARKER}=${randomUUID()}`;
    const env = [marker, ...Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`)];
    const withStdin = opts.stdin !== undefined;
    const exec = await this.engine().getContainer(this.container).exec({
      Cmd: [...argv], Env: env, WorkingDir: opts.cwd, AttachStdin: withStdin, AttachStdout: true, AttachStderr: true, Tty: false,
      abortSignal: AbortSignal.timeout(ENGINE_TIMEOUT_MS),
    }).catch((err: Error) => { throw this.engineError(`could not run \`${argv.join(' ')}\``, err); });
    const stream = await exec.start({ hijack: true, stdin: withStdin });
    const stdout = collector(opts.onStdout);
    const stderr = collector(opts.onStderr);
    this.engine().modem.demuxStream(stream, stdout, stderr);
    const ended = new Promise<void>((resolve) => { stream.once('end', resolve); stream.once('close', resolve); stream.once('error', () => resolve()); });
    if (withStdin) stream.end(opts.stdin);

    let timedOut = false;
    let cancelled = false;
    let ending: Promise<void> | undefined;
    const end = () => (ending ??= this.endProcesses(marker, ended));
    const timer = opts.timeoutMs ? setTimeout(() => { timedOut = true; void end(); }, opts.timeoutMs) : undefined;
    const onAbort = () => { cancelled = true; void end(); };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await ended;
      if (ending) await ending;
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      stream.destroy();
    }
    const code = timedOut || cancelled ? null : await this.exitCode(exec);
    return { code, stdout: stdout.text(), stderr: stderr.text(), timedOut, cancelled, durationMs: Date.now() - started };
  }

  /** Ends an exec's processes: SIGTERM, then SIGKILL for whatever is still there after 2 s. */
  private async endProcesses(marker: string, ended: Promise<void>): Promise<void> {
    const gone = (ms: number) => Promise.race([ended.then(() => true), sleep(ms).then(() => false)]);
    await this.signal('TERM', marker);
    if (await gone(2000)) return;
    await this.signal('KILL', marker);
    await gone(3000);
  }

  private async signal(sig: 'TERM' | 'KILL', marker: string): Promise<void> {
    // A container that is gone (the exec rejects) took the processes with it.
    await this.exec(['sh', '-c', SIGNAL_SCRIPT, 'hs-signal', sig, marker], { timeoutMs: 10_000 }).catch(() => undefined);
  }

  /** The exit code; the engine may report the exec as running for a moment after its output ends. */
  private async exitCode(exec: Docker.Exec): Promise<number | null> {
    for (let i = 0; i < 100; i++) {
      const info = await exec.inspect({ abortSignal: AbortSignal.timeout(ENGINE_TIMEOUT_MS) });
      if (!info.Running) return info.ExitCode;
      await sleep(20);
    }
    return null;
  }

  async upload(localPath: string, remotePath: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    await this.engine().getContainer(this.container).putArchive(packAt(localPath, remotePath), { path: '/', abortSignal: opts.signal })
      .catch((err: Error) => { throw this.engineError(`could not copy ${localPath} to ${remotePath}`, err); });
  }

  async download(remotePath: string, localPath: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const archive = await this.engine().getContainer(this.container).getArchive({ path: remotePath, abortSignal: opts.signal })
      .catch((err: Error) => { throw this.engineError(`could not copy ${remotePath} from the container`, err); });
    await unpackTo(archive, localPath);
  }

  shellArgv(): string[] {
    return ['docker', ...dockerCliArgs(this.target), 'exec', '-it', this.container, 'bash'];
  }

  async status(): Promise<HostStatus> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.engine().getContainer(this.container).inspect({ abortSignal: AbortSignal.timeout(ENGINE_TIMEOUT_MS) });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return { state: 'absent', addresses: [] };
      throw err;
    }
    const addresses = Object.values(info.NetworkSettings.Networks ?? {}).filter((n) => n.IPAddress).map((n) => `${n.IPAddress}/${n.IPPrefixLen}`);
    // The engine's kernel is the containers' kernel.
    const kernel = await (this.kernel ??= this.engine().version().then((v) => v.KernelVersion));
    if (info.State.Running) return { state: 'running', addresses, kernel, detail: `container ${this.container} (${info.Config.Image})` };
    const why = info.State.OOMKilled ? 'killed for lack of memory' : `exited with code ${info.State.ExitCode}`;
    return { state: 'stopped', addresses: [], detail: `container ${this.container} ${why} at ${info.State.FinishedAt}, not by the workbench: \`hypershield up\` recreates the testbed` };
  }

  private engineError(what: string, err: Error): Error {
    const code = (err as { statusCode?: number }).statusCode;
    if (code === 404 || code === 409) return new Error(`${this.label}: ${what}: the container is gone or stopped (${err.message.trim()}). Bring the testbed up again.`);
    return new Error(`${this.label}: ${what}: ${err.message.trim()}`);
  }
}
