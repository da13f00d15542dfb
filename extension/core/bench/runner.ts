import type { Backend, WorkOptions } from '../backends/backend';
import { exclusive } from '../testbed/lock';
import { hostRunDir, serverAddress, type Mode } from '../testbed/testbed';
import { SCHEMA_VERSION, type Measurement, type ModelInfo, type Placement, type RunFile } from '../results/run-file';
import type { ResultsStore } from '../results/store';
import { summarize } from '../results/summary';
import { VERSION } from '../version';
import type { BenchContext, Benchmark, StopServer } from './benchmark';
import { benchmarkById } from './registry';
import { assertPath, checkPath } from './path-check';
import { describeHosts, gitInfo } from './metadata';
import { checkTools } from './tools';
import { withProfile } from './profile';

export interface RunPlan {
  benchmarks: string[];
  modes: Mode[];
  /** An explicit placement matrix, deployed in turn; without it the run measures whatever is deployed now. */
  placements?: Placement[];
  repetitions: number;
  /** Unrecorded repetitions per benchmark, mode and placement before the recorded ones. */
  warmup: number;
  durationS: number;
}

export interface RunOptions extends WorkOptions {
  workspace: string;
  store: ResultsStore;
  /** Deploys a placement (undeploys for "none") and says what is on the path; needed for an explicit matrix. */
  preparePlacement?: (placement: Placement, opts: WorkOptions) => Promise<ModelInfo | undefined>;
  onOutput?: (chunk: string) => void;
  /** Profile the model host during each recorded repetition (perf stat, /proc): see withProfile. */
  profile?: boolean;
  /** Called after each recorded measurement, with the run file as saved. */
  onMeasurement?: (m: Measurement, run: RunFile) => void;
}

const WARMUP_MAX_S = 2;

/**
 * Runs benchmarks x modes x repetitions for each placement. Modes alternate ABBA within a placement so slow drift
 * of the machine does not favour one mode; the run file is saved after every measurement so an interrupted run
 * keeps what finished.
 */
export async function runBenchmarks(backend: Backend, plan: RunPlan, opts: RunOptions): Promise<RunFile> {
  return exclusive(backend.testbed.name, 'bench', () => runPlan(backend, plan, opts));
}

