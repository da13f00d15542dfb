// kbuild's own messages: modpost's checks of the linked module, and make's errors.
//   ERROR: modpost: "sym" [/abs/dir/kernel_space.ko] undefined!
//   WARNING: modpost: /abs/dir/kernel_space.o: section mismatch in reference: f (section: .text) -> g (section: .init.text)
//   ERROR: modpost: missing MODULE_LICENSE() in /abs/dir/kernel_space.o
//   /abs/dir/Kbuild:3: *** missing separator.  Stop.
//   make[2]: *** [scripts/Makefile.build:250: /abs/dir/kernel_space.o] Error 1
import * as path from 'node:path';
import type { Diagnostic, DiagnosticSource } from './diagnostic';
import { mapPath, relativizeMessage, type PathMapping } from './path-map';

const MODPOST = /^(?<level>ERROR|WARNING): modpost: (?<msg>.*)$/;
const UNDEFINED = /^"(?<sym>[^"]+)" \[(?<mod>[^\]]+)\] undefined!$/;
const MISMATCH = /^(?<obj>\S+?\.o): section mismatch in reference: (?<sym>\w+)/;
const OBJECT_PATH = /(?<obj>\/\S+?\.(?:o|ko))\b/;
const MAKEFILE_ERROR = /^(?<file>[^\s:][^:]*?):(?<line>\d+): \*\*\* (?<msg>.*?)\.?\s*Stop\.$/;
const MAKE_FAILURE = /^make(?:\[\d+\])?: \*\*\* (?:\[(?<rule>[^\]]*)\] (?<what>Error \d+)|(?<msg>.*?)\.?\s*Stop\.)$/;

/**
 * The C file an object or module was built from (kernel_space.o -> kernel_space.c). The Makefile keeps objects in
 * build/, their sources one level up.
 */
function sourceOf(object: string, mapping: PathMapping): string {
  const mapped = mapPath(object, mapping);
  const dir = path.dirname(mapped) === path.join(mapping.modelDir, 'build') ? mapping.modelDir : path.dirname(mapped);
  return path.join(dir, `${path.basename(mapped).replace(/\.(?:mod\.)?k?o$/, '')}.c`);
}

/** Parses modpost's messages and makefile syntax errors. */
export function parseKbuild(output: string, mapping: PathMapping): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const raw of output.split('\n')) {
    const text = raw.replace(/\r$/, '');
    const mf = MAKEFILE_ERROR.exec(text);
    if (mf?.groups) {
      diagnostics.push({ file: mapPath(mf.groups.file, mapping), line: Number(mf.groups.line), column: 1, severity: 'error', message: mf.groups.msg, source: 'kbuild', related: [] });
      continue;
    }
    const mp = MODPOST.exec(text);
    if (!mp?.groups) continue;
    const { level, msg } = mp.groups;
    const severity = level === 'ERROR' ? 'error' : 'warning';
    const undef = UNDEFINED.exec(msg);
    const mismatch = MISMATCH.exec(msg);
    const object = undef?.groups?.mod ?? mismatch?.groups?.obj ?? OBJECT_PATH.exec(msg)?.groups?.obj;
    const file = object ? sourceOf(object, mapping) : path.join(mapping.modelDir, 'Kbuild');
    const d: Diagnostic = { file, line: 1, column: 1, severity, message: relativizeMessage(msg, mapping), source: 'modpost', related: [] };
    const symbol = undef?.groups?.sym ?? mismatch?.groups?.sym;
    if (symbol) d.symbol = symbol;
    diagnostics.push(d);
  }
  return diagnostics;
}

/**
 * make's "*** [rule] Error N" and "*** ... Stop." lines: the first one says which step failed. Only worth showing
 * when no compiler or modpost message explains the failure; it then points at the object's source or at buildFile
 * (the project's Makefile or Kbuild).
 */
export function parseMakeFailure(output: string, mapping: PathMapping, buildFile: string, source: DiagnosticSource): Diagnostic | undefined {
  for (const raw of output.split('\n')) {
    const m = MAKE_FAILURE.exec(raw.replace(/\r$/, ''));
    if (!m?.groups) continue;
    const target = m.groups.rule?.split(': ').pop();
    const objectTarget = target && /\.k?o$/.test(target) ? sourceOf(target, mapping) : undefined;
    return {
      file: objectTarget ?? path.join(mapping.modelDir, buildFile),
      line: 1,
      column: 1,
      severity: 'error',
      message: relativizeMessage(m.groups.rule ? `make: ${m.groups.what} while building ${target}` : `make: ${m.groups.msg}`, mapping),
      source,
      related: [],
    };
  }
  return undefined;
}
