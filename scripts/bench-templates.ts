// Prints the iperf3 throughput of each model template relative to plain forwarding through the model host (placement
// "none"), measured on the namespace testbed. Goals: user >= 0.85, eBPF >= 0.95.
// This machine's throughput drifts by more than the differences being measured, so placements are never compared
// across minutes: each round measures none, user and eBPF back to back (the order rotated every round) and yields
// one ratio per template; the figure is the median of those ratios over the rounds. Every round is a run of its own.
// Single rounds scatter by about +-5 % here (an empty tc program measured 0.91-1.06), so it takes 15 rounds (about
// 7 minutes) for the median to settle within the 5 % that separates the goals from plain forwarding.
// The kernel template cannot be loaded on a kernel without module support and is left out.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openTestbed } from '../extension/core/backends/open';
import { runBenchmarks } from '../extension/core/bench/runner';
import { preparePlacement } from '../extension/core/model/placement';
import { scaffoldModel } from '../extension/core/model/scaffold';
import { ResultsStore } from '../extension/core/results/store';
import type { Placement } from '../extension/core/results/run-file';
import { describe } from '../extension/core/results/stats';
import { findEntry } from '../extension/core/results/summary';

const ROUNDS = Number(process.env.ROUNDS ?? 15);
const DURATION_S = Number(process.env.DURATION ?? 5);
const PLACEMENTS: Placement[] = ['none', 'user', 'ebpf'];
const GOALS = { user: 0.85, ebpf: 0.95 } as const;

async function main(): Promise<void> {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-benchtpl-'));
  fs.writeFileSync(path.join(workspace, 'hypershield.testbed.json'), JSON.stringify({ name: 'benchtpl', backend: 'netns' }));
  const modelDir = path.join(workspace, 'model');
  scaffoldModel(modelDir, 'all');
  const backend = openTestbed(workspace);
  const store = new ResultsStore(workspace);
  const gbits: Record<Placement, number[]> = { none: [], user: [], ebpf: [], kernel: [] };
  const ratios = { user: [] as number[], ebpf: [] as number[] };
  try {
    await backend.up();
    for (let round = 0; round < ROUNDS; round++) {
      const order = PLACEMENTS.map((_, i) => PLACEMENTS[(i + round) % PLACEMENTS.length]);
      const run = await runBenchmarks(backend, { benchmarks: ['iperf3'], modes: ['model'], placements: order, repetitions: 1, warmup: 0, durationS: DURATION_S }, {
        workspace, store,
        preparePlacement: (p, w) => preparePlacement(backend, modelDir, p, w),
        progress: { report: (m) => process.stderr.write(`[round ${round + 1}/${ROUNDS}] ${m}\n`) },
      });
      const tput = (p: Placement) => findEntry(run.summary, { benchmark: 'iperf3', placement: p, mode: 'model', metric: 'throughput' })!.stats.median;
      for (const p of PLACEMENTS) gbits[p].push(tput(p));
      for (const t of ['user', 'ebpf'] as const) ratios[t].push(tput(t) / tput('none'));
      console.log(`round ${round + 1} (${order.join(', ')}): ${PLACEMENTS.map((p) => `${p} ${tput(p).toFixed(2)}`).join(', ')} Gbit/s; ` +
        `user/none ${ratios.user.at(-1)!.toFixed(3)}, ebpf/none ${ratios.ebpf.at(-1)!.toFixed(3)}`);
    }
    const none = describe(gbits.none);
    console.log(`plain forwarding through the model host: median ${none.median.toFixed(2)} Gbit/s over ${ROUNDS} rounds (IQR ${none.iqr.toFixed(2)})`);
    for (const t of ['user', 'ebpf'] as const) {
      const r = describe(ratios[t]);
      console.log(`${t.padEnd(4)} template: ratio to plain forwarding ${r.median.toFixed(3)} (median of ${r.n} rounds, IQR ${r.q1.toFixed(3)}-${r.q3.toFixed(3)}; goal >= ${GOALS[t]})`);
    }
  } finally {
    await backend.down().catch(() => undefined);
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
