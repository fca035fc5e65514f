// The minimiser's search, with fake oracles instead of Docker: what a run needs is a small rule
// over the candidate set. Intent, as the equivalent manual practice: "run the service with this
// allowlist; does every functional interaction still pass?", answered here without containers.
import { describe, expect, it } from 'vitest';
import { minimize, seedOf, splitByFailures, type MinimizeBackend } from '../compiler/src/minimize/minimize.ts';
import {
  addMissing, estimateReduceRuns, groupSize, linearReduce, OracleError, prng, proveOneMinimal, provenNeeded, reduce, reduceState, removeRound,
  seededOrder, Tester, type Verdict,
} from '../compiler/src/minimize/search.ts';
import type { RunOutcome } from '../compiler/src/minimize/stack-session.ts';

/** The fakes answer plain verdicts, on any lane. */
type Oracle = (candidate: ReadonlySet<string>) => Promise<Verdict>;

/**
 * A service that needs `needed`; needs one of each `alternatives` group (accept vs accept4);
 * and for each `together` pair [a, b]: with a allowed it also needs b (io_uring_setup then
 * io_uring_enter), with neither it falls back and works.
 */
function fakeService(rule: { needed: string[]; alternatives?: string[][]; together?: [string, string][] }): Oracle & { calls: number } {
  const f = async (c: ReadonlySet<string>): Promise<Verdict> => {
    f.calls++;
    if (!rule.needed.every((x) => c.has(x))) return 'fail';
    if (!(rule.alternatives ?? []).every((g) => g.some((x) => c.has(x)))) return 'fail';
    if (!(rule.together ?? []).every(([a, b]) => !c.has(a) || c.has(b))) return 'fail';
    return 'pass';
  };
  f.calls = 0;
  return f;
}

/** Is `set` 1-minimal for the oracle: every single removal fails? (checked exhaustively) */
async function isOneMinimal(set: ReadonlySet<string>, oracle: Oracle): Promise<boolean> {
  for (const x of set) {
    const c = new Set(set);
    c.delete(x);
    if ((await oracle(c)) === 'pass') return false;
  }
  return true;
}

const names = (n: number, p = 's') => Array.from({ length: n }, (_, i) => `${p}${String(i).padStart(3, '0')}`);

describe('group sizes (Hwang)', () => {
  it('tests one by one when most items are needed, in big groups when few are', () => {
    expect(groupSize(62, 53)).toBe(1);
    expect(groupSize(230, 2)).toBe(64);
    expect(groupSize(10, 1)).toBe(8);
    expect(groupSize(0, 1)).toBe(0);
    expect(estimateReduceRuns(62, 53)).toBe(62);
    expect(estimateReduceRuns(230, 2)).toBeLessThan(20);
  });
});

describe('seeded order', () => {
  it('is a permutation that depends only on the seed', () => {
    const items = names(50);
    expect(seededOrder(items, 7)).toEqual(seededOrder([...items].reverse(), 7));
    expect(seededOrder(items, 7)).not.toEqual(seededOrder(items, 8));
    expect([...seededOrder(items, 7)].sort()).toEqual(items);
  });
});

