// `hypershield deploy` / `undeploy`: puts a built model on the model host and takes it off again, through the Host
// interface only. A watchdog on the host rolls the model back unless the workbench confirms it still reaches the
// host; every change is undone, in reverse, when a step fails.
import type { Backend, WorkOptions } from '../../backends/backend';
import { execBatch, type BatchResult } from '../../hosts/batch';
import type { Host } from '../../hosts/host';
import { exclusive } from '../../testbed/lock';
import type { DeployedModel } from '../../testbed/state';
import { serverAddress } from '../../testbed/testbed';
import { buildModel, type BuildOptions, type BuildResult } from '../build';
import { buildsHere } from '../build-machine';
import { MODEL_PLACEMENTS, type ModelPlacement } from '../templates';
import { ebpfDeployer } from './ebpf';
import { kernelModuleDeployer } from './kernel-module';
import type { Diagnostic } from '../diagnostics/diagnostic';
import { DEFAULT_MODEL_CONFIG, DeployError, validateConfig, type Loaded, type ModelConfig, type ModelCounters, type ModelHost, type PlacementDeployer, type Probe } from './model-host';
import { runDirFor, type RunDir } from './run-dir';
import { UNDO_STEPS_SCRIPT, UndoPlan } from './undo-plan';
import { userSpaceDeployer } from './user-space';
import { DEFAULT_WATCHDOG_SECONDS, armWatchdogArgv, confirmArgv, confirmOutcome, type ConfirmOutcome } from './watchdog';
import { pollUntil } from '../../util/poll';

const DEPLOYERS: Readonly<Record<ModelPlacement, PlacementDeployer>> = {
  user: userSpaceDeployer,
  ebpf: ebpfDeployer,
  kernel: kernelModuleDeployer,
};

export interface DeployOptions extends WorkOptions {
  /** The example policy's settings (default: drop flows carrying "HSDROP"). */
  config?: Partial<ModelConfig>;
  /** Seconds the watchdog waits for the workbench's confirmation before it undeploys (default 20). */
  watchdogSeconds?: number;
  /**
   * A check of the workbench's own that it still reaches the model host, made before confirming (by default the
   * confirming command is the check: it must come back within 10 s).
   */
  reachable?: (host: Host) => Promise<boolean>;
  /**
   * Load a kernel module even though the model host shares this machine's kernel (namespaces, containers): the
   * module then runs in the workstation's own kernel. Refused unless set.
   */
  allowHostKernel?: boolean;
  /** Passed to the build (kernel release, headers cache, build output). */
  build?: Pick<BuildOptions, 'kernelRelease' | 'headersCache' | 'onOutput'>;
}

export interface DeployResult {
  deployed: DeployedModel;
  build: BuildResult;
  /** The build's diagnostics, then what the host said while loading the model. */
  diagnostics: Diagnostic[];
  /** How the deployment was seen working (e.g. counters moved during a ping through the model). */
  verified: string;
}

function modelHost(backend: Backend, signal?: AbortSignal): ModelHost {
  return { host: backend.host('model'), dir: runDirFor(backend.testbed.name), testbed: backend.testbed.name, interfaces: backend.modelInterfaces, signal, privileged: backend.privileged };
}

function requireUp(backend: Backend): void {
  if (backend.state.read()?.phase !== 'up') throw new Error(`Testbed ${backend.testbed.name} is not up: run \`hypershield up\` first.`);
}

/** Seconds an undo waits for a watchdog that has started rolling back to finish. */
const ROLLBACK_WAIT_S = 60;

/**
 * Undoes, on the model host itself, whatever deployment it holds: stops a watchdog that has not decided yet (or
 * waits for one that is rolling back, at most $5 s), runs the undo plan, removes the run folder, and the testbed's
 * folder when nothing else is in it. $1 run folder, $2 undo folder, $3 watchdog folder, $4 its decided folder.
 * Prints "present" when there was a run folder, "rollback-unfinished" when the watchdog's rollback did not end in
 * time, and a line per failed undo step (see UNDO_STEPS_SCRIPT).
 */
