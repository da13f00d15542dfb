// What the last successful build of a model made and from what, kept next to its artifact: a build whose sources,
// recipe, machine and kernel headers are unchanged, and whose artifact is still the one it made, is not run again.
import * as fs from 'node:fs';
import type { Diagnostic } from './diagnostics/diagnostic';
import { fileSha256 } from './source-hash';

export interface BuildStamp {
  /** sourceHash(), the build's argv, where it ran, and for kernel builds the headers' release and folder. */
  key: string;
  /** sha256 of the artifact the build made. */
  buildId: string;
  diagnostics: Diagnostic[];
  log: string;
}

const stampFile = (artifact: string) => `${artifact}.hs-build.json`;

/** The stamp of the artifact when it was built for `key` and has not changed since; undefined otherwise. */
export function currentStamp(artifact: string, key: string): BuildStamp | undefined {
  let stamp: BuildStamp;
  try {
    stamp = JSON.parse(fs.readFileSync(stampFile(artifact), 'utf8')) as BuildStamp;
  } catch {
    return undefined;
  }
  if (stamp.key !== key || !fs.existsSync(artifact) || fileSha256(artifact) !== stamp.buildId) return undefined;
  return stamp;
}

export function writeStamp(artifact: string, stamp: BuildStamp): void {
  fs.writeFileSync(stampFile(artifact), JSON.stringify(stamp));
}

/** A failed or interrupted build leaves no stamp: the next one runs. */
export function removeStamp(artifact: string): void {
  fs.rmSync(stampFile(artifact), { force: true });
}
