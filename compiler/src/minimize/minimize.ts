/**
 * The minimisation, phase by phase, over a backend that runs candidates (Docker in real use, a
 * fake in tests). The phases, in order:
 *
 *   record   (strategy record) one run of the whole stack with the starting set, traced; the
 *            recorded set (cut at the seccomp filter, runtime + service + healthcheck calls) is
 *            the first candidate. A failing start set stops here: the spec must work first.
 *   prove    run with only the recorded set; when it fails, add back from the pool (the start
 *            set, and Docker's default list) what is missing, by group testing.
 *   linear   (strategy linear) run with the start set, then one item removed per run.
 *   minimal  (--minimal) remove what is recorded but not needed, by adaptive group testing,
 *            then prove 1-minimality: every kept item failed when removed alone, from the set
 *            of its turn (as the one-item-per-run method proves it) or, with --strict, from
 *            the final set itself (stale verdicts tested again).
 *   confirm  the final set, three runs on a fresh stack; a failure among them is reported as
 *            flaky, never hidden.
 */
import { CAPABILITIES, DOCKER_DEFAULT_CAPABILITIES } from '../model/capabilities.ts';
import type { RunOutcome } from './stack-session.ts';
import type { What } from './candidate.ts';
import type { Maker, RecordedItem } from './record/trace.ts';
import { addMissing, linearReduce, OracleError, proveOneMinimal, provenNeeded, reduce, reduceState, seededOrder, Tester, type Phase, type Proof, type ReplayRun, type RunLog } from './search.ts';

export type Strategy = 'record' | 'linear';

export interface RecordOutcome {
  readonly outcome: RunOutcome;
  /** The service's recorded items (syscall names, or capabilities granted), with their makers. */
  readonly items: readonly RecordedItem[];
  /** Syscalls before the cut (runtime set-up), or capabilities checked and denied. */
  readonly other: readonly string[];
}

export interface MinimizeBackend {
  /** Candidates the backend can run at once, each lane its own stack (default 1). */
  readonly lanes?: number;
  /** One run with exactly this set on `lane`; `fresh` starts that lane's whole stack from clean. */
  run(candidate: ReadonlySet<string>, options: { fresh: boolean; lane: number }): Promise<RunOutcome>;
  /** One traced run of the whole stack with this set; absent when no recorder is available. */
  record?(start: ReadonlySet<string>): Promise<RecordOutcome>;
}

export interface MinimizeOptions {
  readonly what: What;
  readonly strategy: Strategy;
  readonly minimal: boolean;
  /** With minimal: prove 1-minimality against the final set ('final-set', --strict), not as tested. */
  readonly strict?: boolean;
  /**
   * Remove what is not needed by group testing even without --minimal (the file-list search:
   * there is no recording to start from, and the whole list is the start). --minimal adds the
   * proof of 1-minimality.
   */
  readonly reduce?: boolean;
  /** Search in the start set's own order (files: by package and folder) instead of a seeded shuffle. */
  readonly ordered?: boolean;
  /**
   * After each group-testing pass, the next finer items standing for the same kept set (files:
   * packages → folders → files), searched again; undefined when there is nothing finer.
   */
  readonly refine?: (kept: readonly string[]) => string[] | undefined;
  readonly seed: number;
  /** The set the spec has now (syscalls on the engine's architecture, or capabilities). */
  readonly start: readonly string[];
  /** Names that may be added back when the recorded set is not enough (Docker's default list). */
  readonly pool: readonly string[];
  /**
   * Items every candidate holds and the search never removes (reported as kept). For syscalls,
   * DEFAULT_KEEP_SYSCALLS: see there.
   */
  readonly keep?: readonly string[];
  /**
   * Whose recorded items seed the first candidate (default SEEDING: the runtime after the cut, the
   * service, its healthcheck). The file search adds the verifier's helpers: the tools its checks
   * run inside the container (the database client of an sql check) must be in the image.
   */
  readonly seedMakers?: readonly Maker[];
  readonly confirmRuns?: number;
  readonly retries?: number;
  /**
   * What a run restarts: 'service' (what servicesToRestart names, when the rest is healthy) or
   * 'stack' (everything from clean, as the manual method does). Default: 'stack' for linear,
   * 'service' for record.
   */
  readonly restart?: 'service' | 'stack';
  /**
   * Go on with an interrupted linear search: its runs (from its journal) are answered again in
   * order without running, and `elapsedMs`, the time it had taken, counts in the wall time.
   */
  readonly resume?: { readonly runs: readonly ReplayRun<RunOutcome>[]; readonly elapsedMs: number; readonly from?: ResumedFrom };
  /** Called after every run (replayed ones too), with an estimate of the runs still to come; `candidate`: its candidateHash. */
  readonly onRun?: (log: RunLog & { readonly outcome: RunOutcome; readonly candidate: string }, estimate: { readonly done: number; readonly remaining: number }) => void;
}

