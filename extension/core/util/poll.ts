export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface PollOptions {
  timeoutMs: number;
  intervalMs: number;
  signal?: AbortSignal;
  /** The error to throw when the deadline passes; it may look at the host to say why. */
  onTimeout: () => Error | Promise<Error>;
}

/** Calls `check` until it returns a value other than undefined; throws on timeout or cancellation. */
export async function pollUntil<T>(check: () => Promise<T | undefined>, opts: PollOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    opts.signal?.throwIfAborted();
    if (Date.now() > deadline) throw await opts.onTimeout();
    await sleep(opts.intervalMs);
  }
}
