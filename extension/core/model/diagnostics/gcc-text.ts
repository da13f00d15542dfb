// gcc and clang diagnostics in their text form:
//   In file included from a.c:1:
//   a.h: In function 'f':
//   a.h:1:23: error: 'x' undeclared (first use in this function)
//       1 | ...source and caret lines...
//   a.h:2:37: note: in expansion of macro 'BAD'
// plus linker messages ("a.c:(.text+0x5): undefined reference to `foo'").
import * as path from 'node:path';
import type { Diagnostic, RelatedLocation, Severity } from './diagnostic';
import { mapPath, type PathMapping } from './path-map';

const PRIMARY = /^(?<file>[^\s:][^:]*?):(?<line>\d+):(?:(?<col>\d+):)? (?<kind>fatal error|error|warning|note): (?<msg>.*)$/;
const INCLUDED_FROM = /^(?:In file included from|\s+from) (?<file>[^:]+?)(?::(?<line>\d+)(?::(?<col>\d+))?)?[,:]$/;
const LINKER = /^(?:\S*\bld(?:\.\w+)?: )?(?<file>[^\s:][^:]*?):(?:(?<line>\d+)|\([^)]*\)): (?<msg>(?:undefined reference to|multiple definition of) [`'"‘](?<sym>[^`'"’]+)['"’].*)$/;
/** Driver errors without a location ("gcc: error: unrecognized command-line option"); summaries are left out. */
const DRIVER = /^(?:\S*\/)?(?:cc1|cc|gcc|clang|[\w.-]+-gcc)(?:-[\d.]+)?: (?<kind>fatal error|error|warning): (?<msg>.*)$/;
const SUMMARY = /^(?:ld returned \d+ exit status|linker command failed|some warnings being treated as errors)/;

function severity(kind: string): Severity {
  return kind === 'note' ? 'info' : kind === 'warning' ? 'warning' : 'error';
}

/**
 * Parses compiler output. Notes (macro expansions, "declared here") become related locations of the error or warning
 * they follow, and an include chain becomes related locations of the message in the included file after it. Lines
 * that are not diagnostics (make's chatter, source excerpts, carets) are skipped.
 */
export function parseGccText(output: string, mapping: PathMapping, source: 'gcc' | 'clang' = 'gcc'): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  let includeChain: RelatedLocation[] = [];
  let last: Diagnostic | undefined;
  const loc = (file: string, line: string | undefined, col: string | undefined) =>
    ({ file: mapPath(file, mapping), line: line ? Number(line) : 1, column: col ? Number(col) : 1 });

  for (const raw of output.split('\n')) {
    const text = raw.replace(/\r$/, '');
    const inc = INCLUDED_FROM.exec(text);
    if (inc?.groups) {
      if (text.startsWith('In file')) includeChain = [];
      // "<command-line>" has no line: it starts a chain but is no place to show.
      if (inc.groups.line) includeChain.push({ ...loc(inc.groups.file, inc.groups.line, inc.groups.col), message: 'included from here' });
      continue;
    }
    const m = PRIMARY.exec(text);
    if (m?.groups) {
      const { file, line, col, kind, msg } = m.groups;
      if (kind === 'note' && last) {
        last.related.push({ ...loc(file, line, col), message: msg });
        continue;
      }
      last = { ...loc(file, line, col), severity: severity(kind), message: msg, source, related: [] };
      // The chain says how the file of the next location was included. When the message itself is in the file that
      // was compiled (the chain's outermost file), the chain belongs to a note in a header (a macro's definition),
      // and explains nothing about the message: it is left out.
      if (includeChain.length && last.file !== includeChain[includeChain.length - 1].file) last.related.push(...includeChain);
      includeChain = [];
      diagnostics.push(last);
      continue;
    }
    const l = LINKER.exec(text);
    if (l?.groups) {
      last = { ...loc(l.groups.file, l.groups.line, undefined), severity: 'error', message: l.groups.msg, source, related: [] };
      if (!l.groups.line) last.symbol = l.groups.sym;
      diagnostics.push(last);
      continue;
    }
    const d = DRIVER.exec(text);
    if (d?.groups && !SUMMARY.test(d.groups.msg)) {
      // The driver's own complaints concern how the project builds it: point at the Makefile.
      last = { file: path.join(mapping.modelDir, 'Makefile'), line: 1, column: 1, severity: severity(d.groups.kind), message: d.groups.msg, source, related: [] };
      diagnostics.push(last);
    }
  }
  return diagnostics;
}
