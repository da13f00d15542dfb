// The folder on the model host that holds one testbed's deployed model: the artifact, its pid and log files, the
// undo plan and the watchdog's files.
import * as path from 'node:path';
import { hostRunDir } from '../../testbed/testbed';

export interface RunDir {
  root: string;
  /** One file per undo step (see UndoPlan). */
  undo: string;
  watchdog: string;
  /** Created once, by the workbench (confirm) or by the watchdog (roll back): whoever creates it decides. */
  decided: string;
}

export function runDirFor(testbedName: string): RunDir {
  const root = hostRunDir(testbedName, 'model');
  const watchdog = path.posix.join(root, 'watchdog');
  return { root, undo: path.posix.join(root, 'undo'), watchdog, decided: path.posix.join(watchdog, 'decided') };
}
