// Prints, from one run on the namespace testbed, the iperf3 throughput of each model template relative to plain
// forwarding through the model host (placement "none"), 5 repetitions each. Goals: user >= 0.85, eBPF >= 0.95.
// Placements run one after another, so the machine's drift between them would enter a plain ratio of medians;
// direct mode, measured right beside model mode in every repetition, never crosses the model and serves as the
// drift control: the paired ratio is median(model/direct) of a template over median(model/direct) of "none".
// The kernel template cannot be loaded on a kernel without module support and is left out there.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openTestbed } from '../extension/core/backends/open';
import { runBenchmarks } from '../extension/core/bench/runner';
import { preparePlacement } from '../extension/core/model/placement';
import { scaffoldModel } from '../extension/core/model/scaffold';
import { ResultsStore } from '../extension/core/results/store';
import type { Placement, RunFile } from '../extension/core/results/run-file';
import { describe } from '../extension/core/results/stats';
import { findEntry } from '../extension/core/results/summary';

const REPS = Number(process.env.REPS ?? 5);
const DURATION_S = Number(process.env.DURATION ?? 5);

async function main(): Promise<void> {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-benchtpl-'));
  fs.writeFileSync(path.join(workspace, 'hypershield.testbed.json'), JSON.stringify({ name: 'benchtpl', backend: 'netns' }));
  const modelDir = path.join(workspace, 'model');
  scaffoldModel(modelDir, 'all');
  const backend = openTestbed(workspace);
  try {
    await backend.up();
    const placements: Placement[] = ['none', 'user', 'ebpf'];
    const run = await runBenchmarks(backend, { benchmarks: ['iperf3'], modes: ['direct', 'model'], placements, repetitions: REPS, warmup: 1, durationS: DURATION_S }, {
      workspace, store: new ResultsStore(workspace),
      preparePlacement: (p, w) => preparePlacement(backend, modelDir, p, w),
      progress: { report: (m) => process.stderr.write(`${m}\n`) },
    });
    const model = (p: Placement) => findEntry(run.summary, { benchmark: 'iperf3', placement: p, mode: 'model', metric: 'throughput' })!.stats;
    const base = model('none');
    const basePaired = pairedRatio(run, 'none');
    console.log(`plain forwarding through the model host: ${base.median.toFixed(2)} Gbit/s (median of ${base.n}, IQR ${base.iqr.toFixed(2)}); model/direct ${basePaired.toFixed(3)}`);
    for (const [p, goal] of [['user', 0.85], ['ebpf', 0.95]] as const) {
      const s = model(p);
      console.log(`${p.padEnd(5)} template: ${s.median.toFixed(2)} Gbit/s (IQR ${s.iqr.toFixed(2)}, n ${s.n}); ` +
        `paired ratio ${(pairedRatio(run, p) / basePaired).toFixed(3)} (goal >= ${goal}), plain ratio of medians ${(s.median / base.median).toFixed(3)}`);
    }
    console.log(`run file: ${new ResultsStore(workspace).fileOf(run.id)}`);
  } finally {
    await backend.down().catch(() => undefined);
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

/** Median over repetitions of model-mode over direct-mode throughput, measured side by side. */
function pairedRatio(run: RunFile, placement: Placement): number {
  const tput = (mode: string, rep: number) => run.results.find((r) => r.placement === placement && r.mode === mode && r.repetition === rep)?.metrics.throughput?.value;
  const ratios = [...new Set(run.results.map((r) => r.repetition))].flatMap((rep) => {
    const d = tput('direct', rep);
    const m = tput('model', rep);
    return d && m ? [m / d] : [];
  });
  return describe(ratios).median;
}

main().catch((err) => { console.error(err); process.exit(1); });
