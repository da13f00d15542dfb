import { loadTestbed } from '../testbed/load';
import { StateStore } from '../testbed/state';
import type { Testbed } from '../testbed/testbed';
import type { Backend } from './backend';
import { NetnsBackend } from './netns-backend';

/** The backend for a testbed description. */
export function backendFor(testbed: Testbed, workspace: string): Backend {
  const state = new StateStore(workspace, testbed.name);
  switch (testbed.backend) {
    case 'netns':
      return new NetnsBackend(testbed, state);
    default:
      throw new Error(`The "${testbed.backend}" backend is not available in this version; set "backend": "netns" in ${testbed.source}.`);
  }
}

/** Loads the workspace's testbed (or the built-in default) and its backend. */
export function openTestbed(workspace: string): Backend {
  return backendFor(loadTestbed(workspace), workspace);
}
