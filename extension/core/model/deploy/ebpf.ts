// The eBPF placement: ebpf_model.o on the tc clsact ingress hook of both model interfaces, sharing one set of maps.
import * as path from 'node:path';
import { run, type Host } from '../../hosts/host';
import { DeployError, type AttachedEbpf, type ModelConfig, type ModelCounters, type ModelHost, type PlacementDeployer } from './model-host';

/** tc preference of our filter, so it can be found and removed without touching anyone else's. */
const PREF = '49';
const CONFIG_BYTES = 84;
const PATTERN_MAX = 64;
/** Indexes of enum hs_counter in ebpf_model.c. */
const COUNTER = { packets: 0, bytes: 1, accepted: 2, dropped: 3, patternMatches: 4, flowsCreated: 5, flowsExpired: 6, flowsTableFull: 7 } as const;

/**
 * Attaches $1 on ingress of every interface after $2, pinning the maps under bpffs folder $2. Both attaches run
 * in one command: the second finds the first one's pins and shares its maps (one flow table, one config). Pins made
 * in a private mount namespace (namespace hosts) vanish with the command; the maps live on with the programs.
 */
const ATTACH_SCRIPT = `obj=$1 pins=$2
shift 2
mkdir -p "$pins" || exit 1
for dev in "$@"; do
  TC_BPF_MNT="$pins" tc filter replace dev "$dev" ingress pref ${PREF} bpf direct-action obj "$obj" sec tc || exit 1
done`;

/** Removes our filter from interface $1 when it is there. */
const DETACH_SCRIPT = `if [ -n "$(tc filter show dev "$1" ingress pref ${PREF})" ]; then tc filter del dev "$1" ingress pref ${PREF}; fi`;

/** Removes the clsact qdisc of interface $1 (and every filter on it) when it is there. */
const UNCLSACT_SCRIPT = 'if tc qdisc show dev "$1" | grep -q "^qdisc clsact"; then tc qdisc del dev "$1" clsact; fi';

/**
 * Removes the pins in $1: a bpffs mounted there (on hosts without a private mount namespace) goes with them. tc
 * mounts it on a bind mount of the folder onto itself, so there are two mounts to undo.
 */
const UNPIN_SCRIPT = `while mountpoint -q "$1" 2>/dev/null; do umount "$1" || exit 1; done
rm -rf "$1"`;

interface TcFilter { kind?: string; options?: { prog?: { id: number } } }
interface BpfMap { id: number; name: string }

/** The id of the program attached by our filter on dev, if any. */
async function attachedProgram(host: Host, dev: string, signal?: AbortSignal): Promise<number | undefined> {
  const out = await run(host, ['tc', '-j', 'filter', 'show', 'dev', dev, 'ingress', 'pref', PREF], { signal, timeoutMs: 15_000 });
  const filters = out.trim() ? (JSON.parse(out) as TcFilter[]) : [];
  return filters.find((f) => f.kind === 'bpf' && f.options?.prog)?.options?.prog?.id;
}

/** The maps of a program, by name. */
async function programMaps(host: Host, progId: number, signal?: AbortSignal): Promise<Map<string, number>> {
  const prog = JSON.parse(await run(host, ['bpftool', '-j', 'prog', 'show', 'id', String(progId)], { signal, timeoutMs: 15_000 })) as { map_ids?: number[] };
  const maps = new Map<string, number>();
  for (const id of prog.map_ids ?? []) {
    const m = JSON.parse(await run(host, ['bpftool', '-j', 'map', 'show', 'id', String(id)], { signal, timeoutMs: 15_000 })) as BpfMap;
    maps.set(m.name, m.id);
  }
  return maps;
}

/** The shared maps of the attached model; throws when it is not attached on both interfaces with shared maps. */
async function modelMaps(m: AttachTarget): Promise<AttachedEbpf> {
  const devs = [m.interfaces.client, m.interfaces.server];
  const programs: number[] = [];
  const configs = new Set<number>();
  let counters: number | undefined;
  for (const dev of devs) {
    const prog = await attachedProgram(m.host, dev, m.signal);
    if (prog === undefined) throw new DeployError(`No HyperShield eBPF program is attached on ${dev} of ${m.host.label} (tc filter show dev ${dev} ingress pref ${PREF} is empty).`);
    programs.push(prog);
    const maps = await programMaps(m.host, prog, m.signal);
    const config = maps.get('hs_config');
    counters = maps.get('hs_counters');
    if (config === undefined || counters === undefined) throw new DeployError(`The eBPF program on ${dev} has no hs_config/hs_counters maps: ebpf_model.c must keep the template's maps.`);
    configs.add(config);
  }
  if (configs.size !== 1) throw new DeployError(`The eBPF programs on ${devs.join(' and ')} do not share their maps (pinning failed), so they would keep separate flow tables.`);
  return { config: [...configs][0], counters: counters!, programs };
}

/** struct hs_config of ebpf_model.c, little-endian. */
export function configValue(c: ModelConfig): string[] {
  const pattern = Buffer.from(c.pattern, 'hex');
  if (pattern.length > PATTERN_MAX) throw new Error(`The eBPF model matches at most ${PATTERN_MAX} pattern bytes; got ${pattern.length}.`);
  const v = Buffer.alloc(CONFIG_BYTES);
  v.writeUInt32LE(pattern.length, 0);
  v.writeUInt32LE(c.action === 'drop' ? 0 : 1, 4);
  v.writeUInt32LE(c.flowTimeoutS, 8);
  v.writeUInt32LE(c.windowBytes, 12);
  pattern.copy(v, 16);
  v.writeUInt32LE(c.maxFlows, 80);
  return [...v].map((b) => b.toString(16).padStart(2, '0'));
}

