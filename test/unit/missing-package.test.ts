// Builds that fail for a missing library name the Debian package, on real output captured by
// test/fixtures/build/capture-missing-packages.sh (template copies that use libpcap, without libpcap-dev installed).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseBuildOutput, type Toolchain } from '../../extension/core/model/diagnostics/build-output';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'build');

function diagnose(name: string, toolchain: Toolchain, modelDir = '/workspace/model') {
  const log = fs.readFileSync(path.join(FIXTURES, `missing-${name}.log`), 'utf8');
  const buildDir = fs.readFileSync(path.join(FIXTURES, `missing-${name}.meta`), 'utf8').trim().replace(/^dir:/, '');
  return parseBuildOutput(log, { modelDir, buildDir, cwd: buildDir }, toolchain, false, toolchain === 'clang' ? 'clang' : 'gcc');
}

describe('a build that lacks a library says which Debian package provides it', () => {
  test('gcc: a missing header, at the #include', () => {
    assert.deepEqual(diagnose('user-header', 'gcc'), [{
      file: '/workspace/model/user_space_model.c', line: 58, column: 10, severity: 'error', source: 'gcc', related: [],
      message: 'pcap.h: No such file or directory: install the Debian package libpcap-dev (apt-get install libpcap-dev)',
    }]);
  });

  test('clang (eBPF): a missing header, at the #include', () => {
    assert.deepEqual(diagnose('ebpf-header', 'clang'), [{
      file: '/workspace/model/ebpf_model.c', line: 92, column: 10, severity: 'error', source: 'clang', related: [],
      message: '\'pcap.h\' file not found: install the Debian package libpcap-dev (apt-get install libpcap-dev)',
    }]);
  });

  test('the linker: a missing library, at the Makefile line that asks for it, instead of make\'s bare "Error 1"', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-missing-'));
    try {
      fs.writeFileSync(path.join(dir, 'Makefile'), 'CC ?= cc\nLDLIBS_USER := -lpcap -lnetfilter_queue -lmnl -pthread\n');
      assert.deepEqual(diagnose('user-link', 'gcc', dir), [{
        file: path.join(dir, 'Makefile'), line: 2, column: 1, severity: 'error', source: 'gcc', related: [],
        message: 'The linker cannot find the library pcap (-lpcap): install the Debian package libpcap-dev (apt-get install libpcap-dev).',
      }]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a header no package is known for keeps the compiler\'s message as it is', () => {
    const log = fs.readFileSync(path.join(FIXTURES, 'missing-user-header.log'), 'utf8').replace(/pcap\.h/g, 'no_such_thing.h');
    const dir = '/tmp/hs-capture-missing/user-header';
    assert.equal(parseBuildOutput(log, { modelDir: '/m', buildDir: dir, cwd: dir }, 'gcc', false, 'gcc')[0].message, 'no_such_thing.h: No such file or directory');
  });
});
