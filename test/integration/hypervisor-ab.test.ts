// An A/B run of two hypervisor "builds" on a qemu testbed under TCG: the stock QEMU program as A and a second path to
// the same program as B, measured in rotating rounds through the model VM; both arms measured, their identities
// recorded (same hash, different paths), the comparison made, nothing left behind. Two rounds keep the VM boots few;
// they are too few for an interval, and the comparison says so instead of calling a difference detectable.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { runHypervisorAb } from '../../extension/core/bench/hypervisor-ab';
import { DEFAULT_SETTLE } from '../../extension/core/bench/settle';
import { ResultsStore } from '../../extension/core/results/store';
import { loadTestbed } from '../../extension/core/testbed/load';
import { namespaces, tempWorkspace } from '../helpers/workspace';

const NAME = 'rgab';
const qemuOf = () => spawnSync('pgrep', ['-f', `qemu-system.*-name hs-${NAME}-`], { encoding: 'utf8' }).stdout.trim();

describe('A/B run of two hypervisor builds', { timeout: 1_800_000 }, () => {
  const ws = tempWorkspace(NAME, { backend: 'qemu', hosts: { model: { qemu: { memoryMiB: 256 } } } });
  // B: the same program under another path (named like QEMU, so the process is found by name as A's is).
  const binDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-rgab-bin-'));
  const b = path.join(binDir, 'qemu-system-x86_64');
  fs.symlinkSync('/usr/bin/qemu-system-x86_64', b);
  after(async () => {
    await ws.cleanup();
    fs.rmSync(binDir, { recursive: true, force: true });
    assert.equal(qemuOf(), '', 'no QEMU process is left');
    assert.deepEqual(namespaces(`hs-${NAME}-`), [], 'no namespace is left');
  });

  test('both arms are measured in rotating rounds and compared; the same program twice differs by path only; 2 rounds claim no verdict', async (t) => {
    const store = new ResultsStore(ws.dir);
    const run = await runHypervisorAb(loadTestbed(ws.dir), [{ name: 'A', hosts: {} }, { name: 'B', hosts: { model: { binary: b } } }],
      { benchmarks: ['iperf3', 'ping'], modes: ['model'], repetitions: 2, warmup: 0, durationS: 1 }, { workspace: ws.dir, store });
    assert.equal(run.status, 'complete', run.reason);
    assert.equal(run.metadata.emulated, true, 'TCG: the run says its hosts were emulated');
    for (const r of run.results) assert.equal(r.error, undefined, `${r.arm} ${r.benchmark} round ${r.repetition}: ${r.error}`);
    // Round 1 measures A then B, round 2 B then A: B stays up across the round boundary.
    assert.deepEqual(run.results.map((r) => `${r.repetition}${r.arm}`), ['1A', '1A', '1B', '1B', '2B', '2B', '2A', '2A']);
    const [ha, hb] = run.metadata.ab!.arms.map((a) => a.hypervisors.model!);
    assert.equal(ha.path, 'qemu-system-x86_64');
    assert.equal(hb.path, b);
    assert.equal(ha.sha256, hb.sha256);
    assert.equal(ha.version, hb.version);
    const tp = run.abComparison!.find((c) => c.benchmark === 'iperf3' && c.metric === 'throughput')!;
    assert.deepEqual([tp.arm, tp.vs, tp.mode], ['B', 'A', 'model']);
    assert.ok(Number.isFinite(tp.changePercent));
    t.diagnostic(run.abComparison!.filter((c) => ['throughput', 'rttAvg'].includes(c.metric)).map((c) => `${c.benchmark} ${c.metric}: ${c.changePercent.toFixed(1)} %, ${c.tooFewRounds?.reason}`).join('\n'));
    for (const c of run.abComparison!) {
      assert.deepEqual(c.tooFewRounds, { n: 2, need: 6, paired: true, reason: 'too few rounds (n=2, need 6 paired)' }, `${c.benchmark} ${c.metric}`);
      assert.equal(c.ci95, undefined);
      assert.equal(c.detectable, undefined, `${c.benchmark} ${c.metric}: no verdict from 2 rounds`);
    }
    assert.deepEqual(run.summary.filter((e) => e.benchmark === 'iperf3' && e.metric === 'throughput').map((e) => [e.arm, e.stats.n]), [['A', 2], ['B', 2]]);
    // The settle step followed each of the 3 boots (A and B in round 1, A again in round 2; B stayed up across).
    const settled = run.metadata.ab!.settle!;
    assert.deepEqual(settled.spec, DEFAULT_SETTLE);
    assert.deepEqual(settled.boots.map((b) => `${b.round}${b.arm}`), ['1A', '1B', '2A']);
    for (const b of settled.boots) assert.equal(b.settled, true, `arm ${b.arm} round ${b.round}: ${JSON.stringify(b)}`);
    assert.deepEqual(store.read(run.id).metadata.ab, run.metadata.ab, 'the run file validates and keeps the arms');
    assert.equal(ws.backend().state.read()?.phase === 'up', false, 'the testbed is left down');
  });
});
