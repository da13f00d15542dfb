// The identity of a model's sources, recorded with every deployment and benchmark result.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Files kbuild generates next to the sources; they are outputs, not sources. */
const GENERATED = /\.mod\.c$/;
const SOURCE = /\.(?:c|h)$|^(?:Makefile|Kbuild)$/;

/** The project's source files (C files, headers, Makefile, Kbuild), relative to dir, sorted. build/ is skipped. */
export function modelSources(dir: string): string[] {
  const found: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (child !== 'build') walk(child);
      } else if (e.isFile() && SOURCE.test(e.name) && !GENERATED.test(e.name)) {
        found.push(child);
      }
    }
  };
  walk('');
  return found.sort();
}

/** sha256 over each source's relative path and content, in sorted order: equal sources give equal hashes anywhere. */
export function sourceHash(dir: string): string {
  const files = modelSources(dir);
  if (!files.length) throw new Error(`${dir} holds no model sources (.c, .h, Makefile, Kbuild); create a project with \`hypershield new ${dir}\`.`);
  const h = createHash('sha256');
  for (const f of files) {
    const content = fs.readFileSync(path.join(dir, f));
    h.update(`${f}\0${content.length}\0`).update(content);
  }
  return h.digest('hex');
}

export function fileSha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}
