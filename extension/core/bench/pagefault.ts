import type { BenchContext, BenchOutcome, Benchmark, StopServer } from './benchmark';
import { BenchmarkOutputError } from './benchmark';
import { run } from '../hosts/host';

/**
 * Maps anonymous memory, writes one byte per page (one minor fault each) and unmaps it, over and over for the
 * given seconds; the kernel's own fault counters (getrusage) say how many faults that took. Kept here rather
 * than as a file so the workbench ships no extra native source; compiled on the host that runs it.
 */
const SOURCE = String.raw`#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: %s SECONDS MIB\n", argv[0]); return 2; }
  double seconds = atof(argv[1]);
  size_t len = (size_t)atol(argv[2]) << 20, page = (size_t)sysconf(_SC_PAGESIZE), pages = 0, rounds = 0;
  struct rusage before, after;
  getrusage(RUSAGE_SELF, &before);
  double start = now(), elapsed;
  do {
    volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); return 1; }
    for (size_t off = 0; off < len; off += page) p[off] = 1;
    munmap((void *)p, len);
    pages += len / page;
    rounds++;
  } while ((elapsed = now() - start) < seconds);
  getrusage(RUSAGE_SELF, &after);
  printf("{\"seconds\": %.6f, \"rounds\": %zu, \"pages_touched\": %zu, \"page_size\": %zu, \"minor_faults\": %ld, \"major_faults\": %ld}\n",
         elapsed, rounds, pages, page, after.ru_minflt - before.ru_minflt, after.ru_majflt - before.ru_majflt);
  return 0;
}
`;

const MIB = '64';

interface PagefaultJson { seconds: number; rounds: number; pages_touched: number; page_size: number; minor_faults: number; major_faults: number }

/** Parses the one JSON line the program prints, e.g. {"seconds": 1.012, "rounds": 42, "pages_touched": 688128, ...}. */
export function parsePagefault(raw: string): BenchOutcome {
  let j: PagefaultJson;
  try {
    j = JSON.parse(raw.trim()) as PagefaultJson;
  } catch {
    throw new BenchmarkOutputError('pagefault', `output is not the program's JSON line: ${raw.trim().split('\n')[0]}`, raw);
  }
  if (!(j.seconds > 0) || !(j.minor_faults > 0)) throw new BenchmarkOutputError('pagefault', `no faults counted in ${j.seconds} s`, raw);
  return {
    raw,
    metrics: {
      faultRate: { value: j.minor_faults / j.seconds / 1e3, unit: 'kfault/s', better: 'higher' },
      faultTime: { value: (j.seconds * 1e9) / j.minor_faults, unit: 'ns/fault', better: 'lower' },
      touchBandwidth: { value: (j.pages_touched * j.page_size) / j.seconds / 2 ** 20, unit: 'MiB/s', better: 'higher' },
      faultsPerPage: { value: j.minor_faults / j.pages_touched, unit: 'faults/page', better: 'lower' },
    },
  };
}

const binary = (ctx: BenchContext) => `${ctx.runDir}/pagefault`;

export const pagefault: Benchmark = {
  id: 'pagefault',
  title: 'page-fault/mmap micro-benchmark on the server host',
  headline: 'faultRate',
  requires: { client: [], server: [['gcc', 'gcc']] },

  /** Compiles the program on the server host for the run, and removes it afterwards. */
  async startServer(ctx: BenchContext): Promise<StopServer> {
    const src = `${binary(ctx)}.c`;
    await run(ctx.server, ['mkdir', '-p', ctx.runDir], { timeoutMs: 10_000 });
    await run(ctx.server, ['sh', '-c', 'cat >"$1"', 'sh', src], { stdin: SOURCE, signal: ctx.signal, timeoutMs: 10_000 });
    await run(ctx.server, ['gcc', '-O2', '-Wall', '-Werror', '-o', binary(ctx), src], { signal: ctx.signal, timeoutMs: 60_000 });
    return async () => { await ctx.server.exec(['rm', '-f', binary(ctx), src], { timeoutMs: 10_000 }); };
  },

  async run(ctx: BenchContext): Promise<BenchOutcome> {
    const r = await ctx.server.exec([binary(ctx), String(ctx.durationS), MIB], { signal: ctx.signal, timeoutMs: (ctx.durationS + 30) * 1000 });
    if (r.cancelled) throw new Error('pagefault was cancelled');
    return parsePagefault(r.code === 0 ? r.stdout : r.stdout + r.stderr);
  },
};
