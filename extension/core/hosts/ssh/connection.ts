import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { Client, utils, type ClientChannel, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import { DEFAULT_TRANSFER_STALL_MS, type ExecOptions, type ExecResult, type TransferOptions } from '../host';
import { blobType, fingerprint, knownHostsName, knownKeysFor, publicKeyBlob } from './known-hosts';
import { shellJoin } from './quote';
import { stalledMessage, stallGuard } from '../../util/stall-guard';

export type HostKeyPolicy =
  /** OpenSSH public key lines ("ssh-ed25519 AAAA…"), e.g. a VM's keys made with its image. */
  | { kind: 'pinned'; keys: string[] }
  /** known_hosts files (default ~/.ssh/known_hosts and /etc/ssh/ssh_known_hosts); an unknown key only with trustFingerprint ("SHA256:…"). */
  | { kind: 'known-hosts'; files?: string[]; trustFingerprint?: string };

export interface SshTarget {
  /** Address or name to connect to. */
  host: string;
  /** Default 22. */
  port?: number;
  username: string;
  /** Key material (or identityFile). */
  privateKey?: string | Buffer;
  identityFile?: string;
  /** SSH_AUTH_SOCK of an agent to authenticate with. */
  agent?: string;
  hostKeys: HostKeyPolicy;
  /** A transport other than TCP from this machine (e.g. a VM reachable only inside a network namespace): a connected stream. */
  sock?: () => Promise<Duplex>;
  /** Connect through this host (ssh -J): a direct-tcpip channel from it to host:port. */
  proxyJump?: SshTarget;
  /** The name shown in errors and labels. */
  label?: string;
}

/**
 * Asks a person for a secret (a key's passphrase) when one is needed; undefined when nobody can be asked. The CLI
 * prompts on a terminal, VS Code would use SecretStorage: secrets never live in settings or files.
 */
export type SecretPrompt = (request: { kind: 'passphrase'; subject: string; prompt: string }) => Promise<string | undefined>;

export interface SshConnectionOptions {
  /** Give up connecting (TCP, handshake, authentication) after this long. Default 20 s. */
  connectTimeoutMs?: number;
  /** Interval of keep-alive requests; three unanswered ones close the connection. Default 15 s. */
  keepaliveMs?: number;
  askSecret?: SecretPrompt;
}

/** A transfer during which no data moved for its stallTimeoutMs. */
class TransferStalled extends Error {}

/** A host key that is unknown (the message shows its fingerprint and how to trust it) or changed (both fingerprints). */
export class HostKeyError extends Error {
  constructor(message: string, readonly offered: string, readonly recorded: readonly string[]) {
    super(message);
    this.name = 'HostKeyError';
  }
}

/** The name of a target in messages: its label, else user@host[:port]. */
export function targetLabel(t: SshTarget): string {
  return t.label ?? `${t.username}@${t.host}${t.port && t.port !== 22 ? `:${t.port}` : ''}`;
}

export function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

export const DEFAULT_KNOWN_HOSTS = ['~/.ssh/known_hosts', '/etc/ssh/ssh_known_hosts'];

// Host key algorithms ssh2 supports, in its default order; a host's recorded key types go first so the server
// shows the key we can check (as OpenSSH does), not another one of its keys.
const HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
const algorithmsFor = (keyType: string): string[] => (keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyType]);

function hostKeyOrder(preferredTypes: readonly string[]): string[] {
  const first = preferredTypes.flatMap(algorithmsFor).filter((a) => HOST_KEY_ALGORITHMS.includes(a));
  return [...new Set([...first, ...HOST_KEY_ALGORITHMS])];
}

/** The key types the policy records for the target, to offer those algorithms first. */
function recordedTypes(t: SshTarget): string[] {
  if (t.hostKeys.kind === 'pinned') return t.hostKeys.keys.map((k) => blobType(publicKeyBlob(k)));
  const name = knownHostsName(t.host, t.port ?? 22);
  return knownHostsEntries(t.hostKeys.files, name).filter((k) => !k.revoked).map((k) => k.type);
}

