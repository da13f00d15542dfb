import { loadTestbed } from '../testbed/load';
import { exclusive } from '../testbed/lock';
import { StateStore } from '../testbed/state';
import type { Testbed } from '../testbed/testbed';
import type { Backend } from './backend';
import { NetnsBackend } from './netns-backend';

/** The backend for a testbed description; up, down and mode changes take the testbed's lock. */
export function backendFor(testbed: Testbed, workspace: string): Backend {
  const state = new StateStore(workspace, testbed.name);
  switch (testbed.backend) {
    case 'netns':
      return locked(new NetnsBackend(testbed, state));
    default:
      throw new Error(`The "${testbed.backend}" backend is not available in this version; set "backend": "netns" in ${testbed.source}.`);
  }
}

function locked(b: Backend): Backend {
  const name = b.testbed.name;
  return {
    testbed: b.testbed,
    state: b.state,
    modelInterfaces: b.modelInterfaces,
    emulated: b.emulated,
    host: (role) => b.host(role),
    preflight: () => b.preflight(),
    up: (opts) => exclusive(name, 'up', () => b.up(opts)),
    down: (opts) => exclusive(name, 'down', () => b.down(opts)),
    setMode: (mode, opts) => exclusive(name, `mode ${mode}`, () => b.setMode(mode, opts)),
  };
}

/** Loads the workspace's testbed (or the built-in default) and its backend. */
export function openTestbed(workspace: string): Backend {
  return backendFor(loadTestbed(workspace), workspace);
}
