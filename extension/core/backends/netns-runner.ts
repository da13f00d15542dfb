// Where the namespace testbed's commands run. Root (or CAP_NET_ADMIN) creates the namespaces in this machine's own
// list (`ip netns add`); an ordinary user creates them inside a user namespace of their own, which the kernel allows
// without any privilege. Both run the same topology commands; only the argv prefix and the start and end differ.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execLocal } from '../util/local-process';
import { pollUntil, sleep } from '../util/poll';
import type { StateStore } from '../testbed/state';
import { runBase, testbedRunDir } from '../testbed/testbed';
import type { WorkOptions } from './backend';

export interface NamespaceRunner {
  readonly kind: 'privileged' | 'user-namespace';
  /**
   * True when the namespaces live in this machine's one list of names, next to other testbeds' and programs'
   * (privileged); false when they live in a list of the testbed's own.
   */
  readonly sharedNames: boolean;
  /** The argv that runs argv where the testbed's namespaces can be seen and changed (`ip netns …`, `ip -n …`). */
  wrap(argv: readonly string[]): string[];
  /** Makes the place the namespaces are created in; whatever it starts is recorded in the state first. */
  start(opts?: WorkOptions): Promise<void>;
  /** Ends every process in the recorded namespaces and removes them; safe when nothing is there. */
  stop(namespaces: readonly string[], opts?: WorkOptions): Promise<void>;
}

/** Root: `ip netns` on this machine, as is. */
export class PrivilegedRunner implements NamespaceRunner {
  readonly kind = 'privileged' as const;
  readonly sharedNames = true;

  wrap(argv: readonly string[]): string[] {
    return [...argv];
  }

  async start(): Promise<void> {}

  async stop(namespaces: readonly string[], opts: WorkOptions = {}): Promise<void> {
    for (const ns of [...namespaces].reverse()) {
      opts.progress?.report(`Removing namespace ${ns}`);
      // Processes keep a deleted namespace alive (and would keep running): end them first.
      const pids = await execLocal(['ip', 'netns', 'pids', ns], { timeoutMs: 10_000 });
      for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
        try { process.kill(Number(pid), 'SIGKILL'); } catch { /* already gone */ }
      }
      const del = await execLocal(['ip', 'netns', 'del', ns], { timeoutMs: 10_000 });
      if (del.code !== 0 && !/No such file|not found|Invalid/i.test(del.stderr)) {
        throw new Error(`Could not remove namespace ${ns}: ${del.stderr.trim()}`);
      }
    }
  }
}

/** The state record of the holder: kind "userns", its tag before it starts, its pid and user namespace after. */
const HOLDER_KIND = 'userns';
/** The holder carries its tag in its environment, so a holder whose pid never reached the state file is still found. */
const TAG_VARIABLE = 'HYPERSHIELD_HOLDER';

/**
 * Runs in the new user, mount and network namespaces: a private /run (so `ip netns add` can bind its namespaces
 * under /run/netns, and iptables can take /run/xtables.lock), then nothing but waiting. Its own network namespace
 * is the user namespace's too, so `ip netns add` can return to it after creating a namespace.
 */
const HOLDER_SCRIPT = `mount -t tmpfs -o mode=0755 hypershield-run /run || exit 1
mkdir /run/netns || exit 1
exec sleep infinity`;

/**
 * An ordinary user: the namespaces live in a user namespace held open by one small process (the holder) that owns a
 * mount namespace with a private /run. Commands enter it (and its own network namespace, to which `ip netns add` returns) with nsenter as the user, who is root there and nowhere
 * else. Ending every process of the user namespace removes the testbed entirely: nothing is left on this machine.
 */
export class UserNamespaceRunner implements NamespaceRunner {
  readonly kind = 'user-namespace' as const;
  readonly sharedNames = false;

  constructor(private readonly testbed: string, private readonly state: StateStore) {}

  /** The holder's pid, checked against the user namespace recorded with it (a reused pid is not the holder). */
  holderPid(): number {
    const rec = this.state.read()?.objects.find((o) => o.kind === HOLDER_KIND);
    const pid = Number(rec?.pid);
    if (!rec?.pid || userNamespaceOf(pid) !== rec.userns) {
      throw new Error(`Testbed ${this.testbed} is not up: the process holding its user namespace is not running. Run \`hypershield up\`.`);
    }
    return pid;
  }

  wrap(argv: readonly string[]): string[] {
    return ['nsenter', '--target', String(this.holderPid()), '--user', '--mount', '--net', '--preserve-credentials', '--',
      'env', `PATH=${adminPath()}`, ...argv];
  }