const UNDEPLOY_SCRIPT = `root=$1 undo=$2 watchdog=$3 decided=$4 ticks=$(($5 * 5))
if [ -e "$root" ]; then
  echo present
  if [ -d "$watchdog" ] && ! mkdir "$decided" 2>/dev/null && [ -e "$decided/by" ]; then
    while [ -e "$root" ] && [ "$ticks" -gt 0 ]; do sleep 0.2; ticks=$((ticks - 1)); done
    if [ -e "$root" ]; then echo rollback-unfinished; exit 1; fi
  fi
fi
${UNDO_STEPS_SCRIPT}
rm -rf "$root" || exit 1
rmdir "\${root%/*}" 2>/dev/null
true`;

const undeployArgv = (dir: RunDir) => ['sh', '-c', UNDEPLOY_SCRIPT, 'hs-undeploy', dir.root, dir.undo, dir.watchdog, dir.decided, String(ROLLBACK_WAIT_S)];

interface Reset {
  /** The host had a run folder (a model, or what was left of one). */
  present: boolean;
  /** Failed undo steps, then whatever of any placement is still in place. */
  left: string[];
  /** The results of the commands run after the check. */
  after: BatchResult[];
}

/** What reads as left over, for a probe result. */
function leftBy(p: Probe<string[]>, r: BatchResult): string[] {
  return r.code === null ? [`\`${p.argv.join(' ')}\` did not answer in time, so what it checks may be left`] : p.read(r);
}

/**
 * In one exec: undoes whatever deployment the host holds (UNDEPLOY_SCRIPT), checks that nothing of the given
 * placements (by default all) is left, then runs the commands in `then` (e.g. arming the next deploy's watchdog). Not
 * cancellable: a cleanup that stops half way leaves more behind; bounded by a timeout instead.
 */
async function resetModelHost(m: ModelHost, then: string[][] = [], checked: readonly ModelPlacement[] = MODEL_PLACEMENTS): Promise<Reset> {
  const probes = checked.flatMap((p) => DEPLOYERS[p].leftoverProbes(m));
  const timeoutMs = (ROLLBACK_WAIT_S + 120) * 1000;
  const [undo, ...rest] = await execBatch(m.host, [undeployArgv(m.dir), ...probes.map((p) => p.argv), ...then], { timeoutMs });
  if (undo.code === null) throw new Error(`Undoing the deployment on ${m.host.label} did not finish within ${timeoutMs / 1000} s; look at ${m.dir.root} there, or run \`hypershield down\`.`);
  const lines = undo.stdout.split('\n');
  if (lines.includes('rollback-unfinished')) {
    throw new Error(`The watchdog on ${m.host.label} started a rollback that has not finished after ${ROLLBACK_WAIT_S} s; look at ${m.dir.root} there.`);
  }
  const left = lines.filter((l) => l.startsWith('undo-failed ')).map((l) => l.slice('undo-failed '.length));
  if (undo.code !== 0) left.push(`the run folder ${m.dir.root}: ${undo.stderr.trim() || `removing it failed (exit ${undo.code})`}`);
  probes.forEach((p, i) => left.push(...leftBy(p, rest[i])));
  return { present: lines.includes('present'), left, after: rest.slice(probes.length) };
}

/**
 * Confirms to the watchdog that the workbench still reaches the host, and, in model mode, sends a few pings from
 * the client through the model and checks that its counters show them. The confirmation goes in the same exec as
 * the first counter read; a model that counts nothing is rolled back by the caller, confirmed or not.
 */
