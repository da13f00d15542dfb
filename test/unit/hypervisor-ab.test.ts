// The core of A/B runs of hypervisor builds: arm testbeds, the rotating arm order, the real QEMU program's identity,
// and arm-vs-arm changes on synthetic measurements of the core's seeded generator.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { armRecord, armRounds, armTestbed, hypervisorIdentity, parseHypervisorArm } from '../../extension/core/bench/hypervisor-ab';
import { compareArms } from '../../extension/core/results/arm-changes';
import { idleBetween, parseCpuLine } from '../../extension/core/bench/settle';
import { CLI } from '../helpers/workspace';
import { summarize } from '../../extension/core/results/summary';
import { ResultsStore } from '../../extension/core/results/store';
import { defaultTestbed, type Testbed } from '../../extension/core/testbed/testbed';
import type { Measurement } from '../../extension/core/results/run-file';
import { syntheticRun } from '../vscode/synthetic-run';

const qemuTestbed: Testbed = { ...defaultTestbed(), name: 'rgab', backend: 'qemu', hosts: { model: { qemu: { memoryMiB: 256 } }, server: { qemu: { vm: true, args: ['-nodefaults'] } } } };

test('an arm changes only the QEMU program and arguments of the roles it names, and only of VMs', () => {
  const t = armTestbed(qemuTestbed, { name: 'B', hosts: { model: { binary: '/opt/qemu-b/bin/qemu-system-x86_64' }, server: { args: [] } } });
  assert.deepEqual(t.hosts.model, { qemu: { memoryMiB: 256, binary: '/opt/qemu-b/bin/qemu-system-x86_64' } });
  assert.deepEqual(t.hosts.server, { qemu: { vm: true, args: [] } });
  assert.deepEqual({ ...t, hosts: undefined }, { ...qemuTestbed, hosts: undefined });
  assert.deepEqual(qemuTestbed.hosts.model, { qemu: { memoryMiB: 256 } }, 'the testbed itself is left as it was');
  assert.throws(() => armTestbed(qemuTestbed, { name: 'B', hosts: { client: { binary: 'x' } } }), /changes the hypervisor of the client, which is not a VM .* hosts\.client\.qemu\.vm/);
  assert.throws(() => armTestbed(defaultTestbed(), { name: 'B', hosts: {} }), /needs a qemu testbed; built-in default has backend "netns"/);
});

test('arms are measured in rotating order, each first equally often, warm-up rounds before', () => {
  assert.deepEqual(armRounds(['A', 'B'], 1, 4), [
    { round: 0, arms: ['A', 'B'] }, { round: 1, arms: ['B', 'A'] }, { round: 2, arms: ['A', 'B'] }, { round: 3, arms: ['B', 'A'] }, { round: 4, arms: ['A', 'B'] },
  ]);
});

