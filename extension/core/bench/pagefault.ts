import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BenchContext, BenchOutcome, Benchmark, StopServer } from './benchmark';
import { BenchmarkOutputError } from './benchmark';
import { run } from '../hosts/host';
import { execLocal } from '../util/local-process';

/**
 * Maps anonymous memory, writes one byte per page (one minor fault each) and unmaps it, over and over for the
 * given seconds; the kernel's own fault counters (getrusage) say how many faults that took. Kept here rather
 * than as a file so the workbench ships no extra native source; compiled on this machine (see compileHere).
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

/**
 * Compiles the program on this machine, linked statically: it then runs on any host of this machine's architecture
 * whatever its userland, and a host needs no compiler (a VM's image has none). Returns the binary's folder and path.
 */
async function compileHere(signal?: AbortSignal): Promise<{ dir: string; file: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-pagefault-'));
  const file = path.join(dir, 'pagefault');
  try {
    fs.writeFileSync(`${file}.c`, SOURCE);
    const r = await execLocal(['gcc', '-O2', '-Wall', '-Werror', '-static', '-o', file, `${file}.c`], { signal, timeoutMs: 60_000, env: { LANG: 'C' } })
      .catch((err: Error) => { throw new Error(`pagefault compiles its program on this machine: ${err.message}; apt-get install gcc libc6-dev`); });
    if (r.code !== 0) throw new Error(`pagefault: gcc on this machine failed (exit ${r.code}): ${r.stderr.trim()}; a static build needs libc6-dev`);
    return { dir, file };
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

export const pagefault: Benchmark = {
  id: 'pagefault',
  title: 'page-fault/mmap micro-benchmark on the server host',
  headline: 'faultRate',
  // Nothing on the server host: the program is compiled here and uploaded.
  requires: { client: [], server: [] },

  /** Puts the program on the server host for the run, and removes it afterwards. */
  async startServer(ctx: BenchContext): Promise<StopServer> {
    const arch = (await run(ctx.server, ['uname', '-m'], { signal: ctx.signal, timeoutMs: 10_000 })).trim();
    if (arch !== os.machine()) throw new Error(`pagefault: the server host ${ctx.server.label} is ${arch}, this machine (which compiles the program) ${os.machine()}.`);
    const built = await compileHere(ctx.signal);
    try {
      await run(ctx.server, ['mkdir', '-p', ctx.runDir], { timeoutMs: 10_000 });
      await ctx.server.upload(built.file, binary(ctx), { signal: ctx.signal });
      await run(ctx.server, ['chmod', '755', binary(ctx)], { timeoutMs: 10_000 });
    } finally {
      fs.rmSync(built.dir, { recursive: true, force: true });
    }
    return async () => { await ctx.server.exec(['rm', '-f', binary(ctx)], { timeoutMs: 10_000 }); };
  },

  async run(ctx: BenchContext): Promise<BenchOutcome> {
    const r = await ctx.server.exec([binary(ctx), String(ctx.durationS), MIB], { signal: ctx.signal, timeoutMs: (ctx.durationS + 30) * 1000 });
    if (r.cancelled) throw new Error('pagefault was cancelled');
    return parsePagefault(r.code === 0 ? r.stdout : r.stdout + r.stderr);
  },
};
