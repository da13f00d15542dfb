import type { BenchContext, BenchOutcome, Benchmark } from './benchmark';
import { startDaemon, type DaemonSpec } from './daemon';

/** What a client/server benchmark says about itself; the helper below supplies startServer and run. */
export interface ClientServerSpec extends Omit<Benchmark, 'startServer' | 'run'> {
  /** The server: a program that stays in the foreground, listening on `port` once ready. */
  server(ctx: BenchContext): Pick<DaemonSpec, 'name' | 'port' | 'protocol'> & { argv: string[] };
  /** The client command of one measurement; it ends by itself after ctx.durationS. */
  client(ctx: BenchContext): string[];
  /** Reads the client's output (stdout, then stderr) into metrics, or throws a BenchmarkOutputError. */
  parse(raw: string): BenchOutcome;
}

/**
 * A benchmark of one client command against one server started for the run on the server host and stopped after
 * it (nuttcp, sockperf, netperf). The client gets the measurement's duration plus 30 s before it is killed.
 */
export function clientServerBenchmark({ server, client, parse, ...benchmark }: ClientServerSpec): Benchmark {
  return {
    ...benchmark,
    startServer(ctx) {
      const { argv, ...daemon } = server(ctx);
      return startDaemon(ctx.server, { ...daemon, runDir: ctx.runDir, foreground: true, argv: () => argv, signal: ctx.signal });
    },
    async run(ctx) {
      const r = await ctx.client.exec(client(ctx), { signal: ctx.signal, timeoutMs: (ctx.durationS + 30) * 1000, onStdout: ctx.onOutput });
      if (r.cancelled) throw new Error(`${benchmark.id} was cancelled`);
      return parse(r.stdout + r.stderr);
    },
  };
}
