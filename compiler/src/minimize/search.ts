/**
 * The search, pure: which items of a set a passing run needs, with an oracle that says pass,
 * fail or error for a candidate set. No Docker here; tests drive it with small fakes.
 *
 * The oracle is treated as a black box that is *not* assumed monotone. Two shapes matter:
 *   - items needed only together (either one is useless alone, e.g. io_uring_setup and
 *     io_uring_enter: with setup allowed and enter denied the service breaks; with both denied it
 *     falls back to another I/O path and works);
 *   - alternatives (accept vs accept4, open vs openat: recorded both, one is enough).
 * Both are handled by testing *sequentially against the current set*, as ddmin's complement tests
 * do: an item (or group) is removed only when a run without it — and without everything removed
 * before — passes; a verdict "needed" holds for the set it was tested against. Removing one of two
 * alternatives passes, after which the other is needed; removing a pair that is only useful
 * together passes as a group even if neither single removal does.
 *
 * 1-minimality is proven at one of two levels (Proof):
 *   - 'as-tested' (what the one-item-per-run method proves): every kept item failed when it was
 *     removed alone from the set of its turn, a superset of the result. With a monotone oracle
 *     (fewer permissions never make a run pass that failed) this is 1-minimality of the result;
 *   - 'final-set': every item whose "needed" verdict was made against an earlier, larger set is
 *     tested again against the final set until one pass changes nothing. This also finds the
 *     items that only a later removal made unnecessary (the second of a pair needed only
 *     together), at the cost of about one run per stale verdict.
 *
 * Group sizes follow Hwang's generalised binary splitting, adapted to an estimated number of
 * needed items: with few needed items among many (the pool of names to add back, or a whole
 * baseline) big groups are removed in one run; when most items are needed (a recorded set),
 * testing them one by one is optimal (group tests only pay when fewer than about 38 % of the
 * items are needed, Ungar 1960), and that one-by-one pass is also the proof of 1-minimality.
 *
 * Every candidate goes through Tester, which counts runs, retries oracle errors, caches verdicts
 * of identical sets (never run twice) and reports progress.
 *
 * Lanes: an oracle may run several candidates at once (one stack per lane). Single removals are
 * then tested in rounds, all against the set at the round's start; the verdicts are applied in
 * the round's order, so the result depends on the verdicts only, never on which run ended
 * first. A fail is a "needed" verdict against the round's set (a superset of the result, as
 * 'as-tested' requires); the first pass removes its item; a later pass in the same round was
 * made against a set that still held the first item, so that item is tested again against the
 * new set in the next round. One lane is exactly the sequential search.
 */

import { createHash } from 'node:crypto';

export type Verdict = 'pass' | 'fail' | 'error';
/** A verdict with what the run saw (the minimiser's RunOutcome), for the run log. */
export interface Judged<D> { readonly verdict: Verdict; readonly detail: D }
/** Runs one candidate on `lane` (0 ≤ lane < the Tester's lanes); a lane runs one candidate at a time. */
export type Oracle<D = undefined> = (candidate: ReadonlySet<string>, lane: number) => Promise<Verdict | Judged<D>>;
export type Phase = 'record' | 'prove' | 'add' | 'reduce' | 'minimal' | 'linear' | 'confirm';

export interface RunLog {
  /** 1-based run number (retries count as runs). */
  readonly run: number;
  readonly phase: Phase;
  /** Size of the candidate set. */
  readonly size: number;
  /** What differs from the set the phase started from (for reports): removed or added names. */
  readonly removed: readonly string[];
  readonly added: readonly string[];
  readonly verdict: Verdict;
  /** Attempt number for this candidate (1 = first; more after oracle errors). */
  readonly attempt: number;
}

export class OracleError extends Error {
  constructor(message: string, readonly attempts: number) {
    super(message);
  }
}

