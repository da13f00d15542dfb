// Which functions and source lines of the deployed model the perf record samples of one measurement fell in.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DeployedModel } from '../testbed/state';
import type { HotFunction, HotLine, HotProfile } from '../results/run-file';
import { placementBuild } from '../model/manifest';
import { fileSha256 } from '../model/source-hash';
import { runLocal } from '../util/local-process';
import { parseAddr2line, type SourceFrame } from './addr2line';
import type { PerfSample } from './perf-script';

/** Software event: these machines have no PMU, and cpu-clock samples the same way on machines that have one. */
export const SAMPLE_EVENT = 'cpu-clock';
/**
 * Off round numbers so sampling does not run in lockstep with timers. A process is sampled faster than all CPUs:
 * the cost follows the model's own CPU time, and its own code is a small part of it (the NFQUEUE round trips in
 * the kernel are most), so a few seconds need the higher rate to reach its lines. A kernel module is a small part
 * of the packet path too, on hosts with few CPUs (VMs): it gets the higher rate on all of them.
 */
export const SAMPLE_HZ = { process: 4999, module: 4999, allCpus: 999 } as const;
/** Functions outside the model's source kept per measurement; the model's own functions and lines are all kept. */
const TOP = 30;
/** Addresses per addr2line call, to keep the argument list short. */
const ADDR2LINE_BATCH = 500;

/** How perf record samples the deployed model and which of its samples are the model's. */
export interface ModelSampling {
  deployed: DeployedModel;
  /** perf record's target: the model's process, or all CPUs for code that runs in whatever task the packet meets. */
  target: string[];
  frequencyHz: number;
  scope: string;
  isModel: (s: PerfSample) => boolean;
  /** The object the model's own samples are reported in, where perf names it otherwise (a module it counts as the kernel's). */
  object?: string;
  /** The local build of the model's own code, with debug info, and which of the model's samples fell in that code. */
  binary?: ModelBinary;
}

export interface ModelBinary {
  local: string;
  contains: (s: PerfSample) => boolean;
  /**
   * A kernel module: the load address of its .text. Every section of a .ko file starts at 0, so a sample's
   * address less this is its place in the file's .text, which addr2line reads with -j .text.
   */
  textBase?: bigint;
}

/** Where a kernel module sits in the model host's kernel. */
export interface ModuleLoad {
  /** Its core layout (text, data): address and size in bytes. */
  base: bigint;
  size: number;
  /** The load address of its .text section. */
  textBase: bigint;
}

/**
 * Reads a module's place from its line of /proc/modules (name, size, use count, users, state, address, taint) and
 * its /sys/module/NAME/sections/.text (root only). Sample (the kernel template in Debian 12's kernel, a VM guest):
 *
 *   kernel_space 16384 0 - Live 0xffffffffc02b0000 (OE)
 *   nf_tables 307200 0 - Live 0xffffffffc0264000
 *
 * and 0xffffffffc02b0000 in the .text file.
 */
export function parseModuleLoad(procModules: string, text: string, module: string): ModuleLoad {
  const line = procModules.split('\n').find((l) => l.startsWith(`${module} `));
  if (!line) throw new Error(`The kernel module ${module} is not loaded on the model host (not in /proc/modules): deploy it again.`);
  const m = /^\S+ (\d+) \S+ \S+ \S+ 0x([0-9a-f]+)/.exec(line);
  const textBase = /^0x([0-9a-f]+)$/.exec(text.trim());
  if (!m || !textBase) throw new Error(`Cannot read where ${module} is loaded: /proc/modules says "${line}", /sys/module/${module}/sections/.text "${text.trim()}" (expected "NAME SIZE ... 0xADDRESS" and "0xADDRESS", as root).`);
  return { base: BigInt(`0x${m[2]}`), size: Number(m[1]), textBase: BigInt(`0x${textBase[1]}`) };
}

const JIT_NAME = /^bpf_prog_[0-9a-f]{16}_(.+)$/;

/**
 * Parses `nm --defined-only FILE` (nm(1)): address, type letter, name. Sample (the user-space template):
 *
 *   0000000000002f20 t ft_gc
 *   0000000000004810 T hs_pq_recv_burst
 *   0000000000009240 W data_start
 */
