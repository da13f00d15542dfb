import type { Backend } from '../backends/backend';
import type { Benchmark } from './benchmark';
import { vmToolFix } from '../backends/qemu/workloads';

/** Prints each of the programs "$@" that the host lacks, one a line. A fixed script: names are only arguments. */
const MISSING_SCRIPT = 'for p in "$@"; do command -v "$p" >/dev/null 2>&1 || echo "$p"; done; true';

/**
 * Fails before anything is recorded when a host lacks a program a benchmark needs, naming the package, or for a VM
 * of a qemu testbed (whose programs come from its image) the workload tool set to add to the testbed file.
 */
export async function checkTools(backend: Backend, benchmarks: readonly Benchmark[]): Promise<void> {
  // One round trip per host, both hosts at once.
  const missing = await Promise.all((['client', 'server'] as const).map(async (role) => {
    const host = backend.host(role);
    const fix = (b: Benchmark, program: string, pkg: string) => (host.kind === 'qemu' ? vmToolFix(backend.testbed, role, program) : b.install ?? `Debian package ${pkg}`);
    const needed = new Map(benchmarks.flatMap((b) => b.requires[role].map(([program, pkg]): [string, string] => [program, fix(b, program, pkg)])));
    if (!needed.size) return [];
    const r = await host.exec(['sh', '-c', MISSING_SCRIPT, 'missing', ...needed.keys()], { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`Cannot check the benchmark tools on ${host.label}: \`sh\` exited with ${r.code}: ${(r.stderr || r.stdout).trim()}`);
    return r.stdout.split('\n').filter((p) => needed.has(p)).map((p) => `${p} on ${host.label} (${needed.get(p)})`);
  }));
  if (missing.flat().length) throw new Error(`Missing benchmark tools: ${missing.flat().join('; ')}. Install them (\`hypershield doctor\` lists all).`);
}
