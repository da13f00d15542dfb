import { run, type Host } from '../hosts/host';
import type { Measurement, Metric, ProfileRecord } from '../results/run-file';
import type { DeployedModel } from '../testbed/state';
import { execBatch } from '../hosts/batch';
import { hotProfile, modelSampling, parseModuleLoad, SAMPLE_EVENT, type DeployedAt, type ModelSampling } from './hot-functions';
import { receivedTraffic } from './path-check';
import { PERF_EVENTS, parsePerfStat } from './perf-stat';
import { parsePerfScript, PERF_SCRIPT_FIELDS } from './perf-script';
import { cpuDelta, parseProcStat, parseSoftirqs, type CpuTimes } from './proc-stat';

/** Below this many packets through the model host, per-packet figures are noise (e.g. direct mode). */
const MIN_PACKETS = 1000;
/** perf stat outlives a killed workbench by at most this long. */
const PERF_LIMIT_S = 3600;
const TICKS_PER_S = 100;

interface Reading { cpu: CpuTimes; softirqs: { netRx: number; netTx: number }; traffic: { packets: number; bytes: number } }

/** Wall clock and this process's CPU, around the measurement itself. */
interface Window { wallMs: number; workbenchCpuMs: number }

async function read(model: Host, interfaces: readonly string[], signal?: AbortSignal): Promise<Reading> {
  const [stat, softirqs, traffic] = await Promise.all([
    run(model, ['cat', '/proc/stat'], { signal, timeoutMs: 10_000 }),
    run(model, ['cat', '/proc/softirqs'], { signal, timeoutMs: 10_000 }),
    receivedTraffic(model, interfaces, signal),
  ]);
  return { cpu: parseProcStat(stat), softirqs: parseSoftirqs(softirqs), traffic };
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, Window]> {
  const t = performance.now();
  const u = process.cpuUsage();
  const value = await fn();
  const used = process.cpuUsage(u);
  return [value, { wallMs: performance.now() - t, workbenchCpuMs: (used.user + used.system) / 1000 }];
}

/** CPU time (user + system) a process on the host has used, from fields 14 and 15 of /proc/PID/stat. */
async function processCpuMs(host: Host, pid: string, what: string): Promise<number> {
  const stat = (await host.exec(['cat', `/proc/${pid}/stat`], { timeoutMs: 10_000 })).stdout;
  if (!stat) throw new Error(`${what} on ${host.label} (pid ${pid}) exited early: is perf allowed to count (kernel.perf_event_paranoid, root)?`);
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_S) * 1000;
}

export interface ProfiledHost {
  host: Host;
  /** Its testbed interfaces: the traffic counted is what crossed these. */
  interfaces: readonly string[];
  /** The host runs on this machine's kernel (namespaces, containers): the counters cover client and server too. */
  sharesThisKernel: boolean;
  /** The model deployed for this measurement, sampled with perf record; only for model-mode measurements. */
  sample?: DeployedModel;
  /** The host is an emulated machine (QEMU without KVM): it has no PMU, so no hardware counters. */
  emulated?: boolean;
  /** How to get perf onto the host when it lacks it (default: install Debian's linux-perf there). */
  perfFix?: string;
}

/**
 * Waits until perf (pid $1) has set its events up: it starts its workload, the sleep, only then. So its start-up
 * (reading symbols, opening events) is not in the measured window, and the counting covers all of it.
 */
const READY_SCRIPT = `i=0
while [ $i -lt 500 ]; do
  for c in $(cat /proc/$1/task/$1/children 2>/dev/null); do [ "$(cat /proc/$c/comm 2>/dev/null)" = sleep ] && exit 0; done
  kill -0 "$1" 2>/dev/null || exit 1
  sleep 0.02; i=$((i + 1))
done
exit 1`;

/** A process started in a session of its own on the host; stop() ends the session (SIGINT, then SIGKILL). */
interface Detached { pid: string; stop: () => Promise<void> }

/**
 * SIGINT to the session $1, then up to 5 s for its leader to exit (perf writes its counts or samples once its sleep
 * is gone), then SIGKILL to what is left: one round trip, which on an emulated guest costs a few tenths of a second.
 * The shell's kill: dash's and busybox's take a negative pid after the signal, but not `--` before it.
 */
const STOP_SCRIPT = `kill -INT "-$1" 2>/dev/null
i=0
while [ $i -lt 100 ] && kill -0 "$1" 2>/dev/null; do sleep 0.05; i=$((i + 1)); done
kill -KILL "-$1" 2>/dev/null
true`;

