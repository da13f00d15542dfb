import type { Backend, WorkOptions } from '../backends/backend';
import { exclusive } from '../testbed/lock';
import { hostRunDir, serverAddress, type Mode } from '../testbed/testbed';
import { SCHEMA_VERSION, type Measurement, type ModelInfo, type Placement, type RunFile, type RunMetadata } from '../results/run-file';
import type { ResultsStore } from '../results/store';
import { summarize } from '../results/summary';
import { VERSION } from '../version';
import type { BenchContext, Benchmark, StopServer } from './benchmark';
import { benchmarkById } from './registry';
import { assertPath, checkPath } from './path-check';
import { describeHosts, gitInfo } from './metadata';
import { checkTools } from './tools';
import { schedule } from './schedule';
import { baselineDrift } from '../results/drift';
import { pinModel, pinnedHost, resolvePinPlan } from './pinning';
import { validatePlan, type RunPlan } from './plan';
import { pathWarnings } from './warnings';
import { withProfile } from './profile';
import { vmToolFix } from '../backends/qemu/workloads';

export interface RunOptions extends WorkOptions {
  workspace: string;
  store: ResultsStore;
  /** Deploys a placement (undeploys for "none") and says what is on the path; needed for an explicit matrix. */
  preparePlacement?: (placement: Placement, opts: WorkOptions) => Promise<ModelInfo | undefined>;
  onOutput?: (chunk: string) => void;
  /** Set when the run replays a reproducibility bundle; recorded in the metadata. */
  replayOf?: RunMetadata['replayOf'];
  /** Profile the model host during each recorded repetition (perf stat, /proc; perf record of the model in model mode): see withProfile. */
  profile?: boolean;
  /** Called after each recorded measurement, with the run file as saved. */
  onMeasurement?: (m: Measurement, run: RunFile) => void;
}

const WARMUP_MAX_S = 2;

/**
 * Runs benchmarks x modes x placements in rounds (see schedule.ts): each round measures every cell once, so slow
 * drift of the machine does not favour one mode or placement, and the baseline cells' drift is recorded. The run
 * file is saved after every measurement so an interrupted run keeps what finished.
 */
export async function runBenchmarks(backend: Backend, plan: RunPlan, opts: RunOptions): Promise<RunFile> {
  return exclusive(backend.testbed.name, 'bench', () => runPlan(backend, plan, opts));
}

