// `hypershield build`: compiles a model project for one placement and turns the output into diagnostics.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Backend, Progress } from '../backends/backend';
import { run } from '../hosts/host';
import type { Diagnostic, DiagnosticSource } from './diagnostics/diagnostic';
import { parseBuildOutput, type Toolchain } from './diagnostics/build-output';
import type { PathMapping } from './diagnostics/path-map';
import { buildMachineFor, localBuildMachine, type BuildMachine } from './build-machine';
import { currentStamp, removeStamp, writeStamp } from './build-stamp';
import { resolveKernelHeaders, type KernelHeaders } from './kernel-headers';
import { MANIFEST_FILE, placementBuild } from './manifest';
import { recordKbuild, replayKbuild } from './kbuild-replay';
import { fileSha256, sourceHash } from './source-hash';
import type { ModelPlacement } from './templates';

const TOOLCHAINS: Readonly<Record<ModelPlacement, Toolchain>> = { user: 'gcc', ebpf: 'clang', kernel: 'kbuild' };
const MAKE_SOURCE: Readonly<Record<ModelPlacement, DiagnosticSource>> = { user: 'gcc', ebpf: 'clang', kernel: 'kbuild' };

/** ASCII quotes and untranslated messages; kbuild unexports LC_ALL, so LANG matters too. */
const BUILD_ENV = { LANG: 'C', LC_ALL: 'C' };

/** A build that runs longer than this is stopped: the machine building it (a remote model host) is taken to be hung. */
const BUILD_TIMEOUT_MS = 15 * 60_000;

export interface BuildOptions {
  /** Kernel builds: the release to build for instead of the model host's own (`uname -r` there). */
  kernelRelease?: string;
  /** Kernel builds: where fetched headers packages are kept (default ~/.cache/hypershield/kernel-headers). */
  headersCache?: string;
  signal?: AbortSignal;
  progress?: Progress;
  /** Every chunk the build prints (stdout and stderr), as it comes. */
  onOutput?: (chunk: string) => void;
  /** User space and eBPF: where to compile (default: see buildMachineFor). */
  machine?: BuildMachine;
}

export interface BuildResult {
  ok: boolean;
  placement: ModelPlacement;
  dir: string;
  /** Absolute local paths of what the build produced (empty when it failed). */
  artifacts: string[];
  diagnostics: Diagnostic[];
  log: string;
  /** sha256 of the artifact; set when the build succeeded. */
  buildId?: string;
  /** sha256 over the project's sources, see sourceHash(). */
  sourceHash: string;
  durationMs: number;
  /** Kernel builds: the headers used. */
  kernel?: KernelHeaders;
}

/**
 * Passes output on line by line, without the lines that are just "[]": gcc -fdiagnostics-format=json (kernel builds)
 * prints one for every file it compiles without a message, and they only confuse whoever reads the log.
 */
function withoutEmptyJsonLines(sink: (chunk: string) => void): { write: (chunk: string) => void; end: () => void } {
  let pending = '';
  const pass = (text: string) => {
    const kept = text.split('\n').filter((line, i, all) => line.trim() !== '[]' || i === all.length - 1).join('\n');
    if (kept) sink(kept);
  };
  return {
    write(chunk) {
      pending += chunk;
      const end = pending.lastIndexOf('\n');
      if (end < 0) return;
      pass(pending.slice(0, end + 1));
      pending = pending.slice(end + 1);
    },
    end() {
      if (pending.trim() !== '[]') pass(pending);
      pending = '';
    },
  };
}

/** The model host's kernel release, asked on the host itself. */
export async function modelKernelRelease(backend: Backend, signal?: AbortSignal): Promise<string> {
  const host = backend.host('model');
  try {
    return (await run(host, ['uname', '-r'], { signal, timeoutMs: 15_000 })).trim();
  } catch (err) {
    throw new Error(`Cannot determine the kernel release of the model host ${host.label}: ${(err as Error).message}\n` +
      'Bring the testbed up (`hypershield up`), or name the release to build for with --kernel-release REL.');
  }
}

/**
 * Builds dir for placement. User-space and eBPF models are built where buildMachineFor says (here, for a model host
 * that runs this machine's programs; else with its own toolchain); kernel modules on this machine against the
 * headers of the model host's exact kernel release. Never throws for compile errors:
 * they come back as diagnostics with ok = false. Throws when cancelled or when no build can start.
 */
