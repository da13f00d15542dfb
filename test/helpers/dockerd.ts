// The Docker engine the container tests talk to: the machine's own when one answers, else a dockerd started here
// (and stopped again when the last test process using it is done). CI starts one in .ci/run; a developer's
// machine may have one running.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { sleep } from '../../extension/core/util/poll';
import { processAlive } from '../../extension/core/util/pid';
import { LABELS } from '../../extension/core/backends/docker/labels';

export const docker = new Docker({ socketPath: '/var/run/docker.sock' });

async function answers(): Promise<boolean> {
  return Promise.race([docker.ping().then(() => true, () => false), sleep(3000).then(() => false)]);
}

// Test processes that use the engine register here, so one that started dockerd does not stop it under another
// test process (two test runs on one machine). The last one out stops a dockerd that a test started.
const SHARED = '/run/hypershield-test-dockerd';
const USERS = path.join(SHARED, 'users');
const STARTED = path.join(SHARED, 'dockerd.pid');

async function release(): Promise<void> {
  fs.rmSync(path.join(USERS, String(process.pid)), { force: true });
  const others = fs.readdirSync(USERS).filter((p) => processAlive(Number(p)));
  if (others.length) return;
  const pid = fs.existsSync(STARTED) ? Number(fs.readFileSync(STARTED, 'utf8').trim()) : 0;
  fs.rmSync(STARTED, { force: true });
  if (!pid || !processAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && processAlive(pid); i++) await sleep(200);
  if (processAlive(pid)) process.kill(pid, 'SIGKILL');
}

/** Makes sure an engine answers on the default socket; returns what to call when done with it. */
export async function ensureDockerd(): Promise<() => Promise<void>> {
  fs.mkdirSync(USERS, { recursive: true });
  fs.writeFileSync(path.join(USERS, String(process.pid)), '');
  if (await answers()) return () => release().catch(() => undefined);
  // Only the default engine: its default bridge (docker0) is its own. A second dockerd would need --bridge=NAME of
  // its own, and --bridge=none deletes docker0.
  const log = path.join(os.tmpdir(), `hs-test-dockerd-${process.pid}.log`);
  const out = fs.openSync(log, 'w');
  const child = spawn('dockerd', [], { detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  child.once('error', () => undefined);
  child.unref();
  fs.writeFileSync(STARTED, String(child.pid));
  for (let i = 0; i < 150 && child.exitCode === null; i++) {
    if (await answers()) {
      return async () => {
        await release().catch(() => undefined);
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
