// Prints, from one run on the namespace testbed, the iperf3 throughput of each model template relative to plain
// forwarding through the model host (placement "none"), median of 5 repetitions each. Goals: user >= 0.85,
// eBPF >= 0.95. The kernel template cannot be loaded on a kernel without module support and is left out there.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openTestbed } from '../extension/core/backends/open';
import { runBenchmarks } from '../extension/core/bench/runner';
import { preparePlacement } from '../extension/core/model/placement';
import { scaffoldModel } from '../extension/core/model/scaffold';
import { ResultsStore } from '../extension/core/results/store';
import type { Placement } from '../extension/core/results/run-file';

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
    const run = await runBenchmarks(backend, { benchmarks: ['iperf3'], modes: ['model'], placements, repetitions: REPS, warmup: 1, durationS: DURATION_S }, {
      workspace, store: new ResultsStore(workspace),
      preparePlacement: (p, w) => preparePlacement(backend, modelDir, p, w),
      progress: { report: (m) => process.stderr.write(`${m}\n`) },
    });
    const median = (p: Placement) => run.summary.find((s) => s.placement === p && s.metric === 'throughput')?.stats;
    const base = median('none')!;
    console.log(`plain forwarding through the model host: ${base.median.toFixed(2)} Gbit/s (median of ${base.n}, IQR ${base.iqr.toFixed(2)})`);
    for (const [p, goal] of [['user', 0.85], ['ebpf', 0.95]] as const) {
      const s = median(p)!;
      console.log(`${p.padEnd(5)} template: ${s.median.toFixed(2)} Gbit/s, ratio ${(s.median / base.median).toFixed(3)} (goal >= ${goal}; IQR ${s.iqr.toFixed(2)}, n ${s.n})`);
    }
    console.log(`run file: ${new ResultsStore(workspace).fileOf(run.id)}`);
  } finally {
    await backend.down().catch(() => undefined);
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
