// Prints what the qemu testbed costs (under TCG on machines without working KVM): boot to SSH, the
// build-upload-insmod cycle of the kernel template, and the template's throughput relative to plain forwarding
// through the same VM, in interleaved rounds. Figures, not pass/fail: this machine's speed drifts.
//   npm run bench:vm [-- --boots N | --cycle] [--name TESTBED] [--workloads SET,...]
// --boots N measures only N boots; --cycle only the cycle (one boot, no throughput rounds), listing each host call of
// one cycle with its time; --name keeps parallel runs apart (default vmbench); --workloads boots the model VM with an
// image variant carrying those workload tool sets (hosts.model.qemu.workloads), to see what they add to a boot.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openTestbed } from '../extension/core/backends/open';
import type { Backend } from '../extension/core/backends/backend';
import { qemuPid } from '../extension/core/backends/qemu/vm';
import { run } from '../extension/core/hosts/host';
import { deployModel, undeployModel } from '../extension/core/model/deploy/deploy';
import { scaffoldModel } from '../extension/core/model/scaffold';
import { describe } from '../extension/core/results/stats';
import { serverAddress } from '../extension/core/testbed/testbed';
import { describeCalls, traceHosts } from '../test/helpers/host-trace';

const bootsOnly = process.argv.indexOf('--boots');
const BOOTS = bootsOnly >= 0 ? Number(process.argv[bootsOnly + 1]) : 2;
const nameAt = process.argv.indexOf('--name');
const NAME = nameAt >= 0 ? process.argv[nameAt + 1] : 'vmbench';
const CYCLES = 3;
const ROUNDS = 4;
const SECONDS = 5;
const CYCLE_ONLY = process.argv.includes('--cycle');
const workloadsAt = process.argv.indexOf('--workloads');
const WORKLOADS = workloadsAt >= 0 ? process.argv[workloadsAt + 1].split(',') : [];

const fmt = (xs: number[], unit: string, digits = 0) => {
  const s = describe(xs);
  return `median ${s.median.toFixed(digits)} ${unit} (min ${s.min.toFixed(digits)}, max ${s.max.toFixed(digits)}, n ${s.n})`;
};

/** CPU seconds the model VM's QEMU has used: less sensitive than wall time to the other load on this machine. */
function qemuCpuSeconds(b: Backend): number {
  const vm = b.state.read()?.objects.find((o) => o.kind === 'vm' && o.name === 'model') as { pidFile?: string } | undefined;
  const pid = vm?.pidFile ? qemuPid(vm.pidFile) : undefined;
  if (pid === undefined) return NaN;
  // /proc/PID/stat: "PID (COMM) STATE ..." with utime and stime the 14th and 15th fields, in clock ticks (100 Hz).
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Seconds from QEMU's start to SSH answering, from the progress messages `up` prints. */
async function bootToSsh(workspace: string): Promise<{ boot: number; up: number; cpu: number }> {
  const b = openTestbed(workspace);
  const t0 = performance.now();
  let started = 0;
  let routed = 0;
  await b.up({ progress: { report: (m) => {
    if (m.startsWith('Starting the model VM')) started = performance.now();
    if (m.startsWith('Routing traffic')) routed = performance.now();
  } } });
  return { boot: (routed - started) / 1000, up: (performance.now() - t0) / 1000, cpu: qemuCpuSeconds(b) };
}

async function iperf(b: Backend): Promise<number> {
  await run(b.host('server'), ['iperf3', '-s', '-1', '-D'], { timeoutMs: 15_000 });
  await new Promise((r) => setTimeout(r, 300));
  const out = await run(b.host('client'), ['iperf3', '-c', serverAddress(b.testbed), '-t', String(SECONDS), '-J'], { timeoutMs: (SECONDS + 60) * 1000 });
  return (JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } }).end.sum_received.bits_per_second / 1e9;
}

/** Deploys the template once (kbuild from scratch), then CYCLES times (each after an edit), and prints the times. */
async function cycle(b: Backend, model: string): Promise<void> {
  const t0 = performance.now();
  const first = await deployModel(b, model, 'kernel', { watchdogSeconds: 120 });
  console.log(`first deploy: ${((performance.now() - t0) / 1000).toFixed(2)} s (of which build ${(first.build.durationMs / 1000).toFixed(2)} s)`);
  const cycles: number[] = [];
  const builds: number[] = [];
  for (let i = 0; i < CYCLES; i++) {
    // Each cycle rebuilds: an edited source is what an edit-and-try loop deploys.
    editSource(model, i);
    const t = performance.now();
    const r = await deployModel(b, model, 'kernel', { watchdogSeconds: 120 });
    cycles.push((performance.now() - t) / 1000);
    builds.push(r.build.durationMs / 1000);
  }
  console.log(`build-upload-insmod-verify: ${fmt(cycles, 's', 2)}   goal < 3 s   (of which build ${fmt(builds, 's', 2)})`);
}