async function confirmAndVerify(backend: Backend, deployer: PlacementDeployer, m: ModelHost, loaded: Loaded, reachable?: DeployOptions['reachable']): Promise<{ outcome: ConfirmOutcome; verified: string }> {
  const confirm = async (probe?: string[]): Promise<{ outcome: ConfirmOutcome; probed?: BatchResult }> => {
    if (reachable && !(await reachable(m.host).catch(() => false))) return { outcome: 'unreachable' };
    const results = await execBatch(m.host, [...(probe ? [probe] : []), confirmArgv(m.dir)], { timeoutMs: 10_000 }).catch(() => undefined);
    return results ? { outcome: confirmOutcome(results[results.length - 1]), probed: probe ? results[0] : undefined } : { outcome: 'unreachable' };
  };
  if (backend.state.read()?.mode !== 'model') {
    return { outcome: (await confirm()).outcome, verified: 'not checked with traffic: the testbed is in direct mode, so no traffic crosses the model host' };
  }
  const before = loaded.counters ?? await deployer.counters(m);
  const target = serverAddress(backend.testbed);
  await backend.host('client').exec(['ping', '-n', '-q', '-c', '3', '-i', '0.02', '-W', '1', target], { signal: m.signal, timeoutMs: 15_000 });
  const probe = deployer.countersProbe?.(m);
  const { outcome, probed } = await confirm(probe?.argv);
  const counted = (after: ModelCounters) => (after.packets > before.packets ? `counted ${after.packets - before.packets} packets of a ping from the client to ${target} through the model` : undefined);
  if (outcome !== 'confirmed') return { outcome, verified: '' };
  const first = probe && probed ? counted(probe.read(probed)) : undefined;
  const verified = first ?? await pollUntil(async () => counted(await deployer.counters(m)), {
    timeoutMs: 3000,
    intervalMs: 200,
    signal: m.signal,
    onTimeout: () => new DeployError(`The model is loaded on ${m.host.label} but counted none of the ping packets sent from the client to ${target} through it; traffic does not reach it.`),
  });
  return { outcome, verified };
}

/**
 * Before anything changes, side by side: on the model host, in one exec, the deployer's preflight and the leftover
 * checks of the placements a reset after the build need not check again (all but the one deployed now, whose undo
 * comes later: what the others left can only be found, never made, while this testbed's lock is held); and the build,
 * unless it waits for the host's kernel release (a kernel module whose release is neither given nor known from this
 * testbed's last deploy; built again for the host's own release when that turns out to differ).
 */
async function prepare(backend: Backend, dir: string, placement: ModelPlacement, m: ModelHost, opts: DeployOptions): Promise<{ build: BuildResult; checkAfterUndo: ModelPlacement[] }> {
  const st = backend.state.read();
  const current = st?.deployed?.placement ?? st?.deploying?.placement;
  const checkAfterUndo = current ? [current] : [];
  const early = MODEL_PLACEMENTS.filter((p) => p !== current).flatMap((p) => DEPLOYERS[p].leftoverProbes(m));
  const preflight = DEPLOYERS[placement].preflight(m);
  const ask = async () => {
    const [pre, ...found] = await execBatch(m.host, [preflight.argv, ...early.map((p) => p.argv)], { signal: m.signal, timeoutMs: 30_000 });
    const facts = preflight.read(pre);
    const left = early.flatMap((p, i) => leftBy(p, found[i]));
    if (left.length) throw new DeployError(`An earlier deployment left on ${m.host.label}: ${left.join('; ')}. Remove these by hand, or run \`hypershield undeploy\` or \`hypershield down\`.`);
    return facts;
  };
  const buildFor = (kernelRelease?: string) => buildModel(backend, dir, placement, { ...opts.build, kernelRelease, signal: opts.signal, progress: opts.progress });
  const given = opts.build?.kernelRelease;
  const last = st?.deployed?.detail.kernelRelease;
  if (placement === 'kernel' && given === undefined && last === undefined) return { build: await buildFor((await ask()).kernelRelease), checkAfterUndo };
  const [facts, built] = await Promise.allSettled([ask(), buildFor(given ?? last)]);
  // A host that cannot take the model says so first: its reason stands whatever the build did.
  if (facts.status === 'rejected') throw facts.reason;
  const release = facts.value.kernelRelease;
  // The host runs another kernel than at the last deploy: whatever the build for that one did, build for this one.
  if (placement === 'kernel' && given === undefined && release !== undefined && release !== last) return { build: await buildFor(release), checkAfterUndo };
  if (built.status === 'rejected') throw built.reason;
  return { build: built.value, checkAfterUndo };
}