describe('reduce + proveOneMinimal', () => {
  it('finds exactly the needed items of a recorded set and proves 1-minimality', async () => {
    const needed = names(50);
    const extra = names(12, 'x');
    const oracle = fakeService({ needed });
    const tester = new Tester(oracle);
    const state = reduceState([...needed, ...extra]);
    const order = seededOrder(state.current, 1);
    await reduce(state, order, tester, { neededFraction: 0.85 });
    await proveOneMinimal(state, order, tester);
    expect([...state.current].sort()).toEqual(needed);
    expect(provenNeeded(state)).toEqual(needed);
    expect(await isOneMinimal(state.current, oracle)).toBe(true);
  });

  it('keeps one of two alternatives (accept vs accept4), whichever is tried second', async () => {
    const oracle = fakeService({ needed: ['read'], alternatives: [['accept', 'accept4']] });
    const tester = new Tester(oracle);
    const state = reduceState(['read', 'accept', 'accept4', 'uname']);
    const order = ['accept', 'accept4', 'read', 'uname'];
    await reduce(state, order, tester, { neededFraction: 0.85 });
    await proveOneMinimal(state, order, tester);
    expect([...state.current].sort()).toEqual(['accept4', 'read']);
    expect(await isOneMinimal(state.current, oracle)).toBe(true);
  });

  it('removes a pair needed only together when a group test takes both, and re-proves stale verdicts', async () => {
    // With io_uring_setup present, io_uring_enter is needed; without both, the fallback works.
    const oracle = fakeService({ needed: ['read', 'write'], together: [['io_uring_setup', 'io_uring_enter']] });
    const tester = new Tester(oracle);
    const state = reduceState(['io_uring_enter', 'read', 'io_uring_setup', 'write']);
    const order = ['io_uring_enter', 'read', 'io_uring_setup', 'write'];
    await reduce(state, order, tester, { neededFraction: 0.85 });
    // One by one: enter is "needed" (setup still there), then setup is removed: enter's verdict is stale.
    expect(state.needed.get('io_uring_enter')).toBeLessThan(state.version);
    await proveOneMinimal(state, order, tester);
    expect([...state.current].sort()).toEqual(['read', 'write']);
    expect(await isOneMinimal(state.current, oracle)).toBe(true);
  });

  it('as tested, keeps what only a later removal freed; against the final set, finds it', async () => {
    const oracle = fakeService({ needed: ['read', 'write'], together: [['io_uring_setup', 'io_uring_enter']] });
    const order = ['io_uring_enter', 'read', 'io_uring_setup', 'write'];
    const asTested = reduceState(order);
    const t1 = new Tester(oracle);
    await reduce(asTested, order, t1, { neededFraction: 0.85 });
    const runsAfterReduce = t1.runs;
    await proveOneMinimal(asTested, order, t1, undefined, 'as-tested');
    // Every item already has a verdict: no run; enter stays (its removal failed while setup was there).
    expect(t1.runs).toBe(runsAfterReduce);
    expect([...asTested.current].sort()).toEqual(['io_uring_enter', 'read', 'write']);
    expect(provenNeeded(asTested, 'as-tested')).toEqual(['io_uring_enter', 'read', 'write']);
    expect(provenNeeded(asTested, 'final-set')).toEqual(['write']);
    expect(await isOneMinimal(asTested.current, oracle)).toBe(false);
    const strict = reduceState(order);
    await reduce(strict, order, new Tester(oracle), { neededFraction: 0.85 });
    await proveOneMinimal(strict, order, new Tester(oracle), undefined, 'final-set');
    expect([...strict.current].sort()).toEqual(['read', 'write']);
  });

  it('as tested, still runs the items that have no verdict at all', async () => {
    const oracle = fakeService({ needed: ['read'] });
    const state = reduceState(['read', 'uname']);
    const tester = new Tester(oracle);
    await proveOneMinimal(state, ['read', 'uname'], tester, undefined, 'as-tested');
    expect([...state.current]).toEqual(['read']);
    expect(tester.runs).toBe(2);
  });

  it('uses far fewer runs than items when few are needed (a whole baseline)', async () => {
    const all = names(290);
    const needed = seededOrder(all, 3).slice(0, 20);
    const tester = new Tester(fakeService({ needed }));
    const state = reduceState(all);
    await reduce(state, seededOrder(all, 1), tester, { neededFraction: 0.2 });
    expect([...state.current].sort()).toEqual([...needed].sort());
    expect(tester.runs).toBeLessThan(150);
  });
});

describe('addMissing', () => {
  it('returns the base when it passes, in one run', async () => {
    const tester = new Tester(fakeService({ needed: ['a'] }));
    const r = await addMissing(new Set(['a', 'b']), ['c', 'd'], tester);
    expect(r?.added).toEqual([]);
    expect(tester.runs).toBe(1);
  });

  it('finds the one missing name among many by group testing', async () => {
    const pool = names(230, 'p');
    const tester = new Tester(fakeService({ needed: ['a', 'p117'], alternatives: [['p003', 'p200']] }));
    const r = await addMissing(new Set(['a']), pool, tester);
    expect(r?.added.includes('p117')).toBe(true);
    expect(r?.added.length).toBe(2);
    expect(r!.added.some((x) => x === 'p003' || x === 'p200')).toBe(true);
    expect(tester.runs).toBeLessThan(30);
  });

  it('says undefined when even everything fails', async () => {
    const tester = new Tester(fakeService({ needed: ['zzz'] }));
    expect(await addMissing(new Set(['a']), ['b'], tester)).toBeUndefined();
  });
});

