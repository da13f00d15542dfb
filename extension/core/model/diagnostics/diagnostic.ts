// Structured compiler, kbuild and module-load messages, as the Problems panel and the CLI show them.

export type Severity = 'error' | 'warning' | 'info';
export type DiagnosticSource = 'gcc' | 'clang' | 'kbuild' | 'modpost' | 'load';

export interface RelatedLocation {
  file: string;
  line: number;
  column: number;
  message: string;
}

export interface Diagnostic {
  /** A path in the model project when the message concerns one of its files; otherwise the path as printed. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based; 1 when the tool gives no column. */
  column: number;
  severity: Severity;
  message: string;
  source: DiagnosticSource;
  /** Notes that explain the message: macro expansions, the include chain, earlier declarations. */
  related: RelatedLocation[];
  /** Set when the tool named a symbol but gave no line (linker, modpost); the build then points at its first use. */
  symbol?: string;
}

/** "FILE:LINE:COL: error: MESSAGE", the way compilers print it. */
export function formatDiagnostic(d: Diagnostic): string {
  const head = `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message} [${d.source}]`;
  return [head, ...d.related.map((r) => `  ${r.file}:${r.line}:${r.column}: note: ${r.message}`)].join('\n');
}
