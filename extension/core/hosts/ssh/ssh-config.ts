import * as fs from 'node:fs';
import * as os from 'node:os';
import SSHConfig from 'ssh-config';
import type { HostSpec } from '../../testbed/testbed';
import { DEFAULT_KNOWN_HOSTS, expandHome, type SshTarget } from './connection';
import { commandStream } from './proxy-command';

// Reads ~/.ssh/config (ssh_config(5)) the way `ssh` would for the settings the workbench uses. A sample:
//   Host lab-model
//     HostName 192.0.2.10
//     User root
//     Port 2222
//     IdentityFile ~/.ssh/lab_ed25519
//     ProxyJump bastion
//     UserKnownHostsFile ~/.ssh/known_hosts ~/.ssh/lab_known_hosts
//   Host *
//     IdentityAgent ~/.ssh/agent.sock
// Not supported: Include, Match exec, HostKeyAlias, certificates; more than the first IdentityFile that exists.

/** The SSH settings of one testbed host (the testbed file's hosts.<role>); a field set there wins over ~/.ssh/config. */
export type SshHostSettings = Pick<HostSpec, 'sshHost' | 'sshPort' | 'sshUser' | 'sshIdentityFile' | 'sshTrustFingerprint'>;

export interface ResolveOptions {
  /** Default ~/.ssh/config (a missing file is no error). */
  configFile?: string;
  /** Default process.env (SSH_AUTH_SOCK). */
  env?: NodeJS.ProcessEnv;
}

const DEFAULT_IDENTITIES = ['~/.ssh/id_ed25519', '~/.ssh/id_ecdsa', '~/.ssh/id_rsa'];
const MAX_JUMPS = 4;

/** "[user@]host[:port]" (a ProxyJump hop, a testbed's sshHost); "[v6addr]:port" too. */
export function parseDestination(dest: string): { user?: string; host: string; port?: number } {
  const at = dest.lastIndexOf('@');
  const user = at > 0 ? dest.slice(0, at) : undefined;
  const rest = dest.slice(at + 1);
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest) ?? /^([^:]+)(?::(\d+))?$/.exec(rest);
  if (!m) throw new Error(`Not an SSH destination: ${JSON.stringify(dest)} (expected [user@]host[:port])`);
  return { user, host: m[1], port: m[2] ? Number(m[2]) : undefined };
}

function readConfig(file: string): SSHConfig {
  try {
    return SSHConfig.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return SSHConfig.parse('');
    throw new Error(`Cannot read the SSH config ${file}: ${(err as Error).message}`);
  }
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
const many = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Resolves a testbed host's SSH settings (with ~/.ssh/config) into a target whose host keys are checked against known_hosts. */
export function resolveTarget(settings: SshHostSettings, opts: ResolveOptions = {}): SshTarget {
  if (!settings.sshHost) throw new Error('An SSH host needs "sshHost" (a Host alias from ~/.ssh/config, or [user@]address).');
  const config = readConfig(expandHome(opts.configFile ?? '~/.ssh/config'));
  return resolve(settings, config, opts.env ?? process.env, 0);
}

function resolve(settings: SshHostSettings, config: SSHConfig, env: NodeJS.ProcessEnv, depth: number): SshTarget {
  const alias = settings.sshHost!;
  if (depth > MAX_JUMPS) throw new Error(`ProxyJump through more than ${MAX_JUMPS} hosts to reach ${alias}: is there a loop in the SSH config?`);
  const dest = parseDestination(alias);
  // Match exec would run commands while merely reading settings; Host patterns are what the workbench needs.
  const c = config.compute(dest.host, { ignoreCase: true, matchExec: false });
  const port = settings.sshPort ?? dest.port ?? (one(c.port) ? Number(one(c.port)) : 22);
  const username = settings.sshUser ?? dest.user ?? one(c.user) ?? os.userInfo().username;
  const tokens = (s: string, host: string) => s.replace(/%(.)/g, (_m, t: string) => ({
    h: host, p: String(port), r: username, n: dest.host, u: os.userInfo().username, d: os.homedir(), '%': '%',
  } as Record<string, string>)[t] ?? `%${t}`);
  const host = tokens(one(c.hostname) ?? dest.host, dest.host);
  const expand = (p: string) => expandHome(tokens(p, host));

  const identityFile = settings.sshIdentityFile ? expandHome(settings.sshIdentityFile)
    : [...many(c.identityfile), ...DEFAULT_IDENTITIES].map(expand).find((f) => fs.existsSync(f));
  const agentSetting = one(c.identityagent);
  const agent = agentSetting === 'none' ? undefined : agentSetting ? expand(agentSetting.replace(/^SSH_AUTH_SOCK$/, env.SSH_AUTH_SOCK ?? '')) : env.SSH_AUTH_SOCK;
  const userFiles = many(c.userknownhostsfile).flatMap((v) => v.split(/\s+/)).filter(Boolean);
  const globalFiles = many(c.globalknownhostsfile).flatMap((v) => v.split(/\s+/)).filter(Boolean);
  const files = userFiles.length || globalFiles.length
    ? [...(userFiles.length ? userFiles : [DEFAULT_KNOWN_HOSTS[0]]), ...(globalFiles.length ? globalFiles : [DEFAULT_KNOWN_HOSTS[1]])].map(expand)
    : undefined;

  const target: SshTarget = {
    host,
    port,
    username,
    identityFile,
    agent: agent || undefined,
    hostKeys: { kind: 'known-hosts', files, trustFingerprint: settings.sshTrustFingerprint },
    label: dest.host === host ? `${username}@${host}` : dest.host,
  };
  const proxyCommand = one(c.proxycommand);
  const proxyJump = one(c.proxyjump);
  if (proxyCommand && proxyCommand !== 'none') {
    // A ProxyCommand is a shell command line by definition (ssh runs it with the user's shell, too).
    const command = tokens(proxyCommand, host);
    target.sock = () => commandStream(['sh', '-c', command], target.label!);
  } else if (proxyJump && proxyJump !== 'none') {
    // "a,b": connect to a, through it to b, through b to the target.
    target.proxyJump = proxyJump.split(',').reduce<SshTarget | undefined>((via, hop) => {
      const t = resolve({ sshHost: hop.trim() }, config, env, depth + 1);
      return via ? { ...t, proxyJump: via } : t;
    }, undefined);
  }
  return target;
}