/**
 * Builds and deploys the model in dir for placement, replacing whatever was deployed. Throws DeployError (with
 * diagnostics when the build or the load failed) and leaves nothing behind when any step fails.
 */
export async function deployModel(backend: Backend, dir: string, placement: ModelPlacement, opts: DeployOptions = {}): Promise<DeployResult> {
  return exclusive(backend.testbed.name, 'deploy', () => deploy(backend, dir, placement, opts));
}

async function deploy(backend: Backend, dir: string, placement: ModelPlacement, opts: DeployOptions): Promise<DeployResult> {
  requireUp(backend);
  if (placement === 'kernel' && !backend.capabilities.ownKernel && !opts.allowHostKernel) {
    throw new DeployError(`The model host of testbed ${backend.testbed.name} (${backend.testbed.backend}) shares this machine's kernel: a kernel ` +
      `module deployed there would be loaded into the workstation's own kernel, next to everything else it runs. Use a testbed whose model ` +
      `host has a kernel of its own ("backend": "qemu" or "ssh"), or allow it explicitly (\`hypershield deploy --allow-host-kernel\`).`);
  }
  const config: ModelConfig = { ...DEFAULT_MODEL_CONFIG, ...opts.config };
  validateConfig(config);
  const m = modelHost(backend, opts.signal);
  const helperMissing = placement === 'ebpf' ? await m.privileged?.unavailable() : undefined;
  if (helperMissing) throw new DeployError(`The ${placement} placement needs privileges this user lacks on testbed ${backend.testbed.name}: ${helperMissing}`);
  const { build, checkAfterUndo } = await prepare(backend, dir, placement, m, opts);
  if (!build.ok) {
    const errors = build.diagnostics.filter((d) => d.severity === 'error').length;
    throw new DeployError(`The ${placement} model in ${build.dir} did not build (${errors} error${errors === 1 ? '' : 's'}); nothing was deployed.`, build.diagnostics);
  }

  const seconds = opts.watchdogSeconds ?? DEFAULT_WATCHDOG_SECONDS;
  // Recorded before the first step on the host (undoing the model deployed before): if this process dies half way,
  // status shows an interrupted deploy, and undeploy removes whatever either left.
  backend.state.update((s) => {
    delete s.deployed;
    s.deploying = { placement, dir: build.dir, pid: process.pid, startedAt: new Date().toISOString(), watchdogSeconds: seconds };
  });
  try {
    return await deployBuilt(backend, build, placement, config, seconds, checkAfterUndo, opts);
  } finally {
    if (backend.state.read()?.deploying) backend.state.update((s) => { delete s.deploying; });
  }
}

