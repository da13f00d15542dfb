import { ROLES } from '../hosts/host';
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

/**
 * One command per host for all its facts: a VM or SSH host costs a round trip per command. Keys and program names
 * are arguments of a fixed script, never part of it (which also knows the programs that print their version for -V,
 * not --version: nuttcp prints its usage for that). It prints, e.g.:
 *   kernel 6.1.0-41-amd64
 *   sysctl net.ipv4.tcp_rmem 4096	131072	6291456
 *   tool iperf3 iperf 3.12 (cJSON 1.7.15)
 */
const DESCRIBE_SCRIPT = `echo "kernel $(uname -r)"
while [ "$#" -gt 0 ] && [ "$1" != -- ]; do v=$(sysctl -n "$1" 2>/dev/null) && printf 'sysctl %s %s\\n' "$1" "$v"; shift; done
[ "$#" -gt 0 ] && shift
for p in "$@"; do case "$p" in ping|nuttcp|netperf|netserver) f=-V ;; *) f=--version ;; esac; printf 'tool %s %s\\n' "$p" "$("$p" $f 2>&1 | head -n 1)"; done`;

export function parseHostFacts(out: string): Pick<HostMetadata, 'kernel' | 'sysctls' | 'tools'> {
  const facts = { kernel: '', sysctls: {} as Record<string, string>, tools: {} as Record<string, string> };
  for (const line of out.split('\n')) {
    const m = /^(kernel|sysctl|tool) (\S*)(?: (.*))?$/.exec(line);
    if (!m) continue;
    if (m[1] === 'kernel') facts.kernel = m[2];
    else (m[1] === 'sysctl' ? facts.sysctls : facts.tools)[m[2]] = (m[3] ?? '').trim().replace(/\s+/g, ' ');
  }
  return facts;
}

export async function describeHosts(backend: Backend, benchmarks: readonly Benchmark[]): Promise<HostMetadata[]> {
  return Promise.all(ROLES.map(async (role) => {
    const host = backend.host(role);
    const programs = new Set(benchmarks.flatMap((b) => [...(role === 'client' ? b.requires.client : []), ...(role === 'server' ? b.requires.server : [])].map(([p]) => p)));
    const r = await host.exec(['sh', '-c', DESCRIBE_SCRIPT, 'describe', ...SYSCTLS, '--', ...programs], { timeoutMs: 20_000 }).catch(() => undefined);
    return { role, label: host.label, ...parseHostFacts(r?.stdout ?? '') };
  }));
}

export async function gitInfo(workspace: string): Promise<RunMetadata['git']> {
  const head = await execLocal(['git', '-C', workspace, 'rev-parse', 'HEAD']).catch(() => undefined);
  if (!head || head.code !== 0) return undefined;
  const status = await execLocal(['git', '-C', workspace, 'status', '--porcelain', '--untracked-files=no']);
  return { commit: head.stdout.trim(), dirty: status.stdout.trim().length > 0 };
}
