// The conformance corpus (corpus.json): crafted packets and the verdicts and counters the example policy defines for
// them, the same for every placement. This module reads it, builds each packet's Ethernet frame, and compares what a
// placement did with what the corpus expects. How a placement is driven lives in a runner (runner.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import type { ModelConfig, ModelCounters } from '../../extension/core/model/deploy/model-host';

export type Verdict = 'pass' | 'drop';
export type Expect = Verdict | 'ignored';
export type PolicyConfig = Pick<ModelConfig, 'pattern' | 'action' | 'flowTimeoutS' | 'windowBytes' | 'maxFlows'>;

type Payload = string | { decoy: number; at: Array<[number, string]> } | { random: number; seed: number };

export interface PacketSpec {
  from?: 'client' | 'server';
  l4: 'udp' | 'tcp' | 'icmp';
  sport?: number;
  dport?: number;
  payload: Payload;
  expect: Expect;
  waitMs?: number;
  ipOptions?: number;
  tcpOptions?: number;
  ihl?: number;
  ipVersion?: number;
  ipTotalLength?: number;
  tcpDataOffset?: number;
  l4HeaderBytes?: number;
  trailer?: string;
  fragment?: { offset: number; more: boolean };
  link?: 'ipv6' | 'vlan';
}

/** The counters the corpus states, by their name in the templates' stats. */
export const COUNTER_NAMES = ['packets', 'bytes', 'accepted', 'dropped', 'pattern_matches', 'flows_created', 'flows_expired', 'flows_table_full'] as const;
export type Counters = Record<(typeof COUNTER_NAMES)[number], number>;

export interface CaseSpec {
  name: string;
  config?: Partial<PolicyConfig>;
  packets: PacketSpec[];
  counters: Partial<Counters>;
}

export interface Corpus {
  policy: PolicyConfig;
  cases: CaseSpec[];
}

/** Reads and validates the corpus (default: corpus.json next to this file). */
export function loadCorpus(file = path.join(__dirname, 'corpus.json')): Corpus {
  const data: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
  const schema = JSON.parse(fs.readFileSync(path.join(__dirname, 'corpus.schema.json'), 'utf8')) as object;
  const validate = new Ajv({ allErrors: true }).compile(schema);
  if (!validate(data)) throw new Error(`${file} does not match corpus.schema.json: ${validate.errors!.map((e) => `${e.instancePath} ${e.message}`).join('; ')}`);
  return data as Corpus;
}

export function caseConfig(corpus: Corpus, c: CaseSpec): PolicyConfig {
  return { ...corpus.policy, ...c.config };
}

/** Where a case's packets go: the two ends' IPv4 addresses (and, for runners that send real frames, MACs). */
export interface Endpoints {
  client: string;
  server: string;
}

/** A packet ready to send: the frame, the IP id that identifies it on the wire, and what the policy must do. */
export interface BuiltPacket {
  spec: PacketSpec;
  frame: Buffer;
  ipId: number;
  /** The IP total length the policy counts in `bytes` (0 for ignored packets). */
  ipLength: number;
}

const ipBytes = (a: string) => Buffer.from(a.split('.').map(Number));

function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length % 2) sum += b[b.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** xorshift32: the same bytes for the same seed on every machine. */
function randomBytes(n: number, seed: number, pattern: Buffer): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  for (let at = b.indexOf(pattern); pattern.length && at >= 0; at = b.indexOf(pattern, at)) b[at] ^= 0xff;
  return b;
}

export function payloadBytes(p: Payload, pattern: Buffer): Buffer {
  if (typeof p === 'string') return Buffer.from(p, 'latin1');
  if ('random' in p) return randomBytes(p.random, p.seed, pattern);
  // Lower-case letters, and an 'H' every fifth byte: the scan meets the pattern's first byte often.
  const b = Buffer.alloc(p.decoy);
  for (let i = 0; i < b.length; i++) b[i] = i % 5 === 0 ? 0x48 : 0x61 + (i % 26);
  for (const [at, text] of p.at) Buffer.from(text, 'latin1').copy(b, at);
  return b;
}

function l4Segment(s: PacketSpec, payload: Buffer, sport: number, dport: number): Buffer {
  if (s.l4 === 'icmp') {
    const h = Buffer.alloc(8);
    h[0] = 8; // echo request
    h.writeUInt16BE(0x4853, 4);
    h.writeUInt16BE(1, 6);
    const seg = Buffer.concat([h, payload]);
    seg.writeUInt16BE(checksum(seg), 2);
    return seg;
  }
  if (s.l4 === 'udp') {
    const h = Buffer.alloc(8);
    h.writeUInt16BE(sport, 0);
    h.writeUInt16BE(dport, 2);
    h.writeUInt16BE(8 + payload.length, 4);
    return s.l4HeaderBytes !== undefined ? h.subarray(0, s.l4HeaderBytes) : Buffer.concat([h, payload]);
  }
  const options = s.tcpOptions ?? 0;
  const h = Buffer.alloc(20 + options, 0x01); // NOP options
  h.fill(0, 0, 20);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(1000, 4);
  h.writeUInt32BE(1, 8);
  h[12] = (s.tcpDataOffset ?? (20 + options) / 4) << 4;
  h[13] = 0x18; // PSH, ACK
  h.writeUInt16BE(64_000, 14);
  return s.l4HeaderBytes !== undefined ? h.subarray(0, s.l4HeaderBytes) : Buffer.concat([h, payload]);
}

