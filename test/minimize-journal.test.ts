// A linear search that is interrupted goes on from its journal (`hardspec minimize --strategy
// linear --resume`): the journal's verdicts are answered again without running, the search ends
// where an uninterrupted one ends, and a journal of another search is refused. Fake oracles; the
// real engine's version is in test/minimize.docker.test.ts.
import { describe, expect, it } from 'vitest';
import { runMain } from '../compiler/src/cli/main.ts';
import { journalHeader, parseJournal, replayOf, specsHash, type JournalRun } from '../compiler/src/minimize/journal.ts';
import { minimize, type MinimizeBackend } from '../compiler/src/minimize/minimize.ts';
import { candidateHash, ReplayMismatch, Tester, type Verdict } from '../compiler/src/minimize/search.ts';
import type { RunOutcome } from '../compiler/src/minimize/stack-session.ts';

const names = (n: number, p = 'n') => Array.from({ length: n }, (_, i) => `${p}${String(i).padStart(3, '0')}`);
const needed = names(8);
const start = [...needed, ...names(12, 'x')].sort();
const outcome = (verdict: Verdict): RunOutcome => ({ verdict, scope: 'stack', restarted: [], durationMs: 1000, failed: verdict === 'fail' ? [{ id: 'site-answers', problem: 'status 502' }] : [], unhealthy: [] });

class Stop extends Error {}

/** A service that needs `needed`; `stopAfter` runs, the next run throws (an interrupt). */
function backend(stopAfter = Number.POSITIVE_INFINITY): MinimizeBackend & { calls: number } {
  const b = {
    calls: 0,
    run: async (c: ReadonlySet<string>) => {
      if (b.calls >= stopAfter) throw new Stop('interrupted');
      b.calls++;
      return outcome(needed.every((x) => c.has(x)) ? 'pass' : 'fail');
    },
  };
  return b;
}

const header = journalHeader({ stack: 'guestbook', service: 'web', what: 'syscalls', strategy: 'linear', seed: 1, start, keep: ['rt_sigreturn'], oracle: ['site-answers'], specs: 'abc', restart: 'stack', hardspec: '0.1.0', engine: { version: '20.10', kernel: '6.1' }, startedAt: new Date(0) });
const opts = { what: 'syscalls' as const, strategy: 'linear' as const, minimal: false, seed: 1, start, pool: [] };

/** The journal lines a search writes (as the command writes them, from onRun). */
async function interrupted(stopAfter: number): Promise<JournalRun[]> {
  const runs: JournalRun[] = [];
  await expect(minimize(backend(stopAfter), {
    ...opts,
    onRun: (l) => runs.push({ run: l.run, phase: l.phase, candidate: l.candidate, verdict: l.verdict, attempt: l.attempt, elapsedMs: l.run * 1000, outcome: l.outcome }),
  })).rejects.toThrow(Stop);
  return runs;
}

const text = (runs: readonly unknown[]) => [header, ...runs].map((x) => JSON.stringify(x)).join('\n') + '\n';

describe('minimize --strategy linear --resume', () => {
  it('goes on from the journal: the same result, runs and log as without the interruption, and only the rest is run', async () => {
    const whole = await minimize(backend(), opts);
    const runs = await interrupted(9);
    expect(runs).toHaveLength(9);
    const journal = parseJournal(text(runs), header);
    const rest = backend();
    const resumed = await minimize(rest, { ...opts, resume: { runs: replayOf(journal), elapsedMs: 9000 } });
    expect(resumed.result).toEqual(whole.result);
    expect(resumed.result).toEqual(needed);
    expect(resumed.runs).toBe(whole.runs);
    expect(resumed.log.map((l) => [l.run, l.phase, l.removed, l.verdict])).toEqual(whole.log.map((l) => [l.run, l.phase, l.removed, l.verdict]));
    expect(rest.calls).toBe(whole.runs - 9);
    expect(resumed.resumed).toEqual({ runs: 9, wallMs: 9000 });
    expect(resumed.wallMs).toBeGreaterThanOrEqual(9000);
    expect(resumed.phases.find((p) => p.phase === 'linear')!.wallMs).toBeGreaterThanOrEqual(9000);
    expect(resumed.oneMinimal).toBe(true);
    expect(resumed.confirmed).toBe(true);
  });

  it('refuses a journal whose runs are of other candidates (another seed, other specs)', async () => {
    const runs = await interrupted(5);
    const other = backend();
    await expect(minimize(other, { ...opts, seed: 2, resume: { runs: replayOf(parseJournal(text(runs), header)), elapsedMs: 5000 } })).rejects.toThrow(ReplayMismatch);
  });

  it('the command takes --resume with --strategy linear only (a usage error, exit 2, before any engine work)', async () => {
    let out = '';
    const write = (s: string) => { out += s; return true; };
    const code = await runMain(['minimize', 'guestbook', '--service', 'web', '--what', 'syscalls', '--resume'], { stdout: { write }, stderr: { write }, cwd: process.cwd(), env: { NO_COLOR: '1' } });
    expect(code).toBe(2);
    expect(out).toMatch(/--resume applies to --strategy linear only/);
  });

  it('resumes only a linear search', async () => {
    await expect(minimize(backend(), { ...opts, strategy: 'record', resume: { runs: [], elapsedMs: 0 } })).rejects.toThrow(/only a linear search/);
  });
});

