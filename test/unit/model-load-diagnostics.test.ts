import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseModuleLoad } from '../../extension/core/model/diagnostics/module-load';
import { locateSymbol } from '../../extension/core/model/diagnostics/build-output';
import { templatesDir } from '../../extension/core/model/templates';

// Real insmod (kmod) output and kernel log lines of the kernel template in a Debian 6.1 VM, captured by
// test/fixtures/build/capture-module-load.sh.
const LOG = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'build', 'core-module-load.log'), 'utf8');
const SOURCE = '/workspace/model/kernel_space.c';

interface LoadCase { insmod: string; exit: number; kernelLog: string }

const CASES: Record<string, LoadCase> = Object.fromEntries([...LOG.matchAll(/^=== case ([\w-]+): .*\n([\s\S]*?)^--- insmod exit (\d+)\n--- kernel log\n([\s\S]*?)^=== end$/gm)]
  .map((m) => [m[1], { insmod: m[2], exit: Number(m[3]), kernelLog: m[4] }]));

function parse(name: string) {
  const c = CASES[name];
  assert.ok(c, `case ${name} was captured`);
  return parseModuleLoad(c.insmod, c.kernelLog, 'kernel_space', SOURCE, c.exit !== 0)
    .map((d) => [d.severity, d.message, d.symbol ?? null]);
}

describe('kernel module load diagnostics from real insmod output and kernel logs', () => {
  test('every case was captured', () => {
    assert.deepEqual(Object.keys(CASES), ['loads', 'already-loaded', 'init-error', 'bad-pattern', 'bad-parameter-value', 'unknown-parameter', 'unknown-symbol', 'other-layout', 'other-flavour', 'invalid-format']);
  });

  test('a successful load reports the kernel\'s notes (taint, the module\'s own message) as information', () => {
    assert.deepEqual(parse('loads'), [
      ['info', 'loading out-of-tree module taints kernel.', null],
      ['info', 'module verification failed: signature and/or required key missing - tainting kernel', null],
      ['info', 'loaded: pattern 6 bytes, action drop, flow_timeout 30s, max_flows 65536', null],
    ]);
  });

  test('an unknown parameter is ignored by the kernel: a warning', () => {
    assert.deepEqual(parse('unknown-parameter')[0], ['warning', 'The kernel ignored the unknown parameter no_such_param: the module has no such parameter.', null]);
  });

  test('init errors: the module\'s own message points at the parameter it rejects', () => {
    assert.deepEqual(parse('init-error'), [
      ['error', 'action: expected drop or accept', 'action'],
      ['error', 'insmod failed: Invalid parameters: the kernel rejected a module parameter (see the messages about parameters).', null],
    ]);
    assert.deepEqual(parse('bad-pattern')[0], ['error', 'pattern: not a hex string', 'pattern']);
    assert.deepEqual(parse('bad-parameter-value')[0], ['error', "`abc' invalid for parameter `flow_timeout'", 'flow_timeout']);
  });

  test('an unknown symbol names the symbol', () => {
    assert.deepEqual(parse('unknown-symbol'), [
      ['error', 'Unknown symbol hs_not_exported_anywhere (err -2): the kernel does not export this symbol to modules, or no module loaded before provides it', 'hs_not_exported_anywhere'],
      ['error', 'insmod failed: Unknown symbol in module: the module uses symbols this kernel does not export to it (see the unknown symbols).', null],
    ]);
  });

  test('a module built for another kernel (another flavour of the same release, too): symbol version mismatch and invalid format', () => {
    assert.deepEqual(parse('other-flavour'), parse('other-layout'));
    assert.deepEqual(parse('other-layout'), [
      ['error', 'The module and the kernel disagree about the version of symbol module_layout: it was built against the headers of another kernel; rebuild it against the headers of the model host\'s kernel.', null],
      ['error', 'insmod failed: Invalid module format: the module was built for another kernel release or architecture: rebuild it against the headers of the model host\'s kernel.', null],
    ]);
    assert.deepEqual(parse('invalid-format'), [
      ['error', 'Invalid ELF section header overflow', null],
      ['error', 'insmod failed: Invalid module format: the module was built for another kernel release or architecture: rebuild it against the headers of the model host\'s kernel.', null],
    ]);
  });

  test('a second load: the insmod error points at module_init', () => {
    assert.deepEqual(parse('already-loaded'), [['error', 'insmod failed: File exists: a module with this name is already loaded: undeploy it first.', 'module_init']]);
  });

  test('named symbols and parameters are found in the template source', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-load-'));
    try {
      const source = path.join(dir, 'kernel_space.c');
      fs.copyFileSync(path.join(templatesDir(), 'kernel_space.c'), source);
      const lines = fs.readFileSync(source, 'utf8').split('\n');
      const c = CASES['init-error'];
      const [action, insmod] = parseModuleLoad(c.insmod, c.kernelLog, 'kernel_space', source, true).map((d) => locateSymbol(d, dir));
      assert.match(lines[action.line - 1], /\baction\b/);
      assert.doesNotMatch(lines[action.line - 1], /^\s*(\/\/|\/\*|\*)/, 'not a comment line');
      assert.equal(insmod.line, 1, 'no symbol: the start of the file');
      const again = CASES['already-loaded'];
      const [exists] = parseModuleLoad(again.insmod, again.kernelLog, 'kernel_space', source, true).map((d) => locateSymbol(d, dir));
      assert.match(lines[exists.line - 1], /^module_init\(/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