async function deployBuilt(backend: Backend, build: BuildResult, placement: ModelPlacement, config: ModelConfig, seconds: number, checkAfterUndo: ModelPlacement[], opts: DeployOptions): Promise<DeployResult> {
  const deployer = DEPLOYERS[placement];
  const m = modelHost(backend, opts.signal);
  let loaded: Loaded;
  let checked: { outcome: ConfirmOutcome; verified: string };
  try {
    opts.progress?.report(`Undoing the model deployed before on ${m.host.label}, if any, and arming a ${seconds} s watchdog there: it undeploys the new model unless the workbench confirms it still reaches the host`);
    const reset = await resetModelHost(m, [armWatchdogArgv(m.dir, seconds)], checkAfterUndo);
    if (reset.left.length) throw new DeployError(`Undoing the model deployed before on ${m.host.label} left: ${reset.left.join('; ')}. Remove these by hand, or run \`hypershield down\`.`);
    const armed = reset.after[0];
    if (armed.code !== 0) throw new DeployError(`Arming the watchdog on ${m.host.label} failed: ${armed.stderr.trim() || (armed.code === null ? 'no answer in time' : `exit ${armed.code}`)}`);
    opts.signal?.throwIfAborted();
    loaded = await deployer.load({ ...m, plan: new UndoPlan(m.dir), modelDir: build.dir, artifact: build.artifacts[0], config, progress: opts.progress,
      builtFor: build.kernel?.release, builtHere: placement === 'kernel' || buildsHere(backend) });
    checked = await confirmAndVerify(backend, deployer, m, loaded, opts.reachable);
  } catch (err) {
    opts.progress?.report('Deploy failed: undoing what was done');
    const { left } = await resetModelHost(m);
    const suffix = left.length ? `\nThe rollback left: ${left.join('; ')}` : '';
    // Cancelled and cleanly rolled back: say so the way cancellation is said everywhere.
    if (!left.length) opts.signal?.throwIfAborted();
    if (err instanceof DeployError) throw new DeployError(err.message + suffix, err.diagnostics);
    throw new DeployError(`Deploying the ${placement} model failed on ${m.host.label}: ${(err as Error).message}${suffix}`);
  }

  if (checked.outcome === 'unreachable') {
    throw new DeployError(`The ${placement} model was loaded, but the workbench could not confirm it still reaches ${m.host.label}: the watchdog there undoes the deployment within ${seconds} s of arming.`);
  }
  if (checked.outcome === 'rolled back') {
    await resetModelHost(m);
    throw new DeployError(`The watchdog on ${m.host.label} rolled the ${placement} model back before the workbench confirmed it (deploying took longer than ${seconds} s); raise the watchdog timeout.`);
  }
  const deployed: DeployedModel = {
    placement,
    dir: build.dir,
    sourceHash: build.sourceHash,
    buildId: build.buildId!,
    deployedAt: new Date().toISOString(),
    detail: { ...loaded.detail, verified: checked.verified, watchdogSeconds: String(seconds), ...(build.kernel ? { kernelRelease: build.kernel.release } : {}) },
  };
  backend.state.update((s) => { s.deployed = deployed; });
  return { deployed, build, diagnostics: [...build.diagnostics, ...loaded.diagnostics], verified: checked.verified };
}

/**
 * Removes whatever model this testbed has on its model host (also one left by a crashed or rolled-back deploy),
 * then checks that no rule, filter, process or module of any placement is left. Safe when nothing is deployed.
 */
export async function undeployModel(backend: Backend, opts: WorkOptions = {}): Promise<{ removed: boolean }> {
  return exclusive(backend.testbed.name, 'undeploy', () => undeploy(backend, opts));
}

async function undeploy(backend: Backend, opts: WorkOptions): Promise<{ removed: boolean }> {
  const m = modelHost(backend, opts.signal);
  const clearState = () => {
    const st = backend.state.read();
    if (st?.deployed || st?.deploying) backend.state.update((s) => { delete s.deployed; delete s.deploying; });
  };
  const status = await m.host.status().catch(() => undefined);
  if (status?.state !== 'running') {
    // A model host that does not exist any more took its model with it.
    clearState();
    return { removed: false };
  }
  opts.signal?.throwIfAborted();
  opts.progress?.report(`Undeploying the model on ${m.host.label}`);
  const { present, left } = await resetModelHost(m);
  clearState();
  if (left.length) throw new Error(`Undeploying on ${m.host.label} left: ${left.join('; ')}. Remove these by hand, or run \`hypershield down\`.`);
  return { removed: present };
}

/** The counters of the model deployed on the testbed, or undefined when none is deployed. */
export async function modelCounters(backend: Backend, signal?: AbortSignal): Promise<ModelCounters | undefined> {
  const deployed = backend.state.read()?.deployed;
  if (!deployed) return undefined;
  return DEPLOYERS[deployed.placement].counters(modelHost(backend, signal));
}
