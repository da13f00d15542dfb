// Memory-bound workloads inside a VM of a qemu testbed under TCG: the server VM's image carries sysbench and redis on
// request (hosts.server.qemu.workloads), the page-fault program is compiled here and uploaded, redis-server starts
// and stops in the guest; a tool the image lacks is refused naming the set to add; and an A/B run of two hypervisor
// "builds" of the server VM (stock QEMU and a second path to it) measures sysbench memory and the page-fault program
// in both arms and compares them. Everything is flagged emulated; nothing is left behind.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { runHypervisorAb } from '../../extension/core/bench/hypervisor-ab';
import { runBenchmarks } from '../../extension/core/bench/runner';
import { run } from '../../extension/core/hosts/host';
import { ResultsStore } from '../../extension/core/results/store';
import { loadTestbed } from '../../extension/core/testbed/load';
import { testbedRunDir } from '../../extension/core/testbed/testbed';
import { namespaces, tempWorkspace } from '../helpers/workspace';

const HOSTS = { model: { qemu: { memoryMiB: 256 } }, server: { qemu: { vm: true, memoryMiB: 384, workloads: ['sysbench', 'redis'] } } };
const qemuOf = (name: string) => spawnSync('pgrep', ['-f', `qemu-system.*-name hs-${name}-`], { encoding: 'utf8' }).stdout.trim();

describe('memory-bound workloads in a VM', { timeout: 1_800_000 }, () => {
  const NAME = 'vmw-wl';
  // fio's libraries (ceph, gluster, ...) make this variant 100 MB; the A/B below does without it.
  const ws = tempWorkspace(NAME, { backend: 'qemu', hosts: { ...HOSTS, server: { qemu: { vm: true, memoryMiB: 512, workloads: ['fio', 'sysbench', 'redis'] } } } });
  after(async () => {
    await ws.cleanup();
    assert.equal(qemuOf(NAME), '', 'no QEMU process is left');
    assert.deepEqual(namespaces(`hs-${NAME}-`), [], 'no namespace is left');
  });

  test('sysbench memory, fio, the page-fault program and redis run on the server VM; a tool no image has names the fix', async () => {
    const backend = ws.backend();
    await backend.up();
    const server = backend.host('server');
    assert.equal(server.kind, 'qemu');
    const store = new ResultsStore(ws.dir);
    await assert.rejects(runBenchmarks(backend, { benchmarks: ['sysbench-oltp'], modes: ['direct'], repetitions: 1, warmup: 0, durationS: 1 }, { workspace: ws.dir, store }),
      new RegExp(`Missing benchmark tools: mariadbd on server \\(VM hs-${NAME}-server\\) \\(the VM image cannot carry it \\(workload tool sets: sysbench, fio, redis, perf\\): ` +
        'run the server as a namespace \\(leave out hosts\\.server\\.qemu\\.vm\\) or give the VM your own initrd\\)'));

    const r = await runBenchmarks(backend, { benchmarks: ['sysbench-memory', 'fio', 'pagefault', 'redis'], modes: ['direct'], repetitions: 1, warmup: 0, durationS: 1 },
      { workspace: ws.dir, store });
    assert.equal(r.status, 'complete', r.reason);
    for (const m of r.results) assert.equal(m.error, undefined, `${m.benchmark}: ${m.error}`);
    assert.equal(r.metadata.emulated, true, 'TCG: the run says its hosts were emulated');
    const of = (b: string) => r.results.find((m) => m.benchmark === b)!.metrics;
    assert.ok(of('sysbench-memory').bandwidth.value > 0);
    assert.ok(Math.abs(of('pagefault').faultsPerPage.value - 1) < 0.1, 'one minor fault per page touched, counted by the guest kernel');
    assert.ok(of('redis').getRate.value > 0 && of('redis').setRate.value > 0);
    assert.ok(of('fio').readIops.value > 0 && of('fio').writeIops.value > 0);
    // The guest's own sysbench, as the metadata asked the server VM for it.
    assert.match(r.metadata.hosts.find((h) => h.role === 'server')!.tools.sysbench, /^sysbench 1\./);
    assert.match(r.metadata.hosts.find((h) => h.role === 'server')!.kernel, /-amd64$/);
    // Stopped and removed in the guest: no redis-server, no page-fault binary.
    assert.equal((await server.exec(['pidof', 'redis-server'])).stdout.trim(), '');
    assert.deepEqual((await run(server, ['ls', testbedRunDir(NAME)])).split('\n').filter((f) => /pagefault|redis-server\.pid/.test(f)), []);
  });
});

