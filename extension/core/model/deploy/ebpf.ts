// The eBPF placement: ebpf_model.o on the tc clsact ingress hook of both model interfaces, sharing one set of maps.
// On an emulated guest every command costs a channel and process starts (0.1-0.5 s), so the host is asked in few
// commands: one to write the object and prepare the hooks, one to attach and configure, one to read the program and
// map ids and the counters back.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execBatch, type BatchResult } from '../../hosts/batch';
import { run } from '../../hosts/host';
import { RECORD_FUNCTION, stepArgs } from './undo-plan';
import { DeployError, type AttachedEbpf, type ModelConfig, type ModelCounters, type ModelHost, type PlacementDeployer, type Probe } from './model-host';
import { runProbe } from './probe';

/** tc preference of our filter, so it can be found and removed without touching anyone else's. */
const PREF = '49';
const CONFIG_BYTES = 84;
const PATTERN_MAX = 64;
/** Indexes of enum hs_counter in ebpf_model.c. */
const COUNTER = { packets: 0, bytes: 1, accepted: 2, dropped: 3, patternMatches: 4, flowsCreated: 5, flowsExpired: 6, flowsTableFull: 7 } as const;

/**
 * Attaches $1 on ingress of every interface after $3, pinning the maps under bpffs folder $2, then writes config
 * $3 (hex bytes, space-separated) into the pinned hs_config. Both attaches and the write run in one command: the
 * second attach finds the first one's pins and shares its maps (one flow table, one config). Pins made in a private
 * mount namespace (namespace hosts) vanish with the command; the maps live on with the programs.
 */
const ATTACH_SCRIPT = `obj=$1 pins=$2 config=$3
shift 3
mkdir -p "$pins" || exit 1
for dev in "$@"; do
  TC_BPF_MNT="$pins" tc filter replace dev "$dev" ingress pref ${PREF} bpf direct-action obj "$obj" sec tc || exit 1
done
bpftool map update pinned "$pins/tc/globals/hs_config" key hex 00 00 00 00 value hex $config`;

/**
 * Undoes the hook on interface $1: deletes the clsact qdisc (and every filter on it) when marker $2 says the deploy
 * added it, else only our filter; either when it is there.
 */
const UNHOOK_SCRIPT = `if [ -e "$2" ]; then
  if tc qdisc show dev "$1" | grep -q "^qdisc clsact"; then tc qdisc del dev "$1" clsact; fi
elif [ -n "$(tc filter show dev "$1" ingress pref ${PREF})" ]; then tc filter del dev "$1" ingress pref ${PREF}; fi`;

/**
 * Writes the object, whose bytes come on stdin, to $1 ($2 bytes long), records the undo steps (a count, then each
 * as RECORD_FUNCTION reads it), then adds a clsact qdisc on every interface (interface, marker file, ...) that has
 * none, making its marker first: the undo step then knows the qdisc is ours to delete.
 */
const PREPARE_SCRIPT = `${RECORD_FUNCTION}
obj=$1 size=$2
shift 2
cat > "$obj" || exit 1
got=$(wc -c < "$obj")
[ "$got" -eq "$size" ] || { echo "wrote $got of $size bytes to $obj" >&2; exit 1; }
record_steps "$@" || exit 1
shift "$rec_words"
while [ $# -gt 0 ]; do
  if ! tc qdisc show dev "$1" | grep -q "^qdisc clsact"; then
    : > "$2" || exit 1
    tc qdisc add dev "$1" clsact || exit 1
  fi
  shift 2
done`;

/**
 * Removes the pins in $1: a bpffs mounted there (on hosts without a private mount namespace) goes with them. tc
 * mounts it on a bind mount of the folder onto itself, so there are two mounts to undo. Mounts are looked up in
 * /proc/mounts (the VM guest has no mountpoint program); run folders' paths have no characters it escapes.
 */
const UNPIN_SCRIPT = `while grep -qF " $1 " /proc/mounts; do umount "$1" || exit 1; done
rm -rf "$1"`;

interface TcFilter { kind?: string; options?: { prog?: { id: number } } }
interface BpfProg { id: number; map_ids?: number[] }
interface BpfMap { id: number; name: string }

/** The argv that shows our filter on dev as JSON (`tc -j`): an empty list, or one filter with its program's id. */
const filterArgv = (dev: string) => ['tc', '-j', 'filter', 'show', 'dev', dev, 'ingress', 'pref', PREF];

