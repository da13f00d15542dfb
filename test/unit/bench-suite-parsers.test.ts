import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseIperf3 } from '../../extension/core/bench/iperf3';
import { parsePing } from '../../extension/core/bench/ping';
import { parseTraceroute } from '../../extension/core/bench/traceroute';
import { parseNuttcp } from '../../extension/core/bench/nuttcp';
import { parseSockperf } from '../../extension/core/bench/sockperf';
import { parseNetperf } from '../../extension/core/bench/netperf';
import { parseRedisBenchmark } from '../../extension/core/bench/redis';
import { parseSysbench } from '../../extension/core/bench/sysbench';
import { parseFio } from '../../extension/core/bench/fio';
import { parsePagefault } from '../../extension/core/bench/pagefault';
import { PERF_EVENTS, parsePerfStat } from '../../extension/core/bench/perf-stat';
import { derivedMetrics } from '../../extension/core/bench/profile';
import { attribution, formatAttribution } from '../../extension/core/bench/attribution';
import type { Measurement } from '../../extension/core/results/run-file';
import { parseProcStat, parseSoftirqs } from '../../extension/core/bench/proc-stat';
import type { ProfileRecord } from '../../extension/core/results/run-file';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'bench', name), 'utf8');

test('iperf3 UDP: receiver throughput, loss, jitter and packet rates', () => {
  const raw = fixture('iperf3-udp.json');
  const r = parseIperf3(raw).metrics;
  const recv = JSON.parse(raw).end.sum_received;
  assert.equal(r.throughput.value, recv.bits_per_second / 1e9);
  assert.deepEqual(r.loss, { value: (recv.lost_packets / recv.packets) * 100, unit: '%', better: 'lower' });
  assert.deepEqual(r.jitter, { value: recv.jitter_ms, unit: 'ms', better: 'lower' });
  assert.equal(r.packetRate.value, (recv.packets - recv.lost_packets) / recv.seconds / 1e3);
  assert.equal(r.retransmits, undefined, 'UDP has no retransmits');
  assert.equal(parseIperf3(raw).warnings, undefined, 'for UDP -b is the offered load, not a cap');
});

test('iperf3 64-byte UDP: the packet rate is what arrived, the sent rate what was offered', () => {
  const r = parseIperf3(fixture('iperf3-udp-64b.json')).metrics;
  assert.equal(Math.round(r.sentPacketRate.value), 140);
  assert.equal(Math.round(r.packetRate.value), 131);
  assert.equal(r.packetRate.unit, 'kpacket/s');
  assert.ok(Math.abs(r.loss.value - 6.0811) < 1e-3);
});

test('iperf3: a result at the bandwidth cap carries a warning; UDP at its offered load does not', () => {
  const capped = parseIperf3(fixture('iperf3-tcp-capped.json'));
  assert.equal(capped.warnings?.length, 1);
  assert.match(capped.warnings![0], /sits at the bandwidth cap of 0\.200 Gbit\/s/);
  assert.equal(parseIperf3(fixture('iperf3-tcp.json')).warnings, undefined, 'no cap');
});

test('iperf3 parallel and reverse: summed streams; in reverse the server sends and retransmits', () => {
  const par = JSON.parse(fixture('iperf3-tcp-4streams.json'));
  assert.equal(par.end.streams.length, 4);
  assert.equal(parseIperf3(fixture('iperf3-tcp-4streams.json')).metrics.throughput.value, par.end.sum_received.bits_per_second / 1e9);
  const rawRev = fixture('iperf3-tcp-reverse.json');
  const rev = JSON.parse(rawRev);
  const m = parseIperf3(rawRev).metrics;
  assert.equal(m.retransmits.value, rev.end.sum_sent.retransmits);
  assert.equal(m.senderCpu.value, rev.end.cpu_utilization_percent.remote_total, 'the sender is the remote end in reverse mode');
  assert.equal(m.receiverCpu.value, rev.end.cpu_utilization_percent.host_total);
});

