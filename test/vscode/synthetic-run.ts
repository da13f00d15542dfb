// Deterministic run files for the results views: any number of benchmarks, modes, placements and repetitions,
// with per-interval series and perf counters, summarised by the core's own statistics (so a run of fewer than 6
// repetitions has no intervals: "too few rounds"); optionally the arms of an A/B run of hypervisor builds, and the
// hot functions and lines of a profiled model.
import { compareArms } from '../../extension/core/results/arm-changes';
import { SCHEMA_VERSION, type HotProfile, type Measurement, type Placement, type ProfileRecord, type RunFile } from '../../extension/core/results/run-file';
import { seededRandom } from '../../extension/core/results/stats';
import { summarize } from '../../extension/core/results/summary';
import type { Mode } from '../../extension/core/testbed/testbed';

export interface SyntheticOptions {
  id: string;
  benchmarks: number;
  modes: Mode[];
  placements: Placement[];
  repetitions: number;
  /** Seconds of per-interval series per measurement. */
  seriesPoints?: number;
  /** Scales every throughput, to make a second run that differs. */
  scale?: number;
  startedAt?: string;
  /** The plan's seconds per measurement (10 unless given). */
  durationS?: number;
  /**
   * Arms of an A/B run of hypervisor builds: every measurement is taken once per arm, each later arm's throughput
   * scaled by armScale (0.95 unless given); the run gets its abComparison as the core computes it.
   */
  arms?: string[];
  armScale?: number;
  /** perf record of a model deployed from modelDir at this placement: hot functions and lines of HOT_SOURCE. */
  profile?: { placement: Exclude<Placement, 'none'>; modelDir: string };
}

/** The model source file of a profiled synthetic run (relative to its modelDir) and its sampled lines. */
export const HOT_SOURCE = { file: 'src/filter.c', lines: [{ line: 42, function: 'match_payload', share: 0.6 }, { line: 17, function: 'on_packet', share: 0.25 }] };

function hotRecord(placement: Exclude<Placement, 'none'>, samples: number): ProfileRecord {
  const model = Math.round(samples * 0.8);
  const sampled = HOT_SOURCE.lines.map((l) => ({ ...l, samples: Math.max(1, Math.round(model * l.share)) }));
  const hot: HotProfile = {
    placement, event: 'cpu-clock', frequencyHz: 999, scope: 'the threads of the model\'s process', samples: { total: samples, model },
    functions: [
      ...sampled.map((l) => ({ name: l.function, object: 'hs-filter', samples: l.samples, percent: Math.round(l.share * 1000) / 10, file: HOT_SOURCE.file, line: l.line })),
      { name: 'memcpy', object: 'libc.so.6', samples: Math.max(1, Math.round(model * 0.15)), percent: 15 },
    ],
    lines: sampled.map((l) => ({ file: HOT_SOURCE.file, line: l.line, function: l.function, samples: l.samples, percent: Math.round(l.share * 1000) / 10 })),
  };
  return {
    scope: 'model host kernel', counters: {}, cpu: { busyMs: 900, softirqMs: 100, totalMs: 2000, cpus: 2 }, softirqs: { netRx: 1000, netTx: 1000 },
    traffic: { packets: 100000, bytes: 150000000 }, harness: { cpuMs: 5, perfCpuMs: 4, workbenchCpuMs: 1, sharePercent: 0.2 }, hot,
  };
}

const PLACEMENT_COST: Record<Placement, number> = { none: 0.01, user: 0.18, ebpf: 0.02, kernel: 0.06 };

/** Stand-ins for the tools' raw outputs, as big as real ones: iperf3 -J prints about 8 KB for 10 s, ping 0.8 KB. */
const RAW_THROUGHPUT = '{"intervals": []}'.padEnd(8000, ' ');
const RAW_PING = 'PING'.padEnd(800, '.');

function benchmarkIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => (i === 0 ? 'iperf3' : i === 1 ? 'ping' : `synthetic-${i + 1}`));
}