describe('the journal file', () => {
  const run = (n: number, verdict: Verdict = 'pass', phase = 'linear'): JournalRun => ({ run: n, phase: phase as JournalRun['phase'], candidate: candidateHash([`c${n}`]), verdict, attempt: 1, elapsedMs: n * 1000, outcome: outcome(verdict === 'error' ? 'error' : verdict) });

  it('must be of the same search: each differing field is named', () => {
    const other = { ...header, seed: 2 };
    expect(() => parseJournal(text([run(1)]), other, 'web.journal.jsonl')).toThrow(/web\.journal\.jsonl:1: the journal is of another search \(its seed differs: 1, now 2\)/);
    const moreStart = journalHeader({ stack: 'guestbook', service: 'web', what: 'syscalls', strategy: 'linear', seed: 1, start: [...start, 'extra'], keep: ['rt_sigreturn'], oracle: ['site-answers'], specs: 'abc', restart: 'stack', hardspec: '0.1.0', engine: { version: '20.10', kernel: '6.1' }, startedAt: new Date(0) });
    expect(() => parseJournal(text([run(1)]), moreStart)).toThrow(/its start differs: the spec's set changed/);
    expect(() => parseJournal(text([run(1)]), { ...header, specs: 'def' })).toThrow(/its specs differ: a spec file was edited/);
    const stackWith = (sha256: string) => ({ source: { relPath: 'stack.md', sha256: '0' }, services: [{ source: { relPath: 'web.md', sha256 } }] }) as unknown as Parameters<typeof specsHash>[0];
    expect(specsHash(stackWith('1'))).not.toBe(specsHash(stackWith('2')));
    expect(() => parseJournal('{"format":"other"}\n', header)).toThrow(/not a hardspec minimize journal/);
    expect(() => parseJournal('', header)).toThrow(/empty/);
  });

  it('the start time and the engine are not part of what must agree (a benchmark goes on in another session)', () => {
    const later = { ...header, startedAt: new Date(5000).toISOString(), engine: { version: '24.0', kernel: '6.18' } };
    expect(parseJournal(text([run(1)]), later).runs).toHaveLength(1);
    expect(() => parseJournal(text([run(1)]), { ...header, restart: 'service' })).toThrow(/its restart differs: "stack", now "service"/);
    expect(() => parseJournal(text([run(1)]), { ...header, hardspec: '0.2.0' })).toThrow(/its hardspec differs/);
  });

  it('refuses JSON that is not a journal with a message, not a crash', () => {
    expect(() => parseJournal('null\n', header, 'j')).toThrow(/j:1: not a hardspec minimize journal/);
    expect(() => parseJournal(`${JSON.stringify(header)}\nnull\n${JSON.stringify(run(2))}\n`, header, 'j')).toThrow(/j:2: not run 1/);
    expect(() => parseJournal(text([{ ...run(1), outcome: null }, run(2)]), header, 'j')).toThrow(/j:2: not run 1/);
  });

  it('ignores a last line cut short by a kill, but not a damaged line before it', () => {
    const cut = `${text([run(1), run(2)])}{"run":3,"pha`;
    expect(parseJournal(cut, header).runs.map((r) => r.run)).toEqual([1, 2]);
    const damaged = `${JSON.stringify(header)}\n${JSON.stringify(run(1))}\n{"run":2,"pha\n${JSON.stringify(run(3))}\n`;
    expect(() => parseJournal(damaged, header, 'j')).toThrow(/j:3: not JSON/);
    expect(() => parseJournal(text([run(1), run(3)]), header, 'j')).toThrow(/j:3: not run 2/);
  });

  it('replays the linear runs only, without the oracle errors a search stopped on', () => {
    expect(parseJournal(text([run(1), run(2, 'fail'), run(3, 'error'), run(4, 'error')]), header).runs.map((r) => r.run)).toEqual([1, 2]);
    expect(parseJournal(text([run(1), run(2, 'pass', 'confirm'), run(3, 'pass', 'confirm')]), header).runs.map((r) => r.run)).toEqual([1]);
  });
});

describe('Tester replay', () => {
  it('answers from the replay while it lasts, then asks the oracle; replayed runs count', async () => {
    let asked = 0;
    const replay = [{ candidate: candidateHash(['a', 'b']), verdict: 'pass' as const, detail: undefined }, { candidate: candidateHash(['a']), verdict: 'fail' as const, detail: undefined }];
    const tester = new Tester(async () => { asked++; return 'pass'; }, { replay });
    expect(await tester.passes(new Set(['b', 'a']))).toBe(true);
    expect(await tester.passes(new Set(['a']))).toBe(false);
    expect(asked).toBe(0);
    expect(await tester.passes(new Set(['b']))).toBe(true);
    expect(asked).toBe(1);
    expect(tester.runs).toBe(3);
    expect(tester.replayed).toBe(2);
  });

  it('a replayed run of another candidate is a mismatch, and a replay runs on one lane only', async () => {
    const tester = new Tester(async () => 'pass', { replay: [{ candidate: candidateHash(['a']), verdict: 'pass', detail: undefined }] });
    await expect(tester.passes(new Set(['b']))).rejects.toThrow(/run 1 of the journal ran another candidate/);
    expect(() => new Tester(async () => 'pass', { lanes: 2, replay: [{ candidate: 'x', verdict: 'pass', detail: undefined }] })).toThrow(/one lane/);
  });
});