export function parseNm(text: string): Map<string, number> {
  const symbols = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const m = /^([0-9a-f]+) (\w) (.+)$/.exec(line);
    if (!m) throw new Error(`nm: unexpected line "${line}" (expected "ADDRESS TYPE NAME" from nm --defined-only)`);
    // A name defined twice (two static functions) cannot be told apart by name: it gets no address.
    symbols.set(m[3], symbols.has(m[3]) ? NaN : parseInt(m[1], 16));
  }
  return symbols;
}

/** The deployed model's build output on this machine. */
function localArtifact(deployed: DeployedModel): string {
  return path.join(deployed.dir, placementBuild(deployed.dir, deployed.placement).artifact);
}

/** What the model host says about the deployed model: the user-space model's pid, the kernel module's place. */
export interface DeployedAt { pid?: string; module?: ModuleLoad }

/**
 * How to sample what is deployed. User space: the model's process (pid on the model host), all its threads,
 * user and kernel side. eBPF: all CPUs, the samples in the JITed programs named like the functions of the
 * deployed object. Kernel module: all CPUs, the samples in the module, by perf's object name or, where perf
 * counts the module as the kernel's (it finds no file of it on the host), by address.
 */
export async function modelSampling(deployed: DeployedModel, at: DeployedAt = {}): Promise<ModelSampling> {
  switch (deployed.placement) {
    case 'user': {
      const pid = at.pid;
      if (!pid || !/^\d+$/.test(pid)) throw new Error(`The user-space model's pid on the model host is unknown (got "${pid ?? ''}"): deploy it again.`);
      const hostPath = deployed.detail.program;
      return {
        deployed, target: ['-p', pid], frequencyHz: SAMPLE_HZ.process,
        scope: `the threads of ${path.posix.basename(hostPath)} (pid ${pid}): its own code, the libraries it calls and the kernel work it asks for`,
        isModel: (s) => s.pid === Number(pid),
        binary: { local: localArtifact(deployed), contains: (s) => s.dso === hostPath },
      };
    }
    case 'ebpf': {
      const names = new Set([...parseNm(await runLocal(['nm', '--defined-only', localArtifact(deployed)], { timeoutMs: 30_000 })).keys()]);
      return {
        deployed, target: ['-a'], frequencyHz: SAMPLE_HZ.allCpus,
        scope: `the JITed programs of the deployed object on all CPUs (bpf_prog_<tag>_<function>): ${[...names].filter((n) => !n.startsWith('LBB')).join(', ')}`,
        isModel: (s) => {
          const m = JIT_NAME.exec(s.symbol ?? '');
          return m !== null && names.has(m[1]);
        },
      };
    }
    case 'kernel': {
      const module = deployed.detail.module;
      const load = at.module;
      const object = `[${module}]`;
      const inModule = (s: PerfSample) => {
        const offset = load ? BigInt(`0x${s.ip}`) - load.base : -1n;
        return offset >= 0n && offset < BigInt(load?.size ?? 0);
      };
      const isModel = (s: PerfSample) => s.dso === object || inModule(s);
      return {
        deployed, target: ['-a'], frequencyHz: SAMPLE_HZ.module, scope: `the module ${module} on all CPUs`, isModel, object,
        ...(load ? { binary: { local: localArtifact(deployed), contains: isModel, textBase: load.textBase } } : {}),
      };
    }
  }
}

/** A sample's place as symbol+offset, which survives the program being mapped anywhere (PIE). */
const place = (s: PerfSample) => `${s.symbol}+${s.offset}`;

/**
 * Source positions of the model's own samples, from its local build: the symbol's address (nm) plus the
 * sampled offset, looked up with addr2line, inlined functions included. Nothing when that build is no longer
 * the deployed one.
 */
