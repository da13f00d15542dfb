// One changing operation at a time per testbed: a benchmark must not have its model swapped or its route switched
// under it by a deploy or `mode` from another terminal or window.
//
// The lock is a listening Unix socket with an abstract name (Linux): binding a name is atomic, and the kernel frees
// it the moment its holder exits, however it exits. So there is no stale lock to take over and no race between two
// processes that both find a dead holder. A process that finds the name taken connects to it and is told who holds
// it. Abstract names belong to the network namespace of the process; the workbench itself (CLI and VS Code) always
// runs in this machine's own.
import { AsyncLocalStorage } from 'node:async_hooks';
import * as net from 'node:net';

export interface LockHolder {
  pid: number;
  operation: string;
  since: string;
}

export class TestbedBusyError extends Error {
  constructor(message: string, readonly holder?: LockHolder) {
    super(message);
    this.name = 'TestbedBusyError';
  }
}

/** Locks held by the current async call chain: an operation inside another (deploy inside a bench) may go on. */
const held = new AsyncLocalStorage<ReadonlySet<string>>();

/** The abstract socket name of testbed's lock (shown by `ss -xlp` as @hypershield-lock/<testbed>). */
export function lockName(testbed: string): string {
  return `\0hypershield-lock/${testbed}`;
}

/** Runs fn holding testbed's lock; throws TestbedBusyError, naming the holder, when another operation has it. */
export async function exclusive<T>(testbed: string, operation: string, fn: () => Promise<T>): Promise<T> {
  const name = lockName(testbed);
  const inside = held.getStore() ?? new Set<string>();
  if (inside.has(name)) return fn();
  const server = await acquire(name, testbed, operation);
  try {
    return await held.run(new Set([...inside, name]), fn);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Who holds testbed's lock now, or undefined when nobody does. */
export async function lockHolder(testbed: string): Promise<LockHolder | undefined> {
  return ask(lockName(testbed));
}

async function acquire(name: string, testbed: string, operation: string): Promise<net.Server> {
  const me: LockHolder = { pid: process.pid, operation, since: new Date().toISOString() };
  // Tell whoever asks who holds the lock, then hang up.
  const server = net.createServer((socket) => socket.end(JSON.stringify(me)));
  // Between a failed bind and the question the holder may have finished: try again a few times.
  for (let attempt = 0; attempt < 5; attempt++) {
    const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      server.once('error', resolve);
      server.listen(name, () => { server.removeListener('error', resolve); resolve(undefined); });
    });
    if (!err) {
      server.unref(); // a held lock never keeps the process alive by itself
      return server;
    }
    if (err.code !== 'EADDRINUSE') throw new Error(`Could not take the lock of testbed ${testbed}: ${err.message}`);
    const holder = await ask(name);
    if (holder) {
      throw new TestbedBusyError(`Testbed ${testbed} is busy: ${holder.operation} (process ${holder.pid}, since ${holder.since}) is still running. ` +
        `Wait for it to finish or stop it, then ${operation} again.`, holder);
    }
  }
  throw new TestbedBusyError(`Testbed ${testbed} is busy: its lock is taken and released again and again; try ${operation} again.`);
}

/** Connects to the lock's socket and reads the holder it describes; undefined when nobody listens. */
function ask(name: string): Promise<LockHolder | undefined> {
  return new Promise((resolve) => {
    let data = '';
    const socket = net.connect(name);
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('data', (chunk) => { data += chunk.toString(); });
    socket.on('error', () => resolve(undefined));
    socket.on('close', () => {
      try {
        resolve(JSON.parse(data) as LockHolder);
      } catch {
        resolve(undefined);
      }
    });
  });
}
