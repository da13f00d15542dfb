// The eBPF template's example policy, run by the kernel on crafted packets (BPF_PROG_TEST_RUN through bpftool): where
// in the payload the pattern is found, where the scan window ends, and how a blocked flow stays blocked. On this
// machine's kernel, and on Debian 12's 6.1 (in a VM), whose verifier is stricter.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { scaffoldModel } from '../../extension/core/model/scaffold';
import { runInDebianKernel } from '../helpers/debian-kernel-vm';

const PATTERN = Buffer.from('HSDROP');
const SCAN_BYTES = 256; // the default window of every template
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

interface PolicyCase {
  title: string;
  packets: Buffer[];
  action: 'drop' | 'accept';
  expected: number[];
}

const LAST = SCAN_BYTES - PATTERN.length;
const OFFSETS = [0, 1, 2, 3, 5, 6, 7, 8, 9, 15, 16, 17, 100, 239, 240, 247, 248, LAST, LAST + 1, LAST + 2, 300];
const SHORT: Array<[Buffer, number]> = [
  [PATTERN, TC_ACT_SHOT],
  [Buffer.from('xHSDROPx'), TC_ACT_SHOT],
  [Buffer.from('HHSDROP'), TC_ACT_SHOT],
  [Buffer.from('HSDRO'), TC_ACT_OK],
  [Buffer.from('HSDROQ HSDRO'), TC_ACT_OK],
  [Buffer.alloc(0), TC_ACT_OK],
];
const clean = Buffer.from('hello');
const tcp = (payload: Buffer, reply = false) => packet({ sport: 30_000, payload, proto: 'tcp', reply });
const FLOW = [tcp(clean), tcp(PATTERN), tcp(clean), tcp(Buffer.alloc(0), true), packet({ sport: 30_001, payload: clean })];

const CASES: PolicyCase[] = [
  {
    title: 'finds the pattern at every offset where it fits in the scanned bytes, and nowhere past them',
    packets: OFFSETS.map((at, i) => packet({ sport: 10_000 + i, payload: payloadWith(at) })),
    action: 'drop',
    expected: OFFSETS.map((at) => (at <= LAST ? TC_ACT_SHOT : TC_ACT_OK)),
  },
  {
    title: 'a short payload matches only when it holds the whole pattern; near misses and empty segments pass',
    packets: SHORT.map(([p], i) => packet({ sport: 20_000 + i, payload: p })),
    action: 'drop',
    expected: SHORT.map(([, v]) => v),
  },
  {
    title: 'a flow that carried the pattern stays blocked both ways; other flows pass',
    packets: FLOW,
    action: 'drop',
    expected: [TC_ACT_OK, TC_ACT_SHOT, TC_ACT_SHOT, TC_ACT_SHOT, TC_ACT_OK],
  },
  {
    title: 'with action accept, a match only counts',
    packets: FLOW,
    action: 'accept',
    expected: FLOW.map(() => TC_ACT_OK),
  },
];

/** struct hs_config of ebpf_model.c as bpftool's hex bytes. */
function configHex(action: 'drop' | 'accept'): string {
  const config = Buffer.alloc(84);
  config.writeUInt32LE(PATTERN.length, 0);
  config.writeUInt32LE(action === 'drop' ? 0 : 1, 4);
  PATTERN.copy(config, 16);
  return [...config].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/**
 * Arguments: OBJECT then groups "CONFIG PACKET... --". Each group loads the program afresh (new maps, so no flow
 * state carries over), writes its config and prints one JSON line per packet, then "=== group end".
 */
const POLICY_SCRIPT = `set -e
obj=$1; shift
while [ $# -gt 0 ]; do
  cfg=$1; shift
  rm -f /sys/fs/bpf/prog /sys/fs/bpf/hs_config /sys/fs/bpf/hs_counters /sys/fs/bpf/hs_flows /sys/fs/bpf/hs_table
  bpftool prog load "$obj" /sys/fs/bpf/prog type classifier
  bpftool map update pinned /sys/fs/bpf/hs_config key hex 00 00 00 00 value hex $cfg
  while [ $# -gt 0 ] && [ "$1" != -- ]; do bpftool -j prog run pinned /sys/fs/bpf/prog data_in "$1" repeat 1; echo; shift; done
  echo "=== group end"
  if [ $# -gt 0 ]; then shift; fi
done`;

/** Writes the packets of cases under dir and returns the script's arguments, with paths as seen from `at`. */
function policyArgs(dir: string, cases: PolicyCase[], object: string, at: (file: string) => string): string[] {
  const args = [at(object)];
  cases.forEach((c, i) => {
    args.push(configHex(c.action));
    c.packets.forEach((p, j) => { const f = path.join(dir, `case${i}-packet${j}`); fs.writeFileSync(f, p); args.push(at(f)); });
    args.push('--');
  });
  return args;
}

/** The verdicts of each group, from the script's output. */
function parseVerdicts(out: string): number[][] {
  return out.split('=== group end').slice(0, -1).map((group) =>
    group.split('\n').filter((l) => l.trim().startsWith('{')).map((l) => (JSON.parse(l) as { retval: number }).retval));
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

  for (const c of CASES) {
    test(c.title, () => {
      // A private mount namespace: the program's pins (and bpffs) go with it.
      const out = execFileSync('unshare', ['--mount', 'sh', '-c', `mount -t bpf bpf /sys/fs/bpf\n${POLICY_SCRIPT}`, 'hs-policy', ...policyArgs(dir, [c], object, (f) => f)], { encoding: 'utf8' });
      assert.deepEqual(parseVerdicts(out), [c.expected]);
    });
  }

  test('the verifier of Debian 12\'s kernel (6.1) accepts the program, and it decides the same there', () => {
    const files: Record<string, string> = {};
    const args = policyArgs(dir, CASES, object, (f) => { files[path.basename(f)] = f; return `/m/${path.basename(f)}`; });
    const out = runInDebianKernel(files, `set -- ${args.map((a) => `'${a}'`).join(' ')}\n${POLICY_SCRIPT}`);
    assert.deepEqual(parseVerdicts(out), CASES.map((c) => c.expected), out);
  });
});