async function sourceFrames(sampling: ModelSampling, samples: readonly PerfSample[], notes: string[]): Promise<Map<string, SourceFrame[]>> {
  const out = new Map<string, SourceFrame[]>();
  const binary = sampling.binary;
  if (!binary) return out;
  if (!fs.existsSync(binary.local) || fileSha256(binary.local) !== sampling.deployed.buildId) {
    notes.push(`${binary.local} is not the build that was deployed (rebuilt or removed since): no source lines. Deploy again before profiling.`);
    return out;
  }
  const symbols = parseNm(await runLocal(['nm', '--defined-only', binary.local], { timeoutMs: 30_000 }));
  const byAddress = new Map<number, string>();
  for (const s of samples) {
    if (!binary.contains(s) || !s.symbol || s.offset === undefined) continue;
    const start = symbols.get(s.symbol);
    if (start === undefined || Number.isNaN(start)) continue;
    // A module's symbol may lie in another section (.text.unlikely, .init.text) at the same file address: only
    // a sample whose place in the loaded .text agrees with the symbol's is in .text.
    if (binary.textBase !== undefined && BigInt(`0x${s.ip}`) - binary.textBase !== BigInt(start + s.offset)) continue;
    byAddress.set(start + s.offset, place(s));
  }
  const addresses = [...byAddress.keys()];
  const section = binary.textBase !== undefined ? ['-j', '.text'] : [];
  for (let i = 0; i < addresses.length; i += ADDR2LINE_BATCH) {
    const batch = addresses.slice(i, i + ADDR2LINE_BATCH).map((a) => `0x${a.toString(16)}`);
    const text = await runLocal(['addr2line', '-a', '-f', '-i', ...section, '-e', binary.local, ...batch], { timeoutMs: 60_000 });
    for (const [address, frames] of parseAddr2line(text)) out.set(byAddress.get(address)!, frames);
  }
  return out;
}

/** A source file as the run file keeps it: relative to the model project when inside it. */
function projectFile(dir: string, file: string): string {
  const rel = path.relative(dir, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : file;
}

const round = (v: number) => Math.round(v * 100) / 100;

/** The hottest functions and lines of the model among the samples of one measurement. */
export async function hotProfile(sampling: ModelSampling, samples: readonly PerfSample[]): Promise<HotProfile> {
  const notes: string[] = [];
  const own = samples.filter(sampling.isModel);
  const frames = await sourceFrames(sampling, own, notes);
  const fns = new Map<string, { name: string; object: string; samples: number; lines: Map<string, number> }>();
  const lines = new Map<string, HotLine>();
  for (const s of own) {
    // Innermost first: a sample in code inlined into a caller belongs to the inlined function, unless that comes
    // from a header outside the model's project (the kernel's memcmp, skb helpers): then to the model's function
    // it was inlined into, at the line that calls it.
    const stack = frames.get(place(s)) ?? [];
    const at = stack.find((f) => f.file !== undefined && projectFile(sampling.deployed.dir, f.file) !== f.file) ?? stack[0];
    const name = at && at.function !== '??' ? at.function : s.symbol ?? `[unknown in ${s.dso}]`;
    const object = sampling.object ?? s.dso;
    const key = `${name}\0${object}`;
    const fn = fns.get(key) ?? { name, object, samples: 0, lines: new Map<string, number>() };
    fn.samples += 1;
    fns.set(key, fn);
    if (at?.file && at.line) {
      const file = projectFile(sampling.deployed.dir, at.file);
      const lineKey = `${file}:${at.line}`;
      fn.lines.set(lineKey, (fn.lines.get(lineKey) ?? 0) + 1);
      const line = lines.get(lineKey) ?? { file, line: at.line, function: name, samples: 0, percent: 0 };
      line.samples += 1;
      lines.set(lineKey, line);
    }
  }
  const percent = (n: number) => round((n / own.length) * 100);
  const ranked = [...fns.values()].sort((a, b) => b.samples - a.samples);
  const functions: HotFunction[] = ranked.filter((f, i) => i < TOP || f.lines.size > 0).map((f) => {
    const hottest = [...f.lines].sort((a, b) => b[1] - a[1])[0]?.[0];
    const line = hottest ? lines.get(hottest) : undefined;
    return { name: f.name, object: f.object, samples: f.samples, percent: percent(f.samples), ...(line ? { file: line.file, line: line.line } : {}) };
  });
  if (!own.length) notes.push(`perf recorded ${samples.length} samples, none of them the model's (${sampling.scope}).`);
  return {
    placement: sampling.deployed.placement,
    event: SAMPLE_EVENT,
    frequencyHz: sampling.frequencyHz,
    scope: sampling.scope,
    samples: { total: samples.length, model: own.length },
    functions,
    lines: [...lines.values()].sort((a, b) => b.samples - a.samples).map((l) => ({ ...l, percent: percent(l.samples) })),
    ...(notes.length ? { notes } : {}),
  };
}