describe('Tester', () => {
  it('retries oracle errors, counts them as runs, and tells them apart from failures', async () => {
    let n = 0;
    const tester = new Tester(async () => (++n < 3 ? 'error' : 'fail'), { retries: 2 });
    expect(await tester.passes(new Set(['a']))).toBe(false);
    expect(tester.runs).toBe(3);
    expect(tester.errorRuns).toBe(2);
    expect(tester.log.map((l) => l.verdict)).toEqual(['error', 'error', 'fail']);
    expect(tester.log.map((l) => l.attempt)).toEqual([1, 2, 3]);
  });

  it('gives up with OracleError after the retries', async () => {
    const last: boolean[] = [];
    const tester = new Tester(async () => 'error', { retries: 1, onRun: (_l, _d, isLast) => last.push(isLast) });
    await expect(tester.passes(new Set())).rejects.toBeInstanceOf(OracleError);
    expect(tester.runs).toBe(2);
    // The second error is the candidate's last attempt.
    expect(last).toEqual([false, true]);
  });

  it('tells onRun which run is a candidate\'s last attempt, on every lane', async () => {
    const errorsLeft = new Map([['a', 2], ['b', 0], ['c', 1]]);
    const seen: string[] = [];
    const tester = new Tester(async (c) => {
      const k = [...c][0]!;
      const left = errorsLeft.get(k)!;
      errorsLeft.set(k, left - 1);
      return left > 0 ? 'error' : 'pass';
    }, { lanes: 2, retries: 2, onRun: (l, _d, isLast) => seen.push(`${l.verdict}${isLast ? '!' : ''}`) });
    expect(await tester.passesAll([new Set(['a']), new Set(['b']), new Set(['c'])])).toEqual([true, true, true]);
    expect(seen).toEqual(['error', 'error', 'pass!', 'pass!', 'error', 'pass!']);
  });

  it('logs each run as it ends on one lane, before the next one starts (live progress)', async () => {
    const events: string[] = [];
    const tester = new Tester(async (c) => { events.push(`run ${[...c].join('')}`); return 'pass'; }, { onRun: (l) => events.push(`logged ${l.run}`) });
    await tester.passesAll([new Set(['a']), new Set(['b']), new Set(['c'])], { noCache: true });
    expect(events).toEqual(['run a', 'logged 1', 'run b', 'logged 2', 'run c', 'logged 3']);
  });

  it('stops at an onRun that throws: nothing logged twice, no candidate started after it, the error thrown', async () => {
    const ran: string[] = [];
    const seen: number[] = [];
    const tester = new Tester(async (c) => { ran.push([...c].join('')); return 'pass'; }, {
      onRun: (l) => { seen.push(l.run); if (l.run === 2) throw new Error('journal: disk full'); },
    });
    await expect(tester.passesAll([new Set(['a']), new Set(['b']), new Set(['c'])])).rejects.toThrow('journal: disk full');
    expect(ran).toEqual(['a', 'b']);
    expect(seen).toEqual([1, 2]);
    expect(tester.runs).toBe(2);
  });

  it('never runs the same set twice (cache), unless told to', async () => {
    const oracle = fakeService({ needed: [] });
    const tester = new Tester(oracle);
    await tester.passes(new Set(['a', 'b']));
    await tester.passes(new Set(['b', 'a']));
    expect(tester.runs).toBe(1);
    await tester.passes(new Set(['a', 'b']), { noCache: true });
    expect(tester.runs).toBe(2);
  });
});

describe('linear', () => {
  it('removes one item per run: one run per start item', async () => {
    const needed = names(10);
    const tester = new Tester(fakeService({ needed }));
    const start = new Set([...needed, ...names(20, 'x')]);
    const state = await linearReduce(start, seededOrder(start, 1), tester);
    expect([...state.current].sort()).toEqual(needed);
    expect(tester.runs).toBe(30);
  });
});

// ── Lanes: candidates run side by side ────────────────────────────────────────────────────────

