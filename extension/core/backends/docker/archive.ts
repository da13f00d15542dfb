// Files in and out of containers go through the Engine API's archive endpoints, which speak tar.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import * as tar from 'tar-fs';

/**
 * A tar of localPath (a file or a folder) whose entries sit at remotePath, relative to "/". Its parent folders are
 * not in it: the engine creates missing ones and leaves existing ones (and their modes) alone.
 */
export function packAt(localPath: string, remotePath: string): Readable {
  if (!path.posix.isAbsolute(remotePath)) throw new Error(`A path in a container must be absolute; got "${remotePath}".`);
  const base = path.basename(localPath);
  const target = remotePath.replace(/^\/+/, '').replace(/\/+$/, '');
  return tar.pack(path.dirname(path.resolve(localPath)), {
    entries: [base],
    map: (h) => ({ ...h, name: target + h.name.slice(base.length) }),
  });
}

/** Unpacks an archive of one file or folder (as the engine sends it: entries under its base name) to localPath, over what is there. */
export async function unpackTo(archive: NodeJS.ReadableStream, localPath: string): Promise<void> {
  const dest = path.resolve(localPath);
  await fs.mkdir(path.dirname(dest), { recursive: true });
  const base = path.basename(dest);
  await pipeline(archive, tar.extract(path.dirname(dest), {
    chown: false,
    map: (h) => ({ ...h, name: base + h.name.slice(h.name.split('/')[0].length) }),
  }));
}
