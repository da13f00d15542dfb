// A quicker rebuild of a one-file kernel module after an edit of that file alone: the commands kbuild ran for the
// module, as kbuild itself recorded them in its .cmd files, run again without make. Most of a kbuild run for such a
// module is make reading the kernel's Makefiles and probing some thirty compiler flags (0.6 s of 1.5 s here); the
// commands it then runs are the same every time while the recipe, the headers and the project's other files are.
// The module made is kbuild's byte for byte, and kbuild's records (.cmd files with the source's dependencies) are
// rewritten as kbuild writes them, so a later kbuild run finds nothing to redo. Anything else goes through kbuild.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExecOptions, ExecResult } from '../hosts/host';
import { execLocal } from '../util/local-process';
import { modelSources, fileSha256 } from './source-hash';

/** What a kbuild run that may be replayed did, kept beside the artifact it made. */
export interface KbuildReplay {
  /** The build's argv, machine and headers: a replay is for exactly that recipe. */
  recipe: string;
  /** sha256 of every project source but `source`, as kbuild saw them. */
  others: Record<string, string>;
  /** The module's one C file, relative to the project. */
  source: string;
  /** The headers tree kbuild ran its commands in. */
  kdir: string;
  /** kbuild's module without extension (absolute): NAME.o, NAME.mod.c, NAME.ko are made from it. */
  module: string;
  /** Each step's command as its .cmd file holds it (make-escaped: "$$" for "$", "$(pound)" for "#"). */
  commands: { object: string; modpost: string; modObject: string; link: string };
  /** The line kbuild appends to the object's .cmd after the dependencies (its objtool dependency), if any. */
  objectCmdTail?: string;
}

/** Kernel configurations whose module builds take steps the replay does not make. */
const UNREPLAYABLE_CONFIG = /^CONFIG_(?:LTO_CLANG|FTRACE_MCOUNT_USE_RECORDMCOUNT|TRIM_UNUSED_KSYMS|MODULE_REL_CRCS)=y$/m;

const recordFile = (artifact: string) => `${artifact}.hs-kbuild.json`;

/** A .cmd file's first line reads `cmd_TARGET := COMMAND` (`savedcmd_` from Linux 6.3 on). */
function recordedCommand(dir: string, cmdFile: string, target: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, cmdFile), 'utf8');
  } catch {
    return undefined;
  }
  const first = text.slice(0, text.indexOf('\n'));
  for (const prefix of ['cmd_', 'savedcmd_']) {
    const head = `${prefix}${target} := `;
    if (first.startsWith(head)) return first.slice(head.length);
  }
  return undefined;
}

/** The command make would run for an escaped .cmd value. */
export function unescapeMake(cmd: string): string {
  return cmd.replace(/\$\$|\$\(pound\)/g, (m) => (m === '$$' ? '$' : '#'));
}

function sourceHashes(modelDir: string): Record<string, string> {
  return Object.fromEntries(modelSources(modelDir).map((f) => [f, fileSha256(path.join(modelDir, f))]));
}

/**
 * After a kbuild run that made artifact: records how to replay it when the project builds one module from one C
 * file (in the project folder itself) with the steps the replay knows, and the artifact is that module's copy;
 * otherwise forgets any earlier record.
 */
export function recordKbuild(modelDir: string, artifact: string, kdir: string, recipe: string): void {
  fs.rmSync(recordFile(artifact), { force: true });
  const mods = fs.readdirSync(modelDir).filter((f) => f.endsWith('.mod') && !f.startsWith('.'));
  if (mods.length !== 1) return;
  const name = mods[0].slice(0, -'.mod'.length);
  const module = path.join(modelDir, name);
  const source = `${name}.c`;
  if (fs.readFileSync(`${module}.mod`, 'utf8').trim() !== `${module}.o` || !fs.existsSync(path.join(modelDir, source))) return;
  if (fs.existsSync(path.join(kdir, 'vmlinux'))) return; // kbuild would add BTF to the module
  try {
    if (UNREPLAYABLE_CONFIG.test(fs.readFileSync(path.join(kdir, 'include', 'config', 'auto.conf'), 'utf8'))) return;
    if (fileSha256(`${module}.ko`) !== fileSha256(artifact)) return;
  } catch {
    return;
  }
  const object = recordedCommand(modelDir, `.${name}.o.cmd`, `${module}.o`);
  const modpost = recordedCommand(modelDir, '.Module.symvers.cmd', path.join(modelDir, 'Module.symvers'));
  const modObject = recordedCommand(modelDir, `.${name}.mod.o.cmd`, `${module}.mod.o`);
  const link = recordedCommand(modelDir, `.${name}.ko.cmd`, `${module}.ko`);
  if (!object || !modpost || !modObject || !link) return;
  const lastLine = fs.readFileSync(path.join(modelDir, `.${name}.o.cmd`), 'utf8').trimEnd().split('\n').pop()!;
  const objectCmdTail = lastLine.startsWith(`${module}.o: $(wildcard `) ? lastLine : undefined;
  const others = sourceHashes(modelDir);
  delete others[source];
  const record: KbuildReplay = { recipe, others, source, kdir, module, commands: { object, modpost, modObject, link }, ...(objectCmdTail ? { objectCmdTail } : {}) };
  fs.writeFileSync(recordFile(artifact), JSON.stringify(record));
}

