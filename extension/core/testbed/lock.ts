// One changing operation at a time per testbed: a benchmark must not have its model swapped or its route switched
// under it by a deploy or `mode` from another terminal or window. The lock is a file naming its holder; a holder that
// died leaves a stale file, which the next operation takes over.
import { AsyncLocalStorage } from 'node:async_hooks';
import * as fs from 'node:fs';
import { processAlive } from '../util/pid';

interface Holder {
  pid: number;
  operation: string;
  since: string;
}

export class TestbedBusyError extends Error {}

/** Locks held by the current async call chain: an operation inside another (deploy inside a bench) may go on. */
const held = new AsyncLocalStorage<ReadonlySet<string>>();

/** In /tmp itself, not os.tmpdir(): a CLI and a VS Code window with different TMPDIRs must find the same file. */
export function lockFile(testbed: string): string {
  return `/tmp/hypershield-${testbed}.lock`;
}

/** Runs fn holding testbed's lock; throws TestbedBusyError, naming the holder, when another operation has it. */
export async function exclusive<T>(testbed: string, operation: string, fn: () => Promise<T>): Promise<T> {
  const file = lockFile(testbed);
  const inside = held.getStore() ?? new Set<string>();
  if (inside.has(file)) return fn();
  const me = acquire(file, testbed, operation);
  try {
    return await held.run(new Set([...inside, file]), fn);
  } finally {
    const holder = readHolder(file);
    if (holder?.pid === me.pid && holder.since === me.since) fs.rmSync(file, { force: true });
  }
}

function acquire(file: string, testbed: string, operation: string): Holder {
  const me: Holder = { pid: process.pid, operation, since: new Date().toISOString() };
  for (;;) {
    try {
      fs.writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
      return me;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`Could not create ${file}, the lock of testbed ${testbed}: ${(err as Error).message}`);
    }
    const holder = readHolder(file);
    if (holder && processAlive(holder.pid)) {
      throw new TestbedBusyError(`Testbed ${testbed} is busy: ${holder.operation} (process ${holder.pid}, since ${holder.since}) is still running. ` +
        `Wait for it to finish or stop it, then ${operation} again.`);
    }
    // Its holder died without releasing it (or it was released meanwhile): take it over.
    fs.rmSync(file, { force: true });
  }
}

function readHolder(file: string): Holder | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Holder;
  } catch {
    return undefined;
  }
}
