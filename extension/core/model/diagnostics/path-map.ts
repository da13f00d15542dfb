import * as path from 'node:path';

/**
 * How paths printed on the build machine become paths in the model project. A build may run in another directory
 * than the project (a copy on a remote model host), and tools print paths relative to their working directory.
 */
export interface PathMapping {
  /** The model project on this machine. */
  modelDir: string;
  /** Where the project's files are on the build machine (equal to modelDir for local builds). */
  buildDir: string;
  /** The directory the compiler ran in, for relative paths (kbuild runs in the kernel headers tree). */
  cwd: string;
}

/** The project path of a printed path, or the printed path made absolute when it lies outside the project. */
export function mapPath(printed: string, m: PathMapping): string {
  const abs = path.posix.resolve(m.cwd, printed);
  const rel = path.posix.relative(m.buildDir, abs);
  if (rel === '' || rel.startsWith('..') || path.posix.isAbsolute(rel)) return abs;
  return path.join(m.modelDir, rel);
}

/** True when a mapped path is one of the project's files. */
export function isInProject(file: string, modelDir: string): boolean {
  const rel = path.relative(modelDir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** A message with the build machine's project paths written relative to the project ("." for the folder itself). */
export function relativizeMessage(message: string, m: PathMapping): string {
  const dir = m.buildDir.replace(/\/+$/, '');
  const escaped = dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return message.replace(new RegExp(`${escaped}/?(?=['"\\s\\]]|$)`, 'g'), '.').split(`${dir}/`).join('');
}