/** The record for artifact when a replay of recipe applies to the project as it is now. */
function applicableRecord(modelDir: string, artifact: string, recipe: string): KbuildReplay | undefined {
  let record: KbuildReplay;
  try {
    record = JSON.parse(fs.readFileSync(recordFile(artifact), 'utf8')) as KbuildReplay;
  } catch {
    return undefined;
  }
  if (record.recipe !== recipe) return undefined;
  const now = sourceHashes(modelDir);
  if (!(record.source in now)) return undefined;
  delete now[record.source];
  if (JSON.stringify(Object.entries(now).sort()) !== JSON.stringify(Object.entries(record.others).sort())) return undefined;
  // What kbuild made and the replay builds on (make clean removes them).
  const outputs = ['.mod', '.mod.c', '.mod.o', '.ko'].map((ext) => `${record.module}${ext}`);
  if (![...outputs, path.join(modelDir, 'modules.order'), record.kdir].every((f) => fs.existsSync(f))) return undefined;
  return record;
}

export type ReplayOptions = Pick<ExecOptions, 'env' | 'signal' | 'timeoutMs'>;

/**
 * Rebuilds artifact by replaying the recorded kbuild run, when that applies (see recordKbuild); undefined when it
 * does not (the caller runs kbuild). The result is what kbuild's would be: exit code and the output of the steps
 * up to the one that failed, or of all (given whole at the end: a replay that steps aside has printed nothing).
 * Like kbuild, a failed step leaves no output of its own behind.
 */
export async function replayKbuild(modelDir: string, artifact: string, recipe: string, opts: ReplayOptions): Promise<ExecResult | undefined> {
  const record = applicableRecord(modelDir, artifact, recipe);
  if (!record) return undefined;
  const started = Date.now();
  const { module, kdir, commands } = record;
  let stdout = '';
  let stderr = '';
  const step = async (argv: string[]): Promise<ExecResult> => {
    const r = await execLocal(argv, { ...opts, cwd: kdir });
    stdout += r.stdout;
    stderr += r.stderr;
    return r;
  };
  const shell = (escaped: string) => step(['sh', '-ec', unescapeMake(escaped)]);
  const done = (r: ExecResult): ExecResult => ({ ...r, stdout, stderr, durationMs: Date.now() - started });
  /** kbuild's cmd_and_fixdep: the .cmd file of target with the dependencies the compiler wrote. */
  const fixdep = async (target: string, escaped: string, tail?: string): Promise<ExecResult> => {
    const dot = path.join(path.dirname(target), `.${path.basename(target)}`);
    const r = await execLocal([path.join(kdir, 'scripts', 'basic', 'fixdep'), `${dot}.d`, target, escaped], { ...opts, cwd: kdir });
    if (r.code !== 0) {
      stderr += r.stderr;
      return r;
    }
    fs.writeFileSync(`${dot}.cmd`, tail ? `${r.stdout}\n${tail}\n` : r.stdout);
    fs.rmSync(`${dot}.d`, { force: true });
    return r;
  };

  let r = await shell(commands.object);
  if (r.code === 0) r = await fixdep(`${module}.o`, commands.object, record.objectCmdTail);
  if (r.code !== 0) {
    fs.rmSync(`${module}.o`, { force: true });
    return done(r);
  }
  // An exported symbol takes a step of kbuild's (its CRC, with modversions) the replay does not make.
  const symbols = await execLocal(['nm', '-P', `${module}.o`], { signal: opts.signal, timeoutMs: opts.timeoutMs });
  if (symbols.code !== 0 || /^__ksymtab_/m.test(symbols.stdout)) {
    fs.rmSync(`${module}.o`, { force: true });
    return undefined;
  }
  const modC = `${module}.mod.c`;
  const before = fs.statSync(modC).mtimeMs;
  r = await shell(commands.modpost);
  if (r.code !== 0) {
    fs.rmSync(path.join(modelDir, 'Module.symvers'), { force: true });
    return done(r);
  }
  // modpost rewrites NAME.mod.c only when it changes (new symbols used, a new version).
  if (fs.statSync(modC).mtimeMs !== before || fs.statSync(`${module}.mod.o`).mtimeMs < fs.statSync(modC).mtimeMs) {
    r = await shell(commands.modObject);
    if (r.code === 0) r = await fixdep(`${module}.mod.o`, commands.modObject);
    if (r.code !== 0) {
      fs.rmSync(`${module}.mod.o`, { force: true });
      return done(r);
    }
  }
  r = await shell(commands.link);
  if (r.code !== 0) {
    fs.rmSync(`${module}.ko`, { force: true });
    return done(r);
  }
  fs.mkdirSync(path.dirname(artifact), { recursive: true });
  fs.copyFileSync(`${module}.ko`, artifact);
  return done(r);
}
