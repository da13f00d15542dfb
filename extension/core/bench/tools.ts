import type { Backend } from '../backends/backend';
import type { Benchmark } from './benchmark';

/** Fails before anything is recorded when a host lacks a program a benchmark needs, naming the package. */
export async function checkTools(backend: Backend, benchmarks: readonly Benchmark[]): Promise<void> {
  const missing: string[] = [];
  for (const role of ['client', 'server'] as const) {
    const host = backend.host(role);
    const needed = new Map(benchmarks.flatMap((b) => b.requires[role].map(([program, pkg]): [string, string] => [program, b.install ?? `Debian package ${pkg}`])));
    for (const [program, source] of needed) {
      // A fixed script; the program name is a positional argument, never spliced into the text.
      const r = await host.exec(['sh', '-c', 'command -v "$1"', 'sh', program], { timeoutMs: 10_000 });
      if (r.code !== 0) missing.push(`${program} on ${host.label} (${source})`);
    }
  }
  if (missing.length) throw new Error(`Missing benchmark tools: ${missing.join('; ')}. Install them (\`hypershield doctor\` lists all).`);
}
