// Where user-space and eBPF models are compiled. A model host that runs what this machine builds (a namespace, a VM
// made of this machine's programs) has the project built here, in place, and the deploy uploads the artifact where
// the host has files of its own; any other host builds a copy of the sources with its own toolchain.
import * as path from 'node:path';
import type { Backend } from '../backends/backend';
import { run, type ExecOptions, type ExecResult, type Host } from '../hosts/host';
import { execLocal } from '../util/local-process';
import { modelSources } from './source-hash';

export interface BuildMachine {
  label: string;
  /** The project's folder on that machine. */
  dir: string;
  exec(argv: readonly string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Makes the machine's copy of the sources current. */
  sync(signal?: AbortSignal): Promise<void>;
  /** Copies a file the build made (relative to the project) into the local project. */
  fetch(relPath: string, signal?: AbortSignal): Promise<void>;
}

export function localBuildMachine(dir: string): BuildMachine {
  return {
    label: 'this machine',
    dir,
    exec: (argv, opts) => execLocal(argv, opts),
    sync: async () => undefined,
    fetch: async () => undefined,
  };
}

/** Builds in remoteDir on host: sources are uploaded before each build and artifacts downloaded after it. */
export function hostBuildMachine(host: Host, localDir: string, remoteDir: string): BuildMachine {
  return {
    label: host.label,
    dir: remoteDir,
    exec: (argv, opts) => host.exec(argv, opts),
    async sync(signal) {
      const files = modelSources(localDir);
      const dirs = [...new Set(files.map((f) => path.posix.join(remoteDir, path.posix.dirname(f))))];
      await run(host, ['mkdir', '-p', ...dirs], { signal, timeoutMs: 30_000 });
      for (const f of files) await host.upload(path.join(localDir, f), path.posix.join(remoteDir, f), { signal });
    },
    async fetch(relPath, signal) {
      await host.download(path.posix.join(remoteDir, relPath), path.join(localDir, relPath), { signal });
    },
  };
}

/** Whether this backend's user-space and eBPF models are built on this machine (else with the model host's toolchain). */
export function buildsHere(backend: Backend): boolean {
  return backend.capabilities.runsLocalBuilds || !backend.capabilities.ownFileSystem;
}

/** Where this backend's user-space and eBPF models are built: here, or with the model host's toolchain. */
export function buildMachineFor(backend: Backend, localDir: string): BuildMachine {
  if (buildsHere(backend)) return localBuildMachine(localDir);
  return hostBuildMachine(backend.host('model'), localDir, `/var/tmp/hypershield/${backend.testbed.name}/build/${path.basename(localDir)}`);
}
