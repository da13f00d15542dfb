import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parsePerfScript } from '../../extension/core/bench/perf-script';
import { parseAddr2line } from '../../extension/core/bench/addr2line';
import { hotProfile, modelSampling, parseModuleLoad, parseNm, type ModelSampling } from '../../extension/core/bench/hot-functions';
import { parsePerfStat } from '../../extension/core/bench/perf-stat';
import { emulatedCounters } from '../../extension/core/bench/profile';
import { formatHotSpots, hotSpots } from '../../extension/core/results/hot-spots';
import { hotLinesOfFile, placedHotLines } from '../../extension/core/results/hot-source';
import type { RunFile } from '../../extension/core/results/run-file';
import type { DeployedModel } from '../../extension/core/testbed/state';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'bench', name), 'utf8');
const lineCount = (text: string) => text.split('\n').filter((l) => l.trim()).length;

test('perf script: every sample of a real -p recording of the user-space model, kernel, libraries and the model', () => {
  const text = fixture('perf-script-user.txt');
  const samples = parsePerfScript(text);
  assert.equal(samples.length, lineCount(text));
  assert.deepEqual(samples[0], { pid: 27723, tid: 27725, ip: 'ffffffff81e9d0b7', symbol: '__skb_recv_datagram', offset: 7, dso: '[kernel.kallsyms]' });
  assert.ok(samples.every((s) => s.pid === 27723), 'perf followed the model process only');
  assert.ok(samples.some((s) => s.symbol === 'hs_pq_recv_burst' && s.offset === 0x204 && s.dso === '/run/hypershield/hfscratch/model/user_space_model'));
});

test('perf script: a real all-CPU recording with the eBPF model: JITed programs, and samples perf has no symbol for', () => {
  const text = fixture('perf-script-ebpf.txt');
  const samples = parsePerfScript(text);
  assert.equal(samples.length, lineCount(text));
  const jit = samples.filter((s) => s.symbol?.startsWith('bpf_prog_'));
  assert.ok(jit.length > 0);
  assert.deepEqual(jit.find((s) => s.symbol!.endsWith('_hs_scan')), { pid: 16888, tid: 16888, ip: 'ffffffffc00007bd', symbol: 'bpf_prog_da811e5cdf6a9bab_hs_scan', offset: 0x95, dso: 'bpf_prog_da811e5cdf6a9bab_hs_scan' });
  const unknown = samples.find((s) => s.dso.endsWith('/esbuild'))!;
  assert.equal(unknown.symbol, undefined, '[unknown] is no symbol');
  assert.equal(unknown.offset, undefined);
  // Seen in an all-CPU recording here: a sample perf could not tie to a thread.
  assert.deepEqual(parsePerfScript('18585/-1     ffffffff8226ec67 _raw_spin_lock+0x17 ([kernel.kallsyms])'),
    [{ pid: 18585, tid: -1, ip: 'ffffffff8226ec67', symbol: '_raw_spin_lock', offset: 0x17, dso: '[kernel.kallsyms]' }]);
  assert.throws(() => parsePerfScript('hs_scan something'), /perf script: unexpected line "hs_scan something"/);
});

test('addr2line: inlined functions innermost first, discriminators dropped, real output on the template', () => {
  const frames = parseAddr2line(fixture('addr2line-user.txt'));
  assert.equal(frames.size, 11);
  assert.deepEqual(frames.get(0x3909), [
    { function: 'ft_lookup', file: '/tmp/hs-hfscratch-D0CScG/model/user_space_model.c', line: 333 },
    { function: 'handle_packet', file: '/tmp/hs-hfscratch-D0CScG/model/user_space_model.c', line: 551 },
    { function: 'process_burst', file: '/tmp/hs-hfscratch-D0CScG/model/user_space_model.c', line: 584 },
  ]);
  assert.deepEqual(frames.get(0x4853), [{ function: 'hs_pq_recv_burst', file: '/tmp/hs-hfscratch-D0CScG/model/packet_queue.c', line: 272 }]);
  assert.deepEqual(parseAddr2line('0x0000000000000010\n??\n??:0\n').get(0x10), [{ function: '??' }]);
  assert.throws(() => parseAddr2line('ft_lookup\n'), /addr2line: unexpected line "ft_lookup"/);
});