test('ping: percentiles of the per-reply times', () => {
  const r = parsePing(fixture('ping-20.txt'));
  const times = [...fixture('ping-20.txt').matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
  assert.equal(times.length, 20);
  assert.equal(r.metrics.rttP50.value, (times[9] + times[10]) / 2);
  assert.ok(r.metrics.rttP90.value >= r.metrics.rttP50.value && r.metrics.rttP99.value <= times[19]);
  assert.equal(r.metrics.rttP99.unit, 'ms');
  assert.equal(parsePing(fixture('ping-all-lost.txt')).metrics.rttP50, undefined, 'no percentile without replies');
});

test('traceroute: hop count through the model host and direct; no answer and no route are errors', () => {
  assert.deepEqual(parseTraceroute(fixture('traceroute-model.txt')).metrics, {
    hops: { value: 2, unit: 'hops', better: 'lower' }, lastHopRtt: { value: 0.023, unit: 'ms', better: 'lower' },
  });
  assert.equal(parseTraceroute(fixture('traceroute-direct.txt')).metrics.hops.value, 1);
  assert.throws(() => parseTraceroute(fixture('traceroute-silent.txt')), /198\.18\.2\.2 did not answer within 3 hops \(\* \* \*\)/);
  assert.throws(() => parseTraceroute(fixture('traceroute-unreachable.txt')), /did not answer within 0 hops \(no hop lines\)/);
});

test('nuttcp: -fparse summary of TCP and UDP; a refused connection names its error', () => {
  assert.deepEqual(parseNuttcp(fixture('nuttcp-tcp.txt')).metrics, {
    throughput: { value: 15.2509153, unit: 'Gbit/s', better: 'higher' },
    senderCpu: { value: 43, unit: '%', better: 'lower' },
    receiverCpu: { value: 41, unit: '%', better: 'lower' },
    retransmits: { value: 0, unit: 'segments', better: 'lower' },
    rtt: { value: 0.12, unit: 'ms', better: 'lower' },
  });
  const udp = parseNuttcp(fixture('nuttcp-udp.txt')).metrics;
  assert.equal(udp.loss.value, 22.15847);
  assert.equal(udp.retransmits, undefined);
  assert.throws(() => parseNuttcp(fixture('nuttcp-refused.txt')), /nuttcp: connect: Connection refused/);
});

test('sockperf: round-trip average, percentiles, extremes and message rate in µs, colour codes stripped', () => {
  const m = parseSockperf(fixture('sockperf-pingpong.txt')).metrics;
  assert.deepEqual(m.rttAvg, { value: 80.249, unit: 'µs', better: 'lower' });
  assert.equal(m.rttStdev.value, 680.202);
  assert.deepEqual(Object.keys(m).filter((k) => k.startsWith('rttP')), ['rttP99_999', 'rttP99_99', 'rttP99_9', 'rttP99', 'rttP90', 'rttP75', 'rttP50', 'rttP25']);
  assert.equal(m.rttP50.value, 23.593);
  assert.equal(m.rttP99.value, 2231.361);
  assert.equal(m.rttMin.value, 19.206);
  assert.equal(m.rttMax.value, 41274.157);
  assert.equal(m.messageRate.value, 6795 / 0.546 / 1e3);
  assert.equal(m.dropped.value, 0);
  assert.throws(() => parseSockperf(fixture('sockperf-noserver.txt')), /sockperf: No messages were received from the server\. Is the server down\?/);
});

test('netperf: TCP_RR key=value latencies and transaction rate (captured with netperf 2.7.1 built from source)', () => {
  const m = parseNetperf(fixture('netperf-tcp-rr.txt')).metrics;
  assert.deepEqual(m.rttP50, { value: 22, unit: 'µs', better: 'lower' });
  assert.equal(m.rttAvg.value, 116.81);
  assert.equal(m.rttP99.value, 1000);
  assert.deepEqual(m.transactionRate, { value: 8543.322, unit: 'transaction/s', better: 'higher' });
  assert.equal(Object.keys(m).length, 8);
  assert.throws(() => parseNetperf(fixture('netperf-refused.txt')), /netperf: establish control: are you sure there is a netserver listening on 198\.18\.2\.2 at port 12865\?/);
});

test('redis-benchmark: rate and latencies per test from --csv; a wrong password is named', () => {
  const m = parseRedisBenchmark(fixture('redis-benchmark.csv')).metrics;
  assert.deepEqual(m.setRate, { value: 17123.29, unit: 'request/s', better: 'higher' });
  assert.deepEqual(m.getLatencyP99, { value: 5.775, unit: 'ms', better: 'lower' });
  assert.equal(m.getLatencyP50.value, 0.239);
  assert.equal(m.setLatencyAvg.value, 0.437);
  assert.equal(Object.keys(m).length, 8);
  assert.throws(() => parseRedisBenchmark(fixture('redis-benchmark-badauth.csv')), /redis-benchmark: WRONGPASS invalid username-password pair/);
});

test('sysbench: oltp_read_write, cpu and memory reports; a refused connection is the error', () => {
  const oltp = parseSysbench(fixture('sysbench-oltp.txt')).metrics;
  assert.deepEqual(oltp.transactionRate, { value: 216.01, unit: 'transaction/s', better: 'higher' });
  assert.equal(oltp.queryRate.value, 4320.16);
  assert.equal(oltp.errors.value, 0);
  assert.equal(oltp.reconnects.value, 0);
  assert.deepEqual([oltp.latencyAvg.value, oltp.latencyP95.value], [9.22, 16.12]);
  const cpu = parseSysbench(fixture('sysbench-cpu.txt')).metrics;
  assert.deepEqual(cpu.eventRate, { value: 2078.11, unit: 'event/s', better: 'higher' });
  assert.deepEqual([cpu.latencyAvg.value, cpu.latencyP95.value], [0.48, 0.38]);
  const mem = parseSysbench(fixture('sysbench-memory.txt')).metrics;
  assert.deepEqual(mem.bandwidth, { value: 9323.37, unit: 'MiB/s', better: 'higher' });
  assert.equal(mem.transactionRate, undefined);
  assert.throws(() => parseSysbench(fixture('sysbench-oltp-denied.txt')), /sysbench: unable to connect to MySQL server on host '198\.18\.2\.2', port 3306, aborting\.\.\.; error 1130: Host '198\.18\.2\.2' is not allowed/);
});

test('fio: IOPS, bandwidth and completion latency per direction from JSON; a bad option is the error', () => {
  const raw = fixture('fio-randrw.json');
  const job = JSON.parse(raw).jobs[0];
  const m = parseFio(raw).metrics;
  assert.deepEqual(m.readIops, { value: job.read.iops, unit: 'IO/s', better: 'higher' });
  assert.equal(m.writeBandwidth.value, job.write.bw / 1024);
  assert.equal(m.readLatencyP99.value, job.read.clat_ns.percentile['99.000000'] / 1e3);
  assert.equal(m.readLatencyAvg.unit, 'µs');
  assert.equal(m.cpu.value, job.usr_cpu + job.sys_cpu);
  assert.throws(() => parseFio(fixture('fio-bad-option.txt')), /fio: fio: failed parsing rw=bogus/);
});

test('pagefault: fault rate and time per fault from the program\'s JSON line; its usage message is the error', () => {
  const m = parsePagefault(fixture('pagefault.json')).metrics;
  assert.deepEqual(m.faultRate, { value: 98306 / 1.004606 / 1e3, unit: 'kfault/s', better: 'higher' });
  assert.ok(Math.abs(m.faultTime.value - 1.004606e9 / 98306) < 1e-6);
  assert.equal(m.faultTime.unit, 'ns/fault');
  assert.ok(Math.abs(m.faultsPerPage.value - 1) < 0.001, 'one fault per touched page');
  assert.throws(() => parsePagefault(fixture('pagefault-usage.txt')), /pagefault: output is not the program's JSON line: usage: /);
});

test('perf stat -x,: software events captured here; hardware events this machine lacks are unsupported, not 0', () => {
  const c = parsePerfStat(fixture('perf-stat-software.csv'));
  assert.deepEqual(c['context-switches'], { supported: true, value: 2574, runningPercent: 100 });
  assert.deepEqual(c.cycles, { supported: false, reason: 'not supported' });
  assert.deepEqual(Object.keys(c).sort(), [...PERF_EVENTS].sort());
  assert.deepEqual(Object.entries(c).filter(([, v]) => v.supported).map(([k]) => k), ['context-switches', 'cpu-migrations', 'page-faults']);
});

test('perf stat -x,: hardware counters in perf-stat(1)\'s CSV format, multiplexed and never-counted ones', () => {
  const c = parsePerfStat(fixture('perf-stat-hardware.csv'));
  assert.deepEqual(c.cycles, { supported: true, value: 3954012733, runningPercent: 83.31 });
  assert.deepEqual(c.instructions, { supported: true, value: 2871304112, runningPercent: 83.31 });
  assert.deepEqual(c['dTLB-load-misses'], { supported: false, reason: 'not counted' });
  assert.equal(Object.keys(c).length, 11);
  assert.throws(() => parsePerfStat('garbage'), /perf stat: unexpected line "garbage"/);
});

test('profile: derived figures per cell; a counter the machine lacks yields no figure', () => {
  const record = (counters: ProfileRecord['counters'], packets: number): ProfileRecord => ({
    scope: 'test', counters, cpu: { busyMs: 1500, softirqMs: 300, totalMs: 2000, cpus: 2 }, softirqs: { netRx: 10, netTx: 1 },
    traffic: { packets, bytes: packets * 1500 }, harness: { cpuMs: 4, perfCpuMs: 1, workbenchCpuMs: 3, sharePercent: 0.2 },
  });
  const hw = derivedMetrics(record(parsePerfStat(fixture('perf-stat-hardware.csv')), 1_000_000));
  assert.equal(hw.ipc.value, 2871304112 / 3954012733);
  assert.equal(hw.modelCyclesPerPacket.value, 3954.012733);
  assert.equal(hw.modelCpuPerPacket.value, 1.5, '1.5 s of CPU over a million packets');
  assert.equal(hw.modelCpuPerByte.value, 1.5e9 / 1.5e9);
  assert.equal(hw.contextSwitchesPer1kPackets.value, 2.574);
  assert.equal(hw.softirqShare.value, 20);
  assert.equal(hw.harnessCpuShare.value, 0.2);
  assert.equal(hw.perfLlcLoadMisses.value, 1529881);
  assert.equal(hw.perfDtlbLoadMisses, undefined, 'not counted is not 0');
  const sw = derivedMetrics(record(parsePerfStat(fixture('perf-stat-software.csv')), 1_000_000));
  assert.equal(sw.ipc, undefined);
  assert.equal(sw.modelCyclesPerPacket, undefined);
  assert.equal(sw.perfCycles, undefined);
  assert.equal(sw.perfContextSwitches.value, 2574);
  const direct = derivedMetrics(record(parsePerfStat(fixture('perf-stat-software.csv')), 12));
  assert.equal(direct.modelCpuPerPacket, undefined, 'no per-packet figure when (almost) nothing crossed the model host');
});

test('/proc/stat and /proc/softirqs as captured here', () => {
  const stat = parseProcStat(fixture('proc-stat.txt'));
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fixture('proc-stat.txt').split('\n')[0].split(/\s+/).slice(1).map(Number);
  assert.equal(stat.totalMs, (user + nice + system + idle + iowait + irq + softirq + steal) * 10);
  assert.equal(stat.busyMs, stat.totalMs - (idle + iowait) * 10);
  assert.equal(stat.softirqMs, softirq * 10);
  assert.equal(stat.cpus, 2);
  const s = parseSoftirqs(fixture('proc-softirqs.txt'));
  const row = fixture('proc-softirqs.txt').split('\n').find((l) => l.includes('NET_RX:'))!.split(/\s+/).filter(Boolean).slice(1).map(Number);
  assert.equal(s.netRx, row[0] + row[1]);
  assert.ok(s.netTx >= 0);
});

test('attribution: what changed most between direct and model and between placements, on real profiled runs', () => {
  const results = (JSON.parse(fixture('run-profiled-placements.json')) as { results: Measurement[] }).results;
  const comparisons = attribution(results);
  assert.deepEqual(comparisons.map((c) => c.label), ['direct -> model (placement none)', 'direct -> model (placement user)', 'none -> user (model mode)']);
  const median3 = (xs: number[]) => [...xs].sort((a, b) => a - b)[1];
  const cell = (mode: string, placement: string, metric: string) => median3(results.filter((m) => m.mode === mode && m.placement === placement).map((m) => m.metrics[metric].value));
  const user = comparisons[2].changes.find((c) => c.metric === 'contextSwitchesPer1kPackets')!;
  assert.equal(user.from, cell('model', 'none', 'contextSwitchesPer1kPackets'));
  assert.equal(user.to, cell('model', 'user', 'contextSwitchesPer1kPackets'));
  assert.equal(user.changePercent, ((user.to - user.from) / user.from) * 100);
  for (const c of comparisons) {
    const sizes = c.changes.map((x) => Math.abs(x.changePercent));
    assert.deepEqual(sizes, [...sizes].sort((a, b) => b - a), 'largest change first');
    assert.ok(c.changes.every((x) => x.metric !== 'harnessCpuShare' && x.metric !== 'throughput'), 'model-host figures only');
  }
  assert.equal(comparisons[0].changes.find((c) => c.metric === 'modelCpuPerPacket'), undefined, 'no per-packet figure in direct mode to compare with');
  const text = formatAttribution(comparisons, 2);
  assert.equal(text.split('\n').length, 9);
  assert.match(text, /^iperf3, none -> user \(model mode\): changed most$/m);
  const single = attribution((JSON.parse(fixture('run-profiled.json')) as { results: Measurement[] }).results);
  assert.deepEqual(single.map((c) => `${c.benchmark}: ${c.label}`), ['iperf3: direct -> model (placement none)', 'iperf3-udp64: direct -> model (placement none)']);
});
