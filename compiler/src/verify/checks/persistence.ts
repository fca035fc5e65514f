/**
 * `persistence`: run `write`, remove the service's container and create it again in the same
 * project (`compose rm -s -f` + `up -d --no-deps`: same named volumes), wait until it is healthy,
 * then run `read`.
 */
import type { PersistenceCheck, SimpleCheck } from '../../model/types.ts';
import { outcome, type CheckContext, type CheckOutcome, type Method } from './types.ts';

export type SimpleRunner = (check: SimpleCheck, ctx: CheckContext) => Promise<CheckOutcome>;

export async function runPersistenceCheck(check: PersistenceCheck, ctx: CheckContext, runSimple: SimpleRunner): Promise<CheckOutcome> {
  const methods = new Set<Method>(['compose', 'docker-inspect']);
  const observed: Record<string, unknown> = {};
  const write = await runSimple(check.write, ctx);
  write.method.forEach((m) => methods.add(m));
  observed.write = { kind: check.write.kind, status: write.status, ...write.observed };
  if (write.status !== 'passed') {
    return { status: write.status, method: [...methods], observed, problems: (write.problems ?? []).map((p) => `write: ${p}`) };
  }
  const started = Date.now();
  const recreated = await ctx.engine.recreate(check.service, ctx.timeoutMs);
  observed.recreate = { service: check.service, oldContainer: recreated.oldContainer.slice(0, 12), newContainer: recreated.newContainer.slice(0, 12), healthyAfterMs: recreated.healthyAfterMs, durationMs: Date.now() - started };
  const problems: string[] = [];
  if (recreated.oldContainer === recreated.newContainer) problems.push('the container was not recreated (same id)');
  const read = await runSimple(check.read, ctx);
  read.method.forEach((m) => methods.add(m));
  observed.read = { kind: check.read.kind, status: read.status, ...read.observed };
  if (read.status === 'not-verifiable') return { status: 'not-verifiable', method: [...methods], observed, problems: (read.problems ?? []).map((p) => `read: ${p}`) };
  problems.push(...(read.problems ?? []).map((p) => `read after recreation: ${p}`));
  return outcome(problems, [...methods], observed);
}
