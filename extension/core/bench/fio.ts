import type { BenchContext, BenchOutcome, Benchmark } from './benchmark';
import { BenchmarkOutputError } from './benchmark';

interface FioDirection {
  io_bytes: number;
  bw: number;
  iops: number;
  clat_ns: { mean: number; percentile?: Record<string, number> };
}

interface FioJson {
  jobs: Array<{ jobname: string; error: number; read: FioDirection; write: FioDirection; usr_cpu: number; sys_cpu: number; ctx: number; minf: number; majf: number }>;
}

/**
 * Parses `fio --output-format=json` of one job. Abridged sample (fio 3.33, 4 KiB random read/write):
 *
 *   { "fio version" : "fio-3.33", "jobs" : [ { "jobname" : "randrw", "error" : 0,
 *       "read" : { "io_bytes" : 29196288, "bw" : 28483, "iops" : 7120.879121, "runtime" : 1001,
 *                  "clat_ns" : { "mean" : ..., "percentile" : { "50.000000" : 51456, "99.000000" : ... } }, ... },
 *       "write" : { ... }, "usr_cpu" : 1.1, "sys_cpu" : 22.4, "ctx" : ..., "majf" : 0, "minf" : 13 } ] }
 *
 * Bad options make fio print text ("fio: failed parsing rw=bogus") instead of JSON.
 */
export function parseFio(raw: string): BenchOutcome {
  let j: FioJson;
  try {
    j = JSON.parse(raw.slice(raw.indexOf('{'))) as FioJson;
  } catch {
    throw new BenchmarkOutputError('fio', raw.includes('fio: ') ? raw.trim().split('\n')[0] : 'output is not JSON (was it run with --output-format=json?)', raw);
  }
  const job = j.jobs?.[0];
  if (!job) throw new BenchmarkOutputError('fio', 'no job in the JSON output', raw);
  if (job.error) throw new BenchmarkOutputError('fio', `job ${job.jobname} failed with error ${job.error}`, raw);
  const metrics: BenchOutcome['metrics'] = {};
  for (const dir of ['read', 'write'] as const) {
    const d = job[dir];
    if (!d.io_bytes) continue;
    metrics[`${dir}Iops`] = { value: d.iops, unit: 'IO/s', better: 'higher' };
    metrics[`${dir}Bandwidth`] = { value: d.bw / 1024, unit: 'MiB/s', better: 'higher' };
    metrics[`${dir}LatencyAvg`] = { value: d.clat_ns.mean / 1e3, unit: 'µs', better: 'lower' };
    const p99 = d.clat_ns.percentile?.['99.000000'];
    if (p99 !== undefined) metrics[`${dir}LatencyP99`] = { value: p99 / 1e3, unit: 'µs', better: 'lower' };
  }
  if (!Object.keys(metrics).length) throw new BenchmarkOutputError('fio', `job ${job.jobname} moved no data`, raw);
  metrics.cpu = { value: job.usr_cpu + job.sys_cpu, unit: '%', better: 'lower' };
  return { raw, metrics };
}

export const fio: Benchmark = {
  id: 'fio',
  title: 'fio 4 KiB random read/write on the server host',
  headline: 'readIops',
  requires: { client: [], server: [['fio', 'fio']] },

  async run(ctx: BenchContext): Promise<BenchOutcome> {
    // Buffered I/O on a 64 MiB file: with memory to spare this measures the page cache and the memory behind it
    // (the part a hypervisor-level mechanism touches) more than the disk.
    const file = `${ctx.runDir}/fio.dat`;
    const argv = ['fio', '--name=randrw', `--filename=${file}`, '--size=64M', '--rw=randrw', '--bs=4k', '--ioengine=psync',
      '--time_based', `--runtime=${ctx.durationS}`, '--output-format=json'];
    try {
      const r = await ctx.server.exec(argv, { signal: ctx.signal, timeoutMs: (ctx.durationS + 60) * 1000 });
      if (r.cancelled) throw new Error('fio was cancelled');
      return parseFio(r.code === 0 ? r.stdout : r.stdout + r.stderr);
    } finally {
      await ctx.server.exec(['rm', '-f', file], { timeoutMs: 10_000 });
    }
  },
};
