// Prints the iperf3 throughput of each model template relative to plain forwarding through the model host (placement
// "none"), measured on the namespace testbed: one bulk TCP stream (goals: user >= 0.85, eBPF >= 0.95), and the rate
// of 64-byte UDP datagrams delivered to the server (goals: user >= 0.50, eBPF >= 0.90).
// This machine's throughput drifts by more than the differences being measured, so placements are never compared
// across minutes: each round measures none, user and eBPF back to back (the order rotated every round) and yields
// one ratio per template; the figure is the median of those ratios over the rounds. Every round is a run of its own.
// Single rounds scatter by about +-5 % here (an empty tc program measured 0.91-1.06), so it takes 15 rounds (about
// 7 minutes) for the median to settle within the 5 % that separates the goals from plain forwarding.
// The kernel template cannot be loaded on a kernel without module support and is left out.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Backend } from '../extension/core/backends/backend';
import { openTestbed } from '../extension/core/backends/open';
import { startDaemon } from '../extension/core/bench/daemon';
import { run } from '../extension/core/hosts/host';
import { runBenchmarks } from '../extension/core/bench/runner';
import { preparePlacement } from '../extension/core/model/placement';
import { scaffoldModel } from '../extension/core/model/scaffold';
import { ResultsStore } from '../extension/core/results/store';
import type { Placement } from '../extension/core/results/run-file';
import { describe } from '../extension/core/results/stats';
import { findEntry } from '../extension/core/results/summary';
import { hostRunDir, serverAddress } from '../extension/core/testbed/testbed';

const ROUNDS = Number(process.env.ROUNDS ?? 15);
const DURATION_S = Number(process.env.DURATION ?? 5);
const PLACEMENTS: Placement[] = ['none', 'user', 'ebpf'];
const GOALS = { user: 0.85, ebpf: 0.95 } as const;
const UDP_GOALS = { user: 0.5, ebpf: 0.9 } as const;
const UDP_PORT = '5202';

/**
 * Datagrams per second the server received from one iperf3 UDP sender with 64-byte payloads and no rate limit. The
 * client's -J output ends with the server's count (sample: "end": {"sum": {"packets": 912345, "lost_packets": 1234,
 * "seconds": 5.0, ...}}), so lost datagrams, dropped anywhere on the way, are not counted.
 */
async function udpRate(backend: Backend): Promise<number> {
  const raw = await run(backend.host('client'), ['iperf3', '-c', serverAddress(backend.testbed), '-p', UDP_PORT, '-u', '-b', '0', '-l', '64', '-t', String(DURATION_S), '-J'],
    { timeoutMs: (DURATION_S + 30) * 1000 });
  const sum = (JSON.parse(raw) as { end?: { sum?: { packets: number; lost_packets: number; seconds: number } } }).end?.sum;
  if (!sum) throw new Error(`iperf3 UDP printed no end-of-test summary:\n${raw.slice(-2000)}`);
  return (sum.packets - sum.lost_packets) / sum.seconds;
}

async function main(): Promise<void> {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-benchtpl-'));
  fs.writeFileSync(path.join(workspace, 'hypershield.testbed.json'), JSON.stringify({ name: 'tplbench', backend: 'netns' }));
  const modelDir = path.join(workspace, 'model');
  scaffoldModel(modelDir, 'all');
  const backend = openTestbed(workspace);
  const store = new ResultsStore(workspace);
  const gbits: Record<Placement, number[]> = { none: [], user: [], ebpf: [], kernel: [] };
  const ratios = { user: [] as number[], ebpf: [] as number[] };
  const udpRates: Record<Placement, number[]> = { none: [], user: [], ebpf: [], kernel: [] };
  const udpRatios = { user: [] as number[], ebpf: [] as number[] };
  let stopUdpServer: (() => Promise<void>) | undefined;
  try {
    await backend.up();
    stopUdpServer = await startDaemon(backend.host('server'), {
      name: 'iperf3', runDir: `${hostRunDir(backend.testbed.name, 'server')}/bench-udp`, port: UDP_PORT,
      argv: (pidFile, logFile) => ['iperf3', '-s', '-p', UDP_PORT, '-D', '-I', pidFile, '--logfile', logFile],
    });
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
      const rate: Partial<Record<Placement, number>> = {};
      for (const p of order) {
        await preparePlacement(backend, modelDir, p);
        rate[p] = await udpRate(backend);
        udpRates[p].push(rate[p]);
      }
      await preparePlacement(backend, modelDir, 'none');
      for (const t of ['user', 'ebpf'] as const) udpRatios[t].push(rate[t]! / rate.none!);
      console.log(`round ${round + 1} UDP 64 B: ${PLACEMENTS.map((p) => `${p} ${(rate[p]! / 1000).toFixed(0)}k`).join(', ')} datagrams/s; ` +
        `user/none ${udpRatios.user.at(-1)!.toFixed(3)}, ebpf/none ${udpRatios.ebpf.at(-1)!.toFixed(3)}`);
    }
    const none = describe(gbits.none);
    console.log(`plain forwarding through the model host: median ${none.median.toFixed(2)} Gbit/s over ${ROUNDS} rounds (IQR ${none.iqr.toFixed(2)})`);
    for (const t of ['user', 'ebpf'] as const) {
      const r = describe(ratios[t]);
      console.log(`${t.padEnd(4)} template: ratio to plain forwarding ${r.median.toFixed(3)} (median of ${r.n} rounds, IQR ${r.q1.toFixed(3)}-${r.q3.toFixed(3)}; goal >= ${GOALS[t]})`);
    }
    const udpNone = describe(udpRates.none);
    console.log(`64-byte UDP through the model host, plain forwarding: median ${(udpNone.median / 1000).toFixed(0)}k datagrams/s delivered (IQR ${(udpNone.iqr / 1000).toFixed(0)}k)`);
    for (const t of ['user', 'ebpf'] as const) {
      const r = describe(udpRatios[t]);
      console.log(`${t.padEnd(4)} template, 64-byte UDP: rate ratio to plain forwarding ${r.median.toFixed(3)} (median of ${r.n} rounds, IQR ${r.q1.toFixed(3)}-${r.q3.toFixed(3)}; goal >= ${UDP_GOALS[t]})`);
    }
  } finally {
    await stopUdpServer?.().catch(() => undefined);
    await backend.down().catch(() => undefined);
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

main().catch((err) => { console.error(err); process.exit(1); });