export interface PhaseCount { readonly phase: Phase; readonly runs: number; readonly wallMs: number }

export interface MinimizeResult {
  readonly what: What;
  readonly strategy: Strategy;
  readonly minimal: boolean;
  readonly seed: number;
  readonly start: readonly string[];
  readonly recorded?: { readonly items: readonly RecordedItem[]; readonly seed: readonly string[]; readonly other: readonly string[] };
  /** The set found, sorted. */
  readonly result: readonly string[];
  readonly removed: readonly string[];
  /** Names not in the start set that the result holds (added back in the prove phase). */
  readonly added: readonly string[];
  /** Added back after the recorded set failed (whatever the start set held). */
  readonly addedAfterRecording: readonly string[];
  /** True when every item of the result was proven needed at the `proof` level. */
  readonly oneMinimal: boolean;
  /** With minimal: how single removals were proven to fail (against the set of their turn, or the final set). */
  readonly proof?: Proof;
  /** Items whose single removal was run (against the final set, or at 'as-tested' a superset of it) and failed. */
  readonly provenNeeded: readonly string[];
  /** Held by every candidate and never searched (MinimizeOptions.keep). */
  readonly kept: readonly string[];
  readonly runs: number;
  readonly errorRuns: number;
  /** Candidates run at once (the backend's lanes). */
  readonly lanes: number;
  readonly phases: readonly PhaseCount[];
  readonly wallMs: number;
  readonly confirmation: readonly { readonly verdict: RunOutcome['verdict']; readonly failed: readonly string[]; readonly error?: string }[];
  readonly confirmed: boolean;
  readonly flaky: boolean;
  readonly log: readonly (RunLog & { readonly durationMs: number; readonly startMs?: number; readonly scope: RunOutcome['scope']; readonly restarted: readonly string[]; readonly failed: readonly string[]; readonly problems: readonly string[]; readonly error?: string })[];
  /** Why the search stopped early, when it did. */
  readonly stopped?: string;
  /** Set when the search went on from a journal: the runs replayed from it, the time they had taken, and where they ran. */
  readonly resumed?: { readonly runs: number; readonly wallMs: number; readonly from?: ResumedFrom };
}

/** When and on which engine the replayed runs of a resumed search were made. */
export interface ResumedFrom { readonly startedAt: string; readonly engine: { readonly version: string; readonly kernel: string } }

/**
 * The kernel's signal-return path: no program calls these on purpose, but a process needs
 * rt_sigreturn whenever one of its signal handlers returns, and restart_syscall when a blocking
 * call is interrupted and resumed. A run shows them only if a signal happens to arrive (one of two
 * recordings of MariaDB here had each), and interactions rarely depend on them, so a search would
 * drop them and the service would die at its first handled signal. They give nothing to an
 * attacker; they are always kept.
 */
export const DEFAULT_KEEP_SYSCALLS: readonly string[] = ['restart_syscall', 'rt_sigreturn'];

/** Makers whose calls seed the allowlist (see record/trace.ts). */
export const SEEDING: readonly Maker[] = ['runtime', 'service', 'healthcheck'];

/** The recorded seed: items made by the given makers (by default the runtime after the cut, the service or its healthcheck). */
export function seedOf(items: readonly RecordedItem[], makers: readonly Maker[] = SEEDING): string[] {
  return items.filter((i) => i.makers.some((m) => makers.includes(m))).map((i) => i.name).sort();
}

