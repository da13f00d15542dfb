// A/B runs of two hypervisor builds: the same plan on two variants of one qemu testbed that differ only by the QEMU
// program (or its extra arguments) of some VM roles, measured in rotating rounds like placements (schedule.ts), each
// arm's figures compared with the other's with paired bootstrap intervals.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { WorkOptions } from '../backends/backend';
import { backendFor } from '../backends/open';
import { ROLES, type Role } from '../hosts/host';
import { compareArms } from '../results/arm-changes';
import { SCHEMA_VERSION, type AbRecord, type HypervisorIdentity, type RunFile } from '../results/run-file';
import { ResultsStore } from '../results/store';
import { summarize } from '../results/summary';
import { validatePlan, type RunPlan } from './plan';
import { runBenchmarks } from './runner';
import type { Testbed } from '../testbed/testbed';
import { execLocal } from '../util/local-process';
import { rotate } from './schedule';
import { DEFAULT_SETTLE, settle, type SettleSpec } from './settle';

/** What an arm changes: per VM role, the QEMU program and/or its extra arguments. */
export interface HypervisorArm {
  name: string;
  hosts: Partial<Record<Role, { binary?: string; args?: string[] }>>;
}

const QEMU_DEFAULT = 'qemu-system-x86_64';

/** Arm B from `--hypervisor-b model=/opt/qemu-b/bin/qemu-system-x86_64 ...`: the QEMU program per VM role. */
export function parseHypervisorArm(name: string, assignments: readonly string[]): HypervisorArm {
  const hosts: HypervisorArm['hosts'] = {};
  for (const a of assignments) {
    const m = /^(client|server|model)=(.+)$/.exec(a.trim());
    if (!m) throw new Error(`--hypervisor-b: "${a}" is not ROLE=PROGRAM (e.g. model=/opt/qemu-b/bin/qemu-system-x86_64).`);
    if (hosts[m[1] as Role]) throw new Error(`--hypervisor-b: the ${m[1]} is given twice.`);
    hosts[m[1] as Role] = { binary: m[2] };
  }
  if (Object.keys(hosts).length === 0) throw new Error('--hypervisor-b needs at least one ROLE=PROGRAM.');
  return { name, hosts };
}

const isVm = (t: Testbed, role: Role) => role === 'model' || t.hosts[role]?.qemu?.vm === true;

/**
 * The testbed of one arm: `testbed` with only the QEMU program and arguments of the arm's roles replaced. Refused for
 * another backend, or a role that is not a VM (its hypervisor cannot change).
 */
export function armTestbed(testbed: Testbed, arm: HypervisorArm): Testbed {
  if (testbed.backend !== 'qemu') throw new Error(`An A/B run of hypervisor builds needs a qemu testbed; ${testbed.source} has backend "${testbed.backend}".`);
  const hosts = { ...testbed.hosts };
  for (const [role, change] of Object.entries(arm.hosts) as Array<[Role, HypervisorArm['hosts'][Role]]>) {
    if (!isVm(testbed, role)) throw new Error(`Arm ${arm.name} changes the hypervisor of the ${role}, which is not a VM in ${testbed.source}: set hosts.${role}.qemu.vm to true or leave it out.`);
    const qemu = { ...hosts[role]?.qemu };
    if (change?.binary !== undefined) qemu.binary = change.binary;
    if (change?.args !== undefined) qemu.args = change.args;
    hosts[role] = { ...hosts[role], qemu };
  }
  return { ...testbed, hosts };
}

/**
 * The arm order of each round, 1-warmup .. repetitions: rotated by round as placements are, so each arm goes first
 * equally often (A,B then B,A: ABBA across neighbouring rounds, which also saves one VM restart per round boundary).
 */
export function armRounds(arms: readonly string[], warmup: number, repetitions: number): Array<{ round: number; arms: string[] }> {
  const rounds: Array<{ round: number; arms: string[] }> = [];
  for (let round = 1 - warmup, k = 0; round <= repetitions; round++, k++) rounds.push({ round, arms: rotate(arms, k % arms.length) });
  return rounds;
}

/**
 * What a QEMU program is: the path as configured, the file it resolves to, its first --version line and the sha256 of
 * that file. Two paths to one file (a copy or a symlink) have the same hash and version: the identity says so.
 */
export async function hypervisorIdentity(binary: string, signal?: AbortSignal): Promise<HypervisorIdentity> {
  const which = binary.includes('/') ? binary : (await execLocal(['sh', '-c', 'command -v "$1"', 'sh', binary], { signal })).stdout.trim();
  if (!which) throw new Error(`The QEMU program "${binary}" was not found on PATH: install qemu-system-x86 or give its full path.`);
  const resolved = fs.realpathSync(which);
  const version = await execLocal([which, '--version'], { signal });
  if (version.code !== 0) throw new Error(`${binary} --version failed (exit ${version.code}): ${version.stderr.trim()}; is it a QEMU program?`);
  const sha256 = createHash('sha256').update(fs.readFileSync(resolved)).digest('hex');
  return { path: binary, resolved, version: version.stdout.split('\n')[0].trim(), sha256 };
}

/** Each arm's hypervisor identity per VM role of its testbed. */
export async function armRecord(testbed: Testbed, arms: readonly HypervisorArm[], signal?: AbortSignal): Promise<AbRecord> {
  const records = [];
  for (const arm of arms) {
    const t = armTestbed(testbed, arm);
    const hypervisors: Partial<Record<Role, HypervisorIdentity>> = {};
    for (const role of ROLES.filter((r) => isVm(t, r))) hypervisors[role] = await hypervisorIdentity(t.hosts[role]?.qemu?.binary ?? QEMU_DEFAULT, signal);
    records.push({ name: arm.name, hosts: arm.hosts, hypervisors });
  }
  return { arms: records };
}