/** An oracle whose runs take a pseudo-random time (seeded), so runs end out of order; counts overlap. */
function slowOracle(inner: Oracle, seed: number): Oracle & { maxAtOnce: number; lanesSeen: Set<number> } {
  const rnd = prng(seed);
  let running = 0;
  const f = Object.assign(async (c: ReadonlySet<string>, lane?: number) => {
    running++;
    f.maxAtOnce = Math.max(f.maxAtOnce, running);
    if (lane !== undefined) f.lanesSeen.add(lane);
    await new Promise((r) => setTimeout(r, Math.floor(rnd() * 4)));
    running--;
    return inner(c);
  }, { maxAtOnce: 0, lanesSeen: new Set<number>() });
  return f;
}

describe('lanes', () => {
  it('run up to `lanes` candidates at once and log them in the candidates\' order, not the order they end in', async () => {
    const oracle = slowOracle(fakeService({ needed: ['a'] }), 3);
    const seen: string[] = [];
    const tester = new Tester(oracle, { lanes: 2, onRun: (l) => seen.push(l.removed.join(',')) });
    tester.startPhase('minimal', new Set(['a', 'b', 'c', 'd']));
    const verdicts = await tester.passesAll(['a', 'b', 'c', 'd', 'b'].map((x) => new Set(['a', 'b', 'c', 'd'].filter((y) => y !== x))));
    expect(verdicts).toEqual([false, true, true, true, true]);
    expect(oracle.maxAtOnce).toBe(2);
    expect([...oracle.lanesSeen].sort()).toEqual([0, 1]);
    // The duplicate candidate ran once.
    expect(seen).toEqual(['a', 'b', 'c', 'd']);
    expect(tester.log.map((l) => l.run)).toEqual([1, 2, 3, 4]);
  });

  it('retry errors per candidate and throw OracleError only after every lane has ended', async () => {
    let bRuns = 0;
    let cEnded = false;
    const tester = new Tester(async (c) => {
      if (!c.has('b')) { bRuns++; return 'error'; }
      await new Promise((r) => setTimeout(r, 20));
      cEnded = true;
      return 'pass';
    }, { lanes: 2, retries: 1 });
    await expect(tester.passesAll([new Set(['a']), new Set(['b'])])).rejects.toBeInstanceOf(OracleError);
    expect(bRuns).toBe(2);
    expect(cEnded).toBe(true);
    expect(tester.errorRuns).toBe(2);
  });

  it('a round applies the first pass, tests a later pass again, and keeps fails as needed at the round\'s set', async () => {
    // b and c are each removable alone, not together (alternatives): both pass in one round.
    const oracle = fakeService({ needed: ['a'], alternatives: [['b', 'c']] });
    const state = reduceState(['a', 'b', 'c']);
    const r = await removeRound(state, ['a', 'b', 'c'], new Tester(oracle, { lanes: 3 }));
    expect(r).toEqual({ removed: ['b'], needed: ['a'], again: ['c'] });
    expect(state.needed.get('a')).toBe(0);
    expect(state.version).toBe(1);
    expect([...state.current].sort()).toEqual(['a', 'c']);
  });

  it('give the same result and the same verdicts, whatever order the runs end in', async () => {
    const needed = names(30);
    const rule = { needed, alternatives: [['accept', 'accept4']], together: [['io_uring_setup', 'io_uring_enter']] as [string, string][] };
    const all = [...needed, ...names(15, 'x'), 'accept', 'accept4', 'io_uring_setup', 'io_uring_enter'];
    const order = seededOrder(all, 2);
    const search = async (lanes: number, timing: number, proof: 'as-tested' | 'final-set') => {
      const oracle = slowOracle(fakeService(rule), timing);
      const tester = new Tester(oracle, { lanes });
      tester.startPhase('minimal', new Set(all));
      const state = reduceState(all);
      await reduce(state, order, tester, { neededFraction: 0.85 });
      await proveOneMinimal(state, order, tester, undefined, proof);
      return { result: [...state.current].sort(), entries: tester.log, log: tester.log.map((l) => `${l.removed.join(',')}:${l.verdict}`), runs: tester.runs, maxAtOnce: oracle.maxAtOnce };
    };
    const a = await search(2, 1, 'final-set');
    const b = await search(2, 99, 'final-set');
    expect(a.maxAtOnce).toBe(2);
    expect(a.log).toEqual(b.log);
    expect(a.result).toEqual(b.result);
    expect(await fakeService(rule)(new Set(a.result))).toBe('pass');
    expect(await isOneMinimal(new Set(a.result), fakeService(rule))).toBe(true);
    const one = await search(1, 1, 'final-set');
    expect(one.maxAtOnce).toBe(1);
    expect(await isOneMinimal(new Set(one.result), fakeService(rule))).toBe(true);
    // Two lanes cost a few runs more (a second pass in a round is run again), never fewer verdicts.
    expect(a.runs).toBeGreaterThanOrEqual(one.runs);
    expect(a.runs).toBeLessThan(one.runs * 1.5);
    // As tested: each kept item failed when removed alone from a superset of the result.
    const tested = await search(2, 5, 'as-tested');
    for (const x of tested.result) {
      const proof = tested.entries.find((l) => l.verdict === 'fail' && l.removed.includes(x) && l.removed.every((y) => y === x || !tested.result.includes(y)));
      expect(proof, x).toBeDefined();
    }
    expect(tested.result).toEqual(expect.arrayContaining(needed));
  });
});

