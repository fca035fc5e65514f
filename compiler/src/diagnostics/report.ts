/** Reporters: diagnostics as text for people (colour only when asked) and as JSON for tools. */
import type { Diagnostic } from './diagnostic.ts';

export interface TextStyle {
  readonly color: boolean;
}

const paint = (on: boolean, code: string, s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

/**
 * Control characters are shown escaped (\n, \u001b): a file named "web\n.md" or a message quoting
 * one must not start a new line of output, nor send escape sequences to the terminal.
 */
export function escapeControl(s: string): string {
  const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  return s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function formatDiagnostic(d: Diagnostic, style: TextStyle = { color: false }): string {
  const sev = paint(style.color, d.severity === 'error' ? '1;31' : '1;33', d.severity);
  const where = paint(style.color, '1', `${escapeControl(d.file)}:${d.line}:${d.column}`);
  const hint = d.hint ? `\n  ${paint(style.color, '2', 'hint:')} ${escapeControl(d.hint)}` : '';
  return `${where}: ${sev} ${d.code}: ${escapeControl(d.message)}${hint}`;
}

export function formatSummary(list: readonly Diagnostic[]): string {
  const errors = list.filter((d) => d.severity === 'error').length;
  const warnings = list.length - errors;
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  return `${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
}

export function diagnosticsToJson(list: readonly Diagnostic[]): object[] {
  return list.map((d) => ({
    file: d.file,
    line: d.line,
    column: d.column,
    severity: d.severity,
    code: d.code,
    message: d.message,
    hint: d.hint,
  }));
}
