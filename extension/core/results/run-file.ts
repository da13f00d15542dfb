// The self-describing JSON file of one run (.hypershield/results/<id>.json). Bump SCHEMA_VERSION on any change
// that an older reader would misread.
import type { BackendKind, Role } from '../hosts/host';
import type { Mode, Testbed } from '../testbed/testbed';
import type { RunPlan } from '../bench/plan';
import type { SettleOutcome, SettleSpec } from '../bench/settle';

export const SCHEMA_VERSION = 1;

export type Placement = 'none' | 'user' | 'kernel' | 'ebpf';
export const PLACEMENTS: readonly Placement[] = ['none', 'user', 'ebpf', 'kernel'];

export type Better = 'higher' | 'lower';

export interface Metric {
  value: number;
  unit: string;
  better: Better;
}

export interface Measurement {
  benchmark: string;
  mode: Mode;
  placement: Placement;
  /** 1-based; warm-up repetitions are not recorded. */
  repetition: number;
  startedAt: string;
  durationMs: number;
  /** Parsed metrics by name, e.g. throughput, retransmits, rttAvg. */
  metrics: Record<string, Metric>;
  /** Time series, e.g. per-interval throughput: [seconds since start, value]. */
  series?: Record<string, { unit: string; points: Array<[number, number]> }>;
  /** The tool's own output, verbatim. */
  raw: string;
  /** Set when the measurement failed; metrics are then empty. */
  error?: string;
  /** Reasons to doubt a result the tool did not fail on: the path misbehaved (retransmits, loss), a result at a rate cap. */
  warnings?: string[];
  /** What the model host did during the measurement (bench --profile); derived figures are also in metrics. */
  profile?: ProfileRecord;
  /** The arm of an A/B run of hypervisor builds that measured it (see metadata.ab). */
  arm?: string;
}

/** One perf counter; a counter the machine lacks is unsupported, never 0. */
export type PerfCounter =
  | { supported: true; value: number; unit?: string; runningPercent: number }
  | { supported: false; reason: string };

export interface ProfileRecord {
  /** What the counters cover, e.g. the whole kernel the model host shares with the other hosts. */
  scope: string;
  /** perf stat counters by event name. */
  counters: Record<string, PerfCounter>;
  /** CPU time of all CPUs of the model host's kernel, from /proc/stat, in milliseconds. */
  cpu: { busyMs: number; softirqMs: number; totalMs: number; cpus: number };
  /** NET_RX and NET_TX softirqs raised, from /proc/softirqs. */
  softirqs: { netRx: number; netTx: number };
  /** What the model host's interfaces received. */
  traffic: { packets: number; bytes: number };
  /**
   * CPU the workbench itself used on the model host's machine while the benchmark ran: perf (stat, and record when
   * the model is sampled), and the workbench's own process when the hosts are local; the share is of all CPUs over
   * that time.
   */
  harness: { cpuMs: number; perfCpuMs: number; workbenchCpuMs: number; sharePercent: number };
  /** Where the model spent its time: perf record samples (model mode, a model deployed). */
  hot?: HotProfile;
}

/** perf record of the deployed model during one measurement, reduced to its hottest functions and source lines. */
export interface HotProfile {
  placement: Exclude<Placement, 'none'>;
  /** The sampling event and rate, e.g. cpu-clock at 999 Hz. */
  event: string;
  frequencyHz: number;
  /** Which samples are the model's, e.g. the threads of its process, or its JITed programs on all CPUs. */
  scope: string;
  /** All samples perf recorded, and the model's among them (the percentages below are of these). */
  samples: { total: number; model: number };
  /** Hottest first: the 30 hottest, and every function of the model's own source that was sampled; a function
   * inlined into another is its own entry. */
  functions: HotFunction[];
  /** Hottest first; every sampled line of the model's own source. */
  lines: HotLine[];
  /** Why some samples have no source line (e.g. the artifact was rebuilt after the deploy). */
  notes?: string[];
}

export interface HotFunction {
  name: string;
  /** The object it lives in as perf names it: the model's program, a library, [kernel.kallsyms], a JITed program. */
  object: string;
  samples: number;
  /** Of the model's samples. */
  percent: number;
  /** Its hottest line, when it is in the model's source: file relative to the model project folder. */
  file?: string;
  line?: number;
}

export interface HotLine {
  /** Relative to the model project folder (ModelInfo.dir) when inside it, else as the debug info names it. */
  file: string;
  line: number;
  function: string;
  samples: number;
  percent: number;
}

export interface Stats {
  n: number;
  median: number;
  min: number;
  max: number;
  q1: number;
  q3: number;
  iqr: number;
  mean: number;
  stdev: number;
}

/**
 * Why a comparison carries no interval and no verdict: fewer rounds than a 95 % interval needs (stats.ts decides:
 * MIN_PAIRED_ROUNDS paired rounds, MIN_UNPAIRED_VALUES values a side unpaired).
 */
export interface TooFewRounds {
  /** Rounds measured (paired), or values of the smaller side (unpaired). */
  n: number;
  need: number;
  /** Whether both sides were measured in the same rounds (and compared round by round). */
  paired: boolean;
  /** The same in words, e.g. "too few rounds (n=3, need 6 paired)". */
  reason: string;
}