function knownHostsEntries(files: readonly string[] | undefined, name: string) {
  return (files ?? DEFAULT_KNOWN_HOSTS).map(expandHome).flatMap((file) => {
    let text: string;
    try { text = fs.readFileSync(file, 'utf8'); } catch { return []; }
    return knownKeysFor(text, name, file);
  });
}

/** Throws HostKeyError unless the policy accepts the key (a public key blob) the target offered. */
export function checkHostKey(t: SshTarget, key: Buffer): void {
  const label = targetLabel(t);
  const offered = fingerprint(key);
  const type = blobType(key);
  const name = knownHostsName(t.host, t.port ?? 22);
  if (t.hostKeys.kind === 'pinned') {
    const pinned = t.hostKeys.keys.map(publicKeyBlob);
    if (pinned.some((p) => p.equals(key))) return;
    const fps = pinned.map(fingerprint);
    throw new HostKeyError(`${label} offered the host key ${type} ${offered}, which is not its pinned key (${fps.join(', ')}). ` +
      `Something else answers at ${name}, or the host was re-created with new keys: re-create the testbed so the keys are pinned again.`, offered, fps);
  }
  const known = knownHostsEntries(t.hostKeys.files, name);
  const revoked = known.find((k) => k.revoked && k.blob.equals(key));
  if (revoked) throw new HostKeyError(`${label} offered the host key ${type} ${offered}, which ${revoked.source} marks @revoked. Refused.`, offered, [offered]);
  if (known.some((k) => !k.revoked && k.blob.equals(key))) return;
  const recorded = known.filter((k) => !k.revoked);
  if (recorded.length) {
    const fps = recorded.map((k) => `${k.type} ${fingerprint(k.blob)} (${k.source})`);
    throw new HostKeyError(`HOST KEY CHANGED for ${label}: it offers ${type} ${offered}, but known_hosts records ${fps.join(', ')}. ` +
      'Someone may be intercepting the connection, or the host was re-installed. If you have checked the new key on the host ' +
      `(\`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub\` there), remove the old entry with \`ssh-keygen -R '${name}'\` and trust the new fingerprint.`,
    offered, recorded.map((k) => fingerprint(k.blob)));
  }
  const trusted = t.hostKeys.trustFingerprint;
  if (trusted === offered) return;
  const searched = (t.hostKeys.files ?? DEFAULT_KNOWN_HOSTS).join(', ');
  throw new HostKeyError(`Unknown host key for ${label}: ${type} ${offered} (${name} is not in ${searched})` +
    (trusted ? `; it does not match the fingerprint you said to trust (${trusted})` : '') +
    `. Compare it with \`ssh-keygen -lf /etc/ssh/ssh_host_${type.replace(/^ssh-|-sha2.*$/g, '')}_key.pub\` run on the host, then trust exactly ` +
    `this key: "sshTrustFingerprint": "${offered}" for this host in the testbed file, or add it to known_hosts by connecting once with ` +
    `\`ssh ${t.port && t.port !== 22 ? `-p ${t.port} ` : ''}${t.username}@${t.host}\`.`,
  offered, []);
}

/** Each command channel's exit status, once the host sent it (null: ended by a signal). */
const exitOf = new WeakMap<ClientChannel, number | null>();

const cancelledResult = (started: number, timedOut: boolean, stdout = '', stderr = ''): ExecResult =>
  ({ code: null, stdout, stderr, timedOut, cancelled: !timedOut, durationMs: Date.now() - started });

