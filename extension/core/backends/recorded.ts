import { loadTestbed, recordedTestbed } from '../testbed/load';
import type { Testbed } from '../testbed/testbed';
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
export function openDescribedOrRecorded(workspace: string, open: (testbed: Testbed) => Backend = (t) => backendFor(t, workspace)): OpenedTestbed {
  let described: Testbed;
  try {
    described = loadTestbed(workspace);
  } catch (err) {
    const recorded = recordedTestbed(workspace);
    if (!recorded) throw err;
    return { backend: open(recorded), fileError: err as Error };
  }
  return { backend: open(described) };
}