test('nm: defined symbols by name; a name defined twice has no address', () => {
  const symbols = parseNm(fixture('nm-user.txt'));
  assert.equal(symbols.get('hs_pq_recv_burst'), 0x4810);
  assert.equal(symbols.get('process_burst'), 0x3640);
  assert.ok(Number.isNaN(parseNm('0000000000000010 t dup\n0000000000000020 t dup\n').get('dup')));
});

const ebpfDeployed: DeployedModel = { placement: 'ebpf', dir: '/ws/model', sourceHash: 'x', buildId: 'y', deployedAt: '', detail: {} };
const ebpfSampling: ModelSampling = {
  deployed: ebpfDeployed, target: ['-a'], frequencyHz: 999, scope: 'the JITed programs',
  isModel: (s) => /^bpf_prog_[0-9a-f]{16}_(hs_scan|hs_tc_ingress)$/.test(s.symbol ?? ''),
};

test('hot profile: only the model\'s samples count, percentages of them; JITed programs have no lines', async () => {
  const samples = parsePerfScript(fixture('perf-script-ebpf.txt'));
  const hot = await hotProfile(ebpfSampling, samples);
  assert.deepEqual(hot.samples, { total: samples.length, model: 3 });
  assert.deepEqual(hot.functions, [
    { name: 'bpf_prog_da811e5cdf6a9bab_hs_scan', object: 'bpf_prog_da811e5cdf6a9bab_hs_scan', samples: 2, percent: 66.67 },
    { name: 'bpf_prog_8cc44987044d9897_hs_tc_ingress', object: 'bpf_prog_8cc44987044d9897_hs_tc_ingress', samples: 1, percent: 33.33 },
  ]);
  assert.deepEqual(hot.lines, []);
  assert.equal(hot.notes, undefined);
  const none = await hotProfile({ ...ebpfSampling, isModel: () => false }, samples);
  assert.match(none.notes![0], /^perf recorded \d+ samples, none of them the model's/);
});

test('hot profile: a user-space build that is not the deployed one gives functions by symbol and no lines, and says why', async () => {
  const samples = parsePerfScript(fixture('perf-script-user.txt'));
  const hot = await hotProfile({
    deployed: { ...ebpfDeployed, placement: 'user' }, target: ['-p', '27723'], frequencyHz: 4999, scope: 'the process',
    isModel: (s) => s.pid === 27723, binary: { local: '/nonexistent/user_space_model', contains: (s) => s.dso === '/run/hypershield/hfscratch/model/user_space_model' },
  }, samples);
  assert.equal(hot.samples.model, samples.length);
  assert.deepEqual(hot.lines, []);
  assert.match(hot.notes![0], /^\/nonexistent\/user_space_model is not the build that was deployed .*Deploy again before profiling\.$/);
  assert.ok(hot.functions.some((f) => f.name === 'hs_pq_recv_burst' && f.file === undefined));
});

test('hot spots: a run\'s repetitions summed per placement, lines relative to the model project', () => {
  const rep = (functions: number, line: number) => ({
    placement: 'user' as const, event: 'cpu-clock', frequencyHz: 4999, scope: 's', samples: { total: 100, model: 100 },
    functions: [{ name: 'handle_packet', object: '/run/m', samples: functions, percent: functions, file: 'user_space_model.c', line }],
    lines: [{ file: 'user_space_model.c', line, function: 'handle_packet', samples: functions, percent: functions }],
  });
  const run = {
    metadata: { models: [{ placement: 'user', dir: '/ws/model', sourceHash: 'a', buildId: 'b' }] },
    results: [
      { mode: 'model', placement: 'user', profile: { hot: rep(10, 550) } },
      { mode: 'model', placement: 'user', profile: { hot: rep(30, 551) } },
      { mode: 'direct', placement: 'user', profile: {} },
    ],
  } as unknown as RunFile;
  const [spots] = hotSpots(run);
  assert.equal(spots.modelDir, '/ws/model');
  assert.deepEqual(spots.samples, { total: 200, model: 200 });
  assert.deepEqual(spots.functions, [{ name: 'handle_packet', object: '/run/m', samples: 40, percent: 20, file: 'user_space_model.c', line: 551 }]);
  assert.deepEqual(spots.lines.map((l) => [l.line, l.samples, l.percent]), [[551, 30, 15], [550, 10, 5]]);
});

test('hot source: lines placed in the model project; a build made elsewhere matches by file name inside the project', () => {
  const spots = [{
    placement: 'user' as const, modelDir: '/ws/model', scope: 's', measurements: 1, samples: { total: 10, model: 10 }, functions: [], notes: [],
    lines: [
      { file: 'user_space_model.c', line: 551, function: 'handle_packet', samples: 3, percent: 30 },
      { file: '/build/elsewhere/packet_queue.c', line: 214, function: 'pq_parse_packet', samples: 5, percent: 50 },
    ],
  }];
  assert.deepEqual(placedHotLines(spots).map((l) => [l.path, l.line]), [['/build/elsewhere/packet_queue.c', 214], ['/ws/model/user_space_model.c', 551]]);
  assert.deepEqual(hotLinesOfFile(spots, '/ws/model/user_space_model.c').map((l) => l.line), [551]);
  assert.deepEqual(hotLinesOfFile(spots, '/ws/model/packet_queue.c').map((l) => l.line), [214]);
  assert.deepEqual(hotLinesOfFile(spots, '/other/packet_queue.c'), []);
});

test('hot spots for a terminal: the hottest functions, then the hottest lines of the model\'s source', () => {
  const spots = [{
    placement: 'user' as const, modelDir: '/ws/model', scope: 'the threads of user_space_model (pid 1)', measurements: 1, samples: { total: 10, model: 10 }, notes: [],
    functions: [{ name: '_raw_spin_unlock_irqrestore', object: '[kernel.kallsyms]', samples: 6, percent: 60 }, { name: 'ft_lookup', object: '/run/m', samples: 4, percent: 40, file: 'user_space_model.c', line: 336 }],
    lines: [{ file: 'user_space_model.c', line: 336, function: 'ft_lookup', samples: 4, percent: 40 }],
  }];
  assert.equal(formatHotSpots(spots), [
    'Hot functions, user placement (10 of 10 samples are the model\'s: the threads of user_space_model (pid 1)):',
    '   60.0 %  _raw_spin_unlock_irqrestore      [kernel.kallsyms]',
    '   40.0 %  ft_lookup                        user_space_model.c:336',
    '  hottest lines of the model\'s source (/ws/model):',
    '   40.0 %  user_space_model.c:336           ft_lookup',
  ].join('\n'));
});

test('model sampling: the kernel module is sampled on all CPUs; its samples are the module\'s by object name or by address', async () => {
  const deployed: DeployedModel = { placement: 'kernel', dir: '/ws/model', sourceHash: 'x', buildId: 'y', deployedAt: '', detail: { module: 'kernel_space', release: '6.1.0', params: '' } };
  const unplaced = await modelSampling(deployed);
  assert.deepEqual(unplaced.target, ['-a']);
  assert.equal(unplaced.frequencyHz, 4999);
  assert.equal(unplaced.binary, undefined, 'no source lines without the module\'s load address');
  // Real lines of /proc/modules and /sys/module/kernel_space/sections/.text in the VM guest.
  const module = parseModuleLoad(fixture('proc-modules-vm.txt'), '0xffffffffc02ad000\n', 'kernel_space');
  assert.deepEqual(module, { base: 0xffffffffc02ad000n, size: 16384, textBase: 0xffffffffc02ad000n });
  const sampling = await modelSampling(deployed, { module });
  assert.equal(sampling.object, '[kernel_space]');
  assert.equal(sampling.binary?.local, '/ws/model/build/kernel_space.ko');
  assert.equal(sampling.binary?.textBase, 0xffffffffc02ad000n);
  // perf in the guest finds no file of the module and names the kernel as its object; a host where it does says [kernel_space].
  const [byAddress, byName, kernel, nextModule] = parsePerfScript([
    '42/42     ffffffffc02ad059 hs_flows_collect+0x29 ([kernel.kallsyms])',
    '18585/18585  ffffffffc0a01237 hs_hook+0x17 ([kernel_space])',
    '0/0     ffffffff81a3c0bb native_safe_halt+0xb ([kernel.kallsyms])',
    '0/0     ffffffffc02b1000 nft_do_chain+0x0 ([kernel.kallsyms])',
  ].join('\n'));
  assert.equal(sampling.isModel(byAddress), true);
  assert.equal(sampling.isModel(byName), true);
  assert.equal(sampling.isModel(kernel), false);
  assert.equal(sampling.isModel(nextModule), false, 'the first address past the module is not the module\'s');
  assert.throws(() => parseModuleLoad(fixture('proc-modules-vm.txt'), '0xffffffffc02ad000', 'other'), /The kernel module other is not loaded on the model host \(not in \/proc\/modules\): deploy it again\./);
  assert.throws(() => parseModuleLoad(fixture('proc-modules-vm.txt'), '', 'kernel_space'), /Cannot read where kernel_space is loaded: .*as root\)\./);
  await assert.rejects(modelSampling({ ...deployed, placement: 'user', detail: { program: '/run/m' } }), /The user-space model's pid on the model host is unknown \(got ""\): deploy it again\./);
});

test('perf script in the VM guest with the kernel template loaded: module samples under [kernel.kallsyms], found by address', async () => {
  // Lines of one real all-CPU recording in the guest (perf 6.1, 4999 Hz, UDP through the module): its first lines,
  // every sample in the module, and a few in programs.
  const text = fixture('perf-script-kernel-vm.txt');
  const samples = parsePerfScript(text);
  assert.equal(samples.length, lineCount(text));
  assert.deepEqual(samples.find((s) => s.symbol === 'hs_flows_collect'), { pid: 42, tid: 42, ip: 'ffffffffc02ad06a', symbol: 'hs_flows_collect', offset: 0x3a, dso: '[kernel.kallsyms]' });
  const deployed: DeployedModel = { placement: 'kernel', dir: '/ws/model', sourceHash: 'x', buildId: 'y', deployedAt: '', detail: { module: 'kernel_space', release: '6.1.0-57-amd64', params: '' } };
  const module = parseModuleLoad(fixture('proc-modules-vm.txt'), '0xffffffffc02ad000', 'kernel_space');
  const hot = await hotProfile(await modelSampling(deployed, { module }), samples);
  assert.deepEqual(hot.samples, { total: samples.length, model: 3 });
  assert.deepEqual(hot.functions, [{ name: 'hs_flows_collect', object: '[kernel_space]', samples: 3, percent: 100 }]);
  assert.deepEqual(hot.lines, []);
  assert.match(hot.notes![0], /^\/ws\/model\/build\/kernel_space\.ko is not the build that was deployed/);
});

test('perf stat in an emulated guest: every hardware counter unsupported, with the reason; software counters counted', () => {
  const counters = emulatedCounters(parsePerfStat(fixture('perf-stat-vm.csv')));
  for (const event of ['cycles', 'instructions', 'cache-misses', 'LLC-load-misses', 'dTLB-load-misses']) {
    assert.deepEqual(counters[event], { supported: false, reason: 'not supported: no hardware counters in an emulated guest (QEMU without KVM has no PMU)' });
  }
  assert.deepEqual(counters['context-switches'], { supported: true, value: 1035, runningPercent: 100 });
  assert.deepEqual(counters['cpu-migrations'], { supported: true, value: 0, runningPercent: 100 });
});