// Runs as `sh -c SCRIPT hs-exec MARKER CWD ARGV...`: prints its pid (which exec keeps, so it is the command's pid and,
// since sshd starts sessions with setsid(), its process group) on stderr behind a marker, changes directory, then
// becomes the command. Cancelling kills that group over a second channel.
const WRAPPER = 'printf \'%s:%s\\n\' "$1" "$$" >&2; if [ -n "$2" ]; then cd -- "$2" || exit 126; fi; shift 2; exec "$@"';
// Ends a process group (or the lone process), politely first; `$1` is the pid. `kill -SIG -PID` (no `--`, which
// dash and busybox read as a pid) names the group in dash, bash and busybox alike.
const KILLER = 'kill -TERM "-$1" 2>/dev/null || kill -TERM "$1" 2>/dev/null; i=0; ' +
  'while kill -0 "$1" 2>/dev/null && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done; ' +
  'kill -KILL "-$1" 2>/dev/null || kill -KILL "$1" 2>/dev/null; true';
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** After a kill, how long the channel may take to close before it is closed from this side. */
const KILL_GRACE_MS = 5_000;

/** The remote command line for argv (each argument quoted for the remote POSIX shell). */
export function remoteCommand(argv: readonly string[], marker: string, opts: Pick<ExecOptions, 'cwd' | 'env'> = {}): string {
  const env = Object.entries(opts.env ?? {}).map(([k, v]) => {
    if (!ENV_NAME.test(k)) throw new Error(`Invalid environment variable name ${JSON.stringify(k)}`);
    return `${k}=${v}`;
  });
  const command = env.length ? ['env', ...env, ...argv] : [...argv];
  return `exec ${shellJoin(['sh', '-c', WRAPPER, 'hs-exec', marker, opts.cwd ?? '', ...command])}`;
}

/**
 * One SSH connection to a host, opened on first use and reused for every later call; exec, upload and download.
 * A connection that drops (server restart, network) is made again on the next call.
 */
export class SshConnection {
  readonly label: string;
  private client?: Client;
  private opening?: Promise<Client>;
  private sftpSession?: Promise<SFTPWrapper>;
  private jump?: SshConnection;
  private readonly dropListeners = new Set<(why: string) => void>();

  constructor(readonly target: SshTarget, private readonly opts: SshConnectionOptions = {}) {
    this.label = targetLabel(target);
  }

  /**
   * Calls listener when an open connection ends without `dispose()`: the server closed it (sshd restarted or
   * killed) or the host stopped answering (keep-alive requests unanswered). The next call connects again.
   */
  onDidDrop(listener: (why: string) => void): () => void {
    this.dropListeners.add(listener);
    return () => { this.dropListeners.delete(listener); };
  }

  /** Connects once; concurrent callers share the attempt; a dropped connection reconnects on the next call. */
  async open(signal?: AbortSignal): Promise<void> {
    await this.connected(signal);
  }

