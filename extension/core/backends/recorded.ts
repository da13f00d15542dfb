import { loadTestbed, recordedTestbed } from '../testbed/load';
import type { Backend } from './backend';
import { backendFor } from './open';

/** A backend, and the reason its testbed description could not be used when it comes from the state instead. */
export interface OpenedTestbed {
  backend: Backend;
  fileError?: Error;
}

/**
 * The workspace's testbed as described; when the description cannot be read, the testbed its state records, so
 * status and `down` keep working on a testbed that is up. Throws the description's error when nothing is recorded.
 */
export function openDescribedOrRecorded(workspace: string): OpenedTestbed {
  try {
    return { backend: backendFor(loadTestbed(workspace), workspace) };
  } catch (err) {
    const recorded = recordedTestbed(workspace);
    if (!recorded) throw err;
    return { backend: backendFor(recorded, workspace), fileError: err as Error };
  }
}
