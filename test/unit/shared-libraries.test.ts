// The shared libraries of a program built here, read from ldd's real output (test/fixtures/deploy/capture-ldd.sh):
// what a VM model host must have, or receive beside the program.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseLdd, sharedLibraries } from '../../extension/core/model/deploy/shared-libraries';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'deploy', name), 'utf8');

test('the user-space template loads libnetfilter_queue, libmnl, libc, libnfnetlink and the loader; the vDSO is no file', () => {
  assert.deepEqual(parseLdd(fixture('ldd-user-space-model.txt')), {
    files: ['/lib/x86_64-linux-gnu/libnetfilter_queue.so.1', '/lib/x86_64-linux-gnu/libmnl.so.0', '/lib/x86_64-linux-gnu/libc.so.6',
      '/lib/x86_64-linux-gnu/libnfnetlink.so.0', '/lib64/ld-linux-x86-64.so.2'],
    notFound: [],
  });
});

test('a library the loader cannot find is named; a static program loads none', () => {
  assert.deepEqual(parseLdd(fixture('ldd-not-found.txt')), { files: ['/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2'], notFound: ['libhsgone.so.1'] });
  assert.deepEqual(parseLdd(fixture('ldd-static.txt')), { files: [], notFound: [] });
});

test('sharedLibraries: none for a static program; a library missing here too is refused, saying which', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-ldd-'));
  try {
    fs.writeFileSync(path.join(dir, 'static.c'), 'int main(void) { return 0; }\n');
    execFileSync('gcc', ['-static', '-o', path.join(dir, 'static'), path.join(dir, 'static.c')]);
    assert.deepEqual(await sharedLibraries(path.join(dir, 'static')), []);

    fs.writeFileSync(path.join(dir, 'gone.c'), 'int f(void) { return 1; }\n');
    execFileSync('gcc', ['-shared', '-fPIC', '-Wl,-soname,libhsgone.so.1', '-o', path.join(dir, 'libhsgone.so.1'), path.join(dir, 'gone.c')]);
    fs.writeFileSync(path.join(dir, 'main.c'), 'int f(void);\nint main(void) { return f(); }\n');
    execFileSync('gcc', ['-o', path.join(dir, 'prog'), path.join(dir, 'main.c'), `-L${dir}`, '-l:libhsgone.so.1', `-Wl,-rpath,${dir}`]);
    assert.ok((await sharedLibraries(path.join(dir, 'prog'))).includes(path.join(dir, 'libhsgone.so.1')), 'found through its rpath');
    fs.rmSync(path.join(dir, 'libhsgone.so.1'));
    await assert.rejects(sharedLibraries(path.join(dir, 'prog')), (err: Error) => err.name === 'DeployError' && /needs libhsgone\.so\.1, which this machine does not have either/.test(err.message));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
