// The shared libraries a program built on this machine loads, as this machine's dynamic loader finds them: what a
// model host with files of its own must have, or receive beside the program, to run it.
import { execLocal } from '../../util/local-process';
import { DeployError } from './model-host';

/**
 * ldd's output for a dynamically linked program (LANG=C):
 *   	linux-vdso.so.1 (0x00007f12dd16a000)
 *   	libnetfilter_queue.so.1 => /lib/x86_64-linux-gnu/libnetfilter_queue.so.1 (0x00007f12dd144000)
 *   	libfoo.so.1 => not found
 *   	/lib64/ld-linux-x86-64.so.2 (0x00007f12dd16c000)
 * The vDSO is the kernel's, not a file. Returns the files (the loader included) and the names not found.
 */
export function parseLdd(text: string): { files: string[]; notFound: string[] } {
  const files: string[] = [];
  const notFound: string[] = [];
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const arrow = /^(\S+) => (?:(\/\S+) \(0x[0-9a-f]+\)|not found)$/.exec(line);
    if (arrow) {
      if (arrow[2]) files.push(arrow[2]);
      else notFound.push(arrow[1]);
      continue;
    }
    const loader = /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (loader) files.push(loader[1]);
  }
  return { files, notFound };
}

/**
 * The library files program loads here (none for a static program). Throws when this machine cannot find one
 * either: the program would not start anywhere.
 */
export async function sharedLibraries(program: string, signal?: AbortSignal): Promise<string[]> {
  const r = await execLocal(['ldd', program], { signal, timeoutMs: 30_000, env: { LANG: 'C', LC_ALL: 'C' } });
  if (r.code !== 0) {
    if (/not a dynamic executable/.test(r.stdout + r.stderr)) return [];
    throw new Error(`ldd ${program} failed: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`);
  }
  const { files, notFound } = parseLdd(r.stdout);
  if (notFound.length) {
    throw new DeployError(`${program} needs ${notFound.join(', ')}, which this machine does not have either: install the package that provides ${notFound.length === 1 ? 'it' : 'them'}, or link ${notFound.length === 1 ? 'it' : 'them'} statically.`);
  }
  return files;
}
