// `hypershield deploy` / `undeploy`: puts a built model on the model host and takes it off again, through the Host
// interface only. A watchdog on the host rolls the model back unless the workbench confirms it still reaches the
// host; every change is undone, in reverse, when a step fails.
import * as path from 'node:path';
import type { Backend, WorkOptions } from '../../backends/backend';
import { run, type Host } from '../../hosts/host';
import { exclusive } from '../../testbed/lock';
import type { DeployedModel } from '../../testbed/state';
import { serverAddress } from '../../testbed/testbed';
import { buildModel, type BuildOptions, type BuildResult } from '../build';
import type { ModelPlacement } from '../templates';
import { ebpfDeployer } from './ebpf';
import { kernelModuleDeployer } from './kernel-module';
import type { Diagnostic } from '../diagnostics/diagnostic';
import { DEFAULT_MODEL_CONFIG, DeployError, validateConfig, type Loaded, type ModelConfig, type ModelCounters, type ModelHost, type PlacementDeployer } from './model-host';
import { runDirFor } from './run-dir';
import { UndoPlan } from './undo-plan';
import { userSpaceDeployer } from './user-space';
import { DEFAULT_WATCHDOG_SECONDS, armWatchdog, commandRoundTrip, confirmWatchdog, disarmWatchdog } from './watchdog';
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
  /** How the workbench checks it still reaches the model host after loading (default: a command round trip). */
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

/** Sends a few pings from the client through the model and waits for the model's counters to show them. */
async function verifyProcessing(backend: Backend, deployer: PlacementDeployer, m: ModelHost): Promise<string> {
  if (backend.state.read()?.mode !== 'model') return 'not checked with traffic: the testbed is in direct mode, so no traffic crosses the model host';
  const before = await deployer.counters(m);
  const target = serverAddress(backend.testbed);
  await backend.host('client').exec(['ping', '-n', '-q', '-c', '3', '-i', '0.05', '-W', '1', target], { signal: m.signal, timeoutMs: 15_000 });
  return pollUntil(async () => {
    const after = await deployer.counters(m);
    return after.packets > before.packets ? `counted ${after.packets - before.packets} packets of a ping from the client to ${target} through the model` : undefined;
  }, {
    timeoutMs: 3000,
    intervalMs: 200,
    signal: m.signal,
    onTimeout: () => new DeployError(`The model is loaded on ${m.host.label} but counted none of the ping packets sent from the client to ${target} through it; traffic does not reach it.`),
  });
}

/** Waits until the watchdog's rollback has removed the run folder. */
async function waitForWatchdogRollback(m: ModelHost, timeoutMs = 60_000): Promise<void> {
  await pollUntil(async () => ((await m.host.exec(['test', '-e', m.dir.root], { timeoutMs: 10_000 })).code === 0 ? undefined : true), {
    timeoutMs,
    intervalMs: 200,
    onTimeout: () => new Error(`The watchdog on ${m.host.label} started a rollback that has not finished after ${timeoutMs / 1000} s; look at ${m.dir.root} there.`),
  });
}

/** Runs the host's undo plan, removes the run folder and checks that nothing of any placement is left. */
async function rollBack(m: ModelHost): Promise<string[]> {
  const quiet = { ...m, signal: undefined };
  const plan = await UndoPlan.load(m.host, m.dir);
  const { failures } = await plan.run();
  await run(m.host, ['rm', '-rf', m.dir.root], { timeoutMs: 30_000 });
  // The testbed's folder goes too once nothing else (e.g. a benchmark server's files) is in it.
  await m.host.exec(['rmdir', path.posix.dirname(m.dir.root)], { timeoutMs: 15_000 });
  const left = (await Promise.all(Object.values(DEPLOYERS).map((d) => d.leftovers(quiet)))).flat();
  return [...failures, ...left];
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
  const deployer = DEPLOYERS[placement];
  const m = modelHost(backend, opts.signal);
  const helperMissing = placement === 'ebpf' ? await m.privileged?.unavailable() : undefined;
  if (helperMissing) throw new DeployError(`The ${placement} placement needs privileges this user lacks on testbed ${backend.testbed.name}: ${helperMissing}`);
  await deployer.preflight(m);

  const build = await buildModel(backend, dir, placement, { ...opts.build, signal: opts.signal, progress: opts.progress });
  if (!build.ok) {
    const errors = build.diagnostics.filter((d) => d.severity === 'error').length;
    throw new DeployError(`The ${placement} model in ${build.dir} did not build (${errors} error${errors === 1 ? '' : 's'}); nothing was deployed.`, build.diagnostics);
  }
  await undeployModel(backend, { signal: opts.signal, progress: opts.progress });

  const seconds = opts.watchdogSeconds ?? DEFAULT_WATCHDOG_SECONDS;
  // Recorded before the first step on the host: if this process dies half way, status shows an interrupted deploy.
  backend.state.update((s) => { s.deploying = { placement, dir: build.dir, pid: process.pid, startedAt: new Date().toISOString(), watchdogSeconds: seconds }; });
  try {
    return await deployBuilt(backend, build, placement, config, seconds, opts);
  } finally {
    if (backend.state.read()?.deploying) backend.state.update((s) => { delete s.deploying; });
  }
}

