import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, tempWorkspace } from '../helpers/workspace';
import { docker, engineObjects, ensureDockerd } from '../helpers/dockerd';
import { checkPath, assertPath } from '../../extension/core/bench/path-check';
import { run } from '../../extension/core/hosts/host';
import { deployModel } from '../../extension/core/model/deploy/deploy';
import { serverAddress } from '../../extension/core/testbed/testbed';
import { testbedStatus } from '../../extension/core/testbed/status';
import { LABELS } from '../../extension/core/backends/docker/labels';
import type { BackendChange } from '../../extension/core/backends/backend';
import type { RunFile } from '../../extension/core/results/run-file';

// The original's address plan, through the testbed file; limits and CPU sets per role.
const ws = tempWorkspace('dkt', {
  backend: 'docker',
  subnets: { client: '192.168.1.0/24', server: '192.168.2.0/24', direct: '192.168.3.0/24' },
  hosts: { client: { cpuset: '0' }, server: { cpuset: '1' }, model: { cpus: 2, memoryMiB: 1024 } },
});
let stopDockerd: () => Promise<void> = async () => undefined;
const progress: string[] = [];

const ttlTo = async (target: string) => Number(/ttl=(\d+)/.exec(await run(ws.backend().host('client'), ['ping', '-n', '-c', '1', '-W', '2', target], { timeoutMs: 10_000 }))![1]);
const psArgs = async (role: 'client' | 'model' | 'server') => run(ws.backend().host(role), ['ps', '-eo', 'args'], { timeoutMs: 10_000 });

