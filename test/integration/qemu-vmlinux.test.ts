// The ELF kernel inside Debian's real vmlinuz (the one the qemu testbed's image boots): found from the bzImage
// header, unpacked with xz, carrying the PVH entry note QEMU needs to boot it directly.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bzImagePayload, extractVmlinux } from '../../extension/core/backends/qemu/vmlinux';
import { debianKernelRelease, kernelImage } from '../helpers/debian-kernel-vm';

describe('vmlinux from a Debian bzImage', { timeout: 300_000 }, () => {
  const vmlinuz = kernelImage(debianKernelRelease());

  test('the header locates the xz payload; unpacked it is an ELF kernel with the PVH entry note', async () => {
    const image = fs.readFileSync(vmlinuz);
    const payload = bzImagePayload(image);
    assert.equal(payload.format, 'xz');
    assert.ok(payload.length > 1e6 && payload.offset + payload.length <= image.length);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-vb-vmlinux-'));
    try {
      const out = path.join(dir, 'vmlinux');
      await extractVmlinux(vmlinuz, out);
      assert.ok(fs.statSync(out).size > 3 * image.length, 'several times the compressed size');
      assert.deepEqual(fs.readdirSync(dir), ['vmlinux'], 'the xz stream written on the way is gone');
      // XEN_ELFNOTE_PHYS32_ENTRY (18): the 32-bit entry point QEMU jumps to for a PVH boot.
      assert.match(execFileSync('readelf', ['-n', out], { encoding: 'utf8' }), /^\s+Xen\s+0x[0-9a-f]+\s+Unknown note type: \(0x00000012\)$/m);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('what is not an xz bzImage is refused, naming the file', async () => {
    assert.throws(() => bzImagePayload(Buffer.alloc(4096)), /not a bzImage \(no "HdrS"/);
    const image = fs.readFileSync(vmlinuz);
    const { offset } = bzImagePayload(image);
    image.fill(0, offset, offset + 6);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-vb-vmlinux-'));
    try {
      fs.writeFileSync(path.join(dir, 'vmlinuz'), image);
      assert.equal(bzImagePayload(image).format, 'other');
      await assert.rejects(extractVmlinux(path.join(dir, 'vmlinuz'), path.join(dir, 'vmlinux')), /vmlinuz: its payload is not xz-compressed/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