/** The Ethernet frame of one packet spec. MACs are zero: runners that send frames fill them in. */
export function buildPacket(s: PacketSpec, ipId: number, ends: Endpoints, pattern: Buffer): BuiltPacket {
  const fromServer = s.from === 'server';
  const [src, dst] = fromServer ? [ends.server, ends.client] : [ends.client, ends.server];
  const payload = payloadBytes(s.payload, pattern);
  const nonFirstFragment = (s.fragment?.offset ?? 0) > 0;
  const l4 = nonFirstFragment ? payload : l4Segment(s, payload, s.sport ?? 0, s.dport ?? 0);
  const proto = { icmp: 1, tcp: 6, udp: 17 }[s.l4];

  if (s.link === 'ipv6') {
    const ip6 = Buffer.alloc(40);
    ip6[0] = 0x60;
    ip6.writeUInt16BE(l4.length, 4);
    ip6[6] = proto;
    ip6[7] = 64;
    ip6[8] = 0xfd; ip6[23] = 1; // fd00::1 -> fd00::2
    ip6[24] = 0xfd; ip6[39] = 2;
    const eth = Buffer.alloc(14);
    eth.writeUInt16BE(0x86dd, 12);
    return { spec: s, frame: Buffer.concat([eth, ip6, l4]), ipId, ipLength: 0 };
  }
  const options = s.ipOptions ?? 0;
  const ip = Buffer.alloc(20 + options, 0x01); // NOP options
  ip.fill(0, 0, 20);
  const realLength = ip.length + l4.length;
  ip[0] = ((s.ipVersion ?? 4) << 4) | (s.ihl ?? ip.length / 4);
  ip.writeUInt16BE(s.ipTotalLength ?? realLength, 2);
  ip.writeUInt16BE(ipId, 4);
  ip.writeUInt16BE((s.fragment?.more ? 0x2000 : 0) | (s.fragment?.offset ?? 0), 6);
  ip[8] = 64;
  ip[9] = proto;
  ipBytes(src).copy(ip, 12);
  ipBytes(dst).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  const eth = Buffer.alloc(s.link === 'vlan' ? 18 : 14);
  if (s.link === 'vlan') {
    eth.writeUInt16BE(0x8100, 12);
    eth.writeUInt16BE(100, 14);
  }
  eth.writeUInt16BE(0x0800, eth.length - 2);
  const trailer = Buffer.from(s.trailer ?? '', 'latin1');
  return { spec: s, frame: Buffer.concat([eth, ip, l4, trailer]), ipId, ipLength: s.expect === 'ignored' ? 0 : realLength };
}

/** The frames of one case; ids 1, 2, ... in order. */
export function buildCase(corpus: Corpus, c: CaseSpec, ends: Endpoints): BuiltPacket[] {
  const pattern = Buffer.from(caseConfig(corpus, c).pattern, 'hex');
  return c.packets.map((p, i) => buildPacket(p, i + 1, ends, pattern));
}

/** What a placement did with one case. A verdict is undefined where the runner cannot observe it (see runner.ts). */
export interface CaseOutcome {
  verdicts: Array<Verdict | undefined>;
  counters: Counters;
}

export function countersOf(c: ModelCounters): Counters {
  return {
    packets: c.packets, bytes: c.bytes, accepted: c.accepted, dropped: c.dropped, pattern_matches: c.patternMatches,
    flows_created: c.flowsCreated, flows_expired: c.flowsExpired, flows_table_full: c.flowsTableFull,
  };
}

export function expectedCounters(c: CaseSpec, packets: BuiltPacket[]): Counters {
  const all = Object.fromEntries(COUNTER_NAMES.map((n) => [n, c.counters[n] ?? 0])) as Counters;
  all.bytes = packets.reduce((sum, p) => sum + p.ipLength, 0);
  return all;
}

/**
 * Every difference between an outcome and the corpus, one line each (empty: the placement conforms). An ignored
 * packet must pass where the runner sees verdicts; where it cannot, the counters still show whether the policy saw it.
 */
export function differences(c: CaseSpec, packets: BuiltPacket[], outcome: CaseOutcome): string[] {
  const diffs: string[] = [];
  packets.forEach((p, i) => {
    const want = p.spec.expect === 'ignored' ? 'pass' : p.spec.expect;
    const got = outcome.verdicts[i];
    if (got === undefined && p.spec.expect === 'ignored') return;
    if (got !== want) diffs.push(`packet ${i + 1} (${p.spec.l4} ${JSON.stringify(p.spec.payload).slice(0, 40)}): expected ${want}, got ${got ?? 'nothing observed'}`);
  });
  const want = expectedCounters(c, packets);
  for (const n of COUNTER_NAMES) {
    if (outcome.counters[n] !== want[n]) diffs.push(`counter ${n}: expected ${want[n]}, got ${outcome.counters[n]}`);
  }
  return diffs;
}
