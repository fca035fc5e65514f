/**
 * `log`: none of the given texts appears in the output (stdout and stderr) the service's container
 * has written since it was created, restarts included (an outage's stop and start keep the
 * container). Programs report much of what a seccomp allowlist refuses them only there: nginx's
 * `sigprocmask() failed (1: Operation not permitted)` at start-up leaves it serving pages but with
 * its signals unblocked, and its stop then hangs now and then. Put it after the interactions that
 * exercise the service.
 */
import type { LogCheck } from '../../model/types.ts';
import { outcome, type CheckContext, type CheckOutcome } from './types.ts';

/** Offending lines quoted in the evidence (each cut at 300 characters). */
export const LOG_LINES_QUOTED = 5;

/** Pure: for each text, the lines holding it; and the first offending lines, in log order. */
export function findLacking(text: string, lacks: readonly string[]): { counts: Record<string, number>; lines: string[]; total: number } {
  const counts: Record<string, number> = Object.fromEntries(lacks.map((t) => [t, 0]));
  const lines: string[] = [];
  let total = 0;
  for (const line of text.split('\n')) {
    const hit = lacks.filter((t) => line.includes(t));
    if (!hit.length) continue;
    total++;
    for (const t of hit) counts[t]!++;
    if (lines.length < LOG_LINES_QUOTED) lines.push(line.length > 300 ? `${line.slice(0, 300)}…` : line.trimEnd());
  }
  return { counts, lines, total };
}

export async function runLogCheck(check: LogCheck, ctx: CheckContext): Promise<CheckOutcome> {
  const text = ctx.scrubber.scrub(await ctx.engine.logSince(check.service, 0));
  const { counts, lines, total } = findLacking(text, check.lacks);
  const observed = { service: check.service, lines: text.split('\n').filter((l) => l.trim()).length, found: Object.fromEntries(check.lacks.map((t) => [ctx.scrubber.scrub(t), counts[t]!])), offending: lines };
  const problems = total
    ? [`the output of ${check.service} holds ${check.lacks.filter((t) => counts[t]).map((t) => `${JSON.stringify(ctx.scrubber.scrub(t))} (${counts[t]} line${counts[t] === 1 ? '' : 's'})`).join(', ')}; first: ${lines[0]}`]
    : [];
  return outcome(problems, ['docker-logs'], observed);
}
