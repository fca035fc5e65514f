/**
 * The interaction runner: runs checks one at a time against a VerifierEngine, each within its
 * time limit, and turns what happened (a result, an exception, a time-out) into one
 * InteractionResult. Failures carry the log tail of the services concerned, read once the logs
 * have settled. Only an interrupt of the whole run escapes as an exception.
 */
import type { Check, InteractionModel, StackModel } from '../model/types.ts';
import type { BrowserPool } from './checks/browser.ts';
import { runCheck } from './checks/index.ts';
import { restoreBudgetMs } from './checks/outage.ts';
import type { CheckContext, CheckOutcome, CheckStatus, Method } from './checks/types.ts';
import type { VerifierEngine } from './engine.ts';
import { sleep } from './lifecycle.ts';
import type { Scrubber } from './secrets.ts';

export type ResultStatus = CheckStatus | 'skipped';

export interface InteractionResult {
  readonly id: string;
  readonly description: string;
  readonly reason: string;
  /** The service the check concerns (in-container checks, or the spec that declares it). */
  readonly service?: string;
  readonly origin: 'spec' | 'automatic';
  readonly purpose: 'functional' | 'security';
  readonly kind: string;
  readonly status: ResultStatus;
  readonly durationMs: number;
  readonly method: readonly Method[];
  readonly observed: Readonly<Record<string, unknown>>;
  readonly problems?: readonly string[];
  readonly screenshot?: string;
  /** On failure: the last lines of the logs of the services concerned, by service. */
  readonly logTail?: Readonly<Record<string, string>>;
}

export interface RunnerContext {
  readonly engine: VerifierEngine;
  readonly model: StackModel;
  readonly runToken: string;
  readonly stackDir: string;
  readonly evidenceDir: string;
  readonly scrubber: Scrubber;
  readonly browser: BrowserPool;
  /** The run's signal: aborted on SIGINT/SIGTERM. */
  readonly signal: AbortSignal;
  readonly logLines?: number;
  /** How failures' log tails settle before they are read (default LOG_SETTLE). */
  readonly logSettle?: LogSettle;
  /**
   * `log` checks read what was written from this time on (ms since the epoch). Unset (the
   * verifier): since each container was created. The minimiser sets it to the run's start, as it
   * keeps some containers from earlier runs, whose output belongs to those runs' candidates.
   */
  readonly logsSinceMs?: number;
}

/** Every spec interaction, in spec order: stack.md's first, then each service's (services by name). */
export function specInteractions(model: StackModel): InteractionModel[] {
  return [...model.interactions, ...model.services.flatMap((s) => s.interactions)];
}

/** Pure: the service a check runs in, if any. */
export function checkService(check: Check): string | undefined {
  return 'service' in check && check.service ? check.service : undefined;
}

/** Pure: whose logs explain a failure: the check's own service, or for a URL the publishing service and what it depends on. */
export function servicesConcerned(check: Check, model: StackModel): string[] {
  if (check.kind === 'outage') {
    return [...new Set([check.service, ...(check.log ? [check.log.service] : []), ...(check.during ? servicesConcerned(check.during, model) : [])])];
  }
  if (check.kind === 'persistence') {
    return [...new Set([check.service, ...servicesConcerned(check.write, model), ...servicesConcerned(check.read, model)])];
  }
  const own = checkService(check);
  if (own) return [own];
  if (check.kind !== 'http' && check.kind !== 'browser') return [];
  let port: number | undefined;
  try {
    const u = new URL(check.url);
    port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  } catch {
    return [];
  }
  const entry = model.services.find((s) => s.ports.some((p) => p.host === port));
  if (!entry) return [];
  const out: string[] = [];
  const visit = (name: string) => {
    if (out.includes(name)) return;
    out.push(name);
    model.services.find((s) => s.name === name)?.dependsOn.forEach(visit);
  };
  visit(entry.name);
  return out;
}

/**
 * Runs `work` with a time limit and the run's signal combined; the time limit turns into a failed
 * outcome. After the limit, `work` is aborted and given up to `settleMs` to finish what it must
 * undo (a stopped service started again) before the next interaction runs.
 */
