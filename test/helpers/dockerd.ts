// The Docker engine the container tests talk to: the machine's own when one answers, else a dockerd started here
// (and stopped again after the tests). CI starts one in .ci/run; a developer's machine may have one running.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { sleep } from '../../extension/core/util/poll';
import { LABELS } from '../../extension/core/backends/docker/labels';

export const docker = new Docker({ socketPath: '/var/run/docker.sock' });

async function answers(): Promise<boolean> {
  return Promise.race([docker.ping().then(() => true, () => false), sleep(3000).then(() => false)]);
}

/** Makes sure an engine answers on the default socket; returns how to stop it when this call started it. */
export async function ensureDockerd(): Promise<() => Promise<void>> {
  if (await answers()) return async () => undefined;
  // Only the default engine: its default bridge (docker0) is its own. A second dockerd would need --bridge=NAME of
  // its own, and --bridge=none deletes docker0.
  const log = path.join(os.tmpdir(), `hs-test-dockerd-${process.pid}.log`);
  const out = fs.openSync(log, 'w');
  const child = spawn('dockerd', [], { detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => undefined);
  for (let i = 0; i < 150 && child.exitCode === null; i++) {
    if (await answers()) {
      return async () => {
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(20_000)]);
        if (child.exitCode === null) child.kill('SIGKILL');
        fs.rmSync(log, { force: true });
      };
    }
    await sleep(200);
  }
  child.kill('SIGKILL');
  throw new Error(`dockerd did not start (apt-get install docker.io); its log ${log}:\n${fs.readFileSync(log, 'utf8').slice(-2000)}`);
}

/** What the engine holds of one testbed (any owner): containers, networks and volumes by label. */
export async function engineObjects(testbed: string): Promise<string[]> {
  const filters = { label: [`${LABELS.testbed}=${testbed}`] };
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
    docker.listVolumes({ filters }),
  ]);
  return [
    ...containers.map((c) => `container ${c.Names[0]}`),
    ...networks.map((n) => `network ${n.Name}`),
    ...(volumes.Volumes ?? []).map((v) => `volume ${v.Name}`),
  ];
}
