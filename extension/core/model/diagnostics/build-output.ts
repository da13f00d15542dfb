// Turns the whole output of one model build into diagnostics, with the parsers of the toolchain that built it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { characterColumns } from './columns';
import type { Diagnostic, DiagnosticSource } from './diagnostic';
import { parseGccJson } from './gcc-json';
import { parseGccText } from './gcc-text';
import { parseKbuild, parseMakeFailure } from './kbuild';
import { missingLibraries, withPackageHint } from './missing-package';
import { isInProject, type PathMapping } from './path-map';

/** user: gcc via the Makefile; ebpf: clang via the Makefile; kbuild: gcc (JSON diagnostics) and modpost via kbuild. */
export type Toolchain = 'gcc' | 'clang' | 'kbuild';

/** makeSource labels make's own failure line when nothing else explains a failed build. */
export function parseBuildOutput(output: string, mapping: PathMapping, toolchain: Toolchain, succeeded: boolean, makeSource: DiagnosticSource): Diagnostic[] {
  // clang counts columns in bytes, gcc's text form in display cells, gcc's JSON form in both (the parser takes bytes).
  const gccText = () => parseGccText(output, mapping, 'gcc').map(characterColumns());
  const diagnostics = toolchain === 'kbuild' ? [...parseGccJson(output, mapping), ...gccText(), ...parseKbuild(output, mapping)]
    : toolchain === 'gcc' ? gccText()
    : parseGccText(output, mapping, 'clang');
  if (!succeeded) diagnostics.push(...missingLibraries(output, mapping.modelDir, makeSource));
  if (!succeeded && !diagnostics.some((d) => d.severity === 'error')) {
    const failure = parseMakeFailure(output, mapping, toolchain === 'kbuild' ? 'Kbuild' : 'Makefile', makeSource);
    if (failure) diagnostics.push(failure);
  }
  return diagnostics.map((d) => withPackageHint(locateSymbol(focusOnProject(d, mapping.modelDir), mapping.modelDir)));
}

/**
 * A message about a file outside the project (a kernel header) whose notes lead into the project (the macro use
 * that expanded into the header) is shown at the project's line; the header's location becomes a note.
 */
export function focusOnProject(d: Diagnostic, modelDir: string): Diagnostic {
  if (isInProject(d.file, modelDir)) return d;
  const inside = [...d.related].reverse().find((r) => isInProject(r.file, modelDir));
  if (!inside) return d;
  return {
    ...d,
    file: inside.file,
    line: inside.line,
    column: inside.column,
    related: [{ file: d.file, line: d.line, column: d.column, message: d.message }, ...d.related.filter((r) => r !== inside)],
  };
}

/**
 * For a message naming a symbol without a line (linker, modpost): the first line outside comments that uses the
 * symbol other than an extern declaration (else the declaration), in d.file first, then in the project's other sources.
 */
export function locateSymbol(d: Diagnostic, modelDir: string): Diagnostic {
  if (!d.symbol) return d;
  const word = new RegExp(`\\b${d.symbol.replace(/[^\w]/g, '')}\\b`);
  let others: string[] = [];
  try {
    others = fs.readdirSync(modelDir).filter((f) => /\.[ch]$/.test(f) && !f.endsWith('.mod.c')).sort().map((f) => path.join(modelDir, f));
  } catch {
    return d;
  }
  let declaration: Diagnostic | undefined;
  for (const file of [d.file, ...others.filter((f) => f !== d.file)]) {
    let lines: string[];
    try {
      lines = fs.readFileSync(file, 'utf8').split('\n');
    } catch {
      continue;
    }
    for (let i = 0; i < lines.length; i++) {
      if (/^\s*(?:\/\/|\/\*|\*)/.test(lines[i])) continue;
      const m = word.exec(lines[i]);
      if (!m) continue;
      const at = { ...d, file, line: i + 1, column: m.index + 1 };
      if (!/^\s*extern\b/.test(lines[i])) return at;
      declaration ??= at;
    }
  }
  return declaration ?? d;
}
