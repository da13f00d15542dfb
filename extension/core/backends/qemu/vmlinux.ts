// The uncompressed kernel (vmlinux) inside a bzImage. QEMU boots an ELF kernel that carries the PVH entry note
// straight at that entry, with no firmware-driven real-mode setup and no decompression: under TCG, decompressing
// Debian's xz kernel costs more CPU than all the rest of the boot up to init.
import * as fs from 'node:fs';
import { runLocal } from '../../util/local-process';

// The bzImage header fields read here (Documentation/x86/boot.rst, "The real-mode kernel header"), e.g. of
// Debian's vmlinuz-6.1.0-57-amd64:
//   0x1f1 setup_sects    1 byte   0x27 -> the protected-mode part starts at (0x27 + 1) * 512 = 0x5000
//   0x202 header         "HdrS"
//   0x248 payload_offset 4 bytes  0x000002cc (from the protected-mode part's start: the xz stream is at 0x52cc)
//   0x24c payload_length 4 bytes  0x007befe4 (the xz stream, then the 4-byte uncompressed size the build appends)
const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

/** The compressed payload of a bzImage: where it starts and what it is compressed with. */
export function bzImagePayload(image: Buffer): { offset: number; length: number; format: 'xz' | 'other' } {
  if (image.length < 0x250 || image.toString('latin1', 0x202, 0x206) !== 'HdrS') throw new Error('not a bzImage (no "HdrS" boot header at 0x202)');
  const setupSects = image[0x1f1] || 4;
  const offset = (setupSects + 1) * 512 + image.readUInt32LE(0x248);
  const length = image.readUInt32LE(0x24c);
  if (offset + length > image.length) throw new Error(`its payload (${length} bytes at ${offset}) runs past the file's end`);
  return { offset, length, format: image.subarray(offset, offset + XZ_MAGIC.length).equals(XZ_MAGIC) ? 'xz' : 'other' };
}

/** Writes the ELF kernel inside the bzImage `from` to `to` (needs `xz`, which Debian's kernels are compressed with). */
export async function extractVmlinux(from: string, to: string, signal?: AbortSignal): Promise<void> {
  const image = fs.readFileSync(from);
  let payload: ReturnType<typeof bzImagePayload>;
  try {
    payload = bzImagePayload(image);
  } catch (err) {
    throw new Error(`${from}: ${(err as Error).message}`);
  }
  if (payload.format !== 'xz') throw new Error(`${from}: its payload is not xz-compressed; only xz kernels (Debian's) can be unpacked for direct boot.`);
  const xz = `${to}.xz`;
  fs.writeFileSync(xz, image.subarray(payload.offset, payload.offset + payload.length));
  try {
    await runLocal(['xz', '--decompress', '--single-stream', '--force', xz], { signal, timeoutMs: 120_000 });
  } finally {
    fs.rmSync(xz, { force: true });
  }
  const head = Buffer.alloc(4);
  const fd = fs.openSync(to, 'r');
  try { fs.readSync(fd, head, 0, 4, 0); } finally { fs.closeSync(fd); }
  if (!head.equals(ELF_MAGIC)) throw new Error(`${from}: its payload did not unpack to an ELF kernel.`);
}
