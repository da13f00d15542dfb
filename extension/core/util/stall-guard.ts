// The progress bound of file transfers (TransferOptions.stallTimeoutMs): not a limit on the whole copy, which may
// rightly take long, but on a stretch without progress, which is what a host that stopped answering looks like.

export interface StallGuard {
  /** Aborts once `step` has not been called for the guard's time, or when the caller's signal aborts. */
  readonly signal: AbortSignal;
  /** True when the guard aborted for lack of progress (not the caller's signal). */
  readonly stalled: boolean;
  /** Data moved: the time without progress starts again. */
  step(): void;
  /** Stops the timer (call when the transfer is over, either way). */
  dispose(): void;
}

/** A guard that starts counting at once (so connecting or opening a session counts as no progress too). */
export function stallGuard(stallMs: number, callerSignal?: AbortSignal): StallGuard {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let stalled = false;
  const onAbort = () => controller.abort(callerSignal?.reason);
  const guard: StallGuard = {
    signal: controller.signal,
    get stalled() { return stalled; },
    step() {
      clearTimeout(timer);
      if (controller.signal.aborted) return;
      timer = setTimeout(() => { stalled = true; controller.abort(new Error(`no progress for ${stallMs} ms`)); }, stallMs);
    },
    dispose() {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onAbort);
    },
  };
  if (callerSignal?.aborted) onAbort();
  else callerSignal?.addEventListener('abort', onAbort, { once: true });
  guard.step();
  return guard;
}

/** The error message of a stalled transfer: the host, the file (in `what`), what to check, and the bound to raise. */
export function stalledMessage(host: string, what: string, stallMs: number, check: string): string {
  return `${host}: ${what} made no progress for ${stallMs / 1000} s, so it was stopped. Check ${check} and that the ` +
    'destination\'s disk is not full; on a slow link, raise the transfer\'s stallTimeoutMs.';
}
