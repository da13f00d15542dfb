// The engine's event stream, narrowed to one testbed's containers: how a container that dies or is killed outside
// the workbench shows at once, without polling.
import type Docker from 'dockerode';
import type { BackendChange } from '../backend';
import type { Role } from '../../hosts/host';
import { LABELS } from './labels';

/** The events that change what a host's status says. */
const WATCHED = ['start', 'die', 'kill', 'oom', 'stop', 'destroy', 'pause', 'unpause'];
const RETRY_MS = 2000;

/**
 * One event, as the engine sends it (one JSON object per line). Sample:
 *   {"status":"die","id":"3f0c…","from":"hypershield/endpoint:1a2b…","Type":"container","Action":"die",
 *    "Actor":{"ID":"3f0c…","Attributes":{"dev.hypershield.role":"server","exitCode":"137","name":"hs-dk1-server",…}},
 *    "scope":"local","time":1764543210,"timeNano":1764543210123456789}
 */
interface EngineEvent {
  Action?: string;
  Actor?: { Attributes?: Record<string, string> };
}

export function describeEvent(e: EngineEvent): BackendChange | undefined {
  const attrs = e.Actor?.Attributes ?? {};
  if (!e.Action || !WATCHED.includes(e.Action)) return undefined;
  const exit = e.Action === 'die' && attrs.exitCode !== undefined ? ` (exit code ${attrs.exitCode})` : '';
  const signal = e.Action === 'kill' && attrs.signal ? ` (signal ${attrs.signal})` : '';
  return { role: attrs[LABELS.role] as Role | undefined, what: `container ${attrs.name ?? '?'}: ${e.Action}${exit}${signal}` };
}

/** Listeners of one testbed's events; the stream is open while anyone listens, and reopened if the engine drops it. */
export class EngineEvents {
  private readonly listeners = new Set<(change: BackendChange) => void>();
  private stream: NodeJS.ReadableStream | undefined;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly engine: () => Docker, private readonly labels: string[]) {}

  subscribe(listener: (change: BackendChange) => void): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) void this.open();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.close();
    };
  }

  close(): void {
    this.listeners.clear();
    clearTimeout(this.retry);
    const s = this.stream as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    this.stream = undefined;
    s?.removeAllListeners();
    s?.destroy?.();
  }

  private emit(change: BackendChange): void {
    for (const l of [...this.listeners]) l(change);
  }

  private async open(): Promise<void> {
    let stream: NodeJS.ReadableStream;
    try {
      stream = await this.engine().getEvents({ filters: { type: ['container'], label: this.labels, event: WATCHED } });
    } catch (err) {
      this.emit({ what: `the engine's event stream is unavailable (${(err as Error).message}); retrying` });
      this.scheduleRetry();
      return;
    }
    if (this.listeners.size === 0) {
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      return;
    }
    this.stream = stream;
    let buffered = '';
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines.filter((l) => l.trim())) {
        try {
          const change = describeEvent(JSON.parse(line) as EngineEvent);
          if (change) this.emit(change);
        } catch { /* a line that is not an event */ }
      }
    });
    const ended = () => {
      if (this.stream !== stream) return;
      this.stream = undefined;
      this.emit({ what: 'the engine\'s event stream ended; reconnecting' });
      this.scheduleRetry();
    };
    stream.on('end', ended);
    stream.on('error', ended);
  }

  private scheduleRetry(): void {
    if (this.listeners.size === 0) return;
    this.retry = setTimeout(() => void this.open(), RETRY_MS);
    this.retry.unref();
  }
}