/** Docker's default capability set plus what the spec already adds. */
export function capabilityStart(specCaps: readonly string[]): string[] {
  return [...new Set([...DOCKER_DEFAULT_CAPABILITIES, ...specCaps])].filter((c) => CAPABILITIES.includes(c)).sort();
}

export async function minimize(backend: MinimizeBackend, o: MinimizeOptions): Promise<MinimizeResult> {
  if (o.resume && o.strategy !== 'linear') throw new Error('only a linear search can be resumed: its runs are a fixed sequence');
  // A resumed search's clock starts when the interrupted one did (less the pause between them).
  const credit = o.resume?.elapsedMs ?? 0;
  const started = Date.now() - credit;
  const outcomes: MinimizeResult['log'][number][] = [];
  const phases = new Map<Phase, { runs: number; wallMs: number }>();
  let remaining = 0;
  let lastOutcome: RunOutcome | undefined;
  const lanes = Math.max(1, Math.floor(backend.lanes ?? 1));
  // Per lane: the next run starts that lane's stack from clean (first run, after an error).
  const fresh: boolean[] = Array.from({ length: lanes }, () => true);
  let confirming = false;
  const restartStack = (o.restart ?? (o.strategy === 'linear' ? 'stack' : 'service')) === 'stack';
  // The record run goes through the Tester like every other run (same counting, same retries).
  let recording = false;
  let rec: RecordOutcome | undefined;
  const keep = new Set(o.keep ?? []);
  const withKeep = (c: ReadonlySet<string>) => (keep.size ? new Set([...c, ...keep]) : c);
  const confirmOutcomes: RunOutcome[] = [];
  const retries = o.retries ?? 2;
  const tester = new Tester<RunOutcome>(async (candidate, lane) => {
    let out: RunOutcome;
    if (recording) {
      rec = await backend.record!(withKeep(candidate));
      out = rec.outcome;
    } else {
      out = await backend.run(withKeep(candidate), { fresh: confirming || fresh[lane]!, lane });
    }
    fresh[lane] = out.verdict === 'error' || restartStack;
    lastOutcome = out;
    return { verdict: out.verdict, detail: out };
  }, {
    retries,
    lanes,
    ...(o.resume ? { replay: o.resume.runs } : {}),
    onRun: (log, detail, last, candidate) => {
      const out = detail!;
      const p = phases.get(log.phase) ?? { runs: 0, wallMs: 0 };
      p.runs++;
      phases.set(log.phase, p);
      // A confirmation run's outcome is the last attempt of its candidate.
      if (log.phase === 'confirm' && last) confirmOutcomes.push(out);
      outcomes.push({ ...log, durationMs: out.durationMs, ...(out.startMs !== undefined ? { startMs: out.startMs } : {}), scope: out.scope, restarted: out.restarted, failed: [...out.failed.map((f) => f.id), ...out.unhealthy.map((u) => `${u.service} (not healthy)`)], problems: [...out.unhealthy.map((u) => `${u.service}: ${u.reason}`), ...out.failed.map((f) => `${f.id}: ${f.problem}`)].map((p) => p.slice(0, 300)), ...(out.error ? { error: out.error } : {}) });
      // The phases' estimates are set before their runs; a candidate done is one fewer still
      // expected (the confirmation's three are counted down one by one; a retried error is not).
      if (last) remaining = Math.max(0, remaining - 1);
      o.onRun?.({ ...log, outcome: out, candidate }, { done: tester.runs, remaining });
    },
  });
  // Wall time per phase, by the clock (runs on several lanes overlap).
  let clock: { phase: Phase; since: number } | undefined;
  const leavePhase = () => {
    if (!clock) return;
    const p = phases.get(clock.phase) ?? { runs: 0, wallMs: 0 };
    p.wallMs += Date.now() - clock.since;
    phases.set(clock.phase, p);
    clock = undefined;
  };
  const enterPhase = (phase: Phase, reference: ReadonlySet<string>, creditMs = 0) => {
    leavePhase();
    tester.startPhase(phase, reference);
    clock = { phase, since: Date.now() - creditMs };
  };
  const confirmRuns = o.confirmRuns ?? 3;
  const proof: Proof = o.strict ? 'final-set' : 'as-tested';
  /** Runs expected after the current phase: about `size` for --minimal, then the confirmation. */
  const later = (size: number) => (o.minimal ? Math.ceil(size) : 0) + confirmRuns;
  const start = new Set(o.start.filter((x) => !keep.has(x)));
  const pool = o.pool.filter((x) => !keep.has(x));
  let recorded: MinimizeResult['recorded'];
  let current: Set<string>;
  let state = reduceState([]);
  let addedAfterRecording: string[] = [];
  let stopped: string | undefined;

  try {
    if (o.strategy === 'record' && backend.record) {
      enterPhase('record', start);
      remaining = 2 + later(o.start.length / 3);
      recording = true;
      const startPasses = await tester.passes(start);
      recording = false;
      const seed = seedOf(rec!.items, o.seedMakers).filter((x) => start.has(x));
      recorded = { items: rec!.items, seed, other: rec!.other };
      if (!startPasses) {
        stopped = `the start set itself fails the interactions (${describe(rec!.outcome)}): fix the spec first`;
        current = new Set(start);
      } else {
        enterPhase('prove', new Set(seed));
        remaining = 1 + later(seed.length);
        const rest = [...new Set([...start, ...pool])].filter((x) => !seed.includes(x));
        const candidates = o.ordered ? rest : seededOrder(rest, o.seed);
        const found = await addMissing(new Set(seed), candidates, tester, (r) => { remaining = r + later(seed.length); });
        if (!found) {
          stopped = 'even the recorded set with every pool name added back fails';
          current = new Set(start);
        } else {
          current = found.set;
          addedAfterRecording = found.added;
        }
      }
      state = reduceState(current);
    } else if (o.strategy === 'record') {
      // No recorder: the start set is the first candidate, and only --minimal can shrink it
      // (group testing from the whole set: few of Docker's ~290 names are needed).
      enterPhase('prove', start);
      remaining = 1 + later(o.start.length / 2);
      if (!(await tester.passes(start))) stopped = `the start set itself fails the interactions (${lastOutcome ? describe(lastOutcome) : 'no run'}): fix the spec first`;
      current = new Set(start);
      state = reduceState(current);
    } else {
      enterPhase('linear', start, credit);
      remaining = 1 + start.size + confirmRuns;
      if (!(await tester.passes(start))) {
        stopped = 'the start set itself fails the interactions: fix the spec first';
        state = reduceState(start);
      } else {
        state = await linearReduce(start, seededOrder(start, o.seed), tester, (r) => { remaining = r + confirmRuns; });
      }
      current = state.current;
    }

    if ((o.minimal || o.reduce) && !stopped) {
      enterPhase(o.minimal ? 'minimal' : 'reduce', state.current);
      const order = o.ordered ? o.start.filter((x) => state.current.has(x)) : seededOrder(state.current, o.seed + 1);
      if (o.strategy === 'record') {
        const { tolerated, rest } = splitByFailures(order, recorded?.items ?? []);
        // Calls that only ever failed in the recording: the service copes with their failure,
        // so most are likely removable: group tests pay there. The rest are mostly needed:
        // Hwang's sizes then test one by one, which also proves them. Without a recording,
        // most of the start set is not needed: big groups first.
        const onEstimate = (r: number) => { remaining = r + state.current.size / 4 + confirmRuns; };
        if (recorded) {
          await reduce(state, tolerated, tester, { neededFraction: 0.3, onEstimate });
          await reduce(state, rest, tester, { neededFraction: 0.85, onEstimate });
        } else {
          await reduce(state, order, tester, { neededFraction: 0.2, onEstimate });
          // Finer items for the same (passing) set: no run is needed to switch.
          for (let finer = o.refine?.(order.filter((x) => state.current.has(x))); finer; finer = o.refine?.(finer.filter((x) => state.current.has(x)))) {
            state = reduceState(finer);
            enterPhase(o.minimal ? 'minimal' : 'reduce', state.current);
            await reduce(state, finer, tester, { neededFraction: 0.2, onEstimate });
          }
        }
      }
      const proofOrder = o.strategy === 'record' && recorded ? [...splitByFailures(order, recorded.items).tolerated, ...splitByFailures(order, recorded.items).rest] : order;
      if (o.minimal) await proveOneMinimal(state, proofOrder, tester, (r) => { remaining = r + confirmRuns; }, proof);
      current = state.current;
    }
  } catch (e) {
    if (!(e instanceof OracleError)) throw e;
    stopped = e.message;
    current = state.current.size ? state.current : new Set(start);
  }

  // Confirm: fresh stacks, never from the cache; on several lanes at once where there are.
  const confirmation: MinimizeResult['confirmation'][number][] = [];
  if (!stopped) {
    enterPhase('confirm', current);
    remaining = confirmRuns;
    confirming = true;
    try {
      await tester.passesAll(Array.from({ length: confirmRuns }, () => current), { noCache: true });
    } catch (e) {
      if (!(e instanceof OracleError)) throw e;
    }
    confirming = false;
    for (const out of confirmOutcomes) confirmation.push({ verdict: out.verdict, failed: out.failed.map((f) => f.id), ...(out.error ? { error: out.error } : {}) });
  }
  leavePhase();
  const passes = confirmation.filter((c) => c.verdict === 'pass').length;
  const result = [...new Set([...current, ...keep])].sort();
  // The one-item-per-run method proves each kept item as tested, with or without --minimal.
  const proves = o.minimal || o.strategy === 'linear';
  const proven = proves && !stopped ? provenNeeded(state, proof) : [];
  return {
    what: o.what, strategy: o.strategy, minimal: o.minimal, seed: o.seed,
    start: [...o.start].sort(),
    ...(recorded ? { recorded } : {}),
    result,
    removed: o.start.filter((x) => !result.includes(x)).sort(),
    added: result.filter((x) => !o.start.includes(x)),
    addedAfterRecording,
    oneMinimal: proves && !stopped && proven.length === current.size,
    ...(proves ? { proof } : {}),
    provenNeeded: proven,
    kept: [...keep].sort(),
    runs: tester.runs,
    errorRuns: tester.errorRuns,
    lanes,
    phases: [...phases].map(([phase, v]) => ({ phase, runs: v.runs, wallMs: v.wallMs })),
    wallMs: Date.now() - started,
    confirmation,
    confirmed: confirmation.length > 0 && passes === confirmation.length,
    flaky: passes > 0 && passes < confirmation.length,
    log: outcomes,
    ...(stopped ? { stopped } : {}),
    ...(o.resume ? { resumed: { runs: tester.replayed, wallMs: credit, ...(o.resume.from ? { from: o.resume.from } : {}) } } : {}),
  };
}

