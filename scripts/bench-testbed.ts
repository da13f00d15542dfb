// Prints how long the namespace testbed takes to come up and go down, and what the harness itself costs on the
// model host during a run. Figures, not pass/fail: this machine's speed drifts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openTestbed } from '../extension/core/backends/open';
import type { Backend } from '../extension/core/backends/backend';
import type { ExecOptions, Host, Role } from '../extension/core/hosts/host';
import { runBenchmarks } from '../extension/core/bench/runner';
import { ResultsStore } from '../extension/core/results/store';
import { describe } from '../extension/core/results/stats';

const CYCLES = 5;

async function timeUpDown(workspace: string): Promise<{ up: number[]; down: number[] }> {
  const up: number[] = [];
  const down: number[] = [];
  for (let i = 0; i < CYCLES; i++) {
    const b = openTestbed(workspace);
    let t = performance.now();
    await b.up();
    up.push(performance.now() - t);
    t = performance.now();
    await b.down();
    down.push(performance.now() - t);
  }
  return { up, down };
}

/** Counts every command the harness runs on the model host, and when. */
function countingModel(backend: Backend, log: Array<{ at: number; ms: number; argv: string }>): Backend {
  const model = backend.host('model');
  const counted: Host = Object.create(model) as Host;
  counted.exec = async (argv: readonly string[], opts?: ExecOptions) => {
    const at = performance.now();
    const r = await model.exec(argv, opts);
    log.push({ at, ms: performance.now() - at, argv: argv.join(' ') });
    return r;
  };
  return new Proxy(backend, { get: (t, p) => (p === 'host' ? (role: Role) => (role === 'model' ? counted : t.host(role)) : Reflect.get(t, p)) });
}

async function main(): Promise<void> {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-benchtb-'));
  fs.writeFileSync(path.join(workspace, 'hypershield.testbed.json'), JSON.stringify({ name: 'benchtb', backend: 'netns' }));
  try {
    const { up, down } = await timeUpDown(workspace);
    const fmt = (xs: number[]) => { const s = describe(xs); return `median ${s.median.toFixed(0)} ms (min ${s.min.toFixed(0)}, max ${s.max.toFixed(0)}, n ${s.n})`; };
    console.log(`up:   ${fmt(up)}   goal < 1000 ms`);
    console.log(`down: ${fmt(down)}   goal < 1000 ms`);

    const backend = openTestbed(workspace);
    await backend.up();
    const log: Array<{ at: number; ms: number; argv: string }> = [];
    const windows: Array<[number, number]> = [];
    const cpuInWindows = { user: 0, system: 0, wall: 0 };
    const store = new ResultsStore(workspace);
    let windowStart = 0;
    let cpuStart = process.cpuUsage();
    const run = await runBenchmarks(countingModel(backend, log), { benchmarks: ['iperf3'], modes: ['direct', 'model'], repetitions: 3, warmup: 0, durationS: 3 }, {
      workspace, store,
      progress: { report: (m) => { if (/repetition/.test(m)) { windowStart = performance.now(); cpuStart = process.cpuUsage(); } } },
      onMeasurement: () => {
        const end = performance.now();
        windows.push([windowStart, end]);
        const cpu = process.cpuUsage(cpuStart);
        cpuInWindows.user += cpu.user / 1000;
        cpuInWindows.system += cpu.system / 1000;
        cpuInWindows.wall += end - windowStart;
      },
    });
    const inWindows = log.filter((e) => windows.some(([a, b]) => e.at >= a && e.at <= b));
    const total = log.reduce((s, e) => s + e.ms, 0);
    console.log(`harness commands on the model host during the run: ${log.length} (${total.toFixed(0)} ms in all: metadata and path checks at mode switches); during measurements: ${inWindows.length}`);
    console.log(`workbench process CPU during measurements: ${(((cpuInWindows.user + cpuInWindows.system) / cpuInWindows.wall) * 100).toFixed(2)} % of one core ` +
      `(${(cpuInWindows.user + cpuInWindows.system).toFixed(0)} ms CPU over ${(cpuInWindows.wall / 1000).toFixed(1)} s of measurement)`);
    const t = run.summary.filter((s) => s.metric === 'throughput').map((s) => `${s.mode} ${s.stats.median.toFixed(2)} Gbit/s`).join(', ');
    console.log(`iperf3 medians in that run: ${t}`);

    // With --profile the harness measures itself: perf on the model host plus this process, over each repetition.
    const profiled = await runBenchmarks(backend, { benchmarks: ['iperf3'], modes: ['direct', 'model'], repetitions: 3, warmup: 0, durationS: 3 },
      { workspace, store, profile: true });
    const share = describe(profiled.results.map((r) => r.metrics.harnessCpuShare.value));
    const parts = profiled.results.map((r) => r.profile!.harness);
    const sum = (f: (h: (typeof parts)[number]) => number) => parts.reduce((a, h) => a + f(h), 0).toFixed(0);
    console.log(`harness CPU share on the model host during iperf3 (--profile): median ${share.median.toFixed(2)} % of the machine ` +
      `(min ${share.min.toFixed(2)}, max ${share.max.toFixed(2)}, n ${share.n}; perf ${sum((h) => h.perfCpuMs)} ms, workbench ${sum((h) => h.workbenchCpuMs)} ms CPU in all)   goal < 1 %`);
    await backend.down();
  } finally {
    await openTestbed(workspace).down().catch(() => undefined);
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
