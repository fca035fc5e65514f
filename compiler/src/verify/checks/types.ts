/** What every check receives and returns. */
import type { StackModel } from '../../model/types.ts';
import type { VerifierEngine } from '../engine.ts';
import type { Scrubber } from '../secrets.ts';
import type { BrowserPool } from './browser.ts';

/** How a result was observed; evidence lists every method a check used. */
export type Method =
  | 'docker-inspect' | 'docker-info' | 'host-proc' | 'host-fs' | 'probe' | 'http' | 'browser'
  | 'exec' | 'archive' | 'tcp-connect' | 'compose' | 'docker-logs';

export const METHODS: readonly Method[] = ['docker-inspect', 'docker-info', 'host-proc', 'host-fs', 'probe', 'http', 'browser', 'exec', 'archive', 'tcp-connect', 'compose', 'docker-logs'];

export type CheckStatus = 'passed' | 'failed' | 'not-verifiable';

export interface CheckOutcome {
  readonly status: CheckStatus;
  readonly method: readonly Method[];
  /** What was seen: status codes, errno names, header values, field comparisons… (JSON data). */
  readonly observed: Readonly<Record<string, unknown>>;
  /** Why it failed or could not be verified; one line per problem. */
  readonly problems?: readonly string[];
  /** Screenshot path relative to the evidence folder. */
  readonly screenshot?: string;
}

export interface CheckContext {
  readonly engine: VerifierEngine;
  readonly model: StackModel;
  /** The run's token: replaces {{run}} in check strings. */
  readonly runToken: string;
  /** Absolute path of the stack's spec folder (for `file` checks). */
  readonly stackDir: string;
  /** Absolute path of the evidence folder (screenshots go to screenshots/ below it). */
  readonly evidenceDir: string;
  readonly interactionId: string;
  /** Aborts on the interaction's time limit or when the run is interrupted. */
  readonly signal: AbortSignal;
  /**
   * The run's own signal: aborts only when the run is interrupted. A check that changes the stack
   * (outage) restores it under this one, also after its time limit.
   */
  readonly runSignal: AbortSignal;
  /** Time left for the interaction, for operations that take a limit of their own. */
  readonly timeoutMs: number;
  readonly scrubber: Scrubber;
  readonly browser: BrowserPool;
  /** `log` checks read from this time on (ms since the epoch); unset: since the container was created. */
  readonly logsSinceMs?: number;
}

export function outcome(problems: readonly string[], method: readonly Method[], observed: Record<string, unknown>, extra: { screenshot?: string } = {}): CheckOutcome {
  return { status: problems.length ? 'failed' : 'passed', method, observed, ...(problems.length ? { problems } : {}), ...extra };
}

/** Replaces {{run}} in every string of a check (keys of maps included). */
export function withRunToken<T>(value: T, token: string): T {
  if (typeof value === 'string') return value.split('{{run}}').join(token) as T;
  if (Array.isArray(value)) return value.map((v) => withRunToken(v, token)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [withRunToken(k, token), withRunToken(v, token)])) as T;
  }
  return value;
}

/** Text for evidence: at most `max` characters, the end kept (that is where errors are). */
export function clip(text: string, max = 2000): string {
  return text.length <= max ? text : `…${text.slice(text.length - max)}`;
}
