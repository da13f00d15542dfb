// gcc's machine-readable diagnostics (-fdiagnostics-format=json): one JSON array per compilation unit, printed on
// one line of stderr, mixed with whatever else the build prints.
import type { Diagnostic, Severity } from './diagnostic';
import { mapPath, type PathMapping } from './path-map';

interface JsonPoint { file: string; line: number; column: number; 'byte-column'?: number }
interface JsonDiagnostic {
  kind: string;
  message: string;
  option?: string;
  locations?: Array<{ caret: JsonPoint; finish?: JsonPoint }>;
  children?: JsonDiagnostic[];
}

/** Editors count characters; gcc's "column" counts display cells (a tab is up to 8). */
function column(p: JsonPoint): number {
  return p['byte-column'] ?? p.column;
}

function severity(kind: string): Severity {
  if (kind === 'note') return 'info';
  return /warning/.test(kind) ? 'warning' : 'error';
}

/** Parses every JSON diagnostics array in a build's output; other lines are ignored. */
export function parseGccJson(output: string, mapping: PathMapping): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const line of output.split('\n')) {
    const text = line.trim();
    if (!text.startsWith('[') || !text.endsWith(']')) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      continue;
    }
    if (!Array.isArray(parsed)) continue;
    for (const d of parsed as JsonDiagnostic[]) {
      const caret = d.locations?.[0]?.caret;
      if (!caret || typeof d.message !== 'string') continue;
      diagnostics.push({
        file: mapPath(caret.file, mapping),
        line: caret.line,
        column: column(caret),
        severity: severity(d.kind),
        // The same text as gcc's text form, which names the warning option at the end.
        message: d.option ? `${d.message} [${d.option}]` : d.message,
        source: 'gcc',
        related: (d.children ?? []).flatMap((c) => {
          const at = c.locations?.[0]?.caret;
          return at ? [{ file: mapPath(at.file, mapping), line: at.line, column: column(at), message: c.message }] : [];
        }),
      });
    }
  }
  return diagnostics;
}
