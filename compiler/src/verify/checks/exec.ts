/** `exec`: a command in exec form (no shell) in the service's container, as its user. */
import type { ExecCheck } from '../../model/types.ts';
import { clip, outcome, type CheckContext, type CheckOutcome } from './types.ts';

export async function runExecCheck(check: ExecCheck, ctx: CheckContext): Promise<CheckOutcome> {
  const r = await ctx.engine.exec(check.service, check.command, ctx.timeoutMs);
  const problems: string[] = [];
  if (r.timedOut) problems.push('the command did not finish in time');
  else if (r.exitCode !== check.expect.exitCode) problems.push(`exit code ${r.exitCode}, expected ${check.expect.exitCode}`);
  for (const t of check.expect.stdoutContains) if (!r.stdout.includes(t)) problems.push(`stdout does not contain ${JSON.stringify(t)}`);
  for (const t of check.expect.stderrContains) if (!r.stderr.includes(t)) problems.push(`stderr does not contain ${JSON.stringify(t)}`);
  return outcome(problems, ['exec'], {
    command: check.command,
    exitCode: r.exitCode,
    stdout: clip(r.stdout, 1500),
    stderr: clip(r.stderr, 1500),
  });
}