export interface TesterOptions<D = undefined> {
  /** How often a candidate is tried again after an oracle error (not after a failure). */
  readonly retries?: number;
  /** Candidates the oracle can run at once (default 1). */
  readonly lanes?: number;
  /**
   * Each run, in candidate order (once its candidate and every earlier one of the call have
   * ended: on one lane, as each run ends); `last`: the candidate's final
   * attempt (its verdict, or its last error); `candidate`: candidateHash of the set it ran.
   */
  readonly onRun?: (log: RunLog, detail: D | undefined, last: boolean, candidate: string) => void;
  /**
   * Runs of an earlier, interrupted search with the same oracle and order (its journal), in run
   * order: while they last, each run is answered from them instead of the oracle, and must be of
   * the same candidate (else ReplayMismatch). They count as runs. One lane only.
   */
  readonly replay?: readonly ReplayRun<D>[];
}

/** A run of an earlier search, answered again without running it. */
export interface ReplayRun<D> { readonly candidate: string; readonly verdict: Verdict; readonly detail: D }

/** The earlier search took another path: its journal belongs to other specs, options or code. */
export class ReplayMismatch extends Error {}

const keyOf = (s: ReadonlySet<string>) => [...s].sort().join('\n');

/** Pure: a candidate set's identity in a journal (sha256 of its sorted names), whatever their order. */
export function candidateHash(s: Iterable<string>): string {
  return hashKey(keyOf(new Set(s)));
}

const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');

/** What the search needs of a Tester. */
export interface Trials {
  readonly lanes: number;
  passes(candidate: ReadonlySet<string>, options?: { noCache?: boolean }): Promise<boolean>;
  passesAll(candidates: readonly ReadonlySet<string>[], options?: { noCache?: boolean }): Promise<boolean[]>;
}

/** Wraps the oracle: run counting, retries of errors, a verdict cache, the run log, lanes. */
export class Tester<D = undefined> implements Trials {
  private readonly cache = new Map<string, 'pass' | 'fail'>();
  readonly log: RunLog[] = [];
  private errors = 0;
  private reference: ReadonlySet<string> = new Set();
  phase: Phase = 'record';
  /** Candidates run at once by passesAll (1: one after another). */
  readonly lanes: number;
  private readonly replay: ReplayRun<D>[];
  /** Runs answered from the replay so far. */
  replayed = 0;

  constructor(private readonly oracle: Oracle<D>, private readonly options: TesterOptions<D> = {}) {
    this.lanes = Math.max(1, Math.floor(options.lanes ?? 1));
    this.replay = [...(options.replay ?? [])];
    if (this.replay.length && this.lanes > 1) throw new Error('a replay runs on one lane only');
  }

  get runs(): number { return this.log.length; }
  get errorRuns(): number { return this.errors; }

  /** The set the current phase's diffs are shown against. */
  startPhase(phase: Phase, reference: ReadonlySet<string>): void {
    this.phase = phase;
    this.reference = new Set(reference);
  }

  /** True when the candidate passes. A persistent oracle error throws OracleError. */
  async passes(candidate: ReadonlySet<string>, options: { noCache?: boolean } = {}): Promise<boolean> {
    return (await this.passesAll([candidate], options))[0]!;
  }