/** Sums a per-CPU counter map dumped by `bpftool -j map dump` (raw bytes, so BTF is not needed). */
export function sumPerCpu(dump: Array<{ key: string[]; values: Array<{ value: string[] }> }>): Map<number, number> {
  const bytes = (hex: string[]) => Buffer.from(hex.map((h) => parseInt(h, 16)));
  const sums = new Map<number, number>();
  for (const e of dump) {
    const key = bytes(e.key).readUInt32LE(0);
    sums.set(key, e.values.reduce((acc, v) => acc + Number(bytes(v.value).readBigUInt64LE(0)), 0));
  }
  return sums;
}

/** The template's counters from the summed hs_counters map (keys: enum hs_counter of ebpf_model.c). */
export function countersFromMap(sums: Map<number, number>): ModelCounters {
  const get = (i: number) => sums.get(i) ?? 0;
  return {
    packets: get(COUNTER.packets), bytes: get(COUNTER.bytes), accepted: get(COUNTER.accepted), dropped: get(COUNTER.dropped),
    patternMatches: get(COUNTER.patternMatches), flowsCreated: get(COUNTER.flowsCreated), flowsExpired: get(COUNTER.flowsExpired),
    flowsTableFull: get(COUNTER.flowsTableFull),
  };
}

/** The model host as far as attaching and reading the model goes (the helper reaches it without a run folder). */
export type AttachTarget = Pick<ModelHost, 'host' | 'interfaces' | 'signal'>;

/** Attaches object on both model interfaces (maps pinned under pins while attaching) and writes the config. */
export async function attachModel(m: AttachTarget, object: string, pins: string, config: ModelConfig): Promise<AttachedEbpf> {
  const devs = [m.interfaces.client, m.interfaces.server];
  await run(m.host, ['sh', '-c', ATTACH_SCRIPT, 'hs-attach', object, pins, ...devs], { signal: m.signal, timeoutMs: 60_000 });
  const maps = await modelMaps(m);
  await run(m.host, ['bpftool', 'map', 'update', 'id', String(maps.config), 'key', 'hex', '00', '00', '00', '00', 'value', 'hex', ...configValue(config)], { signal: m.signal, timeoutMs: 15_000 });
  return maps;
}

/** The counters of the attached model. */
export async function attachedCounters(m: AttachTarget): Promise<ModelCounters> {
  const { counters } = await modelMaps(m);
  const dump = JSON.parse(await run(m.host, ['bpftool', '-j', 'map', 'dump', 'id', String(counters)], { signal: m.signal, timeoutMs: 15_000 }));
  return countersFromMap(sumPerCpu(dump));
}

export const ebpfDeployer: PlacementDeployer = {
  async preflight(m) {
    const r = await m.host.exec(['sh', '-c', 'command -v tc && command -v bpftool'], { signal: m.signal, timeoutMs: 15_000 });
    if (r.code !== 0) throw new Error(`The model host ${m.host.label} lacks tc or bpftool, which the eBPF placement needs: install iproute2 and bpftool there.`);
    return {};
  },

  async load(ctx) {
    const { host, plan, signal } = ctx;
    const devs = [ctx.interfaces.client, ctx.interfaces.server];
    const object = path.posix.join(ctx.dir.root, 'ebpf_model.o');
    const pins = path.posix.join(ctx.dir.root, 'bpf');
    await host.upload(ctx.artifact, object, { signal });
    for (const dev of devs) {
      const qdiscs = JSON.parse(await run(host, ['tc', '-j', 'qdisc', 'show', 'dev', dev], { signal, timeoutMs: 15_000 })) as Array<{ kind: string }>;
      const step = dev.replace(/[^a-z0-9]/gi, '').toLowerCase();
      if (qdiscs.some((q) => q.kind === 'clsact')) {
        // Someone else's clsact: only our filter goes.
        await plan.add(`detach-${step}`, ['sh', '-c', DETACH_SCRIPT, 'hs-detach', dev], signal);
      } else {
        // Our own clsact: deleting it removes our filter with it.
        await plan.add(`clsact-${step}`, ['sh', '-c', UNCLSACT_SCRIPT, 'hs-unclsact', dev], signal);
        await run(host, ['tc', 'qdisc', 'add', 'dev', dev, 'clsact'], { signal, timeoutMs: 15_000 });
      }
    }
    await plan.add('unpin-maps', ['sh', '-c', UNPIN_SCRIPT, 'hs-unpin', pins], signal);
    ctx.progress?.report(`Attaching ebpf_model.o on ingress of ${devs.join(' and ')} on ${host.label}${ctx.privileged ? ' through the HyperShield helper' : ''}`);
    const maps = ctx.privileged ? await ctx.privileged.ebpfAttach(object, ctx.config, signal) : await attachModel(ctx, object, pins, ctx.config);
    return {
      detail: { interfaces: devs.join(','), programs: maps.programs.join(','), configMap: String(maps.config), countersMap: String(maps.counters) },
      diagnostics: [],
    };
  },

  counters(m) {
    return m.privileged ? m.privileged.ebpfCounters(m.signal) : attachedCounters(m);
  },

  leftoverProbes(m) {
    return [m.interfaces.client, m.interfaces.server].map((dev) => ({
      argv: ['tc', 'filter', 'show', 'dev', dev, 'ingress', 'pref', PREF],
      read: (r) => (r.stdout.trim() ? [`tc filter on ${dev}: ${r.stdout.trim().split('\n').pop()}`] : []),
    }));
  },
};
