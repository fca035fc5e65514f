/**
 * `log`: none of the given texts appears in the output (stdout and stderr) the service's container
 * has written since it was created, restarts included (an outage's stop and start keep the
 * container); in a minimiser run, since the run started (a container kept from an earlier run
 * holds that run's output). Programs report much of what a seccomp allowlist refuses them only
 * there: nginx's `sigprocmask() failed (1: Operation not permitted)` at start-up leaves it serving
 * pages but with its signals unblocked, and its stop then hangs now and then. Put it after the
 * interactions that exercise the service.
 */
import type { LogCheck } from '../../model/types.ts';
import { quoteLine } from '../streams.ts';
import { outcome, type CheckContext, type CheckOutcome } from './types.ts';

/** Offending lines quoted in the evidence (each cut at 300 characters). */
export const LOG_LINES_QUOTED = 5;

/** Pure: for each text, the lines holding it; the first offending lines, in log order; and the non-empty lines read. */
export function findLacking(text: string, lacks: readonly string[]): { counts: Record<string, number>; lines: string[]; total: number; read: number } {
  const counts: Record<string, number> = Object.fromEntries(lacks.map((t) => [t, 0]));
  const lines: string[] = [];
  let total = 0;
  let read = 0;
  for (const line of text.split('\n')) {
    if (line.trim()) read++;
    const hit = lacks.filter((t) => line.includes(t));
    if (!hit.length) continue;
    total++;
    for (const t of hit) counts[t]!++;
    if (lines.length < LOG_LINES_QUOTED) lines.push(quoteLine(line));
  }
  return { counts, lines, total, read };
}

export async function runLogCheck(check: LogCheck, ctx: CheckContext): Promise<CheckOutcome> {
  const text = ctx.scrubber.scrub(await ctx.engine.logSince(check.service, ctx.logsSinceMs ?? 0));
  const { counts, lines, total, read } = findLacking(text, check.lacks);
  const shown = check.lacks.map((t) => [t, ctx.scrubber.scrub(t)] as const);
  const observed = { service: check.service, lines: read, found: Object.fromEntries(shown.map(([t, s]) => [s, counts[t]!])), offending: lines };
  const problems = total
    ? [`the output of ${check.service} holds ${shown.filter(([t]) => counts[t]).map(([t, s]) => `${JSON.stringify(s)} (${counts[t]} line${counts[t] === 1 ? '' : 's'})`).join(', ')}; first: ${lines[0]}`]
    : [];
  return outcome(problems, ['docker-logs'], observed);
}
