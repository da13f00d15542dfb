import type { Host, Role } from '../hosts/host';
import type { Mode, Testbed } from '../testbed/testbed';
import type { StateStore } from '../testbed/state';

export interface Progress {
  /** One line saying what is happening now. */
  report(message: string): void;
}

export interface WorkOptions {
  signal?: AbortSignal;
  progress?: Progress;
}

/** The interfaces of the model host that face the client and the server (where models attach). */
export interface ModelInterfaces {
  client: string;
  server: string;
}

/** Creates, switches and removes the three hosts of a testbed on one kind of infrastructure. */
export interface Backend {
  readonly testbed: Testbed;
  readonly state: StateStore;
  readonly modelInterfaces: ModelInterfaces;
  /** True when hosts run under emulation (e.g. QEMU without KVM): results must say so. */
  readonly emulated: boolean;
  host(role: Role): Host;
  /** Idempotent: a testbed that is already up is left as it is; a half-created one is removed and rebuilt. */
  up(opts?: WorkOptions): Promise<void>;
  /** Removes exactly what the state file records, also after a crash; safe when nothing is up. */
  down(opts?: WorkOptions): Promise<void>;
  /** Re-routes client<->server traffic without tearing anything down. */
  setMode(mode: Mode, opts?: WorkOptions): Promise<void>;
  /** What a person should fix before `up` can work (empty when ready). */
  preflight(): Promise<string[]>;
}