test('two paths to one QEMU program (a symlink, a copy) have its version and hash; the paths are recorded as given', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-rgqemu-'));
  try {
    const link = path.join(dir, 'qemu-link');
    const copy = path.join(dir, 'qemu-copy');
    fs.symlinkSync('/usr/bin/qemu-system-x86_64', link);
    fs.copyFileSync('/usr/bin/qemu-system-x86_64', copy);
    fs.chmodSync(copy, 0o755);
    const [stock, viaLink, viaCopy] = await Promise.all(['qemu-system-x86_64', link, copy].map((b) => hypervisorIdentity(b)));
    assert.match(stock.version, /^QEMU emulator version \d+\.\d+/);
    assert.equal(stock.resolved, fs.realpathSync('/usr/bin/qemu-system-x86_64'));
    assert.match(stock.sha256, /^[0-9a-f]{64}$/);
    assert.deepEqual([viaLink.path, viaLink.resolved, viaLink.version, viaLink.sha256], [link, stock.resolved, stock.version, stock.sha256]);
    assert.deepEqual([viaCopy.resolved, viaCopy.version, viaCopy.sha256], [copy, stock.version, stock.sha256]);
    const record = await armRecord(qemuTestbed, [{ name: 'A', hosts: {} }, { name: 'B', hosts: { model: { binary: link }, server: { binary: copy } } }]);
    assert.deepEqual(record.arms.map((a) => Object.keys(a.hypervisors)), [['model', 'server'], ['model', 'server']]);
    assert.equal(record.arms[1].hypervisors.server!.path, copy);
    await assert.rejects(hypervisorIdentity('no-such-qemu-rg'), /"no-such-qemu-rg" was not found on PATH/);
    await assert.rejects(hypervisorIdentity('/bin/false'), /--version failed \(exit 1\)/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** Two arms' measurements of the same rounds; arm B's throughputs scaled by `bScale`. */
function armResults(bScale: number, repetitions = 8): Measurement[] {
  const opts = { benchmarks: 2, modes: ['direct', 'model'] as const, placements: ['none' as const], repetitions };
  const a = syntheticRun({ id: 'arm-a', ...opts, modes: [...opts.modes] }).results.map((m) => ({ ...m, arm: 'A' }));
  const b = syntheticRun({ id: 'arm-b', ...opts, modes: [...opts.modes], scale: bScale }).results.map((m) => ({ ...m, arm: 'B' }));
  return [...a, ...b];
}

test('arm B measured 10 % slower is a detectable change; the same hypervisor twice is no detectable difference', () => {
  const slower = compareArms(armResults(0.9), 'A', 'B');
  const tp = slower.find((c) => c.benchmark === 'iperf3' && c.mode === 'model' && c.metric === 'throughput')!;
  assert.equal(tp.arm, 'B');
  assert.equal(tp.vs, 'A');
  assert.ok(tp.changePercent < -6 && tp.changePercent > -14, `change ${tp.changePercent}`);
  assert.equal(tp.detectable, true);
  const same = compareArms(armResults(1), 'A', 'B').find((c) => c.benchmark === 'iperf3' && c.mode === 'model' && c.metric === 'throughput')!;
  assert.equal(same.detectable, false, `change ${same.changePercent} ${same.ci95}`);
});

test('one QEMU against itself in 2 rounds is "too few rounds", never a detectable change; 5 rounds neither, 6 give a verdict', () => {
  const change = (bScale: number, rounds: number) => compareArms(armResults(bScale, rounds), 'A', 'B').find((c) => c.benchmark === 'iperf3' && c.mode === 'model' && c.metric === 'throughput')!;
  const two = change(1, 2);
  assert.equal(two.ci95, undefined);
  assert.equal(two.detectable, undefined);
  assert.deepEqual(two.tooFewRounds, { n: 2, need: 6, paired: true, reason: 'too few rounds (n=2, need 6 paired)' });
  assert.deepEqual(change(0.7, 5).tooFewRounds, { n: 5, need: 6, paired: true, reason: 'too few rounds (n=5, need 6 paired)' }, 'even a 30 % change');
  const six = change(0.7, 6);
  assert.equal(six.tooFewRounds, undefined);
  assert.equal(six.detectable, true, JSON.stringify(six));
});

test('a run with arms is summarised per arm and its A/B record validates as a run file', () => {
  const results = armResults(0.9);
  const summary = summarize(results);
  const cells = summary.filter((e) => e.benchmark === 'iperf3' && e.mode === 'model' && e.metric === 'throughput');
  assert.deepEqual(cells.map((e) => e.arm), ['A', 'B']);
  assert.ok(cells.every((e) => e.stats.n === 8 && e.overheadPercent !== undefined), 'each arm has its own model-vs-direct overhead');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-rgabstore-'));
  try {
    const store = new ResultsStore(dir);
    fs.mkdirSync(store.dir, { recursive: true });
    const base = syntheticRun({ id: 'rg-ab', benchmarks: 2, modes: ['direct', 'model'], placements: ['none'], repetitions: 8 });
    const hypervisor = { path: 'qemu-system-x86_64', resolved: '/usr/bin/qemu-system-x86_64', version: 'QEMU emulator version 7.2.22', sha256: 'a'.repeat(64) };
    store.save({
      ...base, results, summary, abComparison: compareArms(results, 'A', 'B'),
      metadata: { ...base.metadata, ab: { arms: [{ name: 'A', hosts: {}, hypervisors: { model: hypervisor } }, { name: 'B', hosts: { model: { binary: '/tmp/q' } }, hypervisors: { model: { ...hypervisor, path: '/tmp/q' } } }] } },
    });
    const back = store.read('rg-ab');
    assert.equal(back.metadata.ab?.arms.length, 2);
    assert.ok(back.abComparison?.length);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--hypervisor-b takes ROLE=PROGRAM per VM role; bench refuses an A/B run on a testbed without VMs', () => {
  assert.deepEqual(parseHypervisorArm('B', ['model=/opt/q/bin/qemu-system-x86_64', 'server=qemu-b']), { name: 'B', hosts: { model: { binary: '/opt/q/bin/qemu-system-x86_64' }, server: { binary: 'qemu-b' } } });
  assert.throws(() => parseHypervisorArm('B', ['model']), /"model" is not ROLE=PROGRAM/);
  assert.throws(() => parseHypervisorArm('B', ['model=a', 'model=b']), /the model is given twice/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-rgabcli-'));
  try {
    const r = spawnSync(CLI[0], [CLI[1], '-w', dir, 'bench', '--hypervisor-b', 'model=/usr/bin/qemu-system-x86_64'], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /needs a qemu testbed; built-in default has backend "netns"/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the settle step reads the idle share between two cpu lines of /proc/stat (captured here, on a busy machine)', () => {
  const busy = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'bench', 'proc-stat-twice.txt'), 'utf8');
  assert.deepEqual(parseCpuLine(busy.split('\n')[0]), { idle: 2115218 + 13634, total: 2733515 + 3938 + 701060 + 2115218 + 13634 + 83681 + 41327 });
  assert.equal(idleBetween(busy), 0);
  assert.equal(idleBetween('cpu  10 0 10 980 0 0 0 0 0 0\ncpu  12 0 13 1075 0 0 0 0 0 0\n'), 95);
  assert.throws(() => idleBetween('cpu0 1 2 3 4\n'), /Not the cpu line of \/proc\/stat: "cpu0 1 2 3 4"/);
  assert.throws(() => idleBetween('cpu  1 2 3 4 5\n'), /Expected two cpu lines/);
});
