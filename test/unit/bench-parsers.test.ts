import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseIperf3 } from '../../extension/core/bench/iperf3';
import { parsePing } from '../../extension/core/bench/ping';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'bench', name), 'utf8');

test('iperf3: receiver throughput, retransmits and the per-interval series from real -J output', () => {
  const raw = fixture('iperf3-tcp.json');
  const j = JSON.parse(raw);
  const r = parseIperf3(raw);
  assert.equal(r.metrics.throughput.unit, 'Gbit/s');
  assert.equal(r.metrics.throughput.better, 'higher');
  assert.equal(r.metrics.throughput.value, j.end.sum_received.bits_per_second / 1e9);
  assert.equal(r.metrics.retransmits.value, j.end.sum_sent.retransmits);
  assert.equal(r.series!.throughput.points.length, j.intervals.length);
  assert.deepEqual(r.series!.throughput.points[0], [j.intervals[0].sum.end, j.intervals[0].sum.bits_per_second / 1e9]);
  assert.equal(r.raw, raw);
});

test('iperf3: several streams are summed', () => {
  const raw = fixture('iperf3-tcp-2streams.json');
  const j = JSON.parse(raw);
  assert.equal(j.end.streams.length, 2);
  assert.equal(parseIperf3(raw).metrics.throughput.value, j.end.sum_received.bits_per_second / 1e9);
});

test('iperf3: its own error is reported, not parsed as zero throughput', () => {
  assert.throws(() => parseIperf3(fixture('iperf3-refused.json')), /iperf3: unable to connect to server: Connection refused/);
  assert.throws(() => parseIperf3('iperf3: error - no JSON'), /not JSON/);
});

test('ping: rtt summary, loss and per-reply series', () => {
  const r = parsePing(fixture('ping.txt'));
  assert.deepEqual([r.metrics.rttMin.value, r.metrics.rttAvg.value, r.metrics.rttMax.value, r.metrics.rttMdev.value], [0.059, 0.113, 0.284, 0.085]);
  assert.equal(r.metrics.loss.value, 0);
  assert.deepEqual(r.series!.rtt.points.map((p) => p[1]), [0.284, 0.059, 0.076, 0.082, 0.064]);
});

test('ping: partial and total loss', () => {
  const partial = parsePing(fixture('ping-loss.txt'));
  assert.equal(partial.metrics.loss.value, 50);
  assert.deepEqual(partial.series!.rtt.points.map((p) => p[0]), [0.2, 0.6, 1]);
  const none = parsePing(fixture('ping-all-lost.txt'));
  assert.equal(none.metrics.loss.value, 100);
  assert.equal(none.metrics.rttAvg, undefined, 'no RTT is invented when nothing came back');
});
