import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schedule } from '../../extension/core/bench/schedule';
import { baselineDrift } from '../../extension/core/results/drift';
import type { Measurement } from '../../extension/core/results/run-file';

const label = (c: { round: number; placement: string; mode: string; benchmark: string }) => `${c.round}:${c.placement}/${c.mode}/${c.benchmark}`;

test('schedule: every round measures each placement x mode x benchmark cell once; placements rotate, modes alternate', () => {
  const rounds = schedule(['none', 'user', 'ebpf'], ['direct', 'model'], ['iperf3'], 1, 3);
  assert.deepEqual(rounds.map((r) => r.map(label)), [
    ['0:none/direct/iperf3', '0:none/model/iperf3', '0:user/model/iperf3', '0:user/direct/iperf3', '0:ebpf/direct/iperf3', '0:ebpf/model/iperf3'],
    ['1:user/model/iperf3', '1:user/direct/iperf3', '1:ebpf/direct/iperf3', '1:ebpf/model/iperf3', '1:none/model/iperf3', '1:none/direct/iperf3'],
    ['2:ebpf/direct/iperf3', '2:ebpf/model/iperf3', '2:none/model/iperf3', '2:none/direct/iperf3', '2:user/direct/iperf3', '2:user/model/iperf3'],
    ['3:none/model/iperf3', '3:none/direct/iperf3', '3:user/direct/iperf3', '3:user/model/iperf3', '3:ebpf/model/iperf3', '3:ebpf/direct/iperf3'],
  ]);
  // Over the recorded rounds 1..3 each placement comes first, second and third once.
  for (const p of ['none', 'user', 'ebpf']) {
    const positions = rounds.slice(1).map((r) => [...new Set(r.map((c) => c.placement))].indexOf(p as never)).sort();
    assert.deepEqual(positions, [0, 1, 2], p);
  }
});

test('schedule: one placement, two benchmarks: modes alternate ABBA between rounds, benchmarks keep their order', () => {
  assert.deepEqual(schedule(['none'], ['direct', 'model'], ['iperf3', 'ping'], 0, 2).flat().map(label), [
    '1:none/direct/iperf3', '1:none/direct/ping', '1:none/model/iperf3', '1:none/model/ping',
    '2:none/model/iperf3', '2:none/model/ping', '2:none/direct/iperf3', '2:none/direct/ping',
  ]);
});

test('baselineDrift: range and least-squares trend of the direct and placement-none cells, headline metric only', () => {
  const m = (mode: 'direct' | 'model', placement: 'none' | 'user', repetition: number, value: number): Measurement => ({
    benchmark: 'iperf3', mode, placement, repetition, startedAt: '', durationMs: 1, raw: '',
    metrics: { throughput: { value, unit: 'Gbit/s', better: 'higher' }, retransmits: { value: 5, unit: 'segments', better: 'lower' } },
  });
  const drift = baselineDrift([
    m('direct', 'none', 1, 10), m('model', 'none', 1, 8), m('model', 'user', 1, 4),
    m('direct', 'none', 2, 11), m('model', 'none', 2, 8),
    m('direct', 'none', 3, 12), m('model', 'none', 3, 8),
  ], () => 'throughput');
  assert.deepEqual(drift.map((d) => `${d.mode}/${d.placement}/${d.metric}`), ['direct/none/throughput', 'model/none/throughput']);
  const direct = drift[0];
  assert.deepEqual(direct.rounds, [[1, 10], [2, 11], [3, 12]]);
  assert.ok(Math.abs(direct.rangePercent - (2 / 11) * 100) < 1e-9);
  assert.ok(Math.abs(direct.trendPercentPerRound - (1 / 11) * 100) < 1e-9);
  assert.equal(drift[1].rangePercent, 0);
  assert.equal(drift[1].trendPercentPerRound, 0);
  assert.deepEqual(baselineDrift([m('direct', 'none', 1, 10)], () => 'throughput'), [], 'one round says nothing about drift');
});