export interface AbRunOptions extends WorkOptions {
  workspace: string;
  store: ResultsStore;
  /** What follows each boot of an arm's VMs, before its first measurement; default DEFAULT_SETTLE. */
  settle?: SettleSpec;
  onOutput?: (chunk: string) => void;
}

/**
 * Runs `plan` once per arm in each round (armRounds), on the arm's testbed: a round boundary where the arm stays
 * keeps its VMs, every other switch takes the testbed down and up with the other hypervisor, then runs the settle
 * step (opts.settle, recorded in metadata.ab.settle) before the arm's first measurement. Each arm measures one
 * round as a run of its own in a scratch store; its measurements join one run file, labelled with the arm and the
 * round. The testbed must be down (its VMs are restarted) and is left down. A placement matrix is refused for now:
 * memory-bound workloads need no model, and deploying after each restart is not done yet.
 */
export async function runHypervisorAb(testbed: Testbed, arms: readonly HypervisorArm[], plan: RunPlan, opts: AbRunOptions): Promise<RunFile> {
  validatePlan(plan);
  if (plan.placements) throw new Error('An A/B run of hypervisor builds measures the testbed as it comes up (placement none): leave out --placements.');
  if (arms.length < 2 || new Set(arms.map((a) => a.name)).size !== arms.length) throw new Error('An A/B run needs two or more arms with different names.');
  const backends = new Map(arms.map((a) => [a.name, backendFor(armTestbed(testbed, a), opts.workspace)]));
  if (backends.get(arms[0].name)!.state.read()?.phase === 'up') throw new Error(`Testbed ${testbed.name} is up: an A/B run restarts its VMs with each hypervisor; run \`hypershield down\` first.`);
  const settleSpec = opts.settle ?? DEFAULT_SETTLE;
  const ab: AbRecord = { ...(await armRecord(testbed, arms, opts.signal)), settle: { spec: settleSpec, boots: [] } };
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-ab-'));
  const scratchStore = new ResultsStore(scratch);
  let run: RunFile | undefined;
  let upArm: string | undefined;
  const save = (patch: Partial<RunFile>) => {
    run = { ...run!, ...patch };
    run.summary = summarize(run.results);
    run.abComparison = arms.slice(1).flatMap((b) => compareArms(run!.results, arms[0].name, b.name));
    opts.store.save(run);
  };
  try {
    for (const { round, arms: order } of armRounds(arms.map((a) => a.name), plan.warmup, plan.repetitions)) {
      for (const name of order) {
        opts.signal?.throwIfAborted();
        const backend = backends.get(name)!;
        if (upArm !== name) {
          if (upArm) await backends.get(upArm)!.down();
          opts.progress?.report(`Arm ${name}: starting the testbed with its hypervisor`);
          upArm = name;
          await backend.up({ signal: opts.signal, progress: opts.progress });
          opts.progress?.report(`Arm ${name}: settling after the boot (${settleSpec.kind})`);
          const vms = Object.fromEntries(ROLES.filter((r) => isVm(armTestbed(testbed, arms.find((a) => a.name === name)!), r)).map((r) => [r, backend.host(r)]));
          const warm = async () => {
            const w = await runBenchmarks(backend, { ...plan, repetitions: 1, warmup: 0 }, { workspace: opts.workspace, store: scratchStore, signal: opts.signal });
            if (w.status !== 'complete') throw new Error(`Arm ${name}, warm-up after its boot: ${w.reason ?? w.status}`);
          };
          ab.settle!.boots.push(await settle(settleSpec, vms, { arm: name, round }, warm, opts.signal));
          if (run) save({ metadata: { ...run.metadata, ab } });
        }
        opts.progress?.report(`Arm ${name}: ${round < 1 ? 'warm-up' : `round ${round}/${plan.repetitions}`}`);
        const one = await runBenchmarks(backend, { ...plan, repetitions: 1, warmup: 0 }, { workspace: opts.workspace, store: scratchStore, signal: opts.signal, onOutput: opts.onOutput });
        if (one.status !== 'complete') throw new Error(`Arm ${name}, round ${round}: ${one.reason ?? one.status}`);
        if (round < 1) continue;
        const measured = one.results.map((m) => ({ ...m, repetition: round, arm: name }));
        if (!run) {
          run = opts.store.create({
            schemaVersion: SCHEMA_VERSION, status: 'running', pid: process.pid,
            metadata: { ...one.metadata, testbed: { ...one.metadata.testbed, hosts: testbed.hosts }, ab, plan: { ...plan, placements: one.metadata.plan.placements } },
            results: [], summary: [],
          });
        }
        save({ results: [...run.results, ...measured], metadata: { ...run.metadata, emulated: run.metadata.emulated || one.metadata.emulated } });
      }
    }
    if (!run) throw new Error('The A/B run recorded no round.');
    save({ status: 'complete', pid: undefined, metadata: { ...run.metadata, endedAt: new Date().toISOString() } });
    return run;
  } catch (err) {
    if (run) {
      save({ status: opts.signal?.aborted ? 'incomplete' : 'failed', pid: undefined, reason: (err as Error).message, metadata: { ...run.metadata, endedAt: new Date().toISOString() } });
    }
    throw err;
  } finally {
    if (upArm) await backends.get(upArm)!.down().catch(() => undefined);
    await Promise.all([...backends.values()].map((b) => b.dispose().catch(() => undefined)));
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
