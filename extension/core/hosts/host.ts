// The one interface every backend implements, so build, deploy and bench never care what a host is.

export type Role = 'client' | 'model' | 'server';
export const ROLES: readonly Role[] = ['client', 'model', 'server'];

export type BackendKind = 'netns' | 'docker' | 'qemu' | 'ssh';

/**
 * The bound on an exec whose caller gives no timeoutMs. A host that stops answering (a hung VM, a dropped link, a
 * wedged container) then fails that call as timed out instead of hanging `down`, a run's `finally` or VS Code. It
 * is generous for the short commands that rely on it; long work (builds, benchmark runs) states its own bound.
 */
export const DEFAULT_EXEC_TIMEOUT_MS = 60_000;

/**
 * The bound on a file transfer whose caller gives no stallTimeoutMs: it fails once no data has moved for this long.
 * A bound on progress rather than on the whole copy, so a large file on a slow link still goes through while a host
 * that stops answering fails the transfer instead of hanging the caller.
 */
export const DEFAULT_TRANSFER_STALL_MS = 30_000;

/**
 * Options of Host.upload/download. A host reached over a connection bounds its transfers by stallTimeoutMs (default
 * DEFAULT_TRANSFER_STALL_MS; a namespace host copies on this machine's file system and needs none). An SSH host
 * leaves no partial file at the destination when a transfer fails or is cancelled: it writes to a temporary name
 * beside it and renames that into place once complete, so the destination keeps its old content.
 */
export interface TransferOptions {
  /** Fail the transfer once no data has moved for this many milliseconds; default DEFAULT_TRANSFER_STALL_MS. */
  stallTimeoutMs?: number;
  /** Aborting ends the transfer (it then rejects). */
  signal?: AbortSignal;
}

export interface ExecOptions {
  /**
   * Kill the command (on remote hosts, the remote process too) after this many milliseconds; default
   * DEFAULT_EXEC_TIMEOUT_MS. Every Host applies it (see `bounded`): no exec on a host runs without a limit.
   */
  timeoutMs?: number;
  /** Aborting kills the command (and, on remote hosts, the remote process). */
  signal?: AbortSignal;
  stdin?: string | Buffer;
  env?: Record<string, string>;
  cwd?: string;
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
}

export interface ExecResult {
  /** Exit code, or null when the command was killed by a signal, a timeout or cancellation. */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  cancelled: boolean;
  durationMs: number;
}

export type HostState = 'running' | 'stopped' | 'absent' | 'unreachable';

export interface HostStatus {
  state: HostState;
  /** Addresses on the testbed links, e.g. ["198.18.1.2/24"]. */
  addresses: string[];
  kernel?: string;
  detail?: string;
  /** The file on this machine holding the host's serial console (a VM's), kept after the VM stops or panics. */
  consoleLog?: string;
}

/** opts with the default bound filled in when the caller gave none: what every Host.exec runs with. */
export function bounded(opts: ExecOptions = {}): ExecOptions {
  return opts.timeoutMs ? opts : { ...opts, timeoutMs: DEFAULT_EXEC_TIMEOUT_MS };
}

export interface Host {
  readonly role: Role;
  readonly kind: BackendKind;
  /** Human-readable location, e.g. "netns hs-demo-model". */
  readonly label: string;
  /**
   * Runs argv without a shell, bounded by opts.timeoutMs or DEFAULT_EXEC_TIMEOUT_MS. Never rejects for a non-zero
   * exit or a timeout (the result says `timedOut`); see `run` for that.
   */
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Copies a local file to the host, bounded and all-or-nothing (see TransferOptions). */
  upload(localPath: string, remotePath: string, opts?: TransferOptions): Promise<void>;
  /** Copies a file from the host, bounded and all-or-nothing (see TransferOptions). */
  download(remotePath: string, localPath: string, opts?: TransferOptions): Promise<void>;
  status(): Promise<HostStatus>;
  /** The command line, run on this machine, of an interactive shell on the host (for terminals). */
  shellArgv(): string[];
}

export class HostCommandError extends Error {
  constructor(readonly host: string, readonly argv: readonly string[], readonly result: ExecResult) {
    const why = result.cancelled ? 'was cancelled' : result.timedOut ? 'timed out' : `exited with code ${result.code}`;
    const tail = (result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n');
    super(`${host}: \`${argv.join(' ')}\` ${why}${tail ? `:\n${tail}` : ''}`);
    this.name = 'HostCommandError';
  }
}

/** Runs argv and rejects with the host, command and output tail when it does not exit 0. */
export async function run(host: Host, argv: readonly string[], opts?: ExecOptions): Promise<string> {
  const result = await host.exec(argv, opts);
  if (result.code !== 0) throw new HostCommandError(host.label, argv, result);
  return result.stdout;
}
