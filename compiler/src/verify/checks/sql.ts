/**
 * `sql`: the query run by the database's own client inside its container, as the local `mysql`
 * account over the unix socket (unix_socket authentication: no password involved).
 */
import type { SqlCheck } from '../../model/types.ts';
import { clip, outcome, type CheckContext, type CheckOutcome } from './types.ts';

/** Pure: the client command line for a query. */
export function sqlArgv(query: string): string[] {
  return ['mariadb', '--user=mysql', '--socket=/run/mysqld/mysqld.sock', '--batch', '--skip-column-names', '-e', query];
}

export async function runSqlCheck(check: SqlCheck, ctx: CheckContext): Promise<CheckOutcome> {
  const r = await ctx.engine.exec(check.service, sqlArgv(check.query), ctx.timeoutMs);
  const rows = r.stdout.split('\n').filter((l) => l.length > 0);
  const problems: string[] = [];
  if (r.timedOut) problems.push('the query did not finish in time');
  else if (r.exitCode !== 0) problems.push(`the client exited ${r.exitCode}: ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
  if (check.expect.minRows !== undefined && rows.length < check.expect.minRows) problems.push(`${rows.length} row(s), expected at least ${check.expect.minRows}`);
  for (const t of check.expect.contains) if (!r.stdout.includes(t)) problems.push(`the result does not contain ${JSON.stringify(t)}`);
  return outcome(problems, ['exec'], {
    query: check.query,
    exitCode: r.exitCode,
    rows: rows.length,
    ...(check.expect.contains.length ? { contains: Object.fromEntries(check.expect.contains.map((t) => [t, r.stdout.includes(t)])) } : {}),
    result: clip(rows.slice(0, 20).join('\n'), 1500),
    ...(r.stderr.trim() ? { stderr: clip(r.stderr, 800) } : {}),
  });
}
