// The settle step of an A/B run of hypervisors: what is done after an arm's VMs boot, before the arm's first
// measurement, so that the arm measured right after a boot is not measuring the tail of that boot.
//
// It reads the first line of each VM's /proc/stat twice, 1 s apart, e.g. (user nice system idle iowait irq softirq
// steal ..., in clock ticks since boot):
//   cpu  2255 34 2290 22625563 6290 127 456 0 0 0
import type { Host, Role } from '../hosts/host';
import { sleep } from '../util/poll';

/** What to do after a boot. One source of truth for the run file's `ab.settle.spec` (schemas/run.schema.json). */
export type SettleSpec =
  | { kind: 'none' }
  /** Wait until every VM of the arm is at least idlePercent idle over one second, at most timeoutS. */
  | { kind: 'quiet'; idlePercent: number; timeoutS: number }
  /** One unrecorded run of the plan (warms the emulator's translated code and the guest's caches). */
  | { kind: 'warmup' };

/**
 * The settle step of hypervisor A/B runs unless the caller gives another. Measured with scripts/bench-ab-settle.ts
 * (one QEMU against itself under TCG, the steps interleaved, 14 rounds each, load 2-7): the guests are 96-99 %
 * idle at once after a boot, so waiting for quiet did not help; an arm just booted measured ~29 % less iperf3
 * throughput than one that kept its VMs (median of 6 rounds), and one unrecorded run of the plan after each boot
 * cut that to ~18 % and gave the smallest gap between the identical arms (median |B/A - 1| of iperf3 throughput
 * 23-38 % against 35-59 % without a settle step).
 */
export const DEFAULT_SETTLE: SettleSpec = { kind: 'warmup' };

/** What one settle step did after one boot. */
export interface SettleOutcome {
  arm: string;
  /** The round whose measurement followed (warm-up rounds are < 1). */
  round: number;
  waitedMs: number;
  /** False when the time ran out before the VMs were quiet (measured anyway; the figures say how far off). */
  settled: boolean;
  /** Each VM's idle share over the last second read. */
  idlePercent?: Partial<Record<Role, number>>;
}

const STAT_TWICE = 'head -n 1 /proc/stat; sleep 1; head -n 1 /proc/stat';

/** Idle (idle + iowait) and total ticks of a `cpu ` line of /proc/stat. */
export function parseCpuLine(line: string): { idle: number; total: number } {
  const fields = line.trim().split(/\s+/);
  if (fields[0] !== 'cpu' || fields.length < 5) throw new Error(`Not the cpu line of /proc/stat: "${line}"`);
  const ticks = fields.slice(1).map(Number);
  return { idle: ticks[3] + (ticks[4] ?? 0), total: ticks.reduce((a, b) => a + b, 0) };
}

/** The idle share in percent between the two lines that STAT_TWICE prints. */
export function idleBetween(output: string): number {
  const [a, b] = output.trim().split('\n').map(parseCpuLine);
  if (!a || !b) throw new Error(`Expected two cpu lines of /proc/stat, got: "${output.trim()}"`);
  const total = b.total - a.total;
  return total > 0 ? (100 * (b.idle - a.idle)) / total : 100;
}

/**
 * Runs the settle step on the arm's VM hosts: `quiet` is bounded by spec.timeoutS (plus one last reading), `warmup`
 * calls `warm` (the plan's run, bounded as every run is).
 */
export async function settle(spec: SettleSpec, vms: Partial<Record<Role, Host>>, at: { arm: string; round: number }, warm: () => Promise<void>, signal?: AbortSignal): Promise<SettleOutcome> {
  const started = Date.now();
  if (spec.kind === 'none') return { ...at, waitedMs: 0, settled: true };
  if (spec.kind === 'warmup') {
    await warm();
    return { ...at, waitedMs: Date.now() - started, settled: true };
  }
  const deadline = started + spec.timeoutS * 1000;
  for (;;) {
    signal?.throwIfAborted();
    const idlePercent: Partial<Record<Role, number>> = {};
    await Promise.all(Object.entries(vms).map(async ([role, host]) => {
      const r = await host!.exec(['sh', '-c', STAT_TWICE], { signal, timeoutMs: 15_000 });
      if (r.code !== 0) throw new Error(`${host!.label}: reading /proc/stat to see whether it is quiet failed: ${r.timedOut ? 'no answer within 15 s' : r.stderr.trim()}`);
      idlePercent[role as Role] = Math.round(idleBetween(r.stdout) * 10) / 10;
    }));
    const settled = Object.values(idlePercent).every((p) => p! >= spec.idlePercent);
    if (settled || Date.now() >= deadline) return { ...at, waitedMs: Date.now() - started, settled, idlePercent };
    await sleep(200);
  }
}