/**
 * Pure: the order for --minimal. Removals found late make earlier "needed" verdicts stale (they
 * must be proven again on the final set), so likely removable items go first: those whose every
 * recorded call failed (the service already copes with their failure), then the others by how
 * often they were called, fewest first (start-up probes such as uname or sysinfo are often
 * optional; calls of every request, read or epoll_wait, rarely are). Ties keep the seeded order;
 * items not in the recording (added back) go last. Only the number of runs depends on this.
 */
export function splitByFailures(order: readonly string[], items: readonly RecordedItem[]): { tolerated: string[]; rest: string[] } {
  const byName = new Map(items.map((i) => [i.name, i]));
  const tolerated = order.filter((x) => { const i = byName.get(x); return i !== undefined && i.count > 0 && i.failed >= i.count; });
  const count = (x: string) => byName.get(x)?.count ?? Number.POSITIVE_INFINITY;
  const rest = order.filter((x) => !tolerated.includes(x)).map((x, i) => ({ x, i, c: count(x) })).sort((a, b) => (a.c === b.c ? a.i - b.i : a.c < b.c ? -1 : 1)).map((e) => e.x);
  return { tolerated, rest };
}

function describe(o: RunOutcome): string {
  if (o.error) return o.error;
  const parts = [...o.unhealthy.map((u) => `${u.service}: ${u.reason}`), ...o.failed.map((f) => `${f.id}: ${f.problem}`)];
  return parts.slice(0, 3).join('; ') || o.verdict;
}