async function startDetached(host: Host, argv: readonly string[], what: string, perfFix = 'install the Debian package linux-perf there'): Promise<Detached> {
  const started = await host.exec(['sh', '-c', 'command -v perf >/dev/null || exit 127; setsid "$@" >/dev/null 2>&1 </dev/null & echo $!', 'sh', ...argv], { timeoutMs: 10_000 });
  if (started.code === 127) throw new Error(`perf is missing on ${host.label}: ${perfFix}, or run without --profile.`);
  const pid = started.stdout.trim();
  if (started.code !== 0 || !/^\d+$/.test(pid)) throw new Error(`Starting ${what} on ${host.label} failed: ${started.stderr.trim()}`);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await host.exec(['sh', '-c', STOP_SCRIPT, 'hs-perf-stop', pid], { timeoutMs: 15_000 });
  };
  const ready = await host.exec(['sh', '-c', READY_SCRIPT, 'hs-perf-ready', pid], { timeoutMs: 15_000 });
  if (ready.code !== 0) {
    await stop();
    throw new Error(`${what} on ${host.label} (pid ${pid}) did not start counting within 10 s: is perf allowed to (kernel.perf_event_paranoid, root)?`);
  }
  return { pid, stop };
}

/**
 * perf record of the deployed model (see modelSampling), started only for profiled model-mode measurements with
 * a model deployed; its CPU counts as the harness's.
 */
async function startSampling(model: Host, deployed: DeployedModel, out: string, perfFix?: string): Promise<{ sampling: ModelSampling; perf: Detached }> {
  const sampling = await modelSampling(deployed, await deployedAt(model, deployed));
  // -B: no build-id collection at exit; perf script reads the samples on this same host.
  const perf = await startDetached(model, ['perf', 'record', '-q', '-B', '-e', SAMPLE_EVENT, '-F', String(sampling.frequencyHz), ...sampling.target, '-o', out,
    '--', 'sleep', String(PERF_LIMIT_S)], 'perf record', perfFix);
  return { sampling, perf };
}

/** The user-space model's pid, or where the kernel module is loaded (one round trip: /proc/modules and its .text). */
async function deployedAt(model: Host, deployed: DeployedModel): Promise<DeployedAt> {
  switch (deployed.placement) {
    case 'user':
      return { pid: (await run(model, ['cat', deployed.detail.pidFile], { timeoutMs: 10_000 })).trim() };
    case 'kernel': {
      const module = deployed.detail.module;
      const [modules, text] = await execBatch(model, [['cat', '/proc/modules'], ['cat', `/sys/module/${module}/sections/.text`]], { timeoutMs: 10_000 });
      return { module: parseModuleLoad(modules.stdout, text.stdout, module) };
    }
    case 'ebpf':
      return {};
  }
}

/**
 * Counts what the model host does while `measure` runs: perf stat over the whole kernel, CPU and softirq time
 * from /proc, the packets and bytes it received, and the CPU the workbench itself spent there; with `sample`,
 * perf record of the deployed model too, reduced to its hot functions and lines. The record goes into the
 * measurement, the derived figures into its metrics so summaries compare them across modes and placements.
 * perf runs in sessions of its own and is stopped, also when the measurement fails.
 */
export async function withProfile(target: ProfiledHost | undefined, runDir: string, measure: () => Promise<Measurement>, signal?: AbortSignal): Promise<Measurement> {
  if (!target) return measure();
  const { host: model, interfaces, sharesThisKernel } = target;
  const out = `${runDir}/perf-stat.csv`;
  const samplesFile = `${runDir}/perf-record.data`;
  await run(model, ['mkdir', '-p', runDir], { timeoutMs: 10_000 });
  const stat = await startDetached(model, ['perf', 'stat', '-x,', '-a', '-o', out, '-e', PERF_EVENTS.join(','), '--', 'sleep', String(PERF_LIMIT_S)], 'perf stat', target.perfFix);
  let record: Awaited<ReturnType<typeof startSampling>> | undefined;
  try {
    record = target.sample ? await startSampling(model, target.sample, samplesFile, target.perfFix) : undefined;
    // The /proc readings bracket the measurement as closely as the host allows; perf's window is a little wider.
    const perfCpu = async () => (await Promise.all([processCpuMs(model, stat.pid, 'perf stat'), record ? processCpuMs(model, record.perf.pid, 'perf record') : 0])).reduce((a, b) => a + b, 0);
    const perfStartMs = await perfCpu();
    const before = await read(model, interfaces, signal);
    const [m, window] = await timed(measure);
    const after = await read(model, interfaces, signal);
    const perfCpuMs = (await perfCpu()) - perfStartMs;
    await Promise.all([stat.stop(), record?.perf.stop()]);
    // The counts and the samples in one round trip: on an emulated guest each costs a few tenths of a second.
    const commands = [['cat', out], ...(record ? [['perf', 'script', '-i', samplesFile, '-F', PERF_SCRIPT_FIELDS]] : [])];
    const results = await execBatch(model, commands, { timeoutMs: 120_000 });
    results.forEach((r, i) => {
      if (r.code !== 0) throw new Error(`\`${commands[i].join(' ')}\` on ${model.label} failed (exit ${r.code ?? 'none'}): ${r.stderr.trim()}`);
    });
    const [csv, script] = results;
    // The workbench's own process runs on the model host's machine only when the hosts share this machine's kernel.
    const workbenchCpuMs = sharesThisKernel ? window.workbenchCpuMs : 0;
    const counters = parsePerfStat(csv.stdout);
    const profile = profileRecord(model, sharesThisKernel, target.emulated === true, target.emulated ? emulatedCounters(counters) : counters, before, after, { perfCpuMs, workbenchCpuMs, wallMs: window.wallMs });
    if (record) profile.hot = await hotProfile(record.sampling, parsePerfScript(script.stdout));
    // A failed measurement keeps empty metrics; its profile still says what the model host did meanwhile.
    return m.error ? { ...m, profile } : { ...m, profile, metrics: { ...m.metrics, ...derivedMetrics(profile) } };
  } finally {
    await Promise.all([stat.stop(), record?.perf.stop()]);
    await model.exec(['rm', '-f', out, samplesFile], { timeoutMs: 10_000 });
  }
}

