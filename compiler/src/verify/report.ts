/** Console lines for a run: one per interaction as it finishes, then a summary. Pure. */
import type { Summary } from './evidence.ts';
import type { InteractionResult, ResultStatus } from './runner.ts';

const MARKS: Record<ResultStatus, { unicode: string; ascii: string; color: string }> = {
  passed: { unicode: '✓', ascii: 'ok  ', color: '\u001b[32m' },
  failed: { unicode: '✗', ascii: 'FAIL', color: '\u001b[31m' },
  'not-verifiable': { unicode: '?', ascii: 'n/v ', color: '\u001b[33m' },
  skipped: { unicode: '-', ascii: 'skip', color: '\u001b[90m' },
};

export interface ReportStyle {
  /** Unicode marks (a terminal); ASCII words otherwise. */
  readonly unicode: boolean;
  readonly color: boolean;
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** "✓ site-answers  12 ms" (+ the problems, indented, when it did not pass). */
export function formatResultLine(r: InteractionResult, style: ReportStyle): string {
  const m = MARKS[r.status];
  const mark = style.unicode ? m.unicode : m.ascii;
  const head = `${style.color ? `${m.color}${mark}\u001b[0m` : mark} ${r.id}  ${formatDuration(r.durationMs)}`;
  // Skipped checks all share one reason, said once by the run: no detail line each.
  const details = r.status === 'failed' || r.status === 'not-verifiable' ? (r.problems ?? []).map((p) => `    ${p}`) : [];
  return [head, ...details].join('\n');
}

export function formatSummary(s: Summary, totalMs: number): string {
  const parts = [`${s.passed} passed`, `${s.failed} failed`];
  if (s.notVerifiable) parts.push(`${s.notVerifiable} not verifiable`);
  if (s.skipped) parts.push(`${s.skipped} skipped`);
  return `${parts.join(', ')} (${s.total} checks in ${formatDuration(totalMs)})`;
}