export function syntheticRun(o: SyntheticOptions): RunFile {
  const rnd = seededRandom(o.id.split('').reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7));
  const start = Date.parse(o.startedAt ?? '2026-11-22T10:00:00Z');
  const results: Measurement[] = [];
  const benchmarks = benchmarkIds(o.benchmarks);
  let t = start;
  const arms = o.arms ?? [undefined];
  for (const placement of o.placements) {
    for (let repetition = 1; repetition <= o.repetitions; repetition++) {
      for (const [armIndex, arm] of arms.entries()) {
        const armed = arm === undefined ? {} : { arm };
        const armFactor = armIndex === 0 ? 1 : (o.armScale ?? 0.95);
        for (const benchmark of benchmarks) {
          for (const mode of o.modes) {
            const cost = mode === 'model' ? PLACEMENT_COST[placement] : 0;
            const noise = 1 + (rnd() - 0.5) * 0.08;
            const startedAt = new Date((t += 11_000)).toISOString();
            if (benchmark === 'ping') {
              const rtt = 0.05 * (1 + cost * 3) * noise;
              results.push({
                benchmark, mode, placement, repetition, startedAt, durationMs: 1000, raw: RAW_PING, ...armed,
                metrics: { loss: { value: 0, unit: '%', better: 'lower' }, rttAvg: { value: rtt, unit: 'ms', better: 'lower' } },
                series: { rtt: { unit: 'ms', points: Array.from({ length: o.seriesPoints ?? 10 }, (_, i) => [i * 0.2, rtt * (1 + (rnd() - 0.5) * 0.2)]) } },
              });
              continue;
            }
            const throughput = 18 * (o.scale ?? 1) * armFactor * (1 - cost) * noise;
            const metrics: Measurement['metrics'] = {
              throughput: { value: throughput, unit: 'Gbit/s', better: 'higher' },
              retransmits: { value: Math.round(rnd() * 40), unit: 'segments', better: 'lower' },
            };
            if (mode === 'model') {
              metrics['perf.task-clock'] = { value: 9000 * (1 + cost) * noise, unit: 'msec', better: 'lower' };
              metrics['perf.context-switches'] = { value: Math.round(20000 * (1 + cost) * noise), unit: 'count', better: 'lower' };
            }
            const profiled = mode === 'model' && o.profile?.placement === placement;
            results.push({
              benchmark, mode, placement, repetition, startedAt, durationMs: 10_000, raw: RAW_THROUGHPUT, metrics, ...armed,
              series: { throughput: { unit: 'Gbit/s', points: Array.from({ length: o.seriesPoints ?? 10 }, (_, i) => [i + 1, throughput * (1 + (rnd() - 0.5) * 0.1)]) } },
              ...(profiled ? { profile: hotRecord(o.profile!.placement, 9000 + Math.round(rnd() * 1000)) } : {}),
            });
          }
        }
      }
    }
  }
  return {
    schemaVersion: SCHEMA_VERSION,
    id: o.id,
    status: 'complete',
    metadata: {
      tool: { name: 'hypershield', version: '0.1.0' },
      node: 'v20.0.0',
      workspace: '/tmp/synthetic',
      testbed: { name: 'synthetic', backend: 'netns', mode: 'model', subnets: { client: '198.18.1.0/24', server: '198.18.2.0/24', direct: '198.18.3.0/24' }, hosts: {}, model: {}, source: 'built-in default' },
      hosts: [],
      emulated: false,
      models: o.profile ? [{ placement: o.profile.placement, dir: o.profile.modelDir, sourceHash: 'f'.repeat(64), buildId: 'b'.repeat(64) }] : [],
      plan: { benchmarks, modes: o.modes, placements: o.placements, repetitions: o.repetitions, warmup: 1, durationS: o.durationS ?? 10 },
      startedAt: new Date(start).toISOString(),
      endedAt: new Date(t).toISOString(),
    },
    results,
    summary: summarize(results),
    ...(o.arms ? { abComparison: o.arms.slice(1).flatMap((b) => compareArms(results, o.arms![0], b)) } : {}),
  };
}