// ── The orchestration, with a fake backend ──────────────────────────────────────────────────

function fakeBackend(oracle: Oracle, recorded: { name: string; failed?: number }[] | undefined, lanes = 1): MinimizeBackend & { fresh: boolean[]; runs: { lane: number; fresh: boolean }[] } {
  const fresh: boolean[] = [];
  const runs: { lane: number; fresh: boolean }[] = [];
  const outcome = (verdict: Verdict, fresh: boolean): RunOutcome => ({ verdict, scope: fresh ? 'stack' : 'service', restarted: [], durationMs: 1000, failed: verdict === 'fail' ? [{ id: 'site-answers', problem: 'status 502' }] : [], unhealthy: [] });
  return {
    fresh,
    runs,
    lanes,
    run: async (c, o) => { fresh.push(o.fresh); runs.push({ lane: o.lane, fresh: o.fresh }); return outcome(await oracle(c), o.fresh); },
    ...(recorded ? {
      record: async (c) => ({
        outcome: outcome(await oracle(c), true),
        items: recorded.map((r) => ({ name: r.name, count: 10, failed: r.failed ?? 0, makers: ['service' as const] })),
        other: ['mount', 'pivot_root'],
      }),
    } : {}),
  };
}

describe('minimize (orchestration)', () => {
  const needed = names(40);
  const baseline = [...needed, ...names(20, 'r'), ...names(230, 'z')].sort();
  const recorded = [...needed.slice(0, 39), ...names(20, 'r')].map((name) => ({ name, failed: name.startsWith('r0') ? 10 : 0 }));

  it('default: record, prove (add what is missing), confirm three times', async () => {
    const oracle = fakeService({ needed });
    const r = await minimize(fakeBackend(oracle, recorded), { what: 'syscalls', strategy: 'record', minimal: false, seed: 1, start: baseline, pool: [] });
    expect(r.addedAfterRecording).toEqual([needed[39]]);
    expect(r.confirmed).toBe(true);
    expect(r.flaky).toBe(false);
    expect(r.oneMinimal).toBe(false);
    expect(r.phases.map((p) => p.phase)).toEqual(['record', 'prove', 'confirm']);
    expect(r.phases.find((p) => p.phase === 'confirm')?.runs).toBe(3);
    expect(r.result).toContain(needed[39]);
  });

  it('counts the estimate down run by run, to none left after the last confirmation', async () => {
    const seen: string[] = [];
    await minimize(fakeBackend(fakeService({ needed }), needed.map((name) => ({ name }))), {
      what: 'syscalls', strategy: 'record', minimal: false, seed: 1, start: baseline, pool: [],
      onRun: (l, e) => seen.push(`${l.phase} ${e.done}+${e.remaining}`),
    });
    // Record and prove, then the three confirmation runs: done + still expected stays 5.
    expect(seen).toEqual(['record 1+4', 'prove 2+3', 'confirm 3+2', 'confirm 4+1', 'confirm 5+0']);
  });

  it('does not count a retried error down: the estimate falls by one candidate, not by one attempt', async () => {
    const seen: string[] = [];
    let confirmErrors = 1;
    const base = fakeBackend(fakeService({ needed }), needed.map((name) => ({ name })));
    const flaky = { ...base, run: async (c: ReadonlySet<string>, o: { fresh: boolean; lane: number }) => {
      if (o.fresh && seen.some((x) => x.startsWith('prove')) && confirmErrors-- > 0) return { ...(await base.run(c, o)), verdict: 'error' as const, error: 'docker: timeout' };
      return base.run(c, o);
    } };
    await minimize(flaky, {
      what: 'syscalls', strategy: 'record', minimal: false, seed: 1, start: baseline, pool: [],
      onRun: (l, e) => seen.push(`${l.phase} ${l.verdict} ${e.done}+${e.remaining}`),
    });
    expect(seen).toEqual(['record pass 1+4', 'prove pass 2+3', 'confirm error 3+3', 'confirm pass 4+2', 'confirm pass 5+1', 'confirm pass 6+0']);
  });

  it('with a working recording the default needs 5 runs', async () => {
    const r = await minimize(fakeBackend(fakeService({ needed }), needed.map((name) => ({ name }))), { what: 'syscalls', strategy: 'record', minimal: false, seed: 1, start: baseline, pool: [] });
    expect(r.runs).toBe(5);
    expect(r.result).toEqual(needed);
  });

  it('--minimal proves 1-minimality and is the same for the same seed', async () => {
    const opts = { what: 'syscalls' as const, strategy: 'record' as const, minimal: true, seed: 4, start: baseline, pool: [] };
    const a = await minimize(fakeBackend(fakeService({ needed }), recorded), opts);
    const b = await minimize(fakeBackend(fakeService({ needed }), recorded), opts);
    expect(a.result).toEqual(needed);
    expect(a.oneMinimal).toBe(true);
    expect(a.log.map((l) => [l.phase, l.removed, l.added, l.verdict])).toEqual(b.log.map((l) => [l.phase, l.removed, l.added, l.verdict]));
    const linear = await minimize(fakeBackend(fakeService({ needed }), undefined), { ...opts, strategy: 'linear', minimal: false });
    expect(linear.result).toEqual(needed);
    // Runs are counted the same way: every candidate run, confirmation included.
    expect(linear.runs).toBe(1 + baseline.length + 3);
    expect(a.runs * 3).toBeLessThan(linear.runs);
  });

  it('--minimal proves as tested; --strict against the final set, with more runs for stale verdicts', async () => {
    const opts = { what: 'syscalls' as const, strategy: 'record' as const, minimal: true, seed: 4, start: baseline, pool: [] };
    // Nothing marks the removable items in this recording: removals come late, verdicts go stale.
    const unmarked = recorded.map((r) => ({ name: r.name }));
    const plain = await minimize(fakeBackend(fakeService({ needed }), unmarked), opts);
    const strict = await minimize(fakeBackend(fakeService({ needed }), unmarked), { ...opts, strict: true });
    expect(plain.proof).toBe('as-tested');
    expect(strict.proof).toBe('final-set');
    expect(plain.result).toEqual(needed);
    expect(strict.result).toEqual(needed);
    expect(plain.oneMinimal && strict.oneMinimal).toBe(true);
    expect(plain.runs).toBeLessThan(strict.runs);
    const defaults = await minimize(fakeBackend(fakeService({ needed }), recorded), { ...opts, minimal: false });
    expect(defaults.proof).toBeUndefined();
  });

  it('on two lanes: the same result, each lane\'s first run and every confirmation on a fresh stack', async () => {
    const opts = { what: 'syscalls' as const, strategy: 'record' as const, minimal: true, seed: 4, start: baseline, pool: [] };
    const one = await minimize(fakeBackend(fakeService({ needed }), recorded), opts);
    const backend = fakeBackend(slowOracle(fakeService({ needed }), 11), recorded, 2);
    const two = await minimize(backend, opts);
    expect(two.result).toEqual(one.result);
    expect(two.oneMinimal).toBe(true);
    expect(two.confirmed).toBe(true);
    expect(two.confirmation).toHaveLength(3);
    const firstOf = (lane: number) => backend.runs.find((r) => r.lane === lane);
    // The recording started lane 0's stack; lane 1 starts its own.
    expect(firstOf(0)?.fresh).toBe(false);
    expect(firstOf(1)?.fresh).toBe(true);
    expect(backend.runs.slice(-3).every((r) => r.fresh)).toBe(true);
    expect(new Set(backend.runs.slice(-3).map((r) => r.lane))).toEqual(new Set([0, 1]));
    // Between the first and the confirmation, runs restart only the service.
    expect(backend.runs.slice(0, -3).filter((r) => r.fresh)).toEqual([{ lane: 1, fresh: true }]);
    expect(two.phases.map((p) => p.phase)).toEqual(one.phases.map((p) => p.phase));
  });

  it('keeps the kept items in every candidate and in the result, never searching them', async () => {
    const seen: boolean[] = [];
    const oracle = fakeService({ needed });
    const backend = fakeBackend(async (c) => { seen.push(c.has('rt_sigreturn')); return oracle(c); }, recorded);
    const r = await minimize(backend, { what: 'syscalls', strategy: 'record', minimal: true, seed: 1, start: [...baseline, 'rt_sigreturn'], pool: [], keep: ['rt_sigreturn', 'restart_syscall'] });
    expect(seen.every(Boolean)).toBe(true);
    expect(r.result).toEqual([...needed, 'restart_syscall', 'rt_sigreturn'].sort());
    expect(r.kept).toEqual(['restart_syscall', 'rt_sigreturn']);
    expect(r.added).toEqual(['restart_syscall']);
    expect(r.oneMinimal).toBe(true);
  });

  it('reports a flaky confirmation instead of hiding it', async () => {
    let confirm = 0;
    const oracle = fakeService({ needed });
    const backend = fakeBackend(async (c) => (c.size === needed.length && ++confirm === 4 ? 'fail' : oracle(c)), needed.map((name) => ({ name })));
    const r = await minimize(backend, { what: 'syscalls', strategy: 'record', minimal: false, seed: 1, start: baseline, pool: [] });
    expect(r.flaky).toBe(true);
    expect(r.confirmed).toBe(false);
    expect(r.confirmation.map((c) => c.verdict)).toEqual(['pass', 'pass', 'fail']);
  });

  it('stops when the start set itself fails', async () => {
    const r = await minimize(fakeBackend(fakeService({ needed: ['nope'] }), []), { what: 'caps', strategy: 'record', minimal: true, seed: 1, start: ['CHOWN'], pool: [] });
    expect(r.stopped).toMatch(/start set itself fails/);
    expect(r.confirmation).toEqual([]);
    expect(r.runs).toBe(1);
  });

  it('capabilities: none needed gives the empty set', async () => {
    const caps = ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'NET_RAW', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'];
    const r = await minimize(fakeBackend(fakeService({ needed: [] }), []), { what: 'caps', strategy: 'record', minimal: true, seed: 1, start: caps, pool: [] });
    expect(r.result).toEqual([]);
    expect(r.oneMinimal).toBe(true);
    expect(r.runs).toBe(1 + 1 + 3);
  });

  it('orders tolerated failures first, then rarely called items, for --minimal', () => {
    const { tolerated, rest } = splitByFailures(['a', 'b', 'c', 'd', 'e'], [
      { name: 'a', count: 40, failed: 0, makers: ['service'] },
      { name: 'b', count: 4, failed: 4, makers: ['service'] },
      { name: 'c', count: 4, failed: 1, makers: ['service'] },
      { name: 'e', count: 4, failed: 0, makers: ['service'] },
    ]);
    expect(tolerated).toEqual(['b']);
    expect(rest).toEqual(['c', 'e', 'a', 'd']);
  });

  it('seeds from the runtime, the service and its healthcheck, never from probes or helpers', () => {
    expect(seedOf([
      { name: 'read', count: 1, failed: 0, makers: ['service'] },
      { name: 'execve', count: 1, failed: 0, makers: ['runtime'] },
      { name: 'pselect6', count: 1, failed: 0, makers: ['healthcheck'] },
      { name: 'mount', count: 1, failed: 1, makers: ['probe'] },
      { name: 'socket', count: 1, failed: 0, makers: ['helper'] },
    ])).toEqual(['execve', 'pselect6', 'read']);
  });
});
