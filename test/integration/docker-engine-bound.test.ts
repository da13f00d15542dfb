// An exec on a container is bounded as a whole, the engine's part (creating and starting it) included, and so are
// transfers: against a real dockerd frozen with SIGSTOP, each call ends at its bound with an error that names the
// engine and what to check; after SIGCONT the same host works again. The engine here is one of this test's own
// (own socket, data and exec roots, in a network namespace of its own, so its bridge and iptables rules are its
// own too): freezing the machine's engine would stall every other user of it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { HostCommandError, run } from '../../extension/core/hosts/host';
import { DockerHost } from '../../extension/core/backends/docker/docker-host';
import { engineClient, engineTarget } from '../../extension/core/backends/docker/engine';
import { pollUntil } from '../../extension/core/util/poll';

const id = randomBytes(2).toString('hex');
const NS = `bd-dk${id}`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bd-dockerd-${id}-`));
const runDir = `/run/bd-dockerd-${id}`;
const socket = path.join(runDir, 'docker.sock');
const IMAGE = `bd-busybox-${id}`;
const CONTAINER = `bd-bound-${id}`;

/** The pids of a process and everything below it. */
function tree(pid: number): number[] {
  const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean).map(Number);
  return [pid, ...children.flatMap(tree)];
}

describe('docker calls are bounded while the engine is frozen', () => {
  let dockerd: ChildProcess | undefined;
  let frozen = false;
  let log = '';
  const target = engineTarget(`unix://${socket}`);
  const engine: Docker = engineClient(target);
  const host = new DockerHost('model', CONTAINER, () => engine, target);

  before(async () => {
    execFileSync('ip', ['netns', 'add', NS]);
    fs.mkdirSync(runDir, { recursive: true });
    // nsenter, not `ip netns exec`, which mounts a sysfs of its own and so hides the cgroup mounts dockerd needs.
    dockerd = spawn('nsenter', [`--net=/run/netns/${NS}`, 'dockerd', '--host', `unix://${socket}`, '--data-root', path.join(dir, 'data'),
      '--exec-root', path.join(runDir, 'exec'), '--pidfile', path.join(runDir, 'docker.pid'), '--cgroup-parent', NS], { stdio: ['ignore', 'pipe', 'pipe'] });
    dockerd.stdout!.on('data', (d) => { log += d; });
    dockerd.stderr!.on('data', (d) => { log += d; });
    await pollUntil(async () => { if (dockerd!.exitCode !== null) throw new Error(`dockerd exited:\n${log.slice(-2000)}`); return engine.ping().then(() => true, () => undefined); }, { timeoutMs: 60_000, intervalMs: 200, onTimeout: () => new Error(`dockerd did not start:\n${log.slice(-2000)}`) });
    // The smallest image that runs: busybox alone (no registry here).
    const root = path.join(dir, 'rootfs');
    fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
    fs.copyFileSync('/bin/busybox', path.join(root, 'bin', 'busybox'));
    fs.chmodSync(path.join(root, 'bin', 'busybox'), 0o755);
    fs.symlinkSync('busybox', path.join(root, 'bin', 'sh'));
    execFileSync('sh', ['-c', 'tar -C "$1" -c . | docker -H "unix://$2" import - "$3"', 'sh', root, socket, IMAGE], { stdio: 'pipe' });
    const c = await engine.createContainer({ name: CONTAINER, Image: IMAGE, Cmd: ['/bin/busybox', 'sleep', '3600'], HostConfig: { NetworkMode: 'none' } });
    await c.start();
  });

  after(async () => {
    if (frozen && dockerd?.pid) for (const pid of tree(dockerd.pid)) try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ }
    await engine.getContainer(CONTAINER).remove({ force: true }).catch(() => undefined);
    if (dockerd && dockerd.exitCode === null) {
      const exited = new Promise((resolve) => dockerd!.once('exit', resolve));
      dockerd.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
      if (dockerd.exitCode === null) dockerd.kill('SIGKILL');
    }
    spawnSync('ip', ['netns', 'del', NS]);
    // The parent cgroup (--cgroup-parent) dockerd made in each hierarchy, empty once its container is gone.
    for (const hierarchy of fs.readdirSync('/sys/fs/cgroup')) try { fs.rmdirSync(path.join('/sys/fs/cgroup', hierarchy, NS)); } catch { /* not made there */ }
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(runDir, { recursive: true, force: true });
    assert.equal(spawnSync('pgrep', ['-f', runDir]).status, 1, 'no process of the test engine is left');
    assert.deepEqual(fs.readdirSync('/sys/fs/cgroup').filter((h) => fs.existsSync(path.join('/sys/fs/cgroup', h, NS))), [], 'no cgroup of it is left');
  });

  test('exec and transfers fail at their bounds with a clear error while dockerd is frozen, and work after', { timeout: 120_000 }, async () => {
    assert.equal(await run(host, ['/bin/busybox', 'echo', 'up'], { timeoutMs: 15_000 }), 'up\n');
    const daemon = Number(fs.readFileSync(path.join(runDir, 'docker.pid'), 'utf8'));
    process.kill(daemon, 'SIGSTOP');
    frozen = true;
    try {
      let t0 = Date.now();
      const r = await host.exec(['/bin/busybox', 'true'], { timeoutMs: 3000 });
      let ms = Date.now() - t0;
      assert.equal(r.timedOut, true);
      assert.equal(r.code, null);
      assert.ok(ms >= 2900 && ms < 3000 + 3000, `the exec ended ${ms} ms after it began (bound 3 s)`);
      assert.match(r.stderr, new RegExp(`the Docker engine at unix://${socket} did not start the command within 3 s: check that dockerd runs and answers`));
      await assert.rejects(run(host, ['/bin/busybox', 'true'], { timeoutMs: 2000 }),
        (err: Error) => err instanceof HostCommandError && /^model \(container bd-bound-\w+\): `\/bin\/busybox true` timed out:\nthe Docker engine/.test(err.message));

      const local = path.join(dir, 'payload.txt');
      fs.writeFileSync(local, 'payload');
      t0 = Date.now();
      await assert.rejects(host.upload(local, '/payload.txt', { stallTimeoutMs: 2000 }),
        /^Error: model \(container bd-bound-\w+\): copying .*payload\.txt to \/payload\.txt made no progress for 2 s, so it was stopped\. Check that the Docker engine at unix:\/\/\S+ answers \(`docker info`\)/);
      ms = Date.now() - t0;
      assert.ok(ms < 2000 + 3000, `the upload ended ${ms} ms after it began (bound 2 s without progress)`);
    } finally {
      process.kill(daemon, 'SIGCONT');
      frozen = false;
    }
    assert.equal(await run(host, ['/bin/busybox', 'echo', 'back'], { timeoutMs: 15_000 }), 'back\n');
    const local = path.join(dir, 'payload.txt');
    await host.upload(local, '/payload.txt');
    assert.equal(await run(host, ['/bin/busybox', 'cat', '/payload.txt'], { timeoutMs: 15_000 }), 'payload');
  });
});
