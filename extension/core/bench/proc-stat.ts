/** Linux reports /proc/stat times in USER_HZ, fixed at 100 per second for user space on every architecture. */
const MS_PER_TICK = 10;

export interface CpuTimes { busyMs: number; softirqMs: number; totalMs: number; cpus: number }

/**
 * Reads the all-CPU line of /proc/stat (proc(5)): user nice system idle iowait irq softirq steal guest
 * guest_nice, in ticks since boot; guest time is already inside user. Sample:
 *
 *   cpu  260118 208 67177 676832 1183 0 4597 4659 0 0
 *   cpu0 130047 95 33766 338102 598 0 2854 2310 0 0
 *   cpu1 130071 113 33411 338730 585 0 1743 2349 0 0
 */
export function parseProcStat(text: string): CpuTimes {
  const all = /^cpu\s+(.*)$/m.exec(text);
  if (!all) throw new Error('/proc/stat has no "cpu" line');
  const [user, nice, system, idle, iowait, irq, softirq, steal] = all[1].trim().split(/\s+/).map(Number);
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return {
    busyMs: (total - idle - iowait) * MS_PER_TICK,
    softirqMs: softirq * MS_PER_TICK,
    totalMs: total * MS_PER_TICK,
    cpus: text.match(/^cpu\d+ /gm)?.length ?? 1,
  };
}

/**
 * Sums the NET_RX and NET_TX rows of /proc/softirqs over all CPUs. Sample:
 *
 *                       CPU0       CPU1
 *         NET_TX:        106        245
 *         NET_RX:    3245612    3294030
 */
export function parseSoftirqs(text: string): { netRx: number; netTx: number } {
  const row = (name: string) => {
    const m = new RegExp(`^\\s*${name}:(.*)$`, 'm').exec(text);
    if (!m) throw new Error(`/proc/softirqs has no ${name} row`);
    return m[1].trim().split(/\s+/).reduce((sum, n) => sum + Number(n), 0);
  };
  return { netRx: row('NET_RX'), netTx: row('NET_TX') };
}

/** Difference of two readings, field by field (the CPU count is kept). */
export function cpuDelta(a: CpuTimes, b: CpuTimes): CpuTimes {
  return { busyMs: b.busyMs - a.busyMs, softirqMs: b.softirqMs - a.softirqMs, totalMs: b.totalMs - a.totalMs, cpus: b.cpus };
}
