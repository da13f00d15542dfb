// Workload tools a VM image carries on request (hosts.ROLE.qemu.workloads in the testbed file). The default image
// stays small because it is unpacked at every boot under TCG; a testbed that measures memory-bound workloads inside
// a VM names the tool sets its VMs need, which makes a cached image variant (the cache is keyed by content).
import type { Role } from '../../hosts/host';
import type { Testbed } from '../../testbed/testbed';

interface WorkloadTool {
  /** Programs copied from this machine (with their ldd libraries), each with the Debian package that has it. */
  programs: ReadonlyArray<readonly [path: string, pkg: string]>;
  /** Folders the programs read at run time, copied as they are. */
  data?: readonly string[];
}

/**
 * The tool sets by name: the one list of names (schemas/testbed.schema.json repeats it as an enum, which a unit
 * test keeps equal). MariaDB is not offered: its server and data directory would more than double the image.
 */
export const WORKLOAD_TOOLS = {
  // sysbench cpu and memory; the oltp scripts it loads from /usr/share/sysbench make it a sysbench-oltp client too.
  sysbench: { programs: [['/usr/bin/sysbench', 'sysbench']], data: ['/usr/share/sysbench'] },
  fio: { programs: [['/usr/bin/fio', 'fio']] },
  redis: { programs: [['/usr/bin/redis-server', 'redis-server'], ['/usr/bin/redis-benchmark', 'redis-tools'], ['/usr/bin/redis-cli', 'redis-tools']] },
  // bench --profile on a VM host: perf stat and perf record (with its libraries, about 30 MB: not in the default image).
  perf: { programs: [['/usr/bin/perf', 'linux-perf']] },
} as const satisfies Record<string, WorkloadTool>;

export type WorkloadToolName = keyof typeof WORKLOAD_TOOLS;
export const WORKLOAD_TOOL_NAMES = Object.keys(WORKLOAD_TOOLS) as WorkloadToolName[];

/** The tool sets in a fixed order without repeats: what an image variant is keyed by. */
export function normalWorkloads(names: readonly WorkloadToolName[] = []): WorkloadToolName[] {
  return WORKLOAD_TOOL_NAMES.filter((n) => names.includes(n));
}

/** The programs of the tool sets, each with its Debian package. */
export function workloadPrograms(names: readonly WorkloadToolName[]): Array<[string, string]> {
  return normalWorkloads(names).flatMap((n) => (WORKLOAD_TOOLS[n] as WorkloadTool).programs.map(([p, pkg]): [string, string] => [p, pkg]));
}

export function workloadData(names: readonly WorkloadToolName[]): string[] {
  return normalWorkloads(names).flatMap((n) => [...((WORKLOAD_TOOLS[n] as WorkloadTool).data ?? [])]);
}

/**
 * How a VM of the testbed gets a program a benchmark needs: the tool set to add to the role's workloads, or why no
 * image carries it. Programs are matched by name, as benchmarks name them.
 */
export function vmToolFix(testbed: Testbed, role: Role, program: string): string {
  const name = WORKLOAD_TOOL_NAMES.find((n) => workloadPrograms([n]).some(([p]) => p.split('/').pop() === program));
  const where = `hosts.${role}.qemu.workloads in ${testbed.source}`;
  if (name) return `add "${name}" to ${where}; the VM image is then made with it`;
  return `the VM image cannot carry it (workload tool sets: ${WORKLOAD_TOOL_NAMES.join(', ')}): run the ${role} as a namespace (leave out hosts.${role}.qemu.vm) or give the VM your own initrd`;
}
