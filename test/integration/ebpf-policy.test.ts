// The eBPF template's example policy, run by the kernel on crafted packets (BPF_PROG_TEST_RUN through bpftool): where
// in the payload the pattern is found, where the scan window ends, and how a blocked flow stays blocked.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { scaffoldModel } from '../../extension/core/model/scaffold';

const PATTERN = Buffer.from('HSDROP');
const SCAN_BYTES = 256; // HS_SCAN_BYTES of ebpf_model.c
const TC_ACT_OK = 0;
const TC_ACT_SHOT = 2;

interface Segment { sport: number; dport?: number; payload: Buffer; proto?: 'udp' | 'tcp'; reply?: boolean }

/** An Ethernet + IPv4 + UDP or TCP packet from 10.0.0.1:sport to 10.0.0.2:dport, or back when `reply`. */
function packet({ sport, dport = 2000, payload, proto = 'udp', reply = false }: Segment): Buffer {
  const l4 = Buffer.alloc(proto === 'udp' ? 8 : 20);
  l4.writeUInt16BE(reply ? dport : sport, 0);
  l4.writeUInt16BE(reply ? sport : dport, 2);
  if (proto === 'udp') l4.writeUInt16BE(8 + payload.length, 4);
  else l4.writeUInt8(5 << 4, 12); // data offset: 5 words
  const ip = Buffer.alloc(20);
  ip.writeUInt8(0x45, 0);
  ip.writeUInt16BE(20 + l4.length + payload.length, 2);
  ip.writeUInt8(64, 8);
  ip.writeUInt8(proto === 'udp' ? 17 : 6, 9);
  Buffer.from(reply ? [10, 0, 0, 2, 10, 0, 0, 1] : [10, 0, 0, 1, 10, 0, 0, 2]).copy(ip, 12);
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  return Buffer.concat([eth, ip, l4, payload]);
}

/** Filler bytes with the pattern at offset `at`; the filler holds the pattern's first byte often, as a decoy. */
function payloadWith(at: number, length = 400): Buffer {
  const p = Buffer.alloc(length);
  for (let i = 0; i < length; i++) p[i] = i % 5 === 0 ? PATTERN[0] : 0x61 + (i % 26);
  PATTERN.copy(p, at);
  return p;
}

describe('the eBPF template policy, run by the kernel on crafted packets', () => {
  let dir: string;
  let object: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-ebpf-policy-'));
    object = path.join(scaffoldModel(path.join(dir, 'model'), 'ebpf').dir, 'build', 'ebpf_model.o');
    execFileSync('make', ['-s', '-C', path.dirname(path.dirname(object)), 'ebpf'], { encoding: 'utf8' });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Loads the program once in a private mount namespace (its pinned maps go with it) and runs it on each packet. */
  function verdicts(packets: Buffer[], action: 'drop' | 'accept' = 'drop'): number[] {
    const files = packets.map((p, i) => { const f = path.join(dir, `packet-${i}`); fs.writeFileSync(f, p); return f; });
    const config = Buffer.alloc(80);
    config.writeUInt32LE(PATTERN.length, 0);
    config.writeUInt32LE(action === 'drop' ? 0 : 1, 4);
    PATTERN.copy(config, 16);
    const script = `set -e
mount -t bpf bpf /sys/fs/bpf
bpftool prog load "$1" /sys/fs/bpf/prog type classifier
bpftool map update pinned /sys/fs/bpf/hs_config key hex 00 00 00 00 value hex $2
shift 2
for f in "$@"; do bpftool -j prog run pinned /sys/fs/bpf/prog data_in "$f" repeat 1; echo; done`;
    const hex = [...config].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const out = execFileSync('unshare', ['--mount', 'sh', '-c', script, 'hs-run', object, hex, ...files], { encoding: 'utf8' });
    return out.split('\n').filter((l) => l.trim()).map((l) => (JSON.parse(l) as { retval: number }).retval);
  }

  test('finds the pattern at every offset where it fits in the scanned bytes, and nowhere past them', () => {
    const last = SCAN_BYTES - PATTERN.length;
    const offsets = [0, 1, 2, 3, 5, 6, 7, 8, 9, 15, 16, 100, 247, 248, last, last + 1, last + 2, 300];
    const got = verdicts(offsets.map((at, i) => packet({ sport: 10_000 + i, payload: payloadWith(at) })));
    assert.deepEqual(got, offsets.map((at) => (at <= last ? TC_ACT_SHOT : TC_ACT_OK)), `offsets ${offsets.join(' ')}`);
  });

  test('a short payload matches only when it holds the whole pattern; near misses and empty segments pass', () => {
    const cases: Array<[Buffer, number]> = [
      [PATTERN, TC_ACT_SHOT],
      [Buffer.from('xHSDROPx'), TC_ACT_SHOT],
      [Buffer.from('HHSDROP'), TC_ACT_SHOT],
      [Buffer.from('HSDRO'), TC_ACT_OK],
      [Buffer.from('HSDROQ HSDRO'), TC_ACT_OK],
      [Buffer.alloc(0), TC_ACT_OK],
    ];
    assert.deepEqual(verdicts(cases.map(([p], i) => packet({ sport: 20_000 + i, payload: p }))), cases.map(([, v]) => v));
  });

  test('a flow that carried the pattern stays blocked both ways; other flows pass; action accept only counts', () => {
    const clean = Buffer.from('hello');
    const tcp = (payload: Buffer, reply = false) => packet({ sport: 30_000, payload, proto: 'tcp', reply });
    const flow = [tcp(clean), tcp(PATTERN), tcp(clean), tcp(Buffer.alloc(0), true), packet({ sport: 30_001, payload: clean })];
    assert.deepEqual(verdicts(flow), [TC_ACT_OK, TC_ACT_SHOT, TC_ACT_SHOT, TC_ACT_SHOT, TC_ACT_OK]);
    assert.deepEqual(verdicts(flow, 'accept'), [TC_ACT_OK, TC_ACT_OK, TC_ACT_OK, TC_ACT_OK, TC_ACT_OK]);
  });
});
