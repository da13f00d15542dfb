// gcc's text diagnostics count columns in display cells (a tab advances to the next multiple of 8); editors count
// characters. Converting needs the line's text.
import * as fs from 'node:fs';
import type { Diagnostic } from './diagnostic';

const TABSTOP = 8;

/** The 1-based character column of display column `display` in `text`. */
export function characterColumn(text: string, display: number): number {
  let cells = 0;
  for (let i = 0; i < text.length; i++) {
    const width = text[i] === '\t' ? TABSTOP - (cells % TABSTOP) : 1;
    if (cells + width >= display) return i + 1;
    cells += width;
  }
  return display - cells + text.length;
}

/**
 * A function that converts a diagnostic's and its notes' columns where the file can be read on this machine; it
 * reads each file once.
 */
export function characterColumns(): (d: Diagnostic) => Diagnostic {
  const cache = new Map<string, string[] | undefined>();
  const lineOf = (file: string, line: number): string | undefined => {
    if (!cache.has(file)) {
      try {
        cache.set(file, fs.readFileSync(file, 'utf8').split('\n'));
      } catch {
        cache.set(file, undefined);
      }
    }
    return cache.get(file)?.[line - 1];
  };
  const fix = <T extends { file: string; line: number; column: number }>(at: T): T => {
    const text = lineOf(at.file, at.line);
    return text === undefined ? at : { ...at, column: characterColumn(text, at.column) };
  };
  return (d) => ({ ...fix(d), related: d.related.map(fix) });
}