export async function withTimeLimit(runSignal: AbortSignal, timeoutMs: number, settleMs: number, work: (signal: AbortSignal) => Promise<CheckOutcome>): Promise<CheckOutcome> {
  const ac = new AbortController();
  let timedOut = false;
  const onRunAbort = () => ac.abort(runSignal.reason);
  runSignal.addEventListener('abort', onRunAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => { timedOut = true; ac.abort(new Error('time limit')); reject(new Error('time limit')); }, timeoutMs);
    ac.signal.addEventListener('abort', () => reject(ac.signal.reason), { once: true });
  });
  expiry.catch(() => undefined);
  const running = work(ac.signal);
  try {
    return await Promise.race([running, expiry]);
  } catch (e) {
    if (runSignal.aborted) throw runSignal.reason;
    if (timedOut && settleMs > 0) {
      let settleTimer: NodeJS.Timeout | undefined;
      await Promise.race([running.then(() => undefined, () => undefined), new Promise((r) => { settleTimer = setTimeout(r, settleMs); })]);
      clearTimeout(settleTimer);
    }
    if (timedOut) return { status: 'failed', method: [], observed: {}, problems: [`no result within the time limit of ${timeoutMs / 1000} s`] };
    throw e;
  } finally {
    clearTimeout(timer);
    runSignal.removeEventListener('abort', onRunAbort);
  }
}

/** How long the logs of a failure must stay unchanged before their tails are taken, and how long to wait at most. */
export interface LogSettle {
  readonly quietMs: number;
  readonly maxMs: number;
}

/**
 * The line that explains a failure can reach the log after the failure itself: php-fpm's master
 * relays its workers' output, nginx and MariaDB write after they answer. Tails are first read
 * `quietMs` after the failure, then again every `quietMs` until two reads are the same (for at
 * most `maxMs`), so they hold what the failure caused.
 */
export const LOG_SETTLE: LogSettle = { quietMs: 400, maxMs: 3000 };

async function logTails(engine: VerifierEngine, services: readonly string[], lines: number, settle: LogSettle = LOG_SETTLE, signal?: AbortSignal): Promise<Record<string, string>> {
  const read = async (): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const s of services) out[s] = await engine.logTail(s, lines).catch((e: Error) => `(log unavailable: ${e.message})`);
    return out;
  };
  const same = (a: Record<string, string>, b: Record<string, string>) => services.every((s) => a[s] === b[s]);
  const until = Date.now() + settle.maxMs;
  const pause = () => sleep(settle.quietMs, signal).catch(() => undefined);
  await pause();
  let last = await read();
  while (Date.now() < until && !signal?.aborted) {
    await pause();
    const next = await read();
    if (same(next, last)) return next;
    last = next;
  }
  return last;
}

/** One line for an exception: its first line, and the system error under it (fetch's "fetch failed" says little). */
export function errorLine(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  const first = String(err?.message ?? e).split('\n')[0]!.trim();
  const cause = err?.cause?.code ?? err?.cause?.message;
  return cause && !first.includes(cause) ? `${first} (${cause})` : first;
}

/** Runs one spec interaction. */
export async function runInteraction(it: InteractionModel, rc: RunnerContext): Promise<InteractionResult> {
  const started = Date.now();
  // An outage check restores the stack after its time limit too: wait for that before going on.
  const settleMs = it.check.kind === 'outage' ? restoreBudgetMs(rc.model, it.check.service) : 0;
  const out = await withTimeLimit(rc.signal, it.timeoutMs, settleMs, async (signal) => {
    const ctx: CheckContext = {
      engine: rc.engine, model: rc.model, runToken: rc.runToken, stackDir: rc.stackDir, evidenceDir: rc.evidenceDir,
      interactionId: it.id, signal, runSignal: rc.signal, timeoutMs: it.timeoutMs, scrubber: rc.scrubber, browser: rc.browser,
      ...(rc.logsSinceMs !== undefined ? { logsSinceMs: rc.logsSinceMs } : {}),
    };
    try {
      return await runCheck(it.check, ctx);
    } catch (e) {
      if (rc.signal.aborted) throw e;
      return { status: 'failed', method: [], observed: { error: (e as Error).message }, problems: [errorLine(e)] };
    }
  });
  const service = checkService(it.check) ?? it.declaredIn;
  const result: InteractionResult = {
    id: it.id, description: it.description, reason: it.reason,
    ...(service ? { service } : {}),
    origin: 'spec', purpose: it.purpose, kind: it.check.kind,
    status: out.status, durationMs: Date.now() - started, method: out.method, observed: out.observed,
    ...(out.problems?.length ? { problems: out.problems } : {}),
    ...(out.screenshot ? { screenshot: out.screenshot } : {}),
  };
  if (out.status !== 'failed') return result;
  const concerned = servicesConcerned(it.check, rc.model);
  return concerned.length ? { ...result, logTail: await logTails(rc.engine, concerned, rc.logLines ?? 40, rc.logSettle, rc.signal) } : result;
}

/** A result for an interaction that was not run (the stack did not come up). */
export function skippedResult(it: InteractionModel, why: string): InteractionResult {
  const service = checkService(it.check) ?? it.declaredIn;
  return {
    id: it.id, description: it.description, reason: it.reason, ...(service ? { service } : {}),
    origin: 'spec', purpose: it.purpose, kind: it.check.kind, status: 'skipped', durationMs: 0, method: [], observed: {}, problems: [why],
  };
}

export { logTails };