describe('container testbed (docker)', () => {
  before(async () => {
    stopDockerd = await ensureDockerd();
    // The first run builds the images offline (minutes); later runs reuse them.
    await ws.backend().up({ progress: { report: (m) => progress.push(m) } });
  });
  after(async () => {
    await ws.cleanup();
    await stopDockerd();
  });

  test('three containers with the planned addresses, NET_ADMIN not privileged, limits and labels; no default route, no IPv6, no address on this machine', async () => {
    const b = ws.backend();
    const s = await testbedStatus(b);
    assert.equal(s.state, 'up');
    assert.deepEqual(s.hosts.map((h) => [h.role, h.state, h.addresses.sort()]), [
      ['client', 'running', ['192.168.1.2/24', '192.168.3.1/24']],
      ['model', 'running', ['192.168.1.1/24', '192.168.2.1/24']],
      ['server', 'running', ['192.168.2.2/24', '192.168.3.2/24']],
    ]);
    for (const role of ['client', 'model', 'server'] as const) {
      const h = b.host(role);
      assert.equal(await run(h, ['ip', 'route', 'show', 'default'], { timeoutMs: 10_000 }), '', `${role}: no default route`);
      assert.equal(await run(h, ['ip', '-6', 'addr', 'show'], { timeoutMs: 10_000 }), '', `${role}: IPv4 only`);
      const info = await docker.getContainer(`hs-dkt-${role}`).inspect();
      assert.equal(info.HostConfig.Privileged, false);
      assert.deepEqual(info.HostConfig.CapAdd, role === 'model' ? ['NET_ADMIN', 'SYS_ADMIN'] : ['NET_ADMIN']);
      assert.equal(info.Config.Labels[LABELS.testbed], 'dkt');
      assert.equal(info.Config.Labels[LABELS.owner], path.resolve(ws.dir));
    }
    // Interfaces are named for where they lead, as on the namespace testbed.
    // (Docker attaches them in an order of its own.)
    const links = await run(b.host('model'), ['ip', '-br', 'link'], { timeoutMs: 10_000 });
    assert.deepEqual(links.split('\n').filter(Boolean).map((l) => l.split(/[@\s]/)[0]).sort(), ['lo', 'to-client', 'to-server']);
    assert.doesNotMatch(links, /DOWN/);
    const model = await docker.getContainer('hs-dkt-model').inspect();
    assert.equal(model.HostConfig.NanoCpus, 2e9);
    assert.equal(model.HostConfig.Memory, 1024 * 2 ** 20);
    assert.equal((await docker.getContainer('hs-dkt-client').inspect()).HostConfig.CpusetCpus, '0');
    assert.equal((await docker.getContainer('hs-dkt-server').inspect()).HostConfig.CpusetCpus, '1');
    const nets = await docker.listNetworks({ filters: { label: [`${LABELS.testbed}=dkt`] } });
    assert.deepEqual(nets.map((n) => n.Name).sort(), ['hs-dkt-client', 'hs-dkt-direct', 'hs-dkt-server']);
    for (const n of nets) assert.equal(n.Internal, false, 'routed traffic needs non-internal networks');
    // This machine has no address on the testbed's links: the bridges carry none.
    assert.doesNotMatch(execFileSync('ip', ['-4', '-o', 'addr', 'show'], { encoding: 'utf8' }), /192\.168\.[123]\./);
  });

  test('exec keeps stdout and stderr apart, returns exit codes and feeds stdin; files go in and out', async () => {
    const h = ws.backend().host('server');
    const r = await h.exec(['sh', '-c', 'echo out; echo err >&2; exit 3'], { timeoutMs: 10_000 });
    assert.deepEqual([r.code, r.stdout, r.stderr], [3, 'out\n', 'err\n']);
    assert.equal((await h.exec(['cat'], { stdin: 'in\n', timeoutMs: 10_000 })).stdout, 'in\n');
    assert.equal((await h.exec(['sh', '-c', 'echo "$X in $PWD"'], { env: { X: 'x' }, cwd: '/tmp', timeoutMs: 10_000 })).stdout, 'x in /tmp\n');
    const local = path.join(ws.dir, 'up');
    fs.mkdirSync(path.join(local, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(local, 'sub', 'f.txt'), 'payload\n');
    await h.upload(local, '/var/tmp/hs-dkt/copy');
    assert.equal(await run(h, ['cat', '/var/tmp/hs-dkt/copy/sub/f.txt'], { timeoutMs: 10_000 }), 'payload\n');
    await h.download('/var/tmp/hs-dkt/copy/sub/f.txt', path.join(ws.dir, 'back', 'g.txt'));
    assert.equal(fs.readFileSync(path.join(ws.dir, 'back', 'g.txt'), 'utf8'), 'payload\n');
    await assert.rejects(h.download('/nonexistent', path.join(ws.dir, 'x')), /could not copy \/nonexistent/);
  });

  test('cancelling or timing out an exec ends its processes inside the container', async () => {
    const h = ws.backend().host('client');
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 500);
    const cancelled = await h.exec(['sh', '-c', 'sleep 301 & sleep 302'], { signal: ac.signal });
    assert.equal(cancelled.cancelled, true);
    assert.equal(cancelled.code, null);
    // A process that ignores SIGTERM is killed.
    const timedOut = await h.exec(['sh', '-c', 'trap "" TERM; sleep 303'], { timeoutMs: 500 });
    assert.equal(timedOut.timedOut, true);
    assert.doesNotMatch(await psArgs('client'), /sleep 30[123]/, 'no process of the ended execs is left');
  });

  test('model mode crosses the model host both ways; direct mode does not; switching keeps the containers', async () => {
    const b = ws.backend();
    const target = serverAddress(b.testbed);
    const id = (await docker.getContainer('hs-dkt-model').inspect()).Id;
    assert.equal(await ttlTo(target), 63);
    assert.ok((await checkPath(b, 'model')).crossesModel);
    await b.setMode('direct');
    assert.equal(await ttlTo(target), 64);
    const direct = await checkPath(b, 'direct');
    assertPath(direct);
    assert.ok(direct.modelPackets < direct.probes, `direct traffic skips the model (${direct.modelPackets} packets)`);
    await b.setMode('model');
    assertPath(await checkPath(b, 'model'));
    assert.equal((await docker.getContainer('hs-dkt-model').inspect()).Id, id, 'mode switch did not recreate containers');
  });

  test('iperf3 and ping, direct vs model, with no model, the user-space and the eBPF template (CLI bench); no kernel modules', () => {
    const cli = (...args: string[]) => execFileSync(CLI[0], [CLI[1], '-w', ws.dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    cli('new', path.join(ws.dir, 'm'));
    const runFile = JSON.parse(cli('bench', '--placements', 'none,user,ebpf', '--model', path.join(ws.dir, 'm'), '--reps', '1', '--warmup', '0', '--duration', '2', '--json')) as RunFile;
    assert.equal(runFile.status, 'complete', runFile.reason);
    assert.equal(runFile.metadata.testbed.backend, 'docker');
    for (const placement of ['none', 'user', 'ebpf']) {
      for (const mode of ['direct', 'model']) {
        const rs = runFile.results.filter((r) => r.placement === placement && r.mode === mode);
        assert.deepEqual(rs.map((r) => r.benchmark).sort(), ['iperf3', 'ping'], `${placement}/${mode}`);
        for (const r of rs) assert.equal(r.error, undefined, `${r.benchmark}/${mode}/${placement}: ${r.error}`);
        assert.ok(rs.find((r) => r.benchmark === 'iperf3')!.metrics.throughput.value > 0);
        assert.equal(rs.find((r) => r.benchmark === 'ping')!.metrics.loss.value, 0);
      }
    }
    // The models deployed for the run are gone from the model container, pins and mounts included.
    assert.equal(ws.backend().state.read()!.deployed, undefined);
    const model = ws.backend().host('model');
    return (async () => {
      assert.equal(await run(model, ['tc', 'filter', 'show', 'dev', 'to-client', 'ingress'], { timeoutMs: 10_000 }), '');
      assert.doesNotMatch(await run(model, ['iptables', '-S', 'FORWARD'], { timeoutMs: 10_000 }), /NFQUEUE/);
      assert.doesNotMatch(await run(model, ['cat', '/proc/mounts'], { timeoutMs: 10_000 }), /hypershield/);
      assert.doesNotMatch(await psArgs('model'), /user_space_model/);
      // Kernel modules are refused: the container shares this machine's kernel.
      await assert.rejects(deployModel(ws.backend(), path.join(ws.dir, 'm'), 'kernel'), /testbed dkt \(docker\) shares this machine's kernel/);
    })();
  });

  test('a container killed outside the workbench shows at once (change event, status); up recreates the testbed', async () => {
    const b = ws.backend();
    const changes: BackendChange[] = [];
    const died = new Promise<void>((resolve) => {
      const stop = b.onDidChange((c) => {
        changes.push(c);
        if (c.role === 'server' && /die/.test(c.what)) { stop(); resolve(); }
      });
    });
    await new Promise((r) => setTimeout(r, 300)); // the event stream is open
    execFileSync('docker', ['kill', 'hs-dkt-server']);
    await died;
    assert.ok(changes.some((c) => c.role === 'server' && /exit code 137/.test(c.what)), JSON.stringify(changes));
    const s = await testbedStatus(b);
    assert.equal(s.state, 'partial');
    const server = s.hosts.find((h) => h.role === 'server')!;
    assert.equal(server.state, 'stopped');
    assert.match(server.detail!, /exited with code 137 .*not by the workbench/);
    assert.match(execFileSync(CLI[0], [CLI[1], '-w', ws.dir, 'status'], { encoding: 'utf8' }), /server\s+stopped .*exited with code 137/);
    await b.dispose();
    await b.up();
    assert.equal((await testbedStatus(b)).state, 'up');
  });

  test('down removes exactly this workspace\'s objects of the testbed, leaves no volume, and keeps the images', async () => {
    const volumesBefore = (await docker.listVolumes()).Volumes?.length ?? 0;
    // Another owner's object with the same testbed label is not ours to remove.
    const foreign = await docker.createContainer({ name: 'dk-foreign', Image: (await docker.getContainer('hs-dkt-client').inspect()).Config.Image, Cmd: ['true'], Labels: { [LABELS.testbed]: 'dkt', [LABELS.owner]: '/elsewhere' } });
    try {
      const reports: string[] = [];
      await ws.backend().down({ progress: { report: (m) => reports.push(m) } });
      assert.deepEqual(await engineObjects('dkt'), ['container /dk-foreign']);
      assert.equal(ws.backend().state.read(), undefined);
      assert.equal((await docker.listVolumes()).Volumes?.length ?? 0, volumesBefore);
      assert.ok(reports.some((m) => /Images kept for the next `up`: .*hypershield\/endpoint:.*hypershield\/model:/.test(m)), reports.join('\n'));
      await ws.backend().down();
    } finally {
      await foreign.remove({ force: true });
    }
    assert.deepEqual(await engineObjects('dkt'), []);
  });
});
