import { ROLES, type Host } from '../hosts/host';
import type { Backend } from '../backends/backend';
import { execLocal } from '../util/local-process';
import type { HostMetadata, RunMetadata } from '../results/run-file';
import type { Benchmark } from './benchmark';

/** Sysctls that change network results; recorded so two runs can be told apart. */
const SYSCTLS = [
  'net.ipv4.ip_forward',
  'net.ipv4.tcp_congestion_control',
  'net.core.rmem_max',
  'net.core.wmem_max',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
  'net.core.netdev_max_backlog',
];

/** Programs that print their version for another flag than --version (nuttcp prints its usage for that). */
const VERSION_FLAG: Record<string, string> = { ping: '-V', nuttcp: '-V', netperf: '-V', netserver: '-V' };

async function firstLine(host: Host, argv: string[]): Promise<string> {
  const r = await host.exec(argv, { timeoutMs: 10_000 }).catch(() => undefined);
  return (r?.stdout || r?.stderr || '').trim().split('\n')[0] ?? '';
}

export async function describeHosts(backend: Backend, benchmarks: readonly Benchmark[]): Promise<HostMetadata[]> {
  return Promise.all(ROLES.map(async (role) => {
    const host = backend.host(role);
    const sysctls: Record<string, string> = {};
    for (const key of SYSCTLS) {
      const r = await host.exec(['sysctl', '-n', key], { timeoutMs: 10_000 });
      if (r.code === 0) sysctls[key] = r.stdout.trim().replace(/\s+/g, ' ');
    }
    const tools: Record<string, string> = {};
    const programs = new Set(benchmarks.flatMap((b) => [...(role === 'client' ? b.requires.client : []), ...(role === 'server' ? b.requires.server : [])].map(([p]) => p)));
    for (const program of programs) tools[program] = await firstLine(host, [program, VERSION_FLAG[program] ?? '--version']);
    return { role, label: host.label, kernel: await firstLine(host, ['uname', '-r']), sysctls, tools };
  }));
}

export async function gitInfo(workspace: string): Promise<RunMetadata['git']> {
  const head = await execLocal(['git', '-C', workspace, 'rev-parse', 'HEAD']).catch(() => undefined);
  if (!head || head.code !== 0) return undefined;
  const status = await execLocal(['git', '-C', workspace, 'status', '--porcelain', '--untracked-files=no']);
  return { commit: head.stdout.trim(), dirty: status.stdout.trim().length > 0 };
}
