// Where user-space and eBPF models are compiled: with the model host's toolchain. A model host that shares this
// machine's files and programs (a namespace) builds the project in place; any other gets a copy of the sources.
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

/** The model host's toolchain for this backend. */
export function buildMachineFor(backend: Backend, localDir: string): BuildMachine {
  if (!backend.capabilities.ownFileSystem) return localBuildMachine(localDir);
  return hostBuildMachine(backend.host('model'), localDir, `/var/tmp/hypershield/${backend.testbed.name}/build/${path.basename(localDir)}`);
}
