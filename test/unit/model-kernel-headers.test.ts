import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { distroHeadersFor } from '../../extension/core/model/distro-headers';
import { headersRelease, installedHeaders, resolveKernelHeaders } from '../../extension/core/model/kernel-headers';

/** The Debian 6.1 headers installed in /usr/src (linux-headers-amd64). */
function debianRelease(): string {
  const dir = fs.readdirSync('/usr/src').find((d) => /^linux-headers-6\.1\.\d+-\d+-amd64$/.test(d));
  assert.ok(dir, 'the Debian 6.1 headers are installed (apt-get install linux-headers-amd64)');
  return dir.replace(/^linux-headers-/, '');
}

describe('kernel headers', () => {
  test('Debian and Ubuntu name their headers packages differently', () => {
    assert.deepEqual(distroHeadersFor('6.1.0-56-amd64')?.packages('6.1.0-56-amd64'), ['linux-headers-6.1.0-56-amd64', 'linux-headers-6.1.0-56-common', 'linux-kbuild-6.1']);
    assert.deepEqual(distroHeadersFor('6.1.0-56-rt-amd64')?.packages('6.1.0-56-rt-amd64'), ['linux-headers-6.1.0-56-rt-amd64', 'linux-headers-6.1.0-56-common-rt', 'linux-kbuild-6.1']);
    assert.deepEqual(distroHeadersFor('6.1.0-56-cloud-amd64')?.packages('6.1.0-56-cloud-amd64'), ['linux-headers-6.1.0-56-cloud-amd64', 'linux-headers-6.1.0-56-common', 'linux-kbuild-6.1']);
    assert.deepEqual(distroHeadersFor('5.15.0-91-generic')?.packages('5.15.0-91-generic'), ['linux-headers-5.15.0-91-generic', 'linux-headers-5.15.0-91']);
    assert.equal(distroHeadersFor('6.18.44-fc-v657'), undefined);
  });

  test('an installed tree for the exact release is found; its release is read from the tree', () => {
    const rel = debianRelease();
    const dir = installedHeaders(rel)!;
    assert.ok(dir, `headers for ${rel}`);
    assert.equal(headersRelease(dir), rel);
    assert.equal(installedHeaders('6.1.0-999-amd64'), undefined);
  });

  test('model.kernelHeaders wins, and must be a headers tree of the same release', async () => {
    const rel = debianRelease();
    const tree = `/usr/src/linux-headers-${rel}`;
    const configured = { dir: tree, file: '/ws/hypershield.testbed.json' };
    assert.deepEqual(await resolveKernelHeaders(rel, { configured }), { release: rel, dir: tree, origin: 'testbed file' });
    await assert.rejects(resolveKernelHeaders('6.1.0-1-amd64', { configured }),
      new RegExp(`model.kernelHeaders in /ws/hypershield.testbed.json: ${tree} holds the headers of kernel ${rel}, but the model host runs 6.1.0-1-amd64`));
    await assert.rejects(resolveKernelHeaders(rel, { configured: { dir: '/tmp', file: '/ws/hypershield.testbed.json' } }), /\/tmp is not a kernel headers tree \(it has no Makefile\)/);
  });

  test('when no headers can be had, the error says which release and what to install or set', async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-headers-'));
    try {
      await assert.rejects(resolveKernelHeaders('6.18.44-fc-v657', { cacheDir: cache }),
        /No headers for kernel 6\.18\.44-fc-v657: .*"kernelHeaders": "\/path\/to\/headers".*\/usr\/src\/linux-headers-6\.18\.44-fc-v657/s);
      assert.deepEqual(fs.readdirSync(cache), []);
      // A Debian-named release apt does not know: nothing is left in the cache.
      await assert.rejects(resolveKernelHeaders('6.1.0-999-amd64', { cacheDir: cache }),
        /Could not fetch the headers of kernel 6\.1\.0-999-amd64: apt does not know linux-headers-6\.1\.0-999-amd64.*Install them yourself \(apt-get install linux-headers-6\.1\.0-999-amd64/s);
      assert.deepEqual(fs.readdirSync(cache), []);
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });
});
