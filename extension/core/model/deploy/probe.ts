// Runs probes (see Probe) on the model host: one alone, or many in one exec.
import type { ModelHost, Probe } from './model-host';

/** Runs one probe on its own. */
export async function runProbe<T>(m: Pick<ModelHost, 'host' | 'signal'>, probe: Probe<T>, timeoutMs = 15_000): Promise<T> {
  const r = await m.host.exec(probe.argv, { signal: m.signal, timeoutMs });
  return probe.read({ code: r.timedOut || r.cancelled ? null : r.code, stdout: r.stdout, stderr: r.stderr });
}