  private connected(signal?: AbortSignal): Promise<Client> {
    if (this.client) return Promise.resolve(this.client);
    this.opening ??= this.connect().finally(() => { this.opening = undefined; });
    if (!signal) return this.opening;
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(new Error(`${this.label}: connecting was cancelled`));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.opening!.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  private async privateKey(): Promise<{ privateKey?: Buffer | string; passphrase?: string }> {
    const t = this.target;
    let key = t.privateKey;
    let source = 'the private key given';
    if (!key && t.identityFile) {
      source = expandHome(t.identityFile);
      try { key = fs.readFileSync(source); } catch (err) {
        throw new Error(`${this.label}: cannot read the identity file ${source} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); fix IdentityFile/identityFile.`);
      }
    }
    if (!key) return {};
    const parsed = utils.parseKey(key);
    if (!(parsed instanceof Error)) return { privateKey: key };
    if (!/encrypted|passphrase/i.test(parsed.message)) throw new Error(`${this.label}: ${source} is not a usable private key: ${parsed.message}`);
    const passphrase = await this.opts.askSecret?.({ kind: 'passphrase', subject: source, prompt: `Passphrase for ${source}: ` });
    if (passphrase === undefined) {
      throw new Error(`${this.label}: ${source} is protected by a passphrase and nobody can be asked for it here. Load it into ssh-agent ` +
        `(\`ssh-add ${source}\`), or run the command in a terminal so it can prompt.`);
    }
    const unlocked = utils.parseKey(key, passphrase);
    if (unlocked instanceof Error) throw new Error(`${this.label}: the passphrase for ${source} is wrong (${unlocked.message}).`);
    return { privateKey: key, passphrase };
  }

  private async stream(): Promise<Duplex | undefined> {
    const t = this.target;
    if (t.sock) return t.sock();
    if (!t.proxyJump) return undefined;
    this.jump ??= new SshConnection(t.proxyJump, this.opts);
    const via = await this.jump.connected();
    return new Promise((resolve, reject) => {
      via.forwardOut('127.0.0.1', 0, t.host, t.port ?? 22, (err, channel) => {
        if (err) reject(new Error(`${this.label}: the jump host ${this.jump!.label} could not reach ${t.host}:${t.port ?? 22}: ${err.message}`));
        else resolve(channel);
      });
    });
  }

  private async connect(): Promise<Client> {
    const t = this.target;
    const timeout = this.opts.connectTimeoutMs ?? 20_000;
    // The key first: a missing passphrase must not leave a proxy process or jump channel behind.
    const { privateKey, passphrase } = await this.privateKey();
    const sock = await this.stream();
    let hostKeyError: Error | undefined;
    const config: ConnectConfig = {
      host: t.host,
      port: t.port ?? 22,
      username: t.username,
      privateKey,
      passphrase,
      agent: t.agent,
      sock,
      readyTimeout: timeout,
      keepaliveInterval: this.opts.keepaliveMs ?? 15_000,
      keepaliveCountMax: 3,
      algorithms: { serverHostKey: hostKeyOrder(recordedTypes(t)) as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] },
      hostVerifier: (key: Buffer) => {
        try { checkHostKey(t, key); return true; } catch (err) { hostKeyError = err as Error; return false; }
      },
    };
    return new Promise((resolve, reject) => {
      const client = new Client();
      let settled = false;
      let lastError: Error | undefined;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        client.end();
        reject(hostKeyError ?? this.explain(err, timeout));
      };
      client.once('ready', () => {
        settled = true;
        this.client = client;
        resolve(client);
      });
      // The first error says why the connection ended (a keep-alive timeout); later ones are its consequences.
      client.on('error', (err) => { lastError ??= err; fail(err); });
      client.on('close', () => {
        if (this.client === client) {
          this.forget();
          const why = !lastError ? 'the server closed the connection'
            : /keepalive/i.test(lastError.message) ? `no answer to ${config.keepaliveCountMax} keep-alive requests, ${config.keepaliveInterval! / 1000} s apart`
              : lastError.message;
          for (const l of this.dropListeners) l(why);
        }
        fail(new Error('the connection closed during the handshake'));
      });
      try { client.connect(config); } catch (err) { fail(err as Error); }
    });
  }

  /** Drops the cached client and SFTP session, so the next call connects again. */
  private forget(): void {
    this.client = undefined;
    this.sftpSession = undefined;
  }

  private explain(err: Error & { code?: string; level?: string }, timeout: number): Error {
    const t = this.target;
    const where = `${t.host}:${t.port ?? 22}`;
    let why: string;
    if (err.level === 'client-authentication') {
      const tried = [t.privateKey ? 'the key given' : '', t.identityFile ? `the key ${t.identityFile}` : '', t.agent ? 'the keys of ssh-agent' : ''].filter(Boolean);
      why = `authentication as ${t.username} failed (tried ${tried.join(', ') || 'no key at all: set identityFile or start ssh-agent'}). ` +
        `Add the public key to ~${t.username}/.ssh/authorized_keys on the host, or use another identity.`;
    } else if (err.code === 'ECONNREFUSED') {
      why = `nothing accepts connections at ${where} (is sshd running there?)`;
    } else if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') {
      why = `the name ${t.host} does not resolve`;
    } else if (/timed out/i.test(err.message)) {
      why = `no SSH handshake with ${where} within ${Math.round(timeout / 1000)} s`;
    } else {
      why = err.message;
    }
    return new Error(`${this.label}: ${why}`);
  }

  /**
   * Opens a channel running command. A host that stopped answering never confirms it: aborting `stop` ends the
   * wait (a channel confirmed after that is closed at once).
   */
  private channel(client: Client, command: string, stop: AbortSignal): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      let waiting = true;
      const onStop = () => { waiting = false; reject(new Error(`${this.label}: the host did not open a channel for the command`)); };
      if (stop.aborted) return onStop();
      stop.addEventListener('abort', onStop, { once: true });
      try {
        client.exec(command, (err, ch) => {
          stop.removeEventListener('abort', onStop);
          if (!waiting) { ch?.close(); return; }
          waiting = false;
          if (err) return reject(err);
          // The command's exit status may come in the same packets as the channel's opening: it is kept from here on,
          // since a listener added after this promise settles would miss it (the output waits in the stream).
          ch.on('exit', (c: number | null) => { exitOf.set(ch, c); });
          resolve(ch);
        });
      } catch (err) { stop.removeEventListener('abort', onStop); reject(err as Error); }
    });
  }

  /** Opens a channel; when the connection turns out to be gone (dropped since the last call), connects once more. */
  private async execChannel(command: string, stop: AbortSignal): Promise<ClientChannel> {
    const client = await this.connected(stop);
    try {
      return await this.channel(client, command, stop);
    } catch (err) {
      if (stop.aborted || (this.client === client && !/Not connected|No response/i.test((err as Error).message))) throw err;
      if (this.client === client) { this.forget(); client.end(); }
      return this.channel(await this.connected(stop), command, stop);
    }
  }

  /** Runs argv on the host; cancellation and the timeout end the remote process (and its process group) too. */
  async exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const started = Date.now();
    if (argv.length === 0) throw new Error(`${this.label}: exec with an empty argv`);
    if (opts.signal?.aborted) return cancelledResult(started, false);
    const stop = new AbortController();
    let timedOut = false;
    const timer = opts.timeoutMs ? setTimeout(() => { timedOut = true; stop.abort(); }, opts.timeoutMs) : undefined;
    const onAbort = () => stop.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const marker = `hs-pid-${randomBytes(6).toString('hex')}`;
      let ch: ClientChannel;
      try {
        ch = await this.execChannel(remoteCommand(argv, marker, opts), stop.signal);
      } catch (err) {
        if (stop.signal.aborted) return cancelledResult(started, timedOut);
        throw err;
      }
      return await this.collect(ch, marker, stop.signal, opts, started, () => timedOut);
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  private collect(ch: ClientChannel, marker: string, stop: AbortSignal, opts: ExecOptions, started: number, timedOut: () => boolean): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      let pid: number | undefined;
      // stderr before the pid line is the login shell's (rc files); it is kept, the pid line is not.
      let preamble = '';
      let stopped = false;
      let done = false;
      const out = new StringDecoder('utf8');
      const err = new StringDecoder('utf8');
      const emitErr = (s: string) => { if (s) { stderr += s; opts.onStderr?.(s); } };
      ch.on('data', (d: Buffer) => { const s = out.write(d); stdout += s; if (s) opts.onStdout?.(s); });
      ch.stderr.on('data', (d: Buffer) => {
        if (pid !== undefined || preamble.length > 65_536) return emitErr(err.write(d));
        preamble += err.write(d);
        const m = new RegExp(`(^|\\n)${marker}:(\\d+)\\n`).exec(preamble);
        if (!m) return;
        pid = Number(m[2]);
        const rest = preamble.slice(0, m.index + m[1].length) + preamble.slice(m.index + m[0].length);
        preamble = '';
        emitErr(rest);
        if (stopped) void this.kill(pid);
      });
      const finish = () => {
        if (done) return;
        done = true;
        stop.removeEventListener('abort', onStop);
        clearTimeout(grace);
        emitErr(preamble + err.end());
        stdout += out.end();
        const exited = exitOf.has(ch);
        if (!exited && !stopped) {
          reject(new Error(`${this.label}: the connection closed before the command finished; its output so far:\n${(stderr || stdout).trim().slice(-2000)}`));
          return;
        }
        resolve(stopped ? cancelledResult(started, timedOut(), stdout, stderr) : { code: exitOf.get(ch) ?? null, stdout, stderr, timedOut: false, cancelled: false, durationMs: Date.now() - started });
      };
      let grace: NodeJS.Timeout | undefined;
      const onStop = () => {
        stopped = true;
        if (pid !== undefined) void this.kill(pid);
        // A process that left children holding its output open would keep the channel open: close it from here.
        grace = setTimeout(() => { ch.close(); finish(); }, KILL_GRACE_MS);
      };
      stop.addEventListener('abort', onStop, { once: true });
      ch.on('close', finish);
      ch.on('error', () => finish());
      ch.end(opts.stdin ?? undefined);
    });
  }

  /** Ends a remote process group over a second channel; bounded, and silent when the host is gone too. */
  private async kill(pid: number): Promise<void> {
    try {
      const client = this.client;
      if (!client) return;
      const ch = await this.channel(client, shellJoin(['sh', '-c', KILLER, 'hs-kill', String(pid)]), AbortSignal.timeout(KILL_GRACE_MS));
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => { ch.close(); resolve(); }, KILL_GRACE_MS);
        ch.on('close', () => { clearTimeout(t); resolve(); });
        ch.resume();
        ch.stderr.resume();
        ch.end();
      });
    } catch { /* the connection is gone: nothing left to reach the process with */ }
  }

  /** One SFTP session per connection, opened on first use; forgotten when it closes or the connection drops. */
  private sftp(): Promise<SFTPWrapper> {
    if (this.sftpSession) return this.sftpSession;
    const session: Promise<SFTPWrapper> = this.connected().then((client) => new Promise((resolve, reject) => {
      client.sftp((err, s) => {
        if (err) return reject(new Error(`${this.label}: the SFTP subsystem is unavailable (${err.message}); enable "Subsystem sftp" in the host's sshd_config.`));
        s.on('close', () => { if (this.sftpSession === session) this.sftpSession = undefined; });
        resolve(s);
      });
    }));
    session.catch(() => { if (this.sftpSession === session) this.sftpSession = undefined; });
    this.sftpSession = session;
    return session;
  }

  /**
   * Runs one SFTP operation under the stall bound: `op` calls `step` whenever data moved, and the operation fails
   * once it has not for stallTimeoutMs (opening the session included). A stall or an abort ends the SFTP session
   * (the next transfer opens a new one), since the operation cannot be taken back on a host that stopped answering.
   */
  private async transfer(what: string, opts: TransferOptions, op: (s: SFTPWrapper, step: () => void, done: (err?: Error | null) => void) => void): Promise<void> {
    const stallMs = opts.stallTimeoutMs ?? DEFAULT_TRANSFER_STALL_MS;
    if (opts.signal?.aborted) throw new Error(`${this.label}: ${what} was cancelled`);
    const guard = stallGuard(stallMs, opts.signal);
    const session = this.sftp();
    let s: SFTPWrapper | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const onStop = () => {
          // The session is shared: a stalled one is no use to the next transfer either.
          if (this.sftpSession === session) this.sftpSession = undefined;
          s?.end();
          reject(guard.stalled
            ? new TransferStalled(stalledMessage(this.label, what, stallMs, 'that the host is up and answers (`hypershield status`), that the link to it works'))
            : new Error(`${this.label}: ${what} was cancelled`));
        };
        guard.signal.addEventListener('abort', onStop, { once: true });
        session.then((opened) => {
          if (guard.signal.aborted) return;
          s = opened;
          guard.step();
          op(opened, guard.step, (err) => {
            guard.signal.removeEventListener('abort', onStop);
            if (err) reject(err); else resolve();
          });
        }, reject);
      });
    } finally {
      guard.dispose();
    }
  }

  /** The SFTP rename that replaces an existing file: OpenSSH's posix-rename, else remove the old file and rename. */
  private replace(s: SFTPWrapper, from: string, to: string, done: (err?: Error | null) => void): void {
    try {
      s.ext_openssh_rename(from, to, done);
    } catch {
      // A server without the extension (its plain rename refuses an existing target).
      s.unlink(to, () => s.rename(from, to, done));
    }
  }

  /** Removes a temporary file left by a failed upload; bounded, and silent when the host is gone too. */
  private removeLeftover(remotePath: string): Promise<void> {
    return this.exec(['rm', '-f', '--', remotePath], { timeoutMs: 10_000 }).then(() => undefined, () => undefined);
  }

  /**
   * Copies a local file to the host (its mode too), creating the remote folder when it is missing. All or nothing:
   * the data goes to a temporary name beside remotePath, renamed over it once complete.
   */
  async upload(localPath: string, remotePath: string, opts: TransferOptions = {}): Promise<void> {
    const mode = fs.statSync(localPath).mode & 0o7777;
    const partial = `${remotePath}.hs-part-${randomBytes(4).toString('hex')}`;
    const what = `uploading ${localPath} to ${remotePath}`;
    const put = () => this.transfer(what, opts, (s, step, done) => s.fastPut(localPath, partial, { mode, step }, (err) => {
      if (err) return done(err);
      step();
      this.replace(s, partial, remotePath, done);
    }));
    try {
      try {
        await put();
      } catch (err) {
        if ((err as { code?: number }).code !== 2) throw err;
        const dir = path.posix.dirname(remotePath);
        const mk = await this.exec(['mkdir', '-p', '--', dir], { signal: opts.signal, timeoutMs: 15_000 });
        if (mk.code !== 0) throw new Error(`${this.label}: cannot create ${dir}: ${mk.stderr.trim() || `mkdir exited with ${mk.code}`}`);
        await put();
      }
    } catch (err) {
      // Not waited for after a stall: the host that stopped answering would only make the caller wait longer.
      const cleanup = this.removeLeftover(partial);
      if (!(err instanceof TransferStalled)) await cleanup;
      throw this.transferError(err as Error, `upload ${localPath} to ${remotePath}`);
    }
  }

  /**
   * Copies a file from the host, creating the local folder when it is missing. All or nothing: the data goes to a
   * temporary file beside localPath, renamed over it once complete.
   */
  async download(remotePath: string, localPath: string, opts: TransferOptions = {}): Promise<void> {
    fs.mkdirSync(path.dirname(localPath), { recursive: true });
    const partial = path.join(path.dirname(localPath), `.${path.basename(localPath)}.hs-part-${randomBytes(4).toString('hex')}`);
    try {
      await this.transfer(`downloading ${remotePath} to ${localPath}`, opts, (s, step, done) => s.fastGet(remotePath, partial, { step }, done));
      fs.renameSync(partial, localPath);
    } catch (err) {
      fs.rmSync(partial, { force: true });
      throw this.transferError(err as Error, `download ${remotePath} to ${localPath}`);
    }
  }

  private transferError(err: Error, what: string): Error {
    return err.message.startsWith(this.label) ? err : new Error(`${this.label}: could not ${what}: ${err.message}`);
  }

  /** Closes the connection (and the jump host's); a later call connects again. */
  async dispose(): Promise<void> {
    const client = this.client;
    this.forget();
    if (client) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2_000);
        client.once('close', () => { clearTimeout(t); resolve(); });
        client.end();
      });
    }
    await this.jump?.dispose();
  }
}
