// Which settle step makes a hypervisor A/B run fair: A/B runs of one QEMU against itself (a second path to the same
// program), one run per settle step, the steps interleaved (rotated per repetition). Identical arms should not
// differ: the figures are each round's |B/A - 1| of iperf3 throughput and ping's average RTT (smaller is fairer), and,
// in rounds where one arm was just booted and the other kept its VMs, fresh/kept - 1 (the bias a settle step should
// remove: near 0 is fair).
// Figures, not pass/fail: this machine's speed drifts.
//   node --import tsx scripts/bench-ab-settle.ts [--reps N] [--rounds N] [--offset K] [--name TESTBED]
// --offset K starts the rotation of the steps K places on (to continue an earlier invocation's order).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openTestbed } from '../extension/core/backends/open';
import { runHypervisorAb } from '../extension/core/bench/hypervisor-ab';
import { rotate } from '../extension/core/bench/schedule';
import type { SettleSpec } from '../extension/core/bench/settle';
import { ResultsStore } from '../extension/core/results/store';
import { describe } from '../extension/core/results/stats';
import { loadTestbed } from '../extension/core/testbed/load';

const arg = (name: string, fallback: string) => { const i = process.argv.indexOf(name); return i >= 0 ? process.argv[i + 1] : fallback; };
const REPS = Number(arg('--reps', '2'));
const ROUNDS = Number(arg('--rounds', '3'));
const NAME = arg('--name', 'abfair');
const OFFSET = Number(arg('--offset', '0'));
const STEPS: Record<string, SettleSpec> = {
  none: { kind: 'none' },
  quiet: { kind: 'quiet', idlePercent: 90, timeoutS: 30 },
  warmup: { kind: 'warmup' },
};

async function main(): Promise<void> {
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), `hs-${NAME}-`));
  fs.writeFileSync(path.join(ws, 'hypershield.testbed.json'), JSON.stringify({ name: NAME, backend: 'qemu', hosts: { model: { qemu: { memoryMiB: 256 } } } }));
  const bin = path.join(ws, 'bin');
  fs.mkdirSync(bin);
  fs.symlinkSync('/usr/bin/qemu-system-x86_64', path.join(bin, 'qemu-system-x86_64'));
  const gaps: Record<string, { throughput: number[]; rttAvg: number[]; freshThroughput: number[]; freshRtt: number[]; waitedMs: number[]; wallS: number[] }> = {};
  try {
    for (let rep = 0; rep < REPS; rep++) {
      for (const step of rotate(Object.keys(STEPS), (rep + OFFSET) % 3)) {
        const t0 = Date.now();
        const run = await runHypervisorAb(loadTestbed(ws), [{ name: 'A', hosts: {} }, { name: 'B', hosts: { model: { binary: path.join(bin, 'qemu-system-x86_64') } } }],
          { benchmarks: ['iperf3', 'ping'], modes: ['model'], repetitions: ROUNDS, warmup: 0, durationS: 1 },
          { workspace: ws, store: new ResultsStore(ws), settle: STEPS[step] });
        const g = (gaps[step] ??= { throughput: [], rttAvg: [], freshThroughput: [], freshRtt: [], waitedMs: [], wallS: [] });
        g.wallS.push((Date.now() - t0) / 1000);
        g.waitedMs.push(...run.metadata.ab!.settle!.boots.map((b) => b.waitedMs));
        for (let round = 1; round <= ROUNDS; round++) {
          for (const [bench, metric] of [['iperf3', 'throughput'], ['ping', 'rttAvg']] as const) {
            const v = (arm: string) => run.results.find((r) => r.arm === arm && r.repetition === round && r.benchmark === bench)?.metrics[metric]?.value;
            const [a, b] = [v('A'), v('B')];
            if (a && b) g[metric].push(Math.abs(b / a - 1) * 100);
            const booted = run.metadata.ab!.settle!.boots.filter((x) => x.round === round).map((x) => x.arm);
            if (a && b && booted.length === 1) {
              const [fresh, kept] = booted[0] === 'A' ? [a, b] : [b, a];
              g[metric === 'throughput' ? 'freshThroughput' : 'freshRtt'].push((fresh / kept - 1) * 100);
            }
          }
        }
        const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
        console.log(`rep ${rep + 1} ${step}: ${((Date.now() - t0) / 1000).toFixed(0)} s, load ${load}, settle waits ${run.metadata.ab!.settle!.boots.map((b) => `${b.waitedMs} ms${b.idlePercent ? ` (${Object.values(b.idlePercent).join('/')} % idle)` : ''}`).join(', ')}`);
      }
    }
  } finally {
    await openTestbed(ws).down().catch(() => undefined);
    fs.rmSync(ws, { recursive: true, force: true });
  }
  console.log('\n|B/A - 1| per round, identical arms (median, min-max, n):');
  for (const [step, g] of Object.entries(gaps)) {
    const f = (xs: number[]) => { const d = describe(xs); return `${d.median.toFixed(1)} % (${d.min.toFixed(1)}-${d.max.toFixed(1)}, n=${xs.length})`; };
    console.log(`${step.padEnd(7)} iperf3 throughput ${f(g.throughput)}; ping rttAvg ${f(g.rttAvg)}; settle per boot ${describe(g.waitedMs).median.toFixed(0)} ms; run ${describe(g.wallS).median.toFixed(0)} s`);
  }
  console.log('\njust booted / kept its VMs - 1, rounds with one fresh arm (median, min-max, n):');
  for (const [step, g] of Object.entries(gaps)) {
    const f = (xs: number[]) => { if (!xs.length) return 'none'; const d = describe(xs); return `${d.median.toFixed(1)} % (${d.min.toFixed(1)} to ${d.max.toFixed(1)}, n=${xs.length})`; };
    console.log(`${step.padEnd(7)} iperf3 throughput ${f(g.freshThroughput)}; ping rttAvg ${f(g.freshRtt)}`);
  }
}

main().catch((err) => { console.error(err); process.exitCode = 1; });
