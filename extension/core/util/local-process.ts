import { spawn } from 'node:child_process';
import { HostCommandError, type ExecOptions, type ExecResult } from '../hosts/host';

/**
 * Runs a program on this machine without a shell. The child leads its own process group so a timeout or
 * cancellation also ends whatever it started (e.g. `ip netns exec` -> iperf3).
 */
export function execLocal(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (argv.length === 0) return reject(new Error('execLocal: empty argv'));
    if (opts.signal?.aborted) {
      return resolve({ code: null, stdout: '', stderr: '', timedOut: false, cancelled: true, durationMs: 0 });
    }
    const child = spawn(argv[0], argv.slice(1), {
      cwd: opts.cwd,
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let cancelled = false;
    const killGroup = () => {
      try { if (child.pid) process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
      // A process that ignores SIGTERM is killed for good a moment later.
      setTimeout(() => { try { if (child.pid) process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 2000).unref();
    };
    const timer = opts.timeoutMs ? setTimeout(() => { timedOut = true; killGroup(); }, opts.timeoutMs) : undefined;
    const onAbort = () => { cancelled = true; killGroup(); };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; opts.onStdout?.(d); });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; opts.onStderr?.(d); });
    child.stdin.on('error', () => { /* the program may exit without reading its input */ });
    child.stdin.end(opts.stdin ?? '');
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      reject(err.code === 'ENOENT' ? new Error(`${argv[0]} is not installed or not on PATH (run \`hypershield doctor\`)`) : err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({ code: timedOut || cancelled ? null : code, stdout, stderr, timedOut, cancelled, durationMs: Date.now() - started });
    });
  });
}

/** Like execLocal, but rejects with the command and its output when it does not exit 0. */
export async function runLocal(argv: readonly string[], opts?: ExecOptions): Promise<string> {
  const result = await execLocal(argv, opts);
  if (result.code !== 0) throw new HostCommandError('this machine', argv, result);
  return result.stdout;
}