describe('A/B run of two hypervisor builds on a memory-bound workload', { timeout: 1_800_000 }, () => {
  const NAME = 'vmw-ab';
  const ws = tempWorkspace(NAME, { backend: 'qemu', hosts: HOSTS });
  const binDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-vmw-ab-bin-'));
  const b = path.join(binDir, 'qemu-system-x86_64');
  fs.symlinkSync('/usr/bin/qemu-system-x86_64', b);
  after(async () => {
    await ws.cleanup();
    fs.rmSync(binDir, { recursive: true, force: true });
    assert.equal(qemuOf(NAME), '', 'no QEMU process is left');
    assert.deepEqual(namespaces(`hs-${NAME}-`), [], 'no namespace is left');
  });

  test('sysbench memory and page faults measured in the server VM under each arm, B compared with A', async (t) => {
    const store = new ResultsStore(ws.dir);
    // A VM whose image lacks a tool is refused naming the set to add (the A/B's first arm checks before measuring).
    await assert.rejects(runHypervisorAb(loadTestbed(ws.dir), [{ name: 'A', hosts: {} }, { name: 'B', hosts: { server: { binary: b } } }],
      { benchmarks: ['fio'], modes: ['direct'], repetitions: 1, warmup: 0, durationS: 1 }, { workspace: ws.dir, store }),
      new RegExp(`Missing benchmark tools: fio on server \\(VM hs-${NAME}-server\\) \\(add "fio" to hosts\\.server\\.qemu\\.workloads in ${ws.dir}/hypershield\\.testbed\\.json; the VM image is then made with it\\)`));
    const run = await runHypervisorAb(loadTestbed(ws.dir), [{ name: 'A', hosts: {} }, { name: 'B', hosts: { server: { binary: b } } }],
      { benchmarks: ['sysbench-memory', 'pagefault'], modes: ['direct'], repetitions: 2, warmup: 0, durationS: 1 }, { workspace: ws.dir, store });
    assert.equal(run.status, 'complete', run.reason);
    assert.equal(run.metadata.emulated, true, 'TCG: the run says its hosts were emulated');
    for (const r of run.results) assert.equal(r.error, undefined, `${r.arm} ${r.benchmark} round ${r.repetition}: ${r.error}`);
    assert.deepEqual(run.results.map((r) => `${r.repetition}${r.arm}`), ['1A', '1A', '1B', '1B', '2B', '2B', '2A', '2A']);
    const [ha, hb] = run.metadata.ab!.arms.map((a) => a.hypervisors.server!);
    assert.deepEqual([ha.path, hb.path], ['qemu-system-x86_64', b]);
    assert.equal(ha.sha256, hb.sha256);
    for (const [bench, metric] of [['sysbench-memory', 'bandwidth'], ['pagefault', 'faultRate']]) {
      for (const arm of ['A', 'B']) {
        const values = run.results.filter((r) => r.arm === arm && r.benchmark === bench).map((r) => r.metrics[metric].value);
        assert.equal(values.length, 2, `${arm} ${bench}`);
        assert.ok(values.every((v) => v > 0), `${arm} ${bench} ${metric}: ${values.join(', ')}`);
      }
      const c = run.abComparison!.find((x) => x.benchmark === bench && x.metric === metric);
      assert.ok(c, `the comparison has ${bench} ${metric}`);
      assert.deepEqual([c.arm, c.vs, c.mode, c.better], ['B', 'A', 'direct', 'higher']);
      // Two rounds give a change but no interval (fewer than 6 paired rounds).
      assert.equal(c.ci95, undefined);
      assert.deepEqual(c.tooFewRounds, { n: 2, need: 6, paired: true, reason: 'too few rounds (n=2, need 6 paired)' });
      assert.deepEqual(run.summary.filter((e) => e.benchmark === bench && e.metric === metric).map((e) => [e.arm, e.stats.n]), [['A', 2], ['B', 2]]);
    }
    for (const c of run.abComparison!.filter((x) => ['bandwidth', 'faultRate'].includes(x.metric))) {
      t.diagnostic(`${c.benchmark} ${c.metric}: B vs A ${c.changePercent.toFixed(1)} %, ${c.tooFewRounds?.reason} (same program twice: what the machine's drift alone shows)`);
    }
    assert.deepEqual(store.read(run.id).abComparison, run.abComparison, 'the run file keeps the comparison');
    assert.equal(ws.backend().state.read()?.phase === 'up', false, 'the testbed is left down');
  });
});