async function deployBuilt(backend: Backend, build: BuildResult, placement: ModelPlacement, config: ModelConfig, seconds: number, opts: DeployOptions): Promise<DeployResult> {
  const deployer = DEPLOYERS[placement];
  const m = modelHost(backend, opts.signal);
  opts.progress?.report(`Arming a ${seconds} s watchdog on ${m.host.label}: it undeploys the model unless the workbench confirms it still reaches the host`);
  let loaded: Loaded;
  let verified: string;
  try {
    await armWatchdog(m.host, m.dir, seconds, opts.signal);
    loaded = await deployer.load({ ...m, plan: new UndoPlan(m.host, m.dir), modelDir: build.dir, artifact: build.artifacts[0], config, progress: opts.progress, builtFor: build.kernel?.release });
    verified = await verifyProcessing(backend, deployer, m);
  } catch (err) {
    opts.progress?.report('Deploy failed: undoing what was done');
    const disarmed = await disarmWatchdog(m.host, m.dir).catch(() => false);
    if (!disarmed) await waitForWatchdogRollback(m);
    const left = await rollBack(m);
    const suffix = left.length ? `\nThe rollback left: ${left.join('; ')}` : '';
    // Cancelled and cleanly rolled back: say so the way cancellation is said everywhere.
    if (!left.length) opts.signal?.throwIfAborted();
    if (err instanceof DeployError) throw new DeployError(err.message + suffix, err.diagnostics);
    throw new DeployError(`Deploying the ${placement} model failed on ${m.host.label}: ${(err as Error).message}${suffix}`);
  }

  const outcome = await confirmWatchdog(m.host, m.dir, opts.reachable ?? commandRoundTrip);
  if (outcome === 'unreachable') {
    throw new DeployError(`The ${placement} model was loaded, but the workbench could not confirm it still reaches ${m.host.label}: the watchdog there undoes the deployment within ${seconds} s of arming.`);
  }
  if (outcome === 'rolled back') {
    await waitForWatchdogRollback(m);
    throw new DeployError(`The watchdog on ${m.host.label} rolled the ${placement} model back before the workbench confirmed it (deploying took longer than ${seconds} s); raise the watchdog timeout.`);
  }
  const deployed: DeployedModel = {
    placement,
    dir: build.dir,
    sourceHash: build.sourceHash,
    buildId: build.buildId!,
    deployedAt: new Date().toISOString(),
    detail: { ...loaded.detail, verified, watchdogSeconds: String(seconds), ...(build.kernel ? { kernelRelease: build.kernel.release } : {}) },
  };
  backend.state.update((s) => { s.deployed = deployed; });
  return { deployed, build, diagnostics: [...build.diagnostics, ...loaded.diagnostics], verified };
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
  const present = (await m.host.exec(['test', '-e', m.dir.root], { signal: opts.signal, timeoutMs: 15_000 })).code === 0;
  if (present) {
    opts.progress?.report(`Undeploying the model on ${m.host.label}`);
    if (!(await disarmWatchdog(m.host, m.dir, opts.signal))) await waitForWatchdogRollback(m);
  }
  const left = await rollBack(m);
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