function parseJson<T>(r: BatchResult, what: string): T {
  if (r.code !== 0) throw new DeployError(`${what} failed: ${r.stderr.trim() || (r.code === null ? 'no answer in time' : `exit ${r.code}`)}`);
  return JSON.parse(r.stdout) as T;
}

/**
 * The shared maps of the attached model, from the filters' JSON (one result per interface, `filterArgv`); throws
 * when it is not attached on both interfaces with shared maps; and the model's counters. One command more: the
 * programs' and maps' JSON and the counters.
 */
async function modelMaps(m: AttachTarget, filters: BatchResult[]): Promise<{ maps: AttachedEbpf; counters: ModelCounters }> {
  const devs = [m.interfaces.client, m.interfaces.server];
  const programs = devs.map((dev, i) => {
    const out = filters[i].stdout.trim() ? parseJson<TcFilter[]>(filters[i], `tc filter show dev ${dev}`) : [];
    const prog = out.find((f) => f.kind === 'bpf' && f.options?.prog)?.options?.prog?.id;
    if (prog === undefined) throw new DeployError(`No HyperShield eBPF program is attached on ${dev} of ${m.host.label} (tc filter show dev ${dev} ingress pref ${PREF} is empty).`);
    return prog;
  });
  const probe = countersProbe(m);
  const shown = await execBatch(m.host, [...programs.map((id) => ['bpftool', '-j', 'prog', 'show', 'id', String(id)]), ['bpftool', '-j', 'map', 'show'], probe.argv],
    { signal: m.signal, timeoutMs: 30_000 });
  const names = new Map(parseJson<BpfMap[]>(shown[programs.length], 'bpftool map show').map((x) => [x.id, x.name]));
  const configs = new Set<number>();
  let counters: number | undefined;
  devs.forEach((dev, i) => {
    const mapIds = parseJson<BpfProg>(shown[i], `bpftool prog show id ${programs[i]}`).map_ids ?? [];
    const byName = new Map(mapIds.map((id) => [names.get(id), id]));
    const config = byName.get('hs_config');
    counters = byName.get('hs_counters');
    if (config === undefined || counters === undefined) throw new DeployError(`The eBPF program on ${dev} has no hs_config/hs_counters maps: ebpf_model.c must keep the template's maps.`);
    configs.add(config);
  });
  if (configs.size !== 1) throw new DeployError(`The eBPF programs on ${devs.join(' and ')} do not share their maps (pinning failed), so they would keep separate flow tables.`);
  return { maps: { config: [...configs][0], counters: counters!, programs }, counters: probe.read(shown[programs.length + 1]) };
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

/**
 * Prints the hs_counters map (`bpftool -j map dump`) of the program our filter on $1 runs, found through the
 * program's map ids. It reads the JSON of tc and bpftool with sed, as they print it:
 *   tc -j filter show ...:  [{"protocol":"all","kind":"bpf","chain":0},{"protocol":"all","kind":"bpf","chain":0,"options":{"handle":"0x1",
 *                           "bpf_name":"ebpf_model.o:[tc]","direct-action":true,"not_in_hw":true,"prog":{"id":3903,"name":"hs_tc_ingress",...}}}]
 *   bpftool -j prog show:   {"id":3903,"type":"sched_cls",...,"map_ids":[3257,3256,3258,3259,3260],"btf_id":8138}
 *   bpftool -j map show:    {"id":3257,"type":"percpu_array","name":"hs_counters","flags":0,...}
 * Exits 3 when no program is attached, 4 when it has no hs_counters map.
 */
const COUNTERS_SCRIPT = `prog=$(tc -j filter show dev "$1" ingress pref ${PREF} | sed -n 's/.*"prog":{"id":\\([0-9][0-9]*\\).*/\\1/p')
[ -n "$prog" ] || { echo "no HyperShield eBPF program is attached on $1" >&2; exit 3; }
for id in $(bpftool -j prog show id "$prog" | sed -n 's/.*"map_ids":\\[\\([0-9,]*\\)\\].*/\\1/p' | tr , ' '); do
  case "$(bpftool -j map show id "$id")" in *'"name":"hs_counters"'*) exec bpftool -j map dump id "$id";; esac
done
echo "the program on $1 has no hs_counters map: ebpf_model.c must keep the template's maps" >&2; exit 4`;

/** The counters of the attached model as one command (it can go in a batch with others). */
export function countersProbe(m: AttachTarget): Probe<ModelCounters> {
  return {
    argv: ['sh', '-c', COUNTERS_SCRIPT, 'hs-ebpf-counters', m.interfaces.client],
    read: (r) => countersFromMap(sumPerCpu(parseJson(r, `Reading the eBPF model's counters on ${m.host.label}`))),
  };
}

/** Attaches object on both model interfaces (maps pinned under pins while attaching) and writes the config. */
export async function attachModel(m: AttachTarget, object: string, pins: string, config: ModelConfig): Promise<AttachedEbpf> {
  return (await attach(m, object, pins, config)).maps;
}

/** attachModel, also returning the counters read with the maps. */
async function attach(m: AttachTarget, object: string, pins: string, config: ModelConfig): Promise<{ maps: AttachedEbpf; counters: ModelCounters }> {
  const devs = [m.interfaces.client, m.interfaces.server];
  const [attached, ...filters] = await execBatch(m.host, [['sh', '-c', ATTACH_SCRIPT, 'hs-attach', object, pins, configValue(config).join(' '), ...devs], ...devs.map(filterArgv)],
    { signal: m.signal, timeoutMs: 60_000 });
  m.signal?.throwIfAborted();
  if (attached.code !== 0) {
    const why = (attached.stderr || attached.stdout).trim().split('\n').slice(-8).join('\n') || (attached.code === null ? 'no answer in time' : `exit ${attached.code}`);
    throw new DeployError(`Attaching ${path.posix.basename(object)} on ${devs.join(' and ')} of ${m.host.label} failed: ${why}`);
  }
  return modelMaps(m, filters);
}

/** The counters of the attached model. */
export function attachedCounters(m: AttachTarget): Promise<ModelCounters> {
  return runProbe(m, countersProbe(m));
}

export const ebpfDeployer: PlacementDeployer = {
  preflight(m) {
    return {
      argv: ['sh', '-c', 'command -v tc && command -v bpftool'],
      read(r) {
        if (r.code !== 0) throw new DeployError(`The model host ${m.host.label} lacks tc or bpftool, which the eBPF placement needs: install iproute2 and bpftool there.`);
        return {};
      },
    };
  },

  async load(ctx) {
    const { host, plan, signal } = ctx;
    const devs = [ctx.interfaces.client, ctx.interfaces.server];
    const object = path.posix.join(ctx.dir.root, 'ebpf_model.o');
    const pins = path.posix.join(ctx.dir.root, 'bpf');
    // Each hook's undo step deletes the clsact qdisc when the marker beside it says this deploy added it (someone
    // else's clsact keeps everything but our filter); recorded, with the pins', before anything changes.
    const hooks = devs.map((dev) => ({ dev, marker: path.posix.join(ctx.dir.root, `clsact-${dev}`) }));
    const steps = [...hooks.map((h) => plan.next(`unhook-${h.dev.replace(/[^a-z0-9]/gi, '').toLowerCase()}`, ['sh', '-c', UNHOOK_SCRIPT, 'hs-unhook', h.dev, h.marker])),
      plan.next('unpin-maps', ['sh', '-c', UNPIN_SCRIPT, 'hs-unpin', pins])];
    const bytes = fs.readFileSync(ctx.artifact);
    await run(host, ['sh', '-c', PREPARE_SCRIPT, 'hs-ebpf-prepare', object, String(bytes.length), ...stepArgs(steps), ...hooks.flatMap((h) => [h.dev, h.marker])],
      { stdin: bytes, signal, timeoutMs: 30_000 });
    ctx.progress?.report(`Attaching ebpf_model.o on ingress of ${devs.join(' and ')} on ${host.label}${ctx.privileged ? ' through the HyperShield helper' : ''}`);
    const { maps, counters } = ctx.privileged ? { maps: await ctx.privileged.ebpfAttach(object, ctx.config, signal), counters: undefined } : await attach(ctx, object, pins, ctx.config);
    return {
      detail: { interfaces: devs.join(','), programs: maps.programs.join(','), configMap: String(maps.config), countersMap: String(maps.counters) },
      diagnostics: [],
      counters,
    };
  },

  counters(m) {
    return m.privileged ? m.privileged.ebpfCounters(m.signal) : attachedCounters(m);
  },

  countersProbe(m) {
    // Through the helper (an ordinary user cannot read the maps), counters are its own call.
    return m.privileged ? undefined : countersProbe(m);
  },

  leftoverProbes(m) {
    return [m.interfaces.client, m.interfaces.server].map((dev) => ({
      argv: ['tc', 'filter', 'show', 'dev', dev, 'ingress', 'pref', PREF],
      read: (r) => (r.stdout.trim() ? [`tc filter on ${dev}: ${r.stdout.trim().split('\n').pop()}`] : []),
    }));
  },
};
