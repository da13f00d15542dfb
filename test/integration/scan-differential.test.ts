// Each template's own payload-scan code against a plain reference (memmem over the window) on a million random
// payloads: small alphabets so near misses and overlaps are common, the pattern often planted at the window's edge,
// windows from 1 to 1024 bytes. A false positive fails the test exactly like a miss. test/conformance/scan-harness.c
// compiles the templates' code unchanged (the kernel's scan is cut out of kernel_space.c, whose headers only build in
// a kernel tree).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const TEMPLATES = path.join(__dirname, '..', '..', 'native-templates', 'model');
const HARNESS = path.join(__dirname, '..', 'conformance', 'scan-harness.c');
const PAYLOADS = 1_000_000;

interface Tally { false_positives: number; misses: number }
interface Result { payloads: number; matches: number; ebpf: Tally; user: Tally; kernel: Tally; first_failure: string }

/** The text of the top-level C function `name` in source, from its signature to its closing brace. */
/** A path as a C string literal: given bare, its words (`main`, `linux`) would be expanded as macros. */
function cString(file: string): string {
  return JSON.stringify(file);
}

function cFunction(source: string, name: string): string {
  const m = new RegExp(`^static [^\\n]*\\b${name}\\([\\s\\S]*?\\n}\\n`, 'm').exec(source);
  if (!m) throw new Error(`kernel_space.c has no function ${name}(): the differential test must be told where the scan went.`);
  return m[0];
}

describe('every template\'s scan agrees with memmem over the window', () => {
  let dir: string;
  let harness: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-scan-'));
    const kernel = fs.readFileSync(path.join(TEMPLATES, 'kernel_space.c'), 'utf8');
    const kernelScan = path.join(dir, 'kernel-scan.c');
    fs.writeFileSync(kernelScan, `${cFunction(kernel, 'hs_contains')}\n${cFunction(kernel, 'hs_payload_matches')}`);
    const arch = execFileSync('cc', ['-print-multiarch'], { encoding: 'utf8' }).trim();
    const flags = ['-O2', '-Wall', '-Werror', '-Wno-unused-function', `-I${TEMPLATES}`, `-I/usr/include/${arch}`];
    const parts: Record<string, string> = {
      ebpf: `-DHS_EBPF_SOURCE=${cString(path.join(TEMPLATES, 'ebpf_model.c'))}`,
      user: `-DHS_USER_SOURCE=${cString(path.join(TEMPLATES, 'user_space_model.c'))}`,
      kernel: `-DHS_KERNEL_SCAN=${cString(kernelScan)}`,
      main: '-DHS_MAIN',
    };
    const objects = Object.entries(parts).map(([name, define]) => {
      const object = path.join(dir, `${name}.o`);
      execFileSync('clang', [...flags, define, '-c', HARNESS, '-o', object]);
      return object;
    });
    harness = path.join(dir, 'scan-harness');
    execFileSync('clang', ['-O2', `-I${TEMPLATES}`, '-o', harness, ...objects, path.join(TEMPLATES, 'packet_queue.c'), '-lnetfilter_queue', '-lmnl', '-pthread']);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test(`${PAYLOADS.toLocaleString('en')} random payloads: no false positive and no miss in any placement`, () => {
    let out: string;
    try {
      out = execFileSync(harness, [String(PAYLOADS), '20261130'], { encoding: 'utf8' });
    } catch (err) {
      out = (err as { stdout?: string }).stdout ?? '';
      if (!out) throw err;
    }
    const r = JSON.parse(out) as Result;
    assert.equal(r.payloads, PAYLOADS);
    assert.ok(r.matches > PAYLOADS / 5 && r.matches < PAYLOADS * 0.8, `the payloads mix matches and non-matches: ${r.matches}`);
    const clean = { false_positives: 0, misses: 0 };
    assert.deepEqual({ ebpf: r.ebpf, user: r.user, kernel: r.kernel }, { ebpf: clean, user: clean, kernel: clean }, r.first_failure);
  });
});
