import type { Host, Role } from '../hosts/host';
import type { Mode, Testbed } from '../testbed/testbed';
import type { StateStore } from '../testbed/state';
import type { PrivilegedOps } from '../model/deploy/model-host';

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

/**
 * What a backend's hosts are. Callers ask these instead of switching on the backend's kind, so a new backend works
 * everywhere once it states them truthfully.
 */
export interface BackendCapabilities {
  /** The hosts run a kernel of their own (VM, remote machine); false when they share this machine's (namespaces, containers). */
  ownKernel: boolean;
  /** A kernel module can be loaded into the model host's kernel (which, without ownKernel, is this machine's). */
  moduleLoading: boolean;
  /** The hosts run under emulation (QEMU without KVM): every result must say so. Known for sure after `up`. */
  emulated: boolean;
  /** The hosts have file systems of their own; false when they see this machine's files (paths mean the same). */
  ownFileSystem: boolean;
  /**
   * Programs built on this machine run on the model host as they are: its userland is this machine's (the same
   * distribution build and C library), so user-space and eBPF models are built here and uploaded. False when they
   * must be built with the model host's own toolchain.
   */
  runsLocalBuilds: boolean;
  /** `Host.shellArgv()` opens an interactive terminal on a host. */
  interactiveShell: boolean;
  /**
   * `up` creates the hosts and `down` removes them (namespaces, containers, VMs). False for existing machines (SSH):
   * they run before `up` and after `down`, so a running host says nothing about whether the testbed is up.
   */
  createsHosts: boolean;
}

/** Something a backend noticed about its hosts without being asked (a VM that died, a container killed outside). */
export interface BackendChange {
  role?: Role;
  what: string;
}

/**
 * Creates, switches and removes the three hosts of a testbed on one kind of infrastructure.
 *
 * Lifecycle: a backend connects (SSH sessions, engine clients) on first use and reuses the connection for every
 * later call, tree refresh and whole benchmark run; `dispose()` closes what it opened and leaves the testbed as it
 * is. Every call to a host is bounded by a timeout, cleanup included, so a hung host never hangs `down`, a run's
 * `finally` or VS Code.
 */
export interface Backend {
  readonly testbed: Testbed;
  readonly state: StateStore;
  readonly modelInterfaces: ModelInterfaces;
  readonly capabilities: BackendCapabilities;
  /** The root helper's operations, when loading models on the model host needs privileges this process lacks. */
  readonly privileged?: PrivilegedOps;
  host(role: Role): Host;
  /** Idempotent: a testbed that is already up is left as it is; a half-created one is removed and rebuilt. */
  up(opts?: WorkOptions): Promise<void>;
  /** Removes exactly what the state file records, also after a crash; safe when nothing is up. */
  down(opts?: WorkOptions): Promise<void>;
  /** Re-routes client<->server traffic without tearing anything down. */
  setMode(mode: Mode, opts?: WorkOptions): Promise<void>;
  /** What a person should fix before `up` can work (empty when ready). */
  preflight(): Promise<string[]>;
  /** Calls listener with what the backend notices; returns the function that stops the calls. */
  onDidChange(listener: (change: BackendChange) => void): () => void;
  /** Closes connections and watchers; idempotent; the testbed's hosts stay as they are. */
  dispose(): Promise<void>;
}
