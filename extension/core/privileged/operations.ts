// The root helper's operations. Each one acts only on the calling user's own testbed: the model host's network
// namespace is accepted only when the KERNEL lets the caller, with no privileges of their own, enter it (so it lies
// in a user namespace the caller made), and a model file only when it is the caller's, inside the testbed's run
// folder. The file is copied into a folder only root can reach before anything loads it, so the caller cannot swap
// it underneath. Nothing here writes into the caller's folders.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NETNS_MODEL_INTERFACES, netnsName } from '../backends/netns-backend';
import type { ExecOptions, ExecResult, Host, HostStatus } from '../hosts/host';
import { attachedCounters, attachModel, type AttachTarget } from '../model/deploy/ebpf';
import type { AttachedEbpf, ModelCounters } from '../model/deploy/model-host';
import { runBase, testbedRunDir } from '../testbed/testbed';
import { execLocal } from '../util/local-process';
import { HelperRefusal, type HelperRequest } from './protocol';

/** The user sudo ran the helper for. */
export interface Caller {
  uid: number;
  gid: number;
}

/** The kernel module the templates build (kernel_space.c); the only one the helper loads. */
export const MODULE_NAME = 'kernel_space';
/** Larger model files are refused (a built template is a few hundred KiB at most). */
const MAX_OBJECT_BYTES = 64 * 1024 * 1024;
/**
 * open(2)'s O_PATH (Linux, not in fs.constants): names a file without opening it, so a path the caller steered to a
 * device or FIFO has no effect. What it names is checked with fstat, then opened through /proc/self/fd.
 */
const O_PATH = 0o10000000;

export function callerFromSudo(env: NodeJS.ProcessEnv): Caller {
  if (process.geteuid?.() !== 0) throw new HelperRefusal('the helper works only as root, through sudo (sudo -n /usr/local/libexec/hypershield/helper …)');
  const uid = Number(env.SUDO_UID);
  const gid = Number(env.SUDO_GID);
  if (!/^[1-9]\d*$/.test(env.SUDO_UID ?? '') || !/^\d+$/.test(env.SUDO_GID ?? '')) {
    throw new HelperRefusal('the helper acts for the ordinary user who runs it through sudo; root itself needs no helper');
  }
  return { uid, gid };
}

export type HelperResult = AttachedEbpf | ModelCounters | { loaded: boolean; output: string } | { unloaded: boolean };

/** Runs one checked request. Throws HelperRefusal (nothing changed) or Error (an operation failed). */
export async function runOperation(caller: Caller, req: HelperRequest): Promise<HelperResult> {
  const ns = openModelNamespace(caller, req.testbed, req.holder);
  try {
    switch (req.op) {
      case 'ebpf-attach':
        return await withPrivateCopy(caller, req.testbed, req.object!, '.o', (file, dir) =>
          attachModel(target(ns.netPath), file, path.join(dir, 'bpf'), req.config!));
      case 'ebpf-counters':
        return await attachedCounters(target(ns.netPath));
      case 'module-load':
        return await withPrivateCopy(caller, req.testbed, req.object!, '.ko', (file) => loadModule(file, req));
      case 'module-unload':
        return await unloadModule();
    }
  } finally {
    ns.close();
  }
}

/**
 * Opens the model namespace of the caller's testbed through its holder process, and has the kernel confirm that the
 * caller can enter it unprivileged. A holder pid of someone else's process, or a namespace that is not in the
 * caller's own user namespace (the host's, another user's, or one bound under the testbed's name), is refused.
 */
function openModelNamespace(caller: Caller, testbed: string, holder: number): { netPath: string; close(): void } {
  const name = netnsName(testbed, 'model');
  let status = '';
  try { status = fs.readFileSync(`/proc/${holder}/status`, 'utf8'); } catch { /* gone */ }
  const uids = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$/m.exec(status);
  if (!uids || uids.slice(1).some((u) => Number(u) !== caller.uid)) {
    throw new HelperRefusal(`process ${holder} is not a running process of user ${caller.uid}, so it cannot hold that user's testbed ${testbed}`);
  }
  const fds: number[] = [];
  const close = () => { for (const fd of fds.splice(0)) fs.closeSync(fd); };
  try {
    fds.push(fs.openSync(`/proc/${holder}/ns/user`, fs.constants.O_RDONLY));
    try {
      fds.push(fs.openSync(`/proc/${holder}/root/run/netns/${name}`, O_PATH));
    } catch {
      throw new HelperRefusal(`testbed ${testbed} of process ${holder} has no namespace ${name}: bring it up first (hypershield up)`);
    }
    // The caller controls that mount namespace: what the name leads to must be a namespace, not any file of root's.
    if (fs.fstatSync(fds[1]).dev !== fs.statSync('/proc/self/ns/net').dev) {
      throw new HelperRefusal(`${name} in the mount namespace of process ${holder} is not a network namespace`);
    }
    const check = spawnSync('setpriv', ['--reuid', String(caller.uid), '--regid', String(caller.gid), '--clear-groups', '--no-new-privs',
      'nsenter', '--user=/proc/self/fd/3', '--net=/proc/self/fd/4', '--preserve-credentials', '--', 'true'],
    { stdio: ['ignore', 'pipe', 'pipe', fds[0], fds[1]], encoding: 'utf8', timeout: 10_000 });
    if (check.status !== 0) {
      throw new HelperRefusal(`the namespace ${name} that process ${holder} shows is not in a user namespace of user ${caller.uid} (the kernel refused to let that user enter it: ${(check.stderr || check.error?.message || '').trim()})`);
    }
    return { netPath: `/proc/${process.pid}/fd/${fds[1]}`, close };
  } catch (err) {
    close();
    throw err;
  }
}

