import { randomUUID } from 'node:crypto';
import { Transform, Writable, type Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type Docker from 'dockerode';
import { bounded, DEFAULT_TRANSFER_STALL_MS, type ExecOptions, type ExecResult, type Host, type HostStatus, type Role, type TransferOptions } from '../../hosts/host';
import { stalledMessage, stallGuard, type StallGuard } from '../../util/stall-guard';
import { sleep } from '../../util/poll';
import { packAt, unpackTo } from './archive';
import { describeEngine, dockerCliArgs, engineDeadline, ENGINE_TIMEOUT_MS, type EngineTarget } from './engine';

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

/** dockerode's version() takes options (an abortSignal) that its type declarations leave out. */
interface VersionWithSignal { version(opts: { abortSignal: AbortSignal }): Promise<Docker.DockerVersion> }

/** A pass-through stream that counts each chunk as progress of the guard's transfer. */
function progress(guard: StallGuard): Transform {
  return new Transform({ transform(chunk: Buffer, _enc, done) { guard.step(); done(null, chunk); } });
}

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

  /**
   * Runs argv in the container. The bound covers the whole call: creating and starting the exec in the engine as
   * well as the command's run, so an engine that stops answering fails the call as timed out too.
   */
  async exec(argv: readonly string[], given?: ExecOptions): Promise<ExecResult> {
    const opts = bounded(given);
    const started = Date.now();
    if (argv.length === 0) throw new Error('DockerHost.exec: empty argv');
    if (opts.signal?.aborted) return { code: null, stdout: '', stderr: '', timedOut: false, cancelled: true, durationMs: 0 };
    const marker = `${EXEC_MARKER}=${randomUUID()}`;
    const env = [marker, ...Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`)];
    const withStdin = opts.stdin !== undefined;

    let timedOut = false;
    let cancelled = false;
    let running: (() => void) | undefined;
    // Before the command runs, the timeout or an abort ends the engine request; once it runs, they end its processes.
    const stop = new AbortController();
    const onStop = () => { stop.abort(); running?.(); };
    const timer = setTimeout(() => { timedOut = true; onStop(); }, opts.timeoutMs);
    const onAbort = () => { cancelled = true; onStop(); };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const stopped = (): ExecResult => ({
      code: null, stdout: '', cancelled, timedOut, durationMs: Date.now() - started,
      stderr: timedOut ? `the Docker engine at ${describeEngine(this.target)} did not start the command within ${opts.timeoutMs! / 1000} s: ` +
        'check that dockerd runs and answers (`docker info`)\n' : '',
    });
    let startSent = false;
    try {
      let exec: Docker.Exec;
      let stream: Duplex;
      try {
        exec = await this.engine().getContainer(this.container).exec({
          Cmd: [...argv], Env: env, WorkingDir: opts.cwd, AttachStdin: withStdin, AttachStdout: true, AttachStderr: true, Tty: false,
          abortSignal: AbortSignal.any([stop.signal, AbortSignal.timeout(ENGINE_TIMEOUT_MS)]),
        });
        startSent = true;
        stream = await exec.start({ hijack: true, stdin: withStdin, abortSignal: stop.signal });
      } catch (err) {
        if (!stop.signal.aborted) throw this.engineError(`could not run \`${argv.join(' ')}\``, err as Error);
        // The start request may have reached the engine: end what it started, bounded like any exec.
        if (startSent) void this.endProcesses(marker, Promise.resolve());
        return stopped();
      }
      const stdout = collector(opts.onStdout);
      const stderr = collector(opts.onStderr);
      this.engine().modem.demuxStream(stream, stdout, stderr);
      const ended = new Promise<void>((resolve) => { stream.once('end', resolve); stream.once('close', resolve); stream.once('error', () => resolve()); });
      if (withStdin) stream.end(opts.stdin);

      let ending: Promise<void> | undefined;
      running = () => { ending ??= this.endProcesses(marker, ended); };
      if (timedOut || cancelled) running();
      try {
        await ended;
        if (ending) await ending;
      } finally {
        stream.destroy();
      }
      const code = timedOut || cancelled ? null : await this.exitCode(exec, stop.signal);
      return code === undefined ? stopped() : { code, stdout: stdout.text(), stderr: stderr.text(), timedOut, cancelled, durationMs: Date.now() - started };
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
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

  /**
   * The exit code; the engine may report the exec as running for a moment after its output ends. undefined when
   * `stop` (the call's timeout or cancellation) ends the wait first.
   */
  private async exitCode(exec: Docker.Exec, stop: AbortSignal): Promise<number | null | undefined> {
    try {
      for (let i = 0; i < 100; i++) {
        const info = await exec.inspect({ abortSignal: AbortSignal.any([stop, AbortSignal.timeout(ENGINE_TIMEOUT_MS)]) });
        if (!info.Running) return info.ExitCode;
        await sleep(20);
      }
    } catch (err) {
      if (stop.aborted) return undefined;
      throw this.engineError('could not read the exit code of a command', err as Error);
    }
    return null;
  }

  /** Copies a file or folder into the container, bounded by its progress (see TransferOptions). */
  async upload(localPath: string, remotePath: string, opts: TransferOptions = {}): Promise<void> {
    const what = `${localPath} to ${remotePath}`;
    await this.guarded(what, opts, (guard) => this.engine().getContainer(this.container)
      .putArchive(packAt(localPath, remotePath).pipe(progress(guard)), { path: '/', abortSignal: guard.signal }));
  }

  /** Copies a file or folder out of the container, bounded by its progress (see TransferOptions). */
  async download(remotePath: string, localPath: string, opts: TransferOptions = {}): Promise<void> {
    const what = `${remotePath} from the container to ${localPath}`;
    await this.guarded(what, opts, async (guard) => {
      const archive = await this.engine().getContainer(this.container).getArchive({ path: remotePath, abortSignal: guard.signal });
      await unpackTo(archive.pipe(progress(guard)), localPath);
    });
  }

  /** Runs a transfer (of `what`: "FROM to TO") under a stall guard; its errors name the host, the file and what to check. */
  private async guarded(what: string, opts: TransferOptions, op: (guard: StallGuard) => Promise<unknown>): Promise<void> {
    const stallMs = opts.stallTimeoutMs ?? DEFAULT_TRANSFER_STALL_MS;
    const guard = stallGuard(stallMs, opts.signal);
    try {
      await op(guard);
    } catch (err) {
      if (guard.stalled) throw new Error(stalledMessage(this.label, `copying ${what}`, stallMs, `that the Docker engine at ${describeEngine(this.target)} answers (\`docker info\`)`));
      if (opts.signal?.aborted) throw new Error(`${this.label}: copying ${what} was cancelled`);
      throw this.engineError(`could not copy ${what}`, err as Error);
    } finally {
      guard.dispose();
    }
  }

  shellArgv(): string[] {
    return ['docker', ...dockerCliArgs(this.target), 'exec', '-it', this.container, 'bash'];
  }

  async status(): Promise<HostStatus> {
    let info: Docker.ContainerInspectInfo;
    try {
      info = await this.engine().getContainer(this.container).inspect({ abortSignal: engineDeadline() });
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return { state: 'absent', addresses: [] };
      throw err;
    }
    const addresses = Object.values(info.NetworkSettings.Networks ?? {}).filter((n) => n.IPAddress).map((n) => `${n.IPAddress}/${n.IPPrefixLen}`);
    // The engine's kernel is the containers' kernel.
    const kernel = await (this.kernel ??= (this.engine() as VersionWithSignal).version({ abortSignal: engineDeadline() }).then((v) => v.KernelVersion));
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
