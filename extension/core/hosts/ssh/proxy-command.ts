import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';

/**
 * A stream over a local program's stdin/stdout, the way OpenSSH's ProxyCommand carries a connection (e.g.
 * `ip netns exec NS nc %h %p`). The program is ended when the stream closes; what it printed on stderr becomes the
 * error when it fails before the SSH handshake completes.
 */
export function commandStream(argv: readonly string[], label: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-2000); });
    child.once('error', (err) => reject(new Error(`${label}: cannot start the proxy command \`${argv.join(' ')}\`: ${err.message}`)));
    child.once('spawn', () => {
      const stream = Duplex.from({ readable: child.stdout, writable: child.stdin });
      // The SSH client reports a failed transport itself; a late error after it let go must not crash the process.
      stream.on('error', () => undefined);
      child.once('close', (code, signal) => {
        if (!stream.destroyed) stream.destroy(code === 0 ? undefined : new Error(`${label}: the proxy command \`${argv.join(' ')}\` ended (${signal ?? `exit code ${code}`})${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
      });
      stream.once('close', () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM'); });
      resolve(stream);
    });
  });
}
