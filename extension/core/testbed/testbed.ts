import type { BackendKind, Role } from '../hosts/host';
import type { WorkloadToolName } from '../backends/qemu/workloads';

export type Mode = 'direct' | 'model';
export const MODES: readonly Mode[] = ['direct', 'model'];

export interface HostSpec {
  sshHost?: string;
  interfaces?: Record<string, string>;
  // ssh backend (schemas/testbed.schema.json describes each)
  sshPort?: number;
  sshUser?: string;
  sshIdentityFile?: string;
  sshTrustFingerprint?: string;
  image?: string;
  kernel?: string;
  memoryMiB?: number;
  cpus?: number;
  /** docker: the CPUs the container may run on (a cpuset such as "0" or "0-1"). */
  cpuset?: string;
  qemu?: QemuHostSpec;
}

/** hosts.<role>.qemu of the testbed file: how the qemu backend runs that role (see the schema for each field). */
export interface QemuHostSpec {
  vm?: boolean;
  binary?: string;
  machine?: string;
  cpu?: string;
  accel?: 'auto' | 'kvm' | 'tcg';
  memoryMiB?: number;
  smp?: number;
  args?: string[];
  kernelRelease?: string;
  kernel?: string;
  initrd?: string;
  hostKey?: string;
  append?: string;
  disk?: string;
  bootTimeoutS?: number;
  workloads?: WorkloadToolName[];
}

/** Settings of the docker backend. */
export interface DockerSettings {
  /** unix:///path, tcp://host:port or ssh://user@host; default DOCKER_HOST, else the default socket. */
  engine?: string;
}

/** A validated testbed description with defaults filled in. */
export interface Testbed {
  name: string;
  backend: BackendKind;
  mode: Mode;
  subnets: { client: string; server: string; direct: string };
  hosts: Partial<Record<Role, HostSpec>>;
  model: { kernelHeaders?: string };
  docker?: DockerSettings;
  /** Where the description came from: a file path, or "built-in default". */
  source: string;
}

export const TESTBED_FILE = 'hypershield.testbed.json';

export const DEFAULT_SUBNETS = { client: '198.18.1.0/24', server: '198.18.2.0/24', direct: '198.18.3.0/24' } as const;

export function defaultTestbed(): Testbed {
  return { name: 'default', backend: 'netns', mode: 'model', subnets: { ...DEFAULT_SUBNETS }, hosts: {}, model: {}, source: 'built-in default' };
}

/**
 * Addresses of every role. The server keeps one service address (on the server-side subnet) in both modes, so a
 * benchmark targets the same address and only the route decides whether traffic crosses the model host.
 */
export interface AddressPlan {
  clientOnClientNet: string;
  modelOnClientNet: string;
  modelOnServerNet: string;
  serverOnServerNet: string;
  clientOnDirectNet: string;
  serverOnDirectNet: string;
  prefix: number;
}

export function addressPlan(tb: Pick<Testbed, 'subnets'>): AddressPlan {
  const host = (cidr: string, n: number) => cidr.replace(/\.0\/24$/, `.${n}`);
  return {
    modelOnClientNet: host(tb.subnets.client, 1),
    clientOnClientNet: host(tb.subnets.client, 2),
    modelOnServerNet: host(tb.subnets.server, 1),
    serverOnServerNet: host(tb.subnets.server, 2),
    clientOnDirectNet: host(tb.subnets.direct, 1),
    serverOnDirectNet: host(tb.subnets.direct, 2),
    prefix: 24,
  };
}

/** The address benchmarks send to. */
export function serverAddress(tb: Pick<Testbed, 'subnets'>): string {
  return addressPlan(tb).serverOnServerNet;
}

/**
 * The folder holding every testbed's files on a host that runs the workbench's commands as the workbench's own user
 * (uid). Root keeps /run/hypershield, cleared at boot together with the processes and modules the files describe.
 * An ordinary user keeps a folder of their own in /tmp, which the user-namespace testbed sees unchanged (it gives
 * its namespaces a private /run, which would hide /run/user/<uid>; and not every session has one).
 */
export function runBase(uid = process.getuid?.() ?? 0): string {
  return uid === 0 ? '/run/hypershield' : `/tmp/hypershield-${uid}`;
}

/** The folder on a host for one testbed's files (daemon pid and log files, the deployed model). */
export function testbedRunDir(testbedName: string, uid?: number): string {
  return `${runBase(uid)}/${testbedName}`;
}

/** The part of it for one role: namespace hosts share one file system. */
export function hostRunDir(testbedName: string, role: Role): string {
  return `${testbedRunDir(testbedName)}/${role}`;
}
