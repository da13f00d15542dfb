import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { tempWorkspace } from '../helpers/workspace';
import { runBenchmarks } from '../../extension/core/bench/runner';
import { preparePlacement } from '../../extension/core/model/placement';
import { scaffoldModel } from '../../extension/core/model/scaffold';
import { ResultsStore } from '../../extension/core/results/store';
import type { RunFile } from '../../extension/core/results/run-file';
import { hotSpots } from '../../extension/core/results/hot-spots';

const NAME = 'hf-hot';
const ws = tempWorkspace(NAME);
const modelDir = path.join(ws.dir, 'model');
const perfOnModel = () => execFileSync('ip', ['netns', 'pids', `hs-${NAME}-model`], { encoding: 'utf8' }).trim().split('\n').filter(Boolean)
  .filter((pid) => fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'perf');

/** The first and last line of a C function's body in the template source. */
function bodyOf(file: string, fn: string): [number, number] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const start = lines.findIndex((l) => new RegExp(`^static .*\\b${fn}\\(`).test(l));
  assert.ok(start >= 0, `${fn} is defined in ${file}`);
  const end = lines.findIndex((l, i) => i > start && l === '}');
  return [start + 1, end + 1];
}

before(async () => {
  scaffoldModel(modelDir, 'all');
  await ws.backend().up();
});
after(() => ws.cleanup());

async function profiledRun(placement: 'user' | 'ebpf'): Promise<RunFile> {
  const backend = ws.backend();
  await preparePlacement(backend, modelDir, placement, {});
  // 64-byte UDP at full rate: every packet crosses the model's per-packet path, so its functions collect samples.
  const run = await runBenchmarks(backend, { benchmarks: ['iperf3-udp64'], modes: ['direct', 'model'], repetitions: 1, warmup: 1, durationS: 5 },
    { workspace: ws.dir, store: new ResultsStore(ws.dir), profile: true });
  assert.equal(run.status, 'complete', run.reason);
  assert.deepEqual(new ResultsStore(ws.dir).read(run.id), run, 'the run file with its hot functions matches schemas/run.schema.json');
  assert.deepEqual(perfOnModel(), [], 'no perf left on the model host');
  for (const m of run.results) {
    assert.equal(m.error, undefined, `${m.mode}: ${m.error}`);
    assert.ok(m.profile!.counters['context-switches'].supported, 'perf stat counts beside the sampling');
    if (m.mode === 'direct') assert.equal(m.profile!.hot, undefined, 'no sampling in direct mode: no packet meets the model');
  }
  return run;
}

test('a profiled run with the user-space model: its scan and verdict code is hot, at lines of user_space_model.c', async () => {
  const run = await profiledRun('user');
  const m = run.results.find((r) => r.mode === 'model')!;
  const hot = m.profile!.hot!;
  assert.equal(hot.placement, 'user');
  assert.equal(hot.event, 'cpu-clock');
  assert.equal(hot.frequencyHz, 4999);
  assert.match(hot.scope, /^the threads of user_space_model \(pid \d+\)/);
  assert.ok(hot.samples.model > 100 && hot.samples.model === hot.samples.total, `${hot.samples.model} of ${hot.samples.total} samples are the model's (perf follows its process only)`);
  assert.equal(hot.notes, undefined, hot.notes?.join('; '));
  assert.ok(hot.functions.reduce((s, f) => s + f.samples, 0) <= hot.samples.model);
  for (const f of hot.functions) assert.ok(Math.abs(f.percent - (f.samples / hot.samples.model) * 100) < 0.01, `${f.name}: ${f.percent} % of the model's samples`);

  // The template's per-packet path in user_space_model.c: parse, flow lookup, the policy's verdict and its payload
  // scan (whose byte search runs in libc's memmem). At -O2 they are inlined into process_burst; the samples still
  // name them, through the debug info's inline records.
  const PATH = ['handle_packet', 'parse_packet', 'make_flow_key', 'ft_lookup', 'hs_policy_decide', 'hs_payload_matches'];
  const source = path.join(modelDir, 'user_space_model.c');
  const onPath = hot.functions.filter((f) => f.file === 'user_space_model.c' && PATH.includes(f.name));
  assert.ok(onPath.length > 0, `the per-packet path is hot: ${hot.functions.filter((f) => f.file).map((f) => `${f.name} ${f.file}:${f.line}`).join(', ')}`);
  for (const f of onPath) {
    const [first, last] = bodyOf(source, f.name);
    assert.ok(f.line! >= first && f.line! <= last, `${f.name}'s hottest line ${f.line} lies in its body ${first}-${last}`);
  }
  assert.ok(hot.functions.some((f) => f.name === 'hs_pq_recv_burst' && f.file === 'packet_queue.c'), 'the queue layer is the model\'s own source too');
  assert.ok(hot.lines.length > 0 && hot.lines.every((l) => l.line > 0 && l.percent > 0));
  // perf record's CPU during the measurement is counted with perf stat's; started and ready beforehand, it stays
  // below the 10 ms resolution of /proc's counters on this machine.
  const { harness } = m.profile!;
  assert.equal(harness.cpuMs, harness.perfCpuMs + harness.workbenchCpuMs);
  assert.ok(harness.perfCpuMs >= 0 && harness.sharePercent < 2, `the harness used ${harness.sharePercent} % of the model host with sampling`);

  const spots = hotSpots(run);
  assert.equal(spots.length, 1);
  assert.equal(spots[0].placement, 'user');
  assert.equal(spots[0].modelDir, modelDir);
  assert.deepEqual(spots[0].lines[0], { ...spots[0].lines[0], file: hot.lines[0].file, line: hot.lines[0].line });
});

test('a profiled run with the eBPF model: its JITed programs are the model\'s samples', async () => {
  const run = await profiledRun('ebpf');
  const hot = run.results.find((r) => r.mode === 'model')!.profile!.hot!;
  assert.equal(hot.placement, 'ebpf');
  assert.match(hot.scope, /JITed programs .*hs_tc_ingress/);
  assert.ok(hot.samples.model > 0 && hot.samples.total > hot.samples.model, `${hot.samples.model} of ${hot.samples.total} samples on all CPUs are the model's`);
  for (const f of hot.functions) assert.match(f.name, /^bpf_prog_[0-9a-f]{16}_(hs_tc_ingress|hs_scan|hs_pattern_at|sweep_one)$/);
  assert.deepEqual(hot.lines, [], 'JITed code has no line table here');
});
