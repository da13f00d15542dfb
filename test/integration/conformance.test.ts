// One corpus of crafted packets (test/conformance/corpus.json), every placement: each must reach exactly the verdicts
// and counters the corpus states, with no exception for any of them. eBPF runs through BPF_PROG_TEST_RUN on this
// machine's kernel and on Debian 12's 6.1 in a VM; user space through real NFQUEUE, and eBPF once more as deployed on
// tc ingress, on namespace testbeds with the frames sent from the client and server namespaces. The kernel module runs the same corpus through the same testbed
// runner on a model host whose kernel loads modules.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { scaffoldModel } from '../../extension/core/model/scaffold';
import { loadCorpus } from '../conformance/corpus';
import { ebpfRunner, type ScriptExec } from '../conformance/ebpf-runner';
import { conformance, describeFailures, type CaseReport, type PlacementRunner } from '../conformance/runner';
import { testbedRunner } from '../conformance/testbed-runner';
import { runInDebianKernel } from '../helpers/debian-kernel-vm';
import { tempWorkspace } from '../helpers/workspace';

const corpus = loadCorpus();

/** chunk: cases per runner call (a VM boot runs one call, and must finish within the helper's time limit). */
async function assertConforms(runner: PlacementRunner, chunk = corpus.cases.length): Promise<void> {
  const reports: CaseReport[] = [];
  for (let i = 0; i < corpus.cases.length; i += chunk) reports.push(...await conformance(runner, corpus, corpus.cases.slice(i, i + chunk)));
  assert.equal(reports.length, corpus.cases.length);
  assert.equal(describeFailures(runner, reports), '', 'every case conforms');
}

describe('conformance: every placement decides the corpus as the policy defines', () => {
  let dir: string;
  let model: string;
  let wire: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-conformance-'));
    model = scaffoldModel(path.join(dir, 'model'), 'all').dir;
    execFileSync('make', ['-s', '-C', model, 'ebpf'], { encoding: 'utf8' });
    wire = path.join(dir, 'hs-wire');
    execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-static', '-o', wire, path.join(__dirname, '..', 'conformance', 'hs-wire.c')]);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the corpus covers every kind of case the policy defines', () => {
    const packets = corpus.cases.flatMap((c) => c.packets);
    assert.ok(packets.length >= 90, `${packets.length} packets`);
    for (const kind of ['drop', 'pass', 'ignored'] as const) assert.ok(packets.some((p) => p.expect === kind), kind);
    assert.ok(packets.some((p) => p.fragment) && packets.some((p) => p.link === 'vlan') && packets.some((p) => p.ipOptions));
    assert.ok(corpus.cases.some((c) => c.counters.flows_table_full) && corpus.cases.some((c) => c.counters.flows_expired));
  });

  test('eBPF on this machine\'s kernel (BPF_PROG_TEST_RUN)', async () => {
    // A private mount namespace: the program's pins (and bpffs) go with it.
    const exec: ScriptExec = (script, args, files) => execFileSync('unshare',
      ['--mount', 'sh', '-c', `mount -t bpf bpf /sys/fs/bpf\n${script}`, 'hs-conformance', ...args.map((a) => files[a] ?? a)],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    await assertConforms(ebpfRunner(`eBPF (kernel ${os.release()})`, path.join(model, 'build', 'ebpf_model.o'), dir, exec));
  });

  test('eBPF on Debian 12\'s kernel (6.1, in a VM)', async () => {
    const exec: ScriptExec = (script, args, files) =>
      runInDebianKernel(files, `set -- ${args.map((a) => `'${files[a] ? `/m/${a}` : a}'`).join(' ')}\n${script}`);
    // Under emulation each program load takes seconds: a few cases per boot.
    await assertConforms(ebpfRunner('eBPF (Debian 12 kernel 6.1)', path.join(model, 'build', 'ebpf_model.o'), dir, exec), 6);
  });

  describe('user space through NFQUEUE on a namespace testbed', () => {
    const ws = tempWorkspace('tplconf');
    before(async () => { await ws.backend().up(); });
    after(async () => { await ws.cleanup(); });

    test('every case, with frames sent from the client and server namespaces', async () => {
      await assertConforms(testbedRunner('user space (NFQUEUE)', ws.backend(), model, 'user', wire));
    });
  });

  describe('eBPF attached with tc on a namespace testbed (the deployed program, on real frames)', () => {
    const ws = tempWorkspace('tplconfbpf');
    before(async () => { await ws.backend().up(); });
    after(async () => { await ws.cleanup(); });

    test('every case, with frames sent from the client and server namespaces', async () => {
      await assertConforms(testbedRunner('eBPF (tc ingress)', ws.backend(), model, 'ebpf', wire));
    });
  });
});
