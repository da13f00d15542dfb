// CPU pinning of the measured processes: the client's and server's benchmark programs and a user-space model.
// On a machine with few cores, processes that migrate between CPUs reorder packets and drift; pinning makes runs
// repeatable. Pinning is done with taskset(1) on each host, through argv.
import type { ExecOptions, Host, Role } from '../hosts/host';
import { run } from '../hosts/host';

/** Which CPUs (a taskset list such as "0", "1-3" or "0,2") each role's processes may run on; "auto" picks them. */
export type PinPlan = Partial<Record<Role, string>>;
export type PinOption = PinPlan | 'auto';

export const CPU_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

const AUTO_INDEX: Record<Role, number> = { client: 0, server: 1, model: 2 };

/**
 * The CPUs of each role. "auto" puts client, server and model on CPUs 0, 1 and 2 of their host, wrapping around on
 * hosts with fewer (on 2 cores the model shares CPU 0 with the client). Every assignment is tried once, so a CPU the
 * host lacks or a missing taskset fails before anything is measured.
 */
export async function resolvePinPlan(option: PinOption, hosts: Record<Role, Host>, signal?: AbortSignal): Promise<PinPlan> {
  const plan: PinPlan = {};
  for (const role of Object.keys(AUTO_INDEX) as Role[]) {
    const host = hosts[role];
    let cpus = option === 'auto' ? undefined : option[role];
    if (option === 'auto') {
      const n = Number((await host.exec(['nproc'], { signal, timeoutMs: 10_000 })).stdout.trim()) || 1;
      cpus = String(AUTO_INDEX[role] % n);
    }
    if (cpus === undefined) continue;
    if (!CPU_LIST.test(cpus)) throw new Error(`Pinning: "${cpus}" for the ${role} is not a CPU list (use e.g. 0, 1-3 or 0,2).`);
    const r = await host.exec(['taskset', '-c', cpus, 'true'], { signal, timeoutMs: 10_000 });
    if (r.code !== 0) {
      const n = (await host.exec(['nproc'], { signal, timeoutMs: 10_000 })).stdout.trim();
      throw new Error(`Pinning the ${role} to CPUs ${cpus} failed on ${host.label} (it has ${n || 'an unknown number of'} CPUs; taskset is in util-linux): ${(r.stderr || r.stdout).trim()}`);
    }
    plan[role] = cpus;
  }
  return plan;
}

/** A host whose every command runs under `taskset -c CPUS`, so what it starts (daemons too) inherits the CPUs. */
export function pinnedHost(host: Host, cpus: string): Host {
  return {
    role: host.role,
    kind: host.kind,
    label: host.label,
    exec: (argv: readonly string[], opts?: ExecOptions) => host.exec(['taskset', '-c', cpus, ...argv], opts),
    upload: (l, r, o) => host.upload(l, r, o),
    download: (r, l, o) => host.download(r, l, o),
    status: () => host.status(),
    shellArgv: () => host.shellArgv(),
  };
}

/**
 * Pins every thread of the process in a deployed model's pid file (the user-space placement) to `cpus`. eBPF and
 * kernel models run in the kernel's packet processing context, on whichever CPU handles the packet: nothing to pin,
 * and the returned note says so.
 */
export async function pinModel(model: Host, detail: Record<string, string> | undefined, cpus: string, signal?: AbortSignal): Promise<string> {
  const pidFile = detail?.pidFile;
  if (!pidFile) return 'the model runs in the kernel (eBPF or netfilter module): not a process to pin';
  const pid = (await run(model, ['cat', pidFile], { signal, timeoutMs: 10_000 })).trim();
  if (!/^\d+$/.test(pid)) throw new Error(`The model's pid file ${pidFile} on ${model.label} holds "${pid}", not a pid: redeploy the model.`);
  await run(model, ['taskset', '-a', '-c', '-p', cpus, pid], { signal, timeoutMs: 10_000 });
  return `user-space model: every thread of its process pinned to CPUs ${cpus}`;
}

/** Parses ROLE=CPUS assignments ("client=0", "server=1", "model=0-1"); none at all means "auto". */
export function parsePinOption(assignments: readonly string[]): PinOption {
  if (assignments.length === 0) return 'auto';
  const plan: PinPlan = {};
  for (const a of assignments) {
    const m = /^(client|server|model)=(.+)$/.exec(a.trim());
    if (!m || !CPU_LIST.test(m[2])) throw new Error(`--pin: "${a}" is not ROLE=CPUS (e.g. client=0 server=1 model=1; CPUS as taskset -c takes them: 0, 1-3, 0,2).`);
    plan[m[1] as Role] = m[2];
  }
  return plan;
}