  async start(opts: WorkOptions = {}): Promise<void> {
    opts.progress?.report('Starting the user namespace that holds the testbed');
    const dir = testbedRunDir(this.testbed);
    ensurePrivateDir(runBase());
    fs.mkdirSync(dir, { recursive: true });
    const tag = `${this.testbed}-${randomUUID()}`;
    this.state.record({ kind: HOLDER_KIND, name: this.testbed, tag });
    const log = path.join(dir, 'holder.log');
    const out = fs.openSync(log, 'w');
    const child = spawn('unshare', ['--user', '--map-root-user', '--mount', '--net', '--propagation', 'private', '--', 'sh', '-c', HOLDER_SCRIPT],
      { detached: true, stdio: ['ignore', out, out], env: { ...process.env, [TAG_VARIABLE]: tag } });
    fs.closeSync(out);
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) => reject(new Error(`Could not start unshare (util-linux) for testbed ${this.testbed}: ${err.message}`)));
    });
    await spawned;
    child.unref();
    const pid = child.pid!;
    // Ready once the script has made its /run and become `sleep`; a failure leaves its reason in the log.
    await pollUntil(async () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`The user namespace for testbed ${this.testbed} could not be set up: ${fs.readFileSync(log, 'utf8').trim() || `unshare exited with ${child.exitCode ?? child.signalCode}`}`);
      }
      return exeOf(pid)?.endsWith('/sleep') ? true : undefined;
    }, { timeoutMs: 10_000, intervalMs: 20, signal: opts.signal, onTimeout: () => new Error(`The user namespace for testbed ${this.testbed} was not ready within 10 s (see ${log}).`) });
    const userns = userNamespaceOf(pid);
    if (!userns) throw new Error(`The user namespace holder of testbed ${this.testbed} (process ${pid}) ended right after it started (see ${log}).`);
    this.state.update((s) => {
      const rec = s.objects.find((o) => o.kind === HOLDER_KIND);
      if (rec) Object.assign(rec, { pid: String(pid), userns });
    });
  }

  async stop(_namespaces: readonly string[], opts: WorkOptions = {}): Promise<void> {
    const rec = this.state.read()?.objects.find((o) => o.kind === HOLDER_KIND);
    if (!rec) return;
    const userns = (rec.pid && userNamespaceOf(Number(rec.pid)) === rec.userns ? rec.userns : undefined) ?? holderByTag(rec.tag);
    if (!userns) return;
    opts.progress?.report(`Ending the user namespace of testbed ${this.testbed} and everything in it`);
    for (let attempt = 0; attempt < 50; attempt++) {
      const members = processesIn(userns);
      if (!members.length) return;
      for (const pid of members) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      }
      await sleep(100);
    }
    throw new Error(`Processes of testbed ${this.testbed} (user namespace ${userns}) did not end: ${processesIn(userns).join(', ')}.`);
  }
}

/**
 * The user's PATH with the system administration folders in front: in the namespaces the user is root, and runs
 * root's tools (sysctl, iptables, tc live in /usr/sbin, which an ordinary user's PATH leaves out).
 */
export function adminPath(): string {
  return [...new Set(['/usr/local/sbin', '/usr/sbin', '/sbin', ...(process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':').filter(Boolean)])].join(':');
}

/** "user:[4026532754]" of a process, or undefined when it is gone (or not this user's). */
function userNamespaceOf(pid: number): string | undefined {
  try { return fs.readlinkSync(`/proc/${pid}/ns/user`); } catch { return undefined; }
}

function exeOf(pid: number): string | undefined {
  try { return fs.readlinkSync(`/proc/${pid}/exe`); } catch { return undefined; }
}

/** This user's processes in user namespace userns (a zombie has no namespaces left and is skipped). */
function processesIn(userns: string): number[] {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => userNamespaceOf(pid) === userns);
}

/** The user namespace of the holder started with tag, found by its environment. */
function holderByTag(tag: string | undefined): string | undefined {
  if (!tag) return undefined;
  for (const d of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    let env = '';
    try { env = fs.readFileSync(`/proc/${d}/environ`, 'latin1'); } catch { continue; }
    if (env.split('\0').includes(`${TAG_VARIABLE}=${tag}`)) return userNamespaceOf(Number(d));
  }
  return undefined;
}

/**
 * Makes dir (a folder in /tmp named for this user) or checks the one there: a folder another user made first, or
 * one others can write to, would let them change the testbed's files.
 */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) {
    throw new Error(`${dir} holds the testbeds' files of user ${uid} but is not a folder owned by that user that only they can write to ` +
      `(owner ${st.uid}, mode ${(st.mode & 0o777).toString(8)}). Remove it (\`sudo rm -rf ${dir}\`) and try again.`);
  }
}
