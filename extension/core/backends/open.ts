import { loadTestbed } from '../testbed/load';
import { exclusive } from '../testbed/lock';
import { claim, foreignClaim, release, TestbedOwnedError } from '../testbed/ownership';
import { StateStore } from '../testbed/state';
import type { Testbed } from '../testbed/testbed';
import type { Backend } from './backend';
import { DockerBackend } from './docker/docker-backend';
import { NetnsBackend } from './netns-backend';
import { QemuBackend } from './qemu-backend';
import { SshBackend, type SshBackendOptions } from './ssh-backend';

/** What the front end (CLI, VS Code) gives backends: how to ask a person for a secret. */
export type BackendEnvironment = Pick<SshBackendOptions, 'askSecret'>;

/** The backend for a testbed description, guarded: see `guarded`. */
export function backendFor(testbed: Testbed, workspace: string, env: BackendEnvironment = {}): Backend {
  const state = new StateStore(workspace, testbed.name);
  switch (testbed.backend) {
    case 'netns':
      return guarded(new NetnsBackend(testbed, state), workspace);
    case 'ssh':
      return guarded(new SshBackend(testbed, state, { askSecret: env.askSecret }), workspace);
    case 'qemu':
      return guarded(new QemuBackend(testbed, state), workspace);
    case 'docker':
      return guarded(new DockerBackend(testbed, state, workspace), workspace);
    default:
      throw new Error(`The "${testbed.backend}" backend is not available in this version; choose one of "netns", "docker", "qemu" or "ssh" in ${testbed.source}.`);
  }
}

/**
 * Up, down and mode changes take the testbed's lock, and touch only objects this workspace owns: `up` claims the
 * testbed's name (refused while another workspace holds it), `down` leaves another workspace's hosts alone and
 * gives the claim up.
 */
function guarded(b: Backend, workspace: string): Backend {
  const name = b.testbed.name;
  return {
    testbed: b.testbed,
    state: b.state,
    modelInterfaces: b.modelInterfaces,
    get capabilities() { return b.capabilities; },
    get privileged() { return b.privileged; },
    host: (role) => b.host(role),
    preflight: () => b.preflight(),
    onDidChange: (listener) => b.onDidChange(listener),
    dispose: () => b.dispose(),
    up: (opts) => exclusive(name, 'up', async () => {
      claim(name, workspace, b.state.file);
      try {
        await b.up(opts);
      } catch (err) {
        // Refused before it recorded anything: nothing of this workspace's stands under the name.
        if (!b.state.read()) release(name, b.state.file);
        throw err;
      }
    }),
    down: (opts) => exclusive(name, 'down', async () => {
      const owner = foreignClaim(name, b.state.file);
      if (owner) {
        opts?.progress?.report(`The hosts named ${name} belong to the workspace ${owner.workspace}: left as they are`);
        b.state.remove();
        return;
      }
      await b.down(opts);
      release(name, b.state.file);
    }),
    setMode: (mode, opts) => exclusive(name, `mode ${mode}`, async () => {
      const owner = foreignClaim(name, b.state.file);
      if (owner) throw new TestbedOwnedError(owner);
      await b.setMode(mode, opts);
    }),
  };
}

/** Loads the workspace's testbed (or the built-in default) and its backend. */
export function openTestbed(workspace: string, env: BackendEnvironment = {}): Backend {
  return backendFor(loadTestbed(workspace), workspace, env);
}