async function runPlan(backend: Backend, plan: RunPlan, opts: RunOptions): Promise<RunFile> {
  const { signal, progress } = opts;
  const benchmarks = plan.benchmarks.map(benchmarkById);
  validatePlan(plan);
  const state = backend.state.read();
  if (state?.phase !== 'up') throw new Error(`Testbed ${backend.testbed.name} is not up: run \`hypershield up\` first.`);
  const originalMode = state.mode;
  const currentPlacement: Placement = state.deployed?.placement ?? 'none';
  const placements = plan.placements ?? [currentPlacement];
  if (plan.placements && !opts.preparePlacement) throw new Error('A placement matrix needs a model project to deploy from (--model DIR).');

  progress?.report('Checking the benchmark tools on the hosts');
  await checkTools(backend, benchmarks);
  progress?.report('Recording host metadata');
  const testbed = backend.testbed;
  const git = await gitInfo(opts.workspace);
  let runFile = opts.store.create({
    schemaVersion: SCHEMA_VERSION,
    status: 'running',
    pid: process.pid,
    metadata: {
      tool: { name: 'hypershield', version: VERSION },
      node: process.version,
      workspace: opts.workspace,
      ...(git ? { git } : {}),
      testbed,
      hosts: await describeHosts(backend, benchmarks),
      emulated: backend.emulated,
      models: !plan.placements && state.deployed
        ? [{ placement: state.deployed.placement, dir: state.deployed.dir, sourceHash: state.deployed.sourceHash, buildId: state.deployed.buildId }]
        : [],
      plan: { benchmarks: plan.benchmarks, modes: plan.modes, placements, repetitions: plan.repetitions, warmup: plan.warmup, durationS: plan.durationS },
      startedAt: new Date().toISOString(),
    },
    results: [],
    summary: [],
  });
  const save = (patch: Partial<RunFile>) => {
    runFile = { ...runFile, ...patch, summary: summarize(patch.results ?? runFile.results) };
    if (runFile.pid === undefined) delete runFile.pid;
    opts.store.save(runFile);
  };

  const total = placements.length * plan.repetitions * benchmarks.length * plan.modes.length;
  let done = 0;
  let stops: StopServer[] = [];
  let currentMode: Mode | undefined;
  const ctxBase = {
    client: backend.host('client'),
    server: backend.host('server'),
    target: serverAddress(testbed),
    runDir: hostRunDir(testbed.name, 'server'),
    signal,
    onOutput: opts.onOutput,
  };
  const switchMode = async (mode: Mode) => {
    if (mode === currentMode) return;
    await backend.setMode(mode, { signal });
    assertPath(await checkPath(ctxBase.client, backend.host('model'), ctxBase.target, mode, signal));
    currentMode = mode;
  };

  try {
    for (const placement of placements) {
      if (plan.placements) {
        progress?.report(placement === 'none' ? 'Removing any deployed model (placement none)' : `Deploying the ${placement} model`);
        const model = await opts.preparePlacement!(placement, { signal, progress });
        if (model) save({ metadata: { ...runFile.metadata, models: [...runFile.metadata.models, model] } });
      }
      currentMode = undefined;
      for (const b of benchmarks) if (b.startServer) stops.push(await b.startServer({ ...ctxBase, durationS: plan.durationS }));

      for (let rep = 1 - plan.warmup; rep <= plan.repetitions; rep++) {
        for (const b of benchmarks) {
          const modes = rep % 2 === 0 ? [...plan.modes].reverse() : plan.modes;
          for (const mode of modes) {
            signal?.throwIfAborted();
            await switchMode(mode);
            const warm = rep < 1;
            progress?.report(warm
              ? `[${placement}] ${b.id} ${mode}: warm-up`
              : `[${placement}] ${b.id} ${mode}: repetition ${rep}/${plan.repetitions} (${done + 1}/${total})`);
            const ctx: BenchContext = { ...ctxBase, durationS: warm ? Math.min(plan.durationS, WARMUP_MAX_S) : plan.durationS };
            const profiled = opts.profile && !warm ? backend.host('model') : undefined;
            const m = await withProfile(profiled, hostRunDir(testbed.name, 'model'), () => measure(b, ctx, mode, placement, rep), signal);
            for (const w of m.warnings ?? []) progress?.report(`[${placement}] ${b.id} ${mode}: warning: ${w}`);
            if (warm) continue;
            done += 1;
            save({ results: [...runFile.results, m] });
            opts.onMeasurement?.(m, runFile);
          }
        }
      }
      await stopAll(stops);
      stops = [];
    }
    if (plan.placements && currentPlacement === 'none' && placements.at(-1) !== 'none') {
      progress?.report('Removing the model deployed for the run');
      await opts.preparePlacement!('none', {});
    }
    save({ status: 'complete', pid: undefined, metadata: { ...runFile.metadata, endedAt: new Date().toISOString() } });
  } catch (err) {
    const interrupted = signal?.aborted === true;
    save({
      status: interrupted ? 'incomplete' : 'failed',
      pid: undefined,
      reason: interrupted ? 'interrupted' : (err as Error).message,
      metadata: { ...runFile.metadata, endedAt: new Date().toISOString() },
    });
    if (!interrupted) throw Object.assign(err as Error, { runFile });
  } finally {
    // Clean-up runs without the (possibly aborted) signal so the testbed is left as it was found.
    await stopAll(stops);
    if (originalMode && currentMode !== originalMode && backend.state.read()?.phase === 'up') await backend.setMode(originalMode).catch(() => undefined);
  }
  return runFile;
}

async function measure(b: Benchmark, ctx: BenchContext, mode: Mode, placement: Placement, repetition: number): Promise<Measurement> {
  const startedAt = new Date();
  const base = { benchmark: b.id, mode, placement, repetition, startedAt: startedAt.toISOString() };
  try {
    const outcome = await b.run(ctx);
    return { ...base, durationMs: Date.now() - startedAt.getTime(), ...outcome };
  } catch (err) {
    ctx.signal?.throwIfAborted();
    const raw = (err as { raw?: string }).raw ?? '';
    return { ...base, durationMs: Date.now() - startedAt.getTime(), metrics: {}, raw, error: (err as Error).message };
  }
}

async function stopAll(stops: StopServer[]): Promise<void> {
  await Promise.all(stops.splice(0).map((s) => s().catch(() => undefined)));
}

function validatePlan(plan: RunPlan): void {
  if (!Number.isInteger(plan.repetitions) || plan.repetitions < 1) throw new Error(`--reps must be a whole number >= 1 (got ${plan.repetitions}).`);
  if (!Number.isInteger(plan.warmup) || plan.warmup < 0) throw new Error(`--warmup must be a whole number >= 0 (got ${plan.warmup}).`);
  if (!(plan.durationS >= 1 && plan.durationS <= 3600)) throw new Error(`--duration must be 1..3600 seconds (got ${plan.durationS}).`);
  if (plan.modes.length === 0) throw new Error('At least one mode is needed (--modes direct,model).');
  if (plan.benchmarks.length === 0) throw new Error('At least one benchmark is needed (--benchmarks iperf3,ping).');
}
