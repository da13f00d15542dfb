// bench --profile with the kernel template on a VM model host (Debian's kernel under TCG here): the model VM's image
// carries perf on request (hosts.model.qemu.workloads), a profiled model-mode run of 64-byte UDP through the module
// records its netfilter hook among the hot functions at a line of kernel_space.c (from the local unstripped build),
// the hardware counters say why the emulated guest lacks them, and no perf is left in the guest.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { runBenchmarks } from '../../extension/core/bench/runner';
import { run } from '../../extension/core/hosts/host';
import { preparePlacement } from '../../extension/core/model/placement';
import { scaffoldModel } from '../../extension/core/model/scaffold';
import { hotSpots } from '../../extension/core/results/hot-spots';
import { ResultsStore } from '../../extension/core/results/store';
import { namespaces, tempWorkspace } from '../helpers/workspace';

const qemuOf = (name: string) => spawnSync('pgrep', ['-f', `qemu-system.*-name hs-${name}-`], { encoding: 'utf8' }).stdout.trim();

/** The first and last line of a C function's body in the template source. */
function bodyOf(file: string, fn: string): [number, number] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const start = lines.findIndex((l) => new RegExp(`^static .*\\b${fn}\\(`).test(l));
  assert.ok(start >= 0, `${fn} is defined in ${file}`);
  const end = lines.findIndex((l, i) => i > start && l === '}');
  return [start + 1, end + 1];
}

describe('profiling the kernel module on a VM model host', { timeout: 1_200_000 }, () => {
  const NAME = 'vp-prof';
  const ws = tempWorkspace(NAME, { backend: 'qemu', hosts: { model: { qemu: { workloads: ['perf'] } } } });
  const modelDir = path.join(ws.dir, 'model');
  before(async () => {
    scaffoldModel(modelDir, 'kernel');
    await ws.backend().up();
  });
  after(async () => {
    await ws.cleanup();
    assert.equal(qemuOf(NAME), '', 'no QEMU process is left');
    assert.deepEqual(namespaces(`hs-${NAME}-`), [], 'no namespace is left');
  });

  test('the module\'s netfilter hook is hot at a line of kernel_space.c; hardware counters are missing for a stated reason', async (t) => {
    const backend = ws.backend();
    await preparePlacement(backend, modelDir, 'kernel', {});
    // 64-byte UDP at full rate: every packet crosses the hook (TCP's 64 KiB GSO packets leave the guest mostly idle).
    const runFile = await runBenchmarks(backend, { benchmarks: ['iperf3-udp64'], modes: ['model'], repetitions: 1, warmup: 0, durationS: 5 },
      { workspace: ws.dir, store: new ResultsStore(ws.dir), profile: true });
    assert.equal(runFile.status, 'complete', runFile.reason);
    assert.equal(runFile.metadata.emulated, true);
    // The store validates against schemas/run.schema.json; the testbed part it keeps is parsed with null prototypes.
    const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
    assert.deepEqual(plain(new ResultsStore(ws.dir).read(runFile.id)), plain(runFile), 'the run file with its hot functions matches schemas/run.schema.json');
    const m = runFile.results[0];
    assert.equal(m.error, undefined, m.error);
    const profile = m.profile!;
    assert.match(profile.scope, new RegExp(`^the model host model \\(VM hs-${NAME}-model\\), emulated: no hardware counters$`));
    assert.deepEqual(profile.counters.cycles, { supported: false, reason: 'not supported: no hardware counters in an emulated guest (QEMU without KVM has no PMU)' });
    assert.ok(profile.counters['context-switches'].supported, 'software counters are counted in the guest');
    assert.ok(!('ipc' in m.metrics) && !('perfCycles' in m.metrics), 'no figure from a counter the guest lacks');

    const hot = profile.hot!;
    t.diagnostic(`${hot.samples.model} of ${hot.samples.total} samples in the module: ${hot.functions.map((f) => `${f.name} ${f.samples}${f.file ? ` ${f.file}:${f.line}` : ''}`).join(', ')}`);
    assert.equal(hot.placement, 'kernel');
    assert.equal(hot.event, 'cpu-clock');
    assert.equal(hot.scope, 'the module kernel_space on all CPUs');
    assert.equal(hot.notes, undefined, hot.notes?.join('; '));
    assert.ok(hot.samples.model > 0 && hot.samples.total > hot.samples.model, `${hot.samples.model} of ${hot.samples.total} samples are the module's`);
    for (const f of hot.functions) assert.equal(f.object, '[kernel_space]', `${f.name} is reported in the module`);
    const hook = hot.functions.find((f) => f.name === 'hs_hook');
    assert.ok(hook, `the hook is hot: ${hot.functions.map((f) => `${f.name} ${f.samples}`).join(', ')}`);
    assert.equal(hook.file, 'kernel_space.c');
    const [first, last] = bodyOf(path.join(modelDir, 'kernel_space.c'), 'hs_hook');
    assert.ok(hook.line! >= first && hook.line! <= last, `hs_hook's hottest line ${hook.line} lies in its body ${first}-${last}`);
    assert.ok(hot.lines.some((l) => l.file === 'kernel_space.c' && l.function === 'hs_hook'));
    // Kernel header code inlined into the module (memcmp, skb helpers) counts at the module's calling line.
    assert.deepEqual(hot.lines.filter((l) => l.file !== 'kernel_space.c'), [], 'every hot line is in the module\'s source');

    const [spots] = hotSpots(runFile);
    assert.equal(spots.placement, 'kernel');
    assert.equal(spots.modelDir, modelDir);
    const left = await run(backend.host('model'), ['sh', '-c', 'for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = perf ] && echo "${p#/proc/}"; done; true'], { timeoutMs: 30_000 });
    assert.equal(left.trim(), '', 'no perf is left in the guest');
  });
});
