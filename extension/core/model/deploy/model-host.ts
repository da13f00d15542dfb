// What every placement's deploy code works with: the model host, reached only through the Host interface.
import type { ModelInterfaces, Progress } from '../../backends/backend';
import type { BatchResult } from '../../hosts/batch';
import type { Host } from '../../hosts/host';
import type { Diagnostic } from '../diagnostics/diagnostic';
import type { RunDir } from './run-dir';
import type { UndoPlan } from './undo-plan';

/** How the example policy of the templates is configured (the same for every placement). */
export interface ModelConfig {
  /** Payload bytes to look for, as hex ("" matches nothing). */
  pattern: string;
  /** What a match does to the packet and its flow. */
  action: 'drop' | 'accept';
  /** Seconds after which an idle flow is forgotten. */
  flowTimeoutS: number;
  /** Payload bytes inspected per packet, counted from the start of the TCP/UDP payload (every placement alike). */
  windowBytes: number;
  /** Flows tracked at most; when the table is full, new flows are refused (every placement alike). */
  maxFlows: number;
  /** User space: NFQUEUE queues (one thread each). */
  queues: number;
}

/** The example drop rule: packets carrying "HSDROP" are dropped, and so is the rest of their flow. */
export const DEFAULT_MODEL_CONFIG: ModelConfig = { pattern: Buffer.from('HSDROP').toString('hex'), action: 'drop', flowTimeoutS: 30, windowBytes: 256, maxFlows: 65536, queues: 1 };

/** The largest inspection window every template supports (HS_MAX_WINDOW in each). */
export const MAX_WINDOW_BYTES = 1024;
/** The largest flow table every template supports (the eBPF map's size). */
export const MAX_FLOWS = 65536;

/** The counters every template keeps (the names of the user-space model's stats file). */
export interface ModelCounters {
  packets: number;
  bytes: number;
  accepted: number;
  dropped: number;
  patternMatches: number;
  flowsCreated: number;
  flowsExpired: number;
  /** Packets whose new flow found the table full. */
  flowsTableFull: number;
}

/** The program and map ids of an attached eBPF model. */
export interface AttachedEbpf {
  programs: number[];
  config: number;
  counters: number;
}

/**
 * What the model host cannot do with this process's own privileges (an ordinary user's namespace testbed cannot load
 * eBPF programs), done by the root helper that `hypershield setup` installs.
 */
export interface PrivilegedOps {
  /** Why the helper cannot be used now (not set up, user not in its group), or undefined when it can. */
  unavailable(): Promise<string | undefined>;
  /** Attaches the object (in the run folder) on both model interfaces and writes the config. */
  ebpfAttach(object: string, config: ModelConfig, signal?: AbortSignal): Promise<AttachedEbpf>;
  ebpfCounters(signal?: AbortSignal): Promise<ModelCounters>;
}

export interface ModelHost {
  host: Host;
  dir: RunDir;
  testbed: string;
  interfaces: ModelInterfaces;
  signal?: AbortSignal;
  /** Set when loading models needs the helper. */
  privileged?: PrivilegedOps;
}

export interface LoadContext extends ModelHost {
  plan: UndoPlan;
  /** The model project on this machine (load diagnostics point into it). */
  modelDir: string;
  /** The built artifact on this machine. */
  artifact: string;
  config: ModelConfig;
  progress?: Progress;
  /** Kernel builds: the release the module was built for. */
  builtFor?: string;
  /**
   * The artifact was built on this machine: a program's shared libraries are looked for on the host, and this
   * machine's copies of those it lacks go beside the program.
   */
  builtHere: boolean;
}

/** A thrown error that carries diagnostics (e.g. why a kernel module did not load). */
export class DeployError extends Error {
  constructor(message: string, readonly diagnostics: Diagnostic[] = []) {
    super(message);
    this.name = 'DeployError';
  }
}

export interface Loaded {
  /** What the state file should remember about the deployment. */
  detail: Record<string, string>;
  /** What the host said while loading (e.g. the kernel's notes about a module). */
  diagnostics: Diagnostic[];
  /** The counters right after loading, when the load read them anyway (saves a round trip). */
  counters?: ModelCounters;
}

/** What a placement's preflight learnt about the host on the way. */
export interface HostFacts {
  /** `uname -r` on the model host. */
  kernelRelease?: string;
}

/** A read-only command that can go in a batch with others, and how to read what it printed. */
export interface Probe<T> {
  argv: string[];
  read(r: BatchResult): T;
}

/** How one placement is loaded, observed and checked on the model host. */
export interface PlacementDeployer {
  /**
   * What the host is, as one command: its reading throws, before anything is changed, when the host cannot run this
   * placement, saying why and what to do.
   */
  preflight(m: ModelHost): Probe<HostFacts>;
  /** Loads the model, recording an undo step before each change. */
  load(ctx: LoadContext): Promise<Loaded>;
  counters(m: ModelHost): Promise<ModelCounters>;
  /** The counters as one command, when a single command reads them on this host (it then goes in a batch with others). */
  countersProbe?(m: ModelHost): Probe<ModelCounters> | undefined;
  /** Commands that show what of this placement is still in place on the host (each reads as empty when nothing). */
  leftoverProbes(m: ModelHost): Probe<string[]>[];
}

export function validateConfig(c: ModelConfig): void {
  if (!/^(?:[0-9a-fA-F]{2}){0,64}$/.test(c.pattern)) throw new Error(`The pattern must be hex bytes, at most 64 of them (e.g. ${DEFAULT_MODEL_CONFIG.pattern} for "HSDROP"); got "${c.pattern}".`);
  if (c.action !== 'drop' && c.action !== 'accept') throw new Error(`The action must be drop or accept; got "${String(c.action)}".`);
  if (!Number.isInteger(c.flowTimeoutS) || c.flowTimeoutS < 1 || c.flowTimeoutS > 86400) throw new Error(`The flow timeout must be 1..86400 seconds; got ${c.flowTimeoutS}.`);
  if (!Number.isInteger(c.windowBytes) || c.windowBytes < 1 || c.windowBytes > MAX_WINDOW_BYTES) throw new Error(`The inspection window must be 1..${MAX_WINDOW_BYTES} payload bytes; got ${c.windowBytes}.`);
  if (!Number.isInteger(c.maxFlows) || c.maxFlows < 1 || c.maxFlows > MAX_FLOWS) throw new Error(`The flow table size must be 1..${MAX_FLOWS} flows; got ${c.maxFlows}.`);
  if (!Number.isInteger(c.queues) || c.queues < 1 || c.queues > 64) throw new Error(`The number of queues must be 1..64; got ${c.queues}.`);
}