  /**
   * Each candidate's verdict, up to `lanes` run at once (identical candidates and cached
   * verdicts run once or not at all). The run log and onRun follow the candidates' order, not
   * the order the runs ended in: a candidate's runs are logged as soon as it and every candidate
   * before it have ended (on one lane, as each run ends, so progress is live). A persistent
   * oracle error throws OracleError once every run of the call has ended.
   */
  async passesAll(candidates: readonly ReadonlySet<string>[], options: { noCache?: boolean } = {}): Promise<boolean[]> {
    const keys = candidates.map(keyOf);
    const verdicts = new Map<string, 'pass' | 'fail'>();
    const todo: { key: string; candidate: ReadonlySet<string> }[] = [];
    keys.forEach((key, i) => {
      const cached = options.noCache ? undefined : this.cache.get(key);
      if (cached) verdicts.set(key, cached);
      else if (options.noCache || !todo.some((t) => t.key === key)) todo.push({ key, candidate: candidates[i]! });
    });
    const phase = this.phase;
    const reference = this.reference;
    const retries = this.options.retries ?? 2;
    const done: { entries: { verdict: Verdict; detail: D | undefined; attempt: number; size: number; hash: string; removed: string[]; added: string[] }[]; ended?: true; error?: OracleError }[] = todo.map(() => ({ entries: [] }));
    // The log in the candidates' order: candidate i is logged once it and all before it ended.
    let logged = 0;
    // An onRun that throws (a journal write failing) stops the logging and the starting of
    // candidates; it is thrown once every lane's run has ended, and no run is logged twice.
    let onRunError: { error: unknown } | undefined;
    const flush = () => {
      while (!onRunError && logged < todo.length && done[logged]!.ended) {
        const d = done[logged++]!;
        for (const [j, e] of d.entries.entries()) {
          const entry: RunLog = { run: this.log.length + 1, phase, size: e.size, removed: e.removed, added: e.added, verdict: e.verdict, attempt: e.attempt };
          this.log.push(entry);
          if (e.verdict === 'error') this.errors++;
          try {
            this.options.onRun?.(entry, e.detail, j === d.entries.length - 1, e.hash);
          } catch (error) {
            onRunError = { error };
            return;
          }
        }
      }
    };
    // One worker per lane takes the next candidate; each candidate keeps its own retries.
    let next = 0;
    const worker = async (lane: number) => {
      for (let i = next++; i < todo.length && !onRunError; i = next++) {
        const { key, candidate } = todo[i]!;
        const hash = hashKey(key);
        for (let attempt = 1; ; attempt++) {
          const { verdict, detail } = await this.answer(candidate, hash, lane);
          done[i]!.entries.push({
            verdict, detail, attempt, size: candidate.size, hash,
            removed: [...reference].filter((x) => !candidate.has(x)).sort(),
            added: [...candidate].filter((x) => !reference.has(x)).sort(),
          });
          if (verdict !== 'error') {
            verdicts.set(key, verdict);
            if (!options.noCache) this.cache.set(key, verdict);
            break;
          }
          if (attempt > retries) {
            done[i]!.error = new OracleError(`the oracle failed ${attempt} times in a row on one candidate (Docker or time-out errors, not interaction failures)`, attempt);
            break;
          }
        }
        done[i]!.ended = true;
        flush();
      }
    };
    // Every lane's run ends before anything is thrown: no run goes on behind the caller's back.
    const settled = await Promise.allSettled(Array.from({ length: Math.min(this.lanes, todo.length) }, (_, lane) => worker(lane)));
    const thrown = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (thrown) throw thrown.reason;
    if (onRunError) throw onRunError.error;
    const failed = done.find((d) => d.error);
    if (failed) throw failed.error;
    if (options.noCache) return todo.map((t, i) => done[i]!.entries.at(-1)!.verdict === 'pass');
    return keys.map((k) => verdicts.get(k) === 'pass');
  }

  /** The next replayed run while there is one (it must be of this candidate), else the oracle's verdict. */
  private async answer(candidate: ReadonlySet<string>, hash: string, lane: number): Promise<{ verdict: Verdict; detail: D | undefined }> {
    const replayed = this.replay.shift();
    if (replayed) {
      if (replayed.candidate !== hash) {
        throw new ReplayMismatch(`run ${this.replayed + 1} of the journal ran another candidate than this search asks for: the journal is of another search (delete it to start again)`);
      }
      this.replayed++;
      return { verdict: replayed.verdict, detail: replayed.detail };
    }
    const answer = await this.oracle(candidate, lane);
    return typeof answer === 'string' ? { verdict: answer, detail: undefined } : answer;
  }
}

// ── Deterministic order ───────────────────────────────────────────────────────────────────────