/** One metric of one cell (benchmark x mode x placement): what summaries, drift records and comparisons are keyed by. */
export interface CellMetric {
  benchmark: string;
  mode: Mode;
  placement: Placement;
  metric: string;
  unit: string;
}

export interface SummaryEntry extends CellMetric {
  better: Better;
  stats: Stats;
  /** Only on model-mode entries: cost of the model path relative to direct, in percent (positive = worse). */
  overheadPercent?: number;
  /** Bootstrap 95 % interval of overheadPercent (same sign convention); absent with too few rounds (see below). */
  overheadCi95?: [number, number];
  /** False when overheadCi95 contains 0: no detectable difference between the model path and direct. */
  detectable?: boolean;
  /** Instead of overheadCi95 and detectable when the run has too few rounds for an interval to mean anything. */
  overheadTooFewRounds?: TooFewRounds;
  /** Only on model-mode entries of a placement other than none: cost relative to placement none (plain forwarding). */
  overheadVsNonePercent?: number;
  /** Bootstrap 95 % interval of overheadVsNonePercent. */
  overheadVsNoneCi95?: [number, number];
  /** False when overheadVsNoneCi95 contains 0. */
  detectableVsNone?: boolean;
  /** Instead of overheadVsNoneCi95 and detectableVsNone with too few rounds. */
  overheadVsNoneTooFewRounds?: TooFewRounds;
  /** The arm of an A/B run the entry summarises; each arm is summarised on its own. */
  arm?: string;
}

/** A baseline cell's headline metric across the rounds of a run: the machine's drift during the run. */
export interface BaselineDrift extends CellMetric {
  /** [round, value] in the order measured. */
  rounds: Array<[number, number]>;
  /** (max - min) / median, in percent. */
  rangePercent: number;
  /** Least-squares slope over the rounds relative to the median, in percent per round (positive = rising). */
  trendPercentPerRound: number;
}

// ---- A/B runs of hypervisor builds (see bench/hypervisor-ab.ts) ----

/** A QEMU program as measured: the configured path, the file it resolves to, its --version line, its content hash. */
export interface HypervisorIdentity {
  path: string;
  resolved: string;
  version: string;
  sha256: string;
}

/** The arms of an A/B run: what each changed in the testbed and the hypervisor each VM role ran under. */
export interface AbRecord {
  arms: Array<{ name: string; hosts: Partial<Record<Role, { binary?: string; args?: string[] }>>; hypervisors: Partial<Record<Role, HypervisorIdentity>> }>;
  /** The settle step after each boot of an arm's VMs, and what it did each time. */
  settle?: { spec: SettleSpec; boots: SettleOutcome[] };
}

/** A cell's metric in one arm relative to another, in percent (signed as the metric moved), with its paired bootstrap interval. */
export interface ArmChange extends CellMetric {
  arm: string;
  vs: string;
  better: Better;
  changePercent: number;
  ci95?: [number, number];
  /** False when ci95 contains 0: no detectable difference between the arms. */
  detectable?: boolean;
  /** Instead of ci95 and detectable with too few rounds. */
  tooFewRounds?: TooFewRounds;
}

// ---- end of A/B runs ----

/** The CPUs (taskset lists) each role's processes were pinned to during a run, and what was done about the model. */
export interface Pinning {
  client?: string;
  server?: string;
  model?: string;
  notes: string[];
}

export interface ModelInfo {
  placement: Exclude<Placement, 'none'>;
  dir: string;
  sourceHash: string;
  buildId: string;
}

export interface HostMetadata {
  role: Role;
  label: string;
  kernel: string;
  sysctls: Record<string, string>;
  tools: Record<string, string>;
}

export interface RunMetadata {
  tool: { name: 'hypershield'; version: string };
  node: string;
  workspace: string;
  git?: { commit: string; dirty: boolean };
  testbed: Omit<Testbed, 'source'> & { source: string; backend: BackendKind };
  hosts: HostMetadata[];
  /** True when hosts are emulated (e.g. QEMU without KVM): absolute figures are not comparable to hardware. */
  emulated: boolean;
  models: ModelInfo[];
  /** Present when the run re-ran a reproducibility bundle: the original run's id and the bundle file. */
  replayOf?: { run: string; bundle: string };
  /** Present when the run pinned processes to CPUs. */
  pinning?: Pinning;
  /** Present on an A/B run of hypervisor builds: its arms and their hypervisors. */
  ab?: AbRecord;
  /** The plan as run: placements filled in with what was deployed when the run had no matrix. */
  plan: RunPlan & { placements: Placement[] };
  startedAt: string;
  endedAt?: string;
}

export type RunStatus = 'running' | 'complete' | 'incomplete' | 'failed';

export interface RunFile {
  schemaVersion: number;
  id: string;
  status: RunStatus;
  /** Process that writes the file while status is "running"; a dead pid means the run was killed. */
  pid?: number;
  /** Why a run is incomplete or failed. */
  reason?: string;
  metadata: RunMetadata;
  results: Measurement[];
  summary: SummaryEntry[];
  /** How the baseline cells drifted across rounds (runs with two or more rounds). */
  drift?: BaselineDrift[];
  /** On an A/B run: each arm after the first relative to the first. */
  abComparison?: ArmChange[];
}
