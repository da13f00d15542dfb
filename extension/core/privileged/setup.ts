// `sudo hypershield setup` and `--undo`: the one privileged, reversible step after which members of a group load
// eBPF models (and modules) on their own testbeds through the root helper, without a password per action.
// What setup changes is recorded next to the helper BEFORE it is changed, so --undo puts back exactly that: the
// group (removed only if setup made it), the members it added, the sudoers drop-in, the helper and its folders.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJson, writeFileAtomic } from '../util/atomic-file';
import { execLocal, runLocal } from '../util/local-process';
import { HELPER_PATH, SUDOERS_FILE } from './protocol';

export const SETUP_RECORD = path.join(path.dirname(HELPER_PATH), 'setup.json');

interface SetupRecord {
  group: string;
  /** setup made the group (so undo removes it). */
  createdGroup: boolean;
  /** Members setup added (so undo removes them, and nobody else). */
  addedUsers: string[];
  /** Folders setup made, outermost first. */
  createdDirs: string[];
  node: string;
}

export interface SetupOptions {
  user: string;
  group: string;
  /** dist/helper.js, the bundled helper. */
  helperBundle: string;
  /** The node that runs the helper (this process's). */
  node: string;
  report?: (line: string) => void;
}

function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) throw new Error(`${what} changes the system (a group, a sudoers rule, a program in /usr/local): run it as root, e.g. \`sudo hypershield ${what}\`.`);
}

/** A program root runs must not be replaceable by anyone else: it and every folder above it are root's alone. */
function checkRootOnly(file: string): void {
  for (let p = fs.realpathSync(file); ; p = path.dirname(p)) {
    const st = fs.statSync(p);
    if (st.uid !== 0 || (st.mode & 0o022) !== 0) {
      throw new Error(`${p} is not root's alone (owner ${st.uid}, mode ${(st.mode & 0o777).toString(8)}), so the helper would run code others can change: ` +
        'install Node.js system-wide (e.g. apt-get install nodejs) and run setup with that node.');
    }
    if (p === '/') return;
  }
}

async function groupMembers(group: string): Promise<string[] | undefined> {
  const r = await execLocal(['getent', 'group', group], { timeoutMs: 10_000 });
  if (r.code !== 0) return undefined;
  const members = r.stdout.trim().split(':')[3] ?? '';
  return members ? members.split(',') : [];
}

export async function setup(opts: SetupOptions): Promise<void> {
  requireRoot('setup');
  const say = opts.report ?? (() => undefined);
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(opts.group)) throw new Error(`"${opts.group}" is not a valid group name.`);
  if ((await execLocal(['id', '-u', '--', opts.user], { timeoutMs: 10_000 })).code !== 0) throw new Error(`There is no user named "${opts.user}" on this machine.`);
  if (!fs.existsSync(opts.helperBundle)) throw new Error(`The helper program ${opts.helperBundle} is missing: build the workbench first (npm run build).`);
  checkRootOnly(opts.node);
  const record: SetupRecord = readJson<SetupRecord>(SETUP_RECORD) ?? { group: opts.group, createdGroup: false, addedUsers: [], createdDirs: [], node: opts.node };
  if (record.group !== opts.group) throw new Error(`Setup was made for group ${record.group}; undo it first (\`sudo hypershield setup --undo\`) to use ${opts.group}.`);
  const save = () => writeFileAtomic(SETUP_RECORD, JSON.stringify(record, null, 2) + '\n');

  // The helper's folder first, since the record lives in it.
  const missing: string[] = [];
  for (let d = path.dirname(HELPER_PATH); !fs.existsSync(d); d = path.dirname(d)) missing.unshift(d);
  for (const d of missing) fs.mkdirSync(d, { mode: 0o755 });
  record.createdDirs.push(...missing);
  save();

  if (!(await groupMembers(opts.group))) {
    record.createdGroup = true;
    save();
    say(`Creating group ${opts.group}`);
    await runLocal(['groupadd', '--system', '--', opts.group], { timeoutMs: 30_000 });
  }

  say(`Installing the helper as ${HELPER_PATH} (run by ${opts.node})`);
  const bundle = fs.readFileSync(opts.helperBundle, 'utf8').replace(/^#!.*\n/, '');
  const tmp = `${HELPER_PATH}.new`;
  fs.writeFileSync(tmp, `#!${opts.node}\n${bundle}`, { mode: 0o755 });
  fs.chownSync(tmp, 0, 0);
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, HELPER_PATH);

  say(`Allowing group ${opts.group} to run it, and nothing else, as root: ${SUDOERS_FILE}`);
  const rule = `# HyperShield Workbench (hypershield setup): members of ${opts.group} may run the workbench's helper as root, and nothing\n` +
    `# else. The helper checks every argument itself. Remove with: sudo hypershield setup --undo\n` +
    `%${opts.group} ALL=(root) NOPASSWD: ${HELPER_PATH}\n`;
  // A name with a dot is skipped by sudo's includedir, so the file is never read before visudo has checked it.
  const draft = `${SUDOERS_FILE}.new`;
  fs.writeFileSync(draft, rule, { mode: 0o440 });
  const check = await execLocal(['visudo', '-c', '-f', draft], { timeoutMs: 10_000 });
  if (check.code !== 0) {
    fs.rmSync(draft, { force: true });
    throw new Error(`visudo rejected the sudoers rule: ${(check.stderr || check.stdout).trim()}`);
  }
  fs.renameSync(draft, SUDOERS_FILE);

  if (!(await groupMembers(opts.group))!.includes(opts.user)) {
    record.addedUsers.push(opts.user);
    save();
    say(`Adding ${opts.user} to group ${opts.group} (their new sessions have it; VS Code needs a new login to see it)`);
    await runLocal(['gpasswd', '-a', opts.user, opts.group], { timeoutMs: 30_000 });
  }
}

/** Puts back what setup changed; safe when setup was never run. */
export async function undoSetup(report?: (line: string) => void): Promise<void> {
  requireRoot('setup --undo');
  const say = report ?? (() => undefined);
  const record = readJson<SetupRecord>(SETUP_RECORD);
  fs.rmSync(SUDOERS_FILE, { force: true });
  if (!record) {
    fs.rmSync(HELPER_PATH, { force: true });
    say('Nothing recorded by setup on this machine.');
    return;
  }
  const members = await groupMembers(record.group);
  for (const user of record.addedUsers) {
    if (!members?.includes(user)) continue;
    say(`Removing ${user} from group ${record.group}`);
    await runLocal(['gpasswd', '-d', user, record.group], { timeoutMs: 30_000 });
  }
  if (record.createdGroup && members) {
    say(`Removing group ${record.group}`);
    await runLocal(['groupdel', '--', record.group], { timeoutMs: 30_000 });
  }
  say(`Removing ${HELPER_PATH} and ${SUDOERS_FILE}`);
  fs.rmSync(path.dirname(HELPER_PATH), { recursive: true, force: true });
  for (const d of [...record.createdDirs].reverse()) {
    try { fs.rmdirSync(d); } catch { /* gone already, or something else was put in it */ }
  }
}