/** An edit of the template's source that changes the module it builds (a .modinfo entry). */
function editSource(model: string, i: number): void {
  const file = path.join(model, 'kernel_space.c');
  const text = fs.readFileSync(file, 'utf8').replace(/\nMODULE_INFO\(hs_bench_edit, "\d+"\);\n$/, '\n');
  fs.writeFileSync(file, `${text.trimEnd()}\nMODULE_INFO(hs_bench_edit, "${i}");\n`);
}

/** --cycle: the cycle's times, then every host call of one more cycle and of a deploy with nothing changed. */
async function cycleOnly(b: Backend, model: string): Promise<void> {
  await cycle(b, model);
  const calls = traceHosts(b);
  editSource(model, CYCLES);
  let t = performance.now();
  await deployModel(b, model, 'kernel', { watchdogSeconds: 120 });
  console.log(`one more cycle, ${((performance.now() - t) / 1000).toFixed(2)} s, ${calls.length} host calls:\n${describeCalls(calls)}`);
  calls.length = 0;
  t = performance.now();
  await deployModel(b, model, 'kernel', { watchdogSeconds: 120 });
  console.log(`deploy again with nothing changed, ${((performance.now() - t) / 1000).toFixed(2)} s, ${calls.length} host calls:\n${describeCalls(calls)}`);
  await undeployModel(b);
}

async function main(): Promise<void> {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-benchvm-'));
  const hosts = WORKLOADS.length ? { hosts: { model: { qemu: { workloads: WORKLOADS } } } } : {};
  fs.writeFileSync(path.join(workspace, 'hypershield.testbed.json'), JSON.stringify({ name: NAME, backend: 'qemu', ...hosts }));
  const model = path.join(workspace, 'model');
  scaffoldModel(model, 'kernel');
  try {
    // The first `up` also makes the image and checks KVM once; it is not counted.
    await openTestbed(workspace).up();
    const b0 = openTestbed(workspace);
    console.log(`hosts emulated (TCG): ${b0.capabilities.emulated}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    if (CYCLE_ONLY) return await cycleOnly(b0, model);
    await b0.down();
    const boots: number[] = [];
    const ups: number[] = [];
    const cpus: number[] = [];
    for (let i = 0; i < BOOTS; i++) {
      const { boot, up, cpu } = await bootToSsh(workspace);
      boots.push(boot);
      ups.push(up);
      cpus.push(cpu);
      console.log(`  boot ${i + 1}: ${boot.toFixed(1)} s to SSH, QEMU CPU ${cpu.toFixed(1)} s, load ${os.loadavg()[0].toFixed(1)}`);
      if (i < BOOTS - 1) await openTestbed(workspace).down();
    }
    console.log(`boot to SSH:  ${fmt(boots, 's', 1)}   goal < 10 s   (whole up: ${fmt(ups, 's', 1)}; QEMU CPU: ${fmt(cpus, 's', 1)})`);
    if (bootsOnly >= 0) return;

    const b = openTestbed(workspace);
    await cycle(b, model);

    // One unrecorded run first: the first transfer through a fresh guest is an outlier. Then ABBA within each pair of
    // rounds, so slow drift favours neither.
    await iperf(b);
    const ratios: number[] = [];
    const plain: number[] = [];
    const templ: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const order = i % 2 === 0 ? ['plain', 'template'] : ['template', 'plain'];
      const got: Record<string, number> = {};
      for (const what of order) {
        if (what === 'plain') await undeployModel(b);
        else await deployModel(b, model, 'kernel', { watchdogSeconds: 120 });
        got[what] = await iperf(b);
      }
      plain.push(got.plain);
      templ.push(got.template);
      ratios.push(got.template / got.plain);
      console.log(`  round ${i + 1}: plain forwarding ${got.plain.toFixed(3)} Gbit/s, kernel template ${got.template.toFixed(3)} Gbit/s, ratio ${(got.template / got.plain).toFixed(3)}`);
    }
    await undeployModel(b);
    console.log(`plain forwarding through the VM: ${fmt(plain, 'Gbit/s', 3)}`);
    console.log(`kernel template:                 ${fmt(templ, 'Gbit/s', 3)}`);
    console.log(`template / plain: ${fmt(ratios, '', 3)}   goal >= 0.95`);
  } finally {
    await openTestbed(workspace).down().catch((err: Error) => console.error(`down failed: ${err.message}`));
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