export async function buildModel(backend: Backend, dir: string, placement: ModelPlacement, opts: BuildOptions = {}): Promise<BuildResult> {
  const started = Date.now();
  const modelDir = path.resolve(dir);
  if (!fs.existsSync(path.join(modelDir, 'Makefile'))) {
    throw new Error(`${modelDir} is not a model project (it has no Makefile); create one with \`hypershield new ${dir}\`.`);
  }
  const hash = sourceHash(modelDir);
  const recipe = placementBuild(modelDir, placement);
  let machine: BuildMachine;
  let extra: string[] = [];
  let kernel: KernelHeaders | undefined;
  if (placement === 'kernel') {
    const release = opts.kernelRelease ?? (await modelKernelRelease(backend, opts.signal));
    const configured = backend.testbed.model.kernelHeaders;
    kernel = await resolveKernelHeaders(release, {
      configured: configured ? { dir: path.resolve(path.dirname(backend.testbed.source), configured), file: backend.testbed.source } : undefined,
      cacheDir: opts.headersCache,
      signal: opts.signal,
      progress: opts.progress,
    });
    machine = localBuildMachine(modelDir);
    extra = [`KDIR=${kernel.dir}`, 'KCFLAGS=-fdiagnostics-format=json'];
  } else {
    machine = opts.machine ?? buildMachineFor(backend, modelDir);
  }
  const [program, ...args] = recipe.build;
  const argv = program === 'make' ? ['make', '-C', machine.dir, ...args, ...extra] : [program, ...args, ...extra];
  const artifact = path.join(modelDir, recipe.artifact);
  const recipeKey = JSON.stringify({ argv, machine: machine.label, kernel: kernel && { release: kernel.release, dir: kernel.dir } });
  const key = JSON.stringify({ hash, recipe: recipeKey });
  const unchanged = currentStamp(artifact, key);
  if (unchanged) {
    opts.progress?.report(`The ${placement} model in ${modelDir} is unchanged since its last build: using ${recipe.artifact}`);
    return { ok: true, placement, dir: modelDir, artifacts: [artifact], diagnostics: unchanged.diagnostics, log: unchanged.log, buildId: unchanged.buildId,
      sourceHash: hash, durationMs: Date.now() - started, ...(kernel ? { kernel } : {}) };
  }
  removeStamp(artifact);
  opts.progress?.report(`Building the ${placement} model in ${modelDir} on ${machine.label}${kernel ? ` for kernel ${kernel.release} (${kernel.origin} headers ${kernel.dir})` : ''}`);
  await machine.sync(opts.signal);
  // The log keeps the order a terminal shows; the parsers get each stream whole, so lines never interleave.
  let log = '';
  const collect = (chunk: string) => { log += chunk; opts.onOutput?.(chunk); };
  const stderr = placement === 'kernel' ? withoutEmptyJsonLines(collect) : { write: collect, end: () => undefined };
  const limits = { env: BUILD_ENV, signal: opts.signal, timeoutMs: BUILD_TIMEOUT_MS };
  const replayed = kernel ? await replayKbuild(modelDir, artifact, recipeKey, limits) : undefined;
  if (replayed) {
    opts.progress?.report('Only the module\'s C file changed since kbuild last built it: kbuild\'s compile, modpost and link commands for it were run again without make');
    collect(replayed.stdout);
    stderr.write(replayed.stderr);
  }
  const result = replayed ?? await machine.exec(argv, { ...limits, cwd: machine.dir, onStdout: collect, onStderr: stderr.write });
  stderr.end();
  opts.signal?.throwIfAborted();
  const mapping: PathMapping = { modelDir, buildDir: machine.dir, cwd: kernel?.dir ?? machine.dir };
  let ok = result.code === 0;
  const diagnostics = parseBuildOutput(`${result.stdout}\n${result.stderr}`, mapping, TOOLCHAINS[placement], ok, MAKE_SOURCE[placement]);
  const recipeFile = () => (fs.existsSync(path.join(modelDir, MANIFEST_FILE)) ? path.join(modelDir, MANIFEST_FILE) : path.join(modelDir, 'Makefile'));
  if (result.timedOut) {
    diagnostics.push({ file: recipeFile(), line: 1, column: 1, severity: 'error', source: MAKE_SOURCE[placement],
      message: `\`${recipe.build.join(' ')}\` on ${machine.label} did not finish within ${BUILD_TIMEOUT_MS / 60_000} minutes and was stopped: check that the host answers (\`hypershield status\`).`, related: [] });
  }
  if (ok) {
    await machine.fetch(recipe.artifact, opts.signal);
    if (!fs.existsSync(artifact)) {
      ok = false;
      diagnostics.push({ file: recipeFile(), line: 1, column: 1, severity: 'error', source: MAKE_SOURCE[placement],
        message: `\`${recipe.build.join(' ')}\` succeeded but did not produce ${recipe.artifact}: build it there, or name what the build produces as placements.${placement}.artifact in ${MANIFEST_FILE}.`, related: [] });
    }
  }
  const buildId = ok ? fileSha256(artifact) : undefined;
  if (buildId) writeStamp(artifact, { key, buildId, diagnostics, log });
  if (buildId && kernel && !replayed) recordKbuild(modelDir, artifact, kernel.dir, recipeKey);
  return {
    ok,
    placement,
    dir: modelDir,
    artifacts: ok ? [artifact] : [],
    diagnostics,
    log,
    ...(buildId ? { buildId } : {}),
    sourceHash: hash,
    durationMs: Date.now() - started,
    ...(kernel ? { kernel } : {}),
  };
}