/** Why an emulated host counts no hardware events, said where the counters are: the host is not broken. */
const EMULATED_REASON = 'not supported: no hardware counters in an emulated guest (QEMU without KVM has no PMU)';

/** The counters of an emulated host, each unsupported one with the reason. */
export function emulatedCounters(counters: ProfileRecord['counters']): ProfileRecord['counters'] {
  return Object.fromEntries(Object.entries(counters).map(([event, c]) => [event, c.supported ? c : { supported: false, reason: EMULATED_REASON }]));
}

function profileRecord(model: Host, sharesThisKernel: boolean, emulated: boolean, counters: ProfileRecord['counters'], a: Reading, b: Reading, h: { perfCpuMs: number; workbenchCpuMs: number; wallMs: number }): ProfileRecord {
  const cpu = cpuDelta(a.cpu, b.cpu);
  const harnessCpuMs = h.perfCpuMs + h.workbenchCpuMs;
  return {
    scope: sharesThisKernel
      ? 'the whole kernel: the hosts share it, so client and server work is counted too'
      : `the model host ${model.label}${emulated ? ', emulated: no hardware counters' : ''}`,
    counters,
    cpu,
    softirqs: { netRx: b.softirqs.netRx - a.softirqs.netRx, netTx: b.softirqs.netTx - a.softirqs.netTx },
    traffic: { packets: b.traffic.packets - a.traffic.packets, bytes: b.traffic.bytes - a.traffic.bytes },
    harness: { cpuMs: harnessCpuMs, perfCpuMs: h.perfCpuMs, workbenchCpuMs: h.workbenchCpuMs, sharePercent: (harnessCpuMs / (h.wallMs * cpu.cpus)) * 100 },
  };
}

const camel = (event: string) => event.split('-').map((w) => w[0].toUpperCase() + w.slice(1).toLowerCase()).join('');

/** Figures per cell that say where the model's cost goes; counters the machine lacks yield no figure at all. */
export function derivedMetrics(p: ProfileRecord): Record<string, Metric> {
  const metrics: Record<string, Metric> = {
    modelCpuTime: { value: p.cpu.busyMs, unit: 'ms', better: 'lower' },
    softirqShare: { value: p.cpu.busyMs ? (p.cpu.softirqMs / p.cpu.busyMs) * 100 : 0, unit: '% of busy CPU', better: 'lower' },
    harnessCpuShare: { value: p.harness.sharePercent, unit: '%', better: 'lower' },
  };
  const count = (event: string) => {
    const c = p.counters[event];
    return c?.supported ? c.value : undefined;
  };
  for (const event of Object.keys(p.counters)) {
    const v = count(event);
    if (v !== undefined) metrics[`perf${camel(event)}`] = { value: v, unit: 'events', better: 'lower' };
  }
  const cycles = count('cycles');
  const instructions = count('instructions');
  if (cycles && instructions !== undefined) metrics.ipc = { value: instructions / cycles, unit: 'instructions/cycle', better: 'higher' };
  // Packets as the interfaces count them: GRO on veth merges TCP segments into up to 64 KiB, so per-byte figures
  // compare across benchmarks, per-packet ones across modes and placements of one benchmark.
  const { packets, bytes } = p.traffic;
  if (packets >= MIN_PACKETS) {
    metrics.modelCpuPerPacket = { value: (p.cpu.busyMs * 1e3) / packets, unit: 'µs/packet', better: 'lower' };
    metrics.modelCpuPerByte = { value: (p.cpu.busyMs * 1e6) / bytes, unit: 'ns/byte', better: 'lower' };
    if (cycles !== undefined) metrics.modelCyclesPerPacket = { value: cycles / packets, unit: 'cycles/packet', better: 'lower' };
    const cs = count('context-switches');
    if (cs !== undefined) metrics.contextSwitchesPer1kPackets = { value: (cs / packets) * 1000, unit: 'switches/1000 packets', better: 'lower' };
  }
  return metrics;
}