/** The model namespace as root sees it: every command runs in it, in a mount namespace of its own (for tc's pins). */
function target(netPath: string): AttachTarget {
  const host: Host = {
    role: 'model',
    kind: 'netns',
    label: `model (netns ${netPath}, as root)`,
    exec: (argv: readonly string[], opts?: ExecOptions): Promise<ExecResult> =>
      execLocal(['unshare', '--mount', '--propagation', 'private', '--', 'nsenter', `--net=${netPath}`, '--', ...argv], opts),
    upload: () => Promise.reject(new Error('the helper copies no files into the testbed')),
    download: () => Promise.reject(new Error('the helper copies no files out of the testbed')),
    status: (): Promise<HostStatus> => Promise.resolve({ state: 'running', addresses: [] }),
    shellArgv: () => { throw new Error('the helper opens no shells'); },
  };
  return { host, interfaces: { ...NETNS_MODEL_INTERFACES } };
}

/**
 * Opens file, checks that it is the caller's regular file inside the testbed's run folder, and hands fn a copy of it
 * in a folder only root can reach; the copy goes afterwards.
 */
async function withPrivateCopy<T>(caller: Caller, testbed: string, file: string, suffix: string, fn: (copy: string, dir: string) => Promise<T>): Promise<T> {
  const runDir = testbedRunDir(testbed, caller.uid);
  if (file.split('/').includes('..') || path.posix.normalize(file) !== file) throw new HelperRefusal(`${file} is not a plain absolute path (no "..", "." or "//")`);
  if (!file.startsWith(`${runDir}/`)) throw new HelperRefusal(`${file} is outside the run folder of testbed ${testbed} (${runDir}/)`);
  if (!file.endsWith(suffix)) throw new HelperRefusal(`${file} is not a ${suffix} file`);
  const base = fs.lstatSync(runBase(caller.uid), { throwIfNoEntry: false });
  if (!base?.isDirectory() || base.uid !== caller.uid || (base.mode & 0o022) !== 0) {
    throw new HelperRefusal(`${runBase(caller.uid)} is not a folder of user ${caller.uid} that only they can write to`);
  }
  let fd: number;
  try {
    fd = fs.openSync(file, O_PATH | fs.constants.O_NOFOLLOW);
  } catch (err) {
    throw new HelperRefusal(`cannot open ${file}: ${(err as NodeJS.ErrnoException).code}`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hypershield-helper-'));
  try {
    // What was opened, wherever a folder on the way pointed at the time: it must be that very path.
    const opened = fs.readlinkSync(`/proc/self/fd/${fd}`);
    const st = fs.fstatSync(fd);
    if (opened !== file) throw new HelperRefusal(`${file} leads to ${opened} (a link on the way), outside the run folder`);
    if (!st.isFile() || st.uid !== caller.uid) throw new HelperRefusal(`${file} is not a regular file of user ${caller.uid}`);
    if (st.size > MAX_OBJECT_BYTES) throw new HelperRefusal(`${file} is larger than ${MAX_OBJECT_BYTES} bytes`);
    const copy = path.join(dir, path.basename(file));
    fs.writeFileSync(copy, fs.readFileSync(`/proc/self/fd/${fd}`), { mode: 0o600 });
    return await fn(copy, dir);
  } finally {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The kernel's module list, or undefined when it loads no modules. */
function loadedModules(): string[] | undefined {
  try { return fs.readFileSync('/proc/modules', 'utf8').split('\n').map((l) => l.split(' ')[0]); } catch { return undefined; }
}

async function loadModule(ko: string, req: HelperRequest): Promise<{ loaded: boolean; output: string }> {
  const modules = loadedModules();
  if (!modules) throw new HelperRefusal(`this machine's kernel ${os.release()} was built without loadable module support: no module can be loaded here`);
  if (modules.includes(MODULE_NAME)) throw new HelperRefusal(`a module named ${MODULE_NAME} is already loaded: unload it first`);
  const info = await execLocal(['modinfo', '-F', 'name', ko], { timeoutMs: 10_000 });
  if (info.stdout.trim() !== MODULE_NAME) throw new HelperRefusal(`the module is named "${info.stdout.trim()}", not ${MODULE_NAME}: the helper loads only the workbench's template module`);
  const c = req.config!;
  const params = [`action=${c.action}`, `flow_timeout=${c.flowTimeoutS}`, ...(c.pattern ? [`pattern=${c.pattern}`] : [])];
  const r = await execLocal(['insmod', ko, ...params], { timeoutMs: 60_000 });
  return { loaded: r.code === 0, output: (r.stderr + r.stdout).trim() };
}

async function unloadModule(): Promise<{ unloaded: boolean }> {
  if (!loadedModules()?.includes(MODULE_NAME)) return { unloaded: false };
  const r = await execLocal(['rmmod', MODULE_NAME], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`rmmod ${MODULE_NAME} failed: ${r.stderr.trim()}`);
  return { unloaded: true };
}