/** mulberry32: a small seeded PRNG, so runs are the same given the same seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The items sorted, then shuffled with the seed (Fisher–Yates). */
export function seededOrder(items: Iterable<string>, seed: number): string[] {
  const out = [...new Set(items)].sort();
  const rnd = prng(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

// ── Group sizes ───────────────────────────────────────────────────────────────────────────────

/**
 * Hwang's generalised binary splitting: with n items left of which about d are needed, test a
 * group of 2^α items, α = ⌊log2((n − d + 1) / d)⌋; one by one when n ≤ 2d − 2.
 */
export function groupSize(n: number, d: number): number {
  if (n <= 0) return 0;
  const needed = Math.max(1, Math.min(n, d));
  if (n <= 2 * needed - 2) return 1;
  const alpha = Math.floor(Math.log2((n - needed + 1) / needed));
  return Math.max(1, Math.min(n, 2 ** Math.max(0, alpha)));
}

/** Runs Hwang's procedure needs for n items with d needed: about d·(α + 1) + n / 2^α. */
export function estimateReduceRuns(n: number, d: number): number {
  if (n <= 0) return 0;
  const needed = Math.max(0, Math.min(n, d));
  if (needed === 0) return 1;
  if (n <= 2 * needed - 2) return n;
  const alpha = Math.floor(Math.log2((n - needed + 1) / needed));
  return Math.ceil(needed * (alpha + 1) + (n - needed) / 2 ** alpha);
}

// ── Reduce ────────────────────────────────────────────────────────────────────────────────────

export interface ReduceState {
  /** The current (always passing) set. */
  readonly current: Set<string>;
  /** Bumped on every removal: a "needed" verdict holds for the version it was made at. */
  version: number;
  /** Item → version of the set its removal was seen to fail against. */
  readonly needed: Map<string, number>;
  readonly removed: string[];
}

export interface ReduceOptions {
  /** Prior guess of the fraction of items that are needed (0..1), updated as verdicts come. */
  readonly neededFraction: number;
  /** Called before each test with the runs the rest of this reduction is expected to need. */
  readonly onEstimate?: (remainingRuns: number) => void;
}

/** A state whose current set is `current` (which must pass) and nothing decided yet. */
export function reduceState(current: Iterable<string>): ReduceState {
  return { current: new Set(current), version: 0, needed: new Map(), removed: [] };
}

async function tryRemove(state: ReduceState, group: readonly string[], tester: Trials): Promise<boolean> {
  const candidate = new Set(state.current);
  for (const x of group) candidate.delete(x);
  if (!(await tester.passes(candidate))) return false;
  for (const x of group) state.current.delete(x);
  state.removed.push(...group);
  state.version++;
  return true;
}

/**
 * One round of single removals, each against the current set, run on the tester's lanes
 * (see the head of this file). Verdicts are applied in `items` order: a fail is a "needed"
 * verdict at the round's version; the first pass removes its item; a later pass was made
 * against a set that still held that item and is returned in `again`, to be tested anew.
 */
export async function removeRound(state: ReduceState, items: readonly string[], tester: Trials): Promise<{ removed: string[]; needed: string[]; again: string[] }> {
  const version = state.version;
  const verdicts = await tester.passesAll(items.map((x) => {
    const c = new Set(state.current);
    c.delete(x);
    return c;
  }));
  const out = { removed: [] as string[], needed: [] as string[], again: [] as string[] };
  items.forEach((x, i) => {
    if (!verdicts[i]) {
      state.needed.set(x, version);
      out.needed.push(x);
    } else if (state.version === version) {
      state.current.delete(x);
      state.removed.push(x);
      state.version++;
      out.removed.push(x);
    } else {
      out.again.push(x);
    }
  });
  return out;
}

/**
 * Removes from state.current every item of `items` (in this order) that a passing run does
 * without, by adaptive group testing. Each item ends either removed or with a "needed" verdict.
 */
export async function reduce(state: ReduceState, items: readonly string[], tester: Trials, options: ReduceOptions): Promise<void> {
  const pending = items.filter((x) => state.current.has(x));
  let decided = 0;
  let foundNeeded = 0;
  // A Beta(2·f, 2·(1 − f)) prior on the fraction, updated with what is found.
  const priorNeeded = 2 * options.neededFraction;
  const priorWeight = 2;
  const estimateNeeded = () => Math.round(pending.length * ((foundNeeded + priorNeeded) / (decided + priorWeight)));
  while (pending.length > 0) {
    const d = estimateNeeded();
    options.onEstimate?.(estimateReduceRuns(pending.length, d));
    const size = groupSize(pending.length, d);
    if (size === 1) {
      // One by one: a round per lane count (one item when there is one lane).
      const r = await removeRound(state, pending.splice(0, tester.lanes), tester);
      decided += r.removed.length + r.needed.length;
      foundNeeded += r.needed.length;
      pending.unshift(...r.again);
      continue;
    }
    const group = pending.splice(0, size);
    if (await tryRemove(state, group, tester)) {
      decided += group.length;
      continue;
    }
    // The group holds something needed: binary search for one such item. Halves proven
    // removable go at once; the half known to hold a needed item is searched further.
    let search = group;
    const untested: string[] = [];
    while (search.length > 1) {
      const half = search.slice(0, Math.ceil(search.length / 2));
      const rest = search.slice(half.length);
      if (await tryRemove(state, half, tester)) {
        decided += half.length;
        // current − rest equals the failed candidate: rest holds a needed item.
        search = rest;
      } else {
        untested.push(...rest);
        search = half;
      }
    }
    state.needed.set(search[0]!, state.version);
    decided++;
    foundNeeded++;
    pending.unshift(...untested);
  }
  options.onEstimate?.(0);
}

/** How 1-minimality is proven (see the head of this file). */
export type Proof = 'as-tested' | 'final-set';

/** Pure: whether an item's "needed" verdict is proof enough at this level. */
function proven(state: ReduceState, x: string, proof: Proof): boolean {
  const v = state.needed.get(x);
  return proof === 'final-set' ? v === state.version : v !== undefined;
}

/**
 * Proves 1-minimality of state.current: every item without a verdict that proves it (at the
 * `proof` level) is removed alone and the run must fail. An item found removable is removed; at
 * 'final-set' that makes the others' verdicts stale, so passes repeat until nothing changes.
 */
export async function proveOneMinimal(state: ReduceState, order: readonly string[], tester: Trials, onEstimate?: (remainingRuns: number) => void, proof: Proof = 'final-set'): Promise<void> {
  for (;;) {
    const stale = order.filter((x) => state.current.has(x) && !proven(state, x, proof));
    // Items not in `order` (should not happen) are proven too, after the ordered ones.
    for (const x of [...state.current].sort()) if (!order.includes(x) && !proven(state, x, proof)) stale.push(x);
    if (stale.length === 0) return;
    const queue = [...stale];
    while (queue.length) {
      onEstimate?.(queue.length);
      const round = queue.splice(0, tester.lanes).filter((x) => state.current.has(x));
      if (round.length) queue.unshift(...(await removeRound(state, round, tester)).again);
    }
    onEstimate?.(0);
  }
}

/**
 * Finds what `base` lacks: tests base; when it fails, tests base ∪ pool (which must pass), then
 * removes from it every pool item a passing run does without. Returns the passing set, or
 * undefined when even base ∪ pool fails.
 */
export async function addMissing(base: ReadonlySet<string>, pool: readonly string[], tester: Trials, onEstimate?: (remainingRuns: number) => void): Promise<{ set: Set<string>; added: string[] } | undefined> {
  if (await tester.passes(base)) return { set: new Set(base), added: [] };
  const extra = pool.filter((x) => !base.has(x));
  const full = new Set([...base, ...extra]);
  if (!(await tester.passes(full))) return undefined;
  const state = reduceState(full);
  // Few of the pool are expected to be needed: one or two names per missing feature.
  await reduce(state, extra, tester, { neededFraction: Math.min(0.5, 2 / Math.max(2, extra.length)), ...(onEstimate ? { onEstimate } : {}) });
  return { set: state.current, added: extra.filter((x) => state.current.has(x)).sort() };
}

/**
 * The manual method: one item removed per run, in order, each run against the current set
 * (Docker's build-minimal-syscalls). One pass; no re-tests.
 */
export async function linearReduce(start: ReadonlySet<string>, order: readonly string[], tester: Trials, onEstimate?: (remainingRuns: number) => void): Promise<ReduceState> {
  const state = reduceState(start);
  const items = order.filter((x) => state.current.has(x));
  for (let i = 0; i < items.length; i++) {
    onEstimate?.(items.length - i);
    if (!(await tryRemove(state, [items[i]!], tester))) state.needed.set(items[i]!, state.version);
  }
  onEstimate?.(0);
  return state;
}

/** Pure: items of the current set proven needed at the `proof` level (1-minimal when all). */
export function provenNeeded(state: ReduceState, proof: Proof = 'final-set'): string[] {
  return [...state.current].filter((x) => proven(state, x, proof)).sort();
}