async function runPlan(backend: Backend, plan: RunPlan, opts: RunOptions): Promise<RunFile> {
  const { signal, progress } = opts;
  validatePlan(plan);
  const benchmarks = plan.benchmarks.map(benchmarkById);
  const state = backend.state.read();
  if (state?.phase !== 'up') throw new Error(`Testbed ${backend.testbed.name} is not up: run \`hypershield up\` first.`);
  const originalMode = state.mode;
  const currentPlacement: Placement = state.deployed?.placement ?? 'none';
  const placements = plan.placements ?? [currentPlacement];
  if (plan.placements && !opts.preparePlacement) throw new Error('A placement matrix needs a model project to deploy from (--model DIR).');

  // Read-only questions to different hosts: asked at once. Missing tools still refuse the run before it is recorded.
  progress?.report('Checking the benchmark tools on the hosts and recording host metadata');
  const [, git, hosts] = await Promise.all([checkTools(backend, benchmarks), gitInfo(opts.workspace), describeHosts(backend, benchmarks)]);
  const pin = plan.pin ? await resolvePinPlan(plan.pin, { client: backend.host('client'), server: backend.host('server'), model: backend.host('model') }, signal) : undefined;
  const testbed = backend.testbed;
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
      hosts,
      emulated: backend.capabilities.emulated,
      models: !plan.placements && state.deployed
        ? [{ placement: state.deployed.placement, dir: state.deployed.dir, sourceHash: state.deployed.sourceHash, buildId: state.deployed.buildId }]
        : [],
      ...(opts.replayOf ? { replayOf: opts.replayOf } : {}),
      ...(pin ? { pinning: { ...pin, notes: [] } } : {}),
      plan: { benchmarks: plan.benchmarks, modes: plan.modes, placements, repetitions: plan.repetitions, warmup: plan.warmup, durationS: plan.durationS, ...(plan.pin ? { pin: plan.pin } : {}) },
      startedAt: new Date().toISOString(),
    },
    results: [],
    summary: [],
  });
  const save = (patch: Partial<RunFile>) => {
    const results = patch.results ?? runFile.results;
    runFile = { ...runFile, ...patch, summary: summarize(results), drift: baselineDrift(results, (id) => benchmarks.find((b) => b.id === id)?.headline) };
    if (runFile.pid === undefined) delete runFile.pid;
    opts.store.save(runFile);
  };

  const rounds = schedule(placements, plan.modes, plan.benchmarks, plan.warmup, plan.repetitions);
  const total = placements.length * plan.repetitions * benchmarks.length * plan.modes.length;
  let done = 0;
  const stops: StopServer[] = [];
  let currentMode: Mode | undefined;
  let deployed: Placement | undefined = plan.placements ? undefined : currentPlacement;
  const ctxBase = {
    client: pin?.client ? pinnedHost(backend.host('client'), pin.client) : backend.host('client'),
    server: pin?.server ? pinnedHost(backend.host('server'), pin.server) : backend.host('server'),
    target: serverAddress(testbed),
    runDir: hostRunDir(testbed.name, 'server'),
    signal,
    onOutput: opts.onOutput,
  };
  const switchMode = async (mode: Mode) => {
    if (mode === currentMode) return;
    await backend.setMode(mode, { signal });
    assertPath(await checkPath(backend, mode, signal));
    currentMode = mode;
  };
  // A (re)deployed model is a new process: pin it again, and note what was done once.
  const pinDeployedModel = async () => {
    const deployedNow = backend.state.read()?.deployed;
    if (!pin?.model || !deployedNow) return;
    const note = await pinModel(backend.host('model'), deployedNow.detail, pin.model, signal);
    const pinning = runFile.metadata.pinning!;
    if (!pinning.notes.includes(note)) save({ metadata: { ...runFile.metadata, pinning: { ...pinning, notes: [...pinning.notes, note] } } });
  };
  const deploy = async (placement: Placement) => {
    if (placement === deployed) return;
    progress?.report(placement === 'none' ? 'Removing any deployed model (placement none)' : `Deploying the ${placement} model`);
    const model = await opts.preparePlacement!(placement, { signal, progress });
    deployed = placement;
    await pinDeployedModel();
    // A new model may break forwarding: the next mode switch proves the path again.
    currentMode = undefined;
    const known = runFile.metadata.models.some((m) => m.placement === model?.placement && m.buildId === model.buildId);
    if (model && !known) save({ metadata: { ...runFile.metadata, models: [...runFile.metadata.models, model] } });
  };
  const byId = new Map(benchmarks.map((b) => [b.id, b]));

  try {
    if (!plan.placements) await pinDeployedModel();
    // Servers run for the whole run: deploying a placement changes only the model host, so the first cell's deploy
    // and path check go on meanwhile. Servers start one after another: iperf3 variants share one server.
    const startServers = async () => {
      for (const b of benchmarks) if (b.startServer) stops.push(await b.startServer({ ...ctxBase, durationS: plan.durationS }));
    };
    const first = rounds[0]?.[0];
    const prepareFirst = async () => { if (first) { await deploy(first.placement); await switchMode(first.mode); } };
    const failed = (await Promise.allSettled([startServers(), prepareFirst()])).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    for (const cells of rounds) {
      for (const cell of cells) {
        signal?.throwIfAborted();
        await deploy(cell.placement);
        await switchMode(cell.mode);
        const b = byId.get(cell.benchmark)!;
        const warm = cell.round < 1;
        progress?.report(warm
          ? `[${cell.placement}] ${b.id} ${cell.mode}: warm-up`
          : `[${cell.placement}] ${b.id} ${cell.mode}: repetition ${cell.round}/${plan.repetitions} (${done + 1}/${total})`);
        const ctx: BenchContext = { ...ctxBase, durationS: warm ? Math.min(plan.durationS, WARMUP_MAX_S) : plan.durationS };
        // Sampling only in model mode: in direct mode no packet meets the model.
        const sample = cell.mode === 'model' ? backend.state.read()?.deployed : undefined;
        const profiled = opts.profile && !warm
          ? {
            host: backend.host('model'), interfaces: [backend.modelInterfaces.client, backend.modelInterfaces.server], sharesThisKernel: !backend.capabilities.ownKernel, ...(sample ? { sample } : {}),
            emulated: backend.capabilities.emulated, ...(backend.host('model').kind === 'qemu' ? { perfFix: vmToolFix(testbed, 'model', 'perf') } : {}),
          }
          : undefined;
        const m = await withProfile(profiled, hostRunDir(testbed.name, 'model'), () => measure(b, ctx, cell.mode, cell.placement, cell.round, pin !== undefined), signal);
        for (const w of m.warnings ?? []) progress?.report(`[${cell.placement}] ${b.id} ${cell.mode}: warning: ${w}`);
        if (warm) continue;
        done += 1;
        save({ results: [...runFile.results, m] });
        opts.onMeasurement?.(m, runFile);
      }
    }
    await stopAll(stops);
    if (plan.placements && currentPlacement === 'none' && deployed !== 'none') {
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

async function measure(b: Benchmark, ctx: BenchContext, mode: Mode, placement: Placement, repetition: number, pinned: boolean): Promise<Measurement> {
  const startedAt = new Date();
  const base = { benchmark: b.id, mode, placement, repetition, startedAt: startedAt.toISOString() };
  try {
    const { warnings: own = [], ...outcome } = await b.run(ctx);
    const warnings = [...own, ...pathWarnings(outcome.metrics, ctx.durationS, pinned)];
    return { ...base, durationMs: Date.now() - startedAt.getTime(), ...outcome, ...(warnings.length ? { warnings } : {}) };
  } catch (err) {
    ctx.signal?.throwIfAborted();
    const raw = (err as { raw?: string }).raw ?? '';
    return { ...base, durationMs: Date.now() - startedAt.getTime(), metrics: {}, raw, error: (err as Error).message };
  }
}

async function stopAll(stops: StopServer[]): Promise<void> {
  await Promise.all(stops.splice(0).map((s) => s().catch(() => undefined)));
}
