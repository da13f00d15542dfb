// The folder on the model host that holds one testbed's deployed model: the artifact, its pid and log files, the
// undo plan and the watchdog's files. /run is cleared at boot, together with everything a model loads. Namespace
// hosts share one file system, so the folder is specific to the model role (benchmarks use .../<testbed>/server).
import * as path from 'node:path';

export interface RunDir {
  root: string;
  /** One file per undo step (see UndoPlan). */
  undo: string;
  watchdog: string;
  /** Created once, by the workbench (confirm) or by the watchdog (roll back): whoever creates it decides. */
  decided: string;
}

export function runDirFor(testbedName: string): RunDir {
  const root = path.posix.join('/run/hypershield', testbedName, 'model');
  const watchdog = path.posix.join(root, 'watchdog');
  return { root, undo: path.posix.join(root, 'undo'), watchdog, decided: path.posix.join(watchdog, 'decided') };
}
