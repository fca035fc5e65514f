/**
 * Diagnostics are data: collected, never thrown, so one run reports every problem. Each one
 * carries the file, a 1-based line and column, a stable code from the catalogue, what is wrong
 * and what to do.
 */
import { catalogueEntry, type DiagnosticCode, type Severity } from './catalogue.ts';

export interface Diagnostic {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly code: DiagnosticCode;
  readonly severity: Severity;
  /** What is wrong, in one sentence. */
  readonly message: string;
  /** What to do about it (may be empty when the message already says it). */
  readonly hint: string;
}

export interface Location {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export function diagnostic(
  code: DiagnosticCode,
  at: Location,
  message: string,
  hint = '',
): Diagnostic {
  const { severity } = catalogueEntry(code);
  return { file: at.file, line: at.line, column: at.column, code, severity, message, hint };
}

/** Sort by file, line, column, code and message so output never depends on timing or order. */
export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  const unique = new Map<string, Diagnostic>();
  for (const d of list) {
    unique.set(`${d.file}\0${d.line}\0${d.column}\0${d.code}\0${d.message}`, d);
  }
  return [...unique.values()].sort(
    (a, b) =>
      compareText(a.file, b.file) ||
      a.line - b.line ||
      a.column - b.column ||
      compareText(a.code, b.code) ||
      compareText(a.message, b.message),
  );
}

export function hasErrors(list: readonly Diagnostic[]): boolean {
  return list.some((d) => d.severity === 'error');
}

/** Locale-independent ordering: the same bytes on every machine. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
