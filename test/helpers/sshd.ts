// Real OpenSSH servers for the SSH tests: one sshd per host of a namespace testbed, reached from this machine only
// through a forwarder started inside the namespace (a ProxyCommand), so no address is added outside the namespaces.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Duplex } from 'node:stream';
import type { Role } from '../../extension/core/hosts/host';
import { commandStream } from '../../extension/core/hosts/ssh/proxy-command';
import { tempWorkspace } from './workspace';

// stdin/stdout <-> TCP host:port, for ProxyCommand (nc is not installed everywhere; node is).
const FORWARDER = `const s = require('net').connect(Number(process.argv[3]), process.argv[2]);
process.stdin.pipe(s).pipe(process.stdout);
s.on('error', (e) => { process.stderr.write(String(e) + '\\n'); process.exit(1); });
s.on('close', () => process.exit(0));
`;

/** Users that exist only for the test's sshd servers (see writeAccounts). */
export const SUDO_USER = 'hs-sudoer';
export const PLAIN_USER = 'hs-plain';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class SshdLab {
  readonly dir: string;
  readonly userKey: string;
  private readonly ws: ReturnType<typeof tempWorkspace>;
  private readonly daemons = new Map<Role, ChildProcess>();

  /** `name`: the namespace testbed's name (starts with "ssh"). */
  constructor(readonly name: string) {
    this.ws = tempWorkspace(name);
    this.dir = fs.mkdtempSync(path.join(this.ws.dir, 'ssh-'));
    fs.writeFileSync(path.join(this.dir, 'forward.js'), FORWARDER);
    this.userKey = path.join(this.dir, 'user_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hypershield-test', '-f', this.userKey]);
    fs.copyFileSync(`${this.userKey}.pub`, path.join(this.dir, 'authorized_keys'));
    // sshd reads authorized_keys as the user logging in: the non-root users need a way through the folders.
    for (const d of [this.ws.dir, this.dir]) fs.chmodSync(d, 0o711);
    fs.chmodSync(path.join(this.dir, 'authorized_keys'), 0o644);
  }

  ns(role: Role): string {
    return `hs-${this.name}-${role}`;
  }

  /** The namespace testbed (its hosts, links and addresses), then an sshd on port 22 in each namespace. */
  async start(roles: readonly Role[] = ['client', 'model', 'server']): Promise<void> {
    await this.ws.backend().up();
    // sshd's privilege separation directory (made by the service unit on a booted system).
    fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    this.writeAccounts();
    for (const role of roles) {
      const key = this.hostKeyFile(role);
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${role}-host`, '-f', key]);
      await this.startSshd(role);
    }
  }

  /**
   * Two users besides root, for the privilege checks: `SUDO_USER` may run anything with `sudo -n`, `PLAIN_USER` may
   * not. A "*" password field is no password, yet not a locked account (which sshd would refuse).
   */
  private writeAccounts(): void {
    const copy = (f: string, extra: string, mode = 0o644) => {
      const file = path.join(this.dir, `etc-${f}`);
      fs.writeFileSync(file, fs.readFileSync(`/etc/${f}`, 'utf8') + extra, { mode });
      fs.chmodSync(file, mode);
    };
    copy('passwd', `${SUDO_USER}:x:4242:4242::/tmp:/bin/sh\n${PLAIN_USER}:x:4243:4243::/tmp:/bin/sh\n`);
    copy('group', `${SUDO_USER}:x:4242:\n${PLAIN_USER}:x:4243:\n`);
    copy('shadow', `${SUDO_USER}:*:20000:0:99999:7:::\n${PLAIN_USER}:*:20000:0:99999:7:::\n`, 0o640);
    copy('sudoers', `${SUDO_USER} ALL=(ALL) NOPASSWD: ALL\n`, 0o440);
  }

  hostKeyFile(role: Role): string {
    return path.join(this.dir, `host_${role}_ed25519`);
  }

  /** The host's public key line ("ssh-ed25519 AAAA… comment"). */
  hostKeyLine(role: Role): string {
    return fs.readFileSync(`${this.hostKeyFile(role)}.pub`, 'utf8').trim();
  }

  /** The fingerprint as OpenSSH's ssh-keygen prints it. */
  fingerprint(role: Role): string {
    return execFileSync('ssh-keygen', ['-lf', `${this.hostKeyFile(role)}.pub`], { encoding: 'utf8' }).split(' ')[1];
  }

  async startSshd(role: Role): Promise<void> {
    const config = path.join(this.dir, `sshd_${role}.conf`);
    fs.writeFileSync(config, [
      'Port 22', 'ListenAddress 0.0.0.0', `HostKey ${this.hostKeyFile(role)}`, 'PidFile none',
      `AuthorizedKeysFile ${path.join(this.dir, 'authorized_keys')}`,
      // The temp folder lives under the world-writable /tmp, which StrictModes refuses.
      'StrictModes no', 'UsePAM no', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password', 'AllowTcpForwarding yes', 'Subsystem sftp internal-sftp', 'LogLevel ERROR', '',
    ].join('\n'));
    // The extra accounts exist only in sshd's own mount namespace: this machine's /etc stays as it is.
    const accounts = ['passwd', 'group', 'shadow', 'sudoers'].map((f) => `mount --bind ${path.join(this.dir, `etc-${f}`)} /etc/${f}`).join(' && ');
    const d = spawn('ip', ['netns', 'exec', this.ns(role), 'unshare', '--mount', '--propagation', 'private', 'sh', '-c',
      `${accounts} && exec /usr/sbin/sshd -D -e -f ${config}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    d.stderr!.setEncoding('utf8').on('data', (s: string) => { log += s; });
    this.daemons.set(role, d);
    for (let i = 0; i < 100; i++) {
      const listening = execFileSync('ip', ['netns', 'exec', this.ns(role), 'ss', '-Hltn', 'sport = :22'], { encoding: 'utf8' });
      if (listening.trim()) return;
      if (d.exitCode !== null) break;
      await sleep(50);
    }
    throw new Error(`sshd in ${this.ns(role)} did not start: ${log}`);
  }

  /** The pids of the host's sshd processes serving connections (children of the listener). */
  sessions(role: Role): number[] {
    // `ip netns exec` execs sshd, so the listener has the spawned pid.
    const listener = this.daemons.get(role)!.pid!;
    // ps exits 1 when there is none.
    const out = spawnSync('ps', ['-o', 'pid=', '--ppid', String(listener)], { encoding: 'utf8' }).stdout;
    return out.split(/\s+/).filter(Boolean).map(Number);
  }

  /** Kills the host's sshd processes serving connections (the listener stays): the server drops every session. */
  dropSessions(role: Role): number {
    const pids = this.sessions(role);
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    return pids.length;
  }

  /** The ProxyCommand that reaches host:port from inside the role's namespace. */
  proxyCommand(role: Role, host = '127.0.0.1', port = 22): string {
    return `ip netns exec ${this.ns(role)} ${process.execPath} ${path.join(this.dir, 'forward.js')} ${host} ${port}`;
  }

  sock(role: Role): () => Promise<Duplex> {
    return () => commandStream(['ip', 'netns', 'exec', this.ns(role), process.execPath, path.join(this.dir, 'forward.js'), '127.0.0.1', '22'], `${role} forwarder`);
  }

  /** Processes in the namespace whose command line contains `text` (pids). */
  processes(role: Role, text: string): number[] {
    const pids = execFileSync('ip', ['netns', 'pids', this.ns(role)], { encoding: 'utf8' }).split(/\s+/).filter(Boolean);
    return pids.filter((pid) => {
      try { return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').includes(text); } catch { return false; }
    }).map(Number);
  }

  /** Kills every sshd and removes the namespaces and files. */
  async cleanup(): Promise<void> {
    for (const d of this.daemons.values()) if (d.exitCode === null) d.kill('SIGKILL');
    this.daemons.clear();
    await this.ws.cleanup();
  }
}
