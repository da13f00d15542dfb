// Records every call a backend's hosts make (exec, upload, download) with its duration, so tests can count round
// trips to a host and benchmarks can show where a step's time goes.
import type { Backend } from '../../extension/core/backends/backend';
import type { Host, Role } from '../../extension/core/hosts/host';

export interface HostCall {
  role: Role;
  what: 'exec' | 'upload' | 'download';
  /** The argv of an exec, or [local, remote] / [remote, local] of a transfer. */
  args: readonly string[];
  ms: number;
}

function traced(host: Host, calls: HostCall[]): Host {
  const timed = async <T>(what: HostCall['what'], args: readonly string[], call: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await call();
    } finally {
      calls.push({ role: host.role, what, args, ms: performance.now() - t });
    }
  };
  return new Proxy(host, {
    get(target, prop, receiver) {
      if (prop === 'exec') return (argv: readonly string[], opts?: Parameters<Host['exec']>[1]) => timed('exec', argv, () => target.exec(argv, opts));
      if (prop === 'upload') return (l: string, r: string, opts?: { signal?: AbortSignal }) => timed('upload', [l, r], () => target.upload(l, r, opts));
      if (prop === 'download') return (r: string, l: string, opts?: { signal?: AbortSignal }) => timed('download', [r, l], () => target.download(r, l, opts));
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** Makes backend.host() hand out recording hosts; returns the list the calls go into (clear it between steps). */
export function traceHosts(backend: Backend): HostCall[] {
  const calls: HostCall[] = [];
  const host = backend.host.bind(backend);
  backend.host = (role: Role) => traced(host(role), calls);
  return calls;
}

/** One line per call: role, kind, milliseconds, the command (shortened). */
export function describeCalls(calls: readonly HostCall[]): string {
  return calls.map((c) => `  ${c.role.padEnd(6)} ${c.what.padEnd(8)} ${c.ms.toFixed(0).padStart(5)} ms  ${c.args.join(' ').replace(/\s+/g, ' ').slice(0, 110)}`).join('\n');
}
