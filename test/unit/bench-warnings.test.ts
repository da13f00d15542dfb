import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseIperf3 } from '../../extension/core/bench/iperf3';
import { parsePing } from '../../extension/core/bench/ping';
import { pathWarnings, planWarnings } from '../../extension/core/bench/warnings';
import { PLAN_DEFAULTS } from '../../extension/core/bench/plan';
import type { Mode } from '../../extension/core/testbed/testbed';
import { CPU_LIST } from '../../extension/core/bench/pinning';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'bench', name), 'utf8');

test('path warnings on real captured output: retransmits above 0.1 % of the segments sent, loss above 0.1 %', () => {
  // 2294 retransmits in 3 s at 15.4 Gbit/s: about 0.06 % of 4 million segments, a healthy path.
  assert.deepEqual(pathWarnings(parseIperf3(fixture('iperf3-tcp.json')).metrics, 3), []);
  // 9724 retransmits in 2 s at 21.9 Gbit/s: 0.26 %.
  const tcp = pathWarnings(parseIperf3(fixture('iperf3-tcp-2streams.json')).metrics, 2);
  assert.equal(tcp.length, 1);
  assert.match(tcp[0], /^9724 TCP retransmits, 0\.26 % of about 3775948 segments \(over 0\.1 %\): the path reordered or dropped packets; try --pin$/);
  assert.match(pathWarnings(parseIperf3(fixture('iperf3-tcp-2streams.json')).metrics, 2, true)[0], /dropped packets$/, 'a pinned run is not told to pin');
  assert.deepEqual(pathWarnings(parsePing(fixture('ping.txt')).metrics, 1), []);
  assert.deepEqual(pathWarnings(parsePing(fixture('ping-loss.txt')).metrics, 1), ['50.00 % of packets lost (over 0.1 %): the path dropped packets']);
});

test('CPU lists: what taskset -c takes', () => {
  for (const ok of ['0', '1-3', '0,2', '0-1,4']) assert.match(ok, CPU_LIST);
  for (const bad of ['', 'a', '0,', '1-', '-1', '0;1', '$(x)']) assert.doesNotMatch(bad, CPU_LIST);
});

test('a plan whose repetitions cannot give a verdict is warned about up front, naming the option and the number needed', () => {
  const plan = { benchmarks: ['iperf3'], modes: ['direct', 'model'] as Mode[], repetitions: 3, warmup: 0, durationS: 1 };
  assert.deepEqual(planWarnings(plan), ['Too few repetitions (3) for a 95 % interval or verdict of model vs direct, which pair rounds: raise --reps to 6 or more.']);
  assert.deepEqual(planWarnings({ ...plan, repetitions: 6 }), []);
  assert.deepEqual(planWarnings(PLAN_DEFAULTS), [], 'the defaults give a verdict');
  assert.match(planWarnings({ ...plan, modes: ['model'], placements: ['none', 'ebpf'] }, { option: 'repetitions' })[0], /of each placement vs none, which pair rounds: raise repetitions to 6 or more\.$/);
  assert.match(planWarnings({ ...plan, modes: ['direct', 'model'] }, { ab: true })[0], /of model vs direct, arm B vs A, which pair/);
  // Nothing compared within the run: only comparisons with other runs (unpaired, 4 a side) are at stake.
  assert.deepEqual(planWarnings({ ...plan, modes: ['model'], repetitions: 4 }), []);
  assert.match(planWarnings({ ...plan, modes: ['model'] })[0], /^Too few repetitions \(3\) for a 95 % interval or verdict when this run is compared with another: raise --reps to 4 or more\.$/);
});
