/**
 * `outage`: stop the service's container (`compose stop`; with `cleanStop` it must exit by itself
 * with code 0, not be killed at the end of the grace period), run `during` (if any) while it is down, look for
 * `log.contains` in `log.service`'s output written since the stop, then start the container again
 * (`compose start`) and wait until it is healthy. The container is started again whatever
 * happened before (a failed stop, a failed check, the interaction's time limit: the runner waits
 * for the restore, see withTimeLimit), so the interactions after this one see the whole stack; a
 * container that does not come back fails the check. Only an interrupted run skips the restore:
 * the tear-down follows.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { OutageCheck, StackModel } from '../../model/types.ts';
import { healthBudgetMs } from '../lifecycle.ts';
import { quoteLine } from '../streams.ts';
import type { SimpleRunner } from './persistence.ts';
import { outcome, type CheckContext, type CheckOutcome, type Method } from './types.ts';

/** How long output may take from the process to the engine's log (a worker → FPM master → stderr). */
export const LOG_WAIT_MS = 5_000;
const LOG_POLL_MS = 250;
/** `compose start` itself, before the health wait. */
const START_MS = 60_000;

/** Pure: the time a stopped service gets to come back (start, then its healthcheck's whole budget). */
export function restoreBudgetMs(model: StackModel, service: string): number {
  const s = model.services.find((x) => x.name === service);
  return START_MS + (s ? healthBudgetMs(s) : 0);
}

export async function runOutageCheck(check: OutageCheck, ctx: CheckContext, runSimple: SimpleRunner): Promise<CheckOutcome> {
  const methods = new Set<Method>(['compose', 'docker-inspect']);
  const observed: Record<string, unknown> = {};
  const problems: string[] = [];
  let notVerifiable: readonly string[] | undefined;
  const since = Date.now();
  try {
    await ctx.engine.stop(check.service, ctx.timeoutMs);
    const stopMs = Date.now() - since;
    const exitCode = (await ctx.engine.inspect(check.service))?.State?.ExitCode;
    observed.stopped = { service: check.service, durationMs: stopMs, exitCode: exitCode ?? null };
    if (check.cleanStop && exitCode !== 0) {
      // What the service itself said while it was asked to stop: the reason is usually there
      // (a refused call, a connection it waited for).
      const said = lastLogLines(ctx.scrubber.scrub(await ctx.engine.logSince(check.service, since).catch(() => '')), STOP_LOG_LINES);
      observed.stopLog = said;
      problems.push(cleanStopProblem(check.service, exitCode, stopMs) + (said.length ? `; its last output: ${said.join(' | ')}` : '; it wrote nothing after the stop signal'));
    }
    if (check.during) {
      // Not every check ends at once when the time limit aborts it: stop waiting, restore.
      const during = await untilAborted(runSimple(check.during, ctx), ctx.signal);
      during.method.forEach((m) => methods.add(m));
      // `result` is the check's verdict (an http check's observed data has its own `status`).
      observed.during = { kind: check.during.kind, ...during.observed, result: during.status };
      if (during.status === 'not-verifiable') notVerifiable = (during.problems ?? []).map((p) => `during the outage: ${p}`);
      else problems.push(...(during.problems ?? []).map((p) => `while ${check.service} was stopped: ${p}`));
    }
    if (check.log) {
      methods.add('docker-logs');
      const found = await waitForLog(ctx, check.log.service, check.log.contains, since);
      observed.log = { service: check.log.service, contains: Object.fromEntries(check.log.contains.map((t) => [ctx.scrubber.scrub(t), found.has(t)])) };
      const missing = check.log.contains.filter((t) => !found.has(t));
      if (missing.length) problems.push(`the output of ${check.log.service} since ${check.service} was stopped lacks ${missing.map((t) => JSON.stringify(ctx.scrubber.scrub(t))).join(', ')} (waited ${LOG_WAIT_MS / 1000} s)`);
    }
  } catch (e) {
    if (ctx.runSignal.aborted) throw e;
    problems.push(`during the outage of ${check.service}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (ctx.runSignal.aborted) throw ctx.runSignal.reason;
  try {
    const restarted = await ctx.engine.start(check.service, restoreBudgetMs(ctx.model, check.service));
    observed.started = { service: check.service, container: restarted.container.slice(0, 12), healthyAfterMs: restarted.healthyAfterMs };
  } catch (e) {
    if (ctx.runSignal.aborted) throw e;
    problems.push((e as Error).message.split('\n')[0]!);
  }
  if (notVerifiable && !problems.length) return { status: 'not-verifiable', method: [...methods], observed, problems: notVerifiable };
  return outcome(problems, [...methods], observed);
}

/** Pure: why a stop was not clean (exit code 137 is SIGKILL: the engine killed it at the end of the grace period). */
export function cleanStopProblem(service: string, exitCode: number | undefined, stopMs: number): string {
  if (exitCode === 137) return `${service} did not stop by itself: the engine killed it after ${Math.round(stopMs / 1000)} s (exit code 137); its stop signal went unanswered or its shutdown hung`;
  return `${service} did not stop cleanly: exit code ${exitCode ?? 'unknown'}, expected 0`;
}

/** Lines of a failed stop's output kept in the evidence. */
export const STOP_LOG_LINES = 6;

/** Pure: the last `n` non-empty lines of `text`, each cut at 300 characters. */
export function lastLogLines(text: string, n: number): string[] {
  return text.split('\n').filter((l) => l.trim()).slice(-n).map(quoteLine);
}

/** `work`, or a rejection with the signal's reason as soon as it aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The texts of `contains` found in the service's output since `since`, polling until all are there or LOG_WAIT_MS passes. */
async function waitForLog(ctx: CheckContext, service: string, contains: readonly string[], since: number): Promise<Set<string>> {
  const deadline = Date.now() + LOG_WAIT_MS;
  for (;;) {
    const text = await ctx.engine.logSince(service, since);
    const found = new Set(contains.filter((t) => text.includes(t)));
    if (contains.every((t) => found.has(t)) || Date.now() >= deadline) return found;
    await delay(LOG_POLL_MS, undefined, { signal: ctx.signal });
  }
}
