/**
 * The journal of a `--strategy linear` search: one JSON line per run, appended as each run ends,
 * so that a search of hundreds of runs that is interrupted (Ctrl-C, a wedged engine, the end of
 * a working day) can go on with `--resume` instead of starting again.
 *
 * Linear is a fixed sequence: the seed fixes the order of the items, and each run's candidate
 * follows from the verdicts before it. Replaying the journal's verdicts therefore rebuilds the
 * search's state exactly; the Tester checks that every replayed run is of the candidate the search
 * asks for (candidateHash), so a journal of other specs or another seed is refused, not misread.
 *
 * Line 1 is the header (what the search was); each further line is a run. A last line cut short
 * by a kill is ignored, and so are the oracle errors a search stopped on (that candidate is run
 * again). Confirmation runs are never replayed: a resumed search confirms its result again, on
 * fresh stacks.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sha256, specFiles } from '../emit/manifest.ts';
import type { StackModel } from '../model/types.ts';
import type { RunOutcome } from './stack-session.ts';
import type { Phase, ReplayRun, Verdict } from './search.ts';
import { candidateHash } from './search.ts';

export const JOURNAL_FORMAT = 'hardspec-minimize-journal';
export const JOURNAL_VERSION = 1;

/** What the search is: a journal resumes only a search that is the same in every field. */
export interface JournalHeader {
  readonly format: typeof JOURNAL_FORMAT;
  readonly version: typeof JOURNAL_VERSION;
  readonly stack: string;
  readonly service: string;
  readonly what: string;
  readonly strategy: string;
  readonly seed: number;
  /** candidateHash of the start set and of the kept items. */
  readonly start: string;
  readonly keep: string;
  /** The oracle's interaction ids, in order. */
  readonly oracle: readonly string[];
  /** sha256 of the stack's spec files (manifest.json's list): any edit of a spec is another search. */
  readonly specs: string;
  /** What each run restarts (--restart): the same candidates, but not the same runs. */
  readonly restart: 'service' | 'stack';
  /** The hardspec version: its oracle decides the verdicts. */
  readonly hardspec: string;
  /**
   * Not part of what must agree: the engine and kernel the journal's runs were made on. A resumed
   * search may run on another machine, on images built again from the same specs (the benchmark
   * goes on in another session so); the report names both.
   */
  readonly engine: { readonly version: string; readonly kernel: string };
  readonly startedAt: string;
}

export interface JournalRun {
  readonly run: number;
  readonly phase: Phase;
  readonly candidate: string;
  readonly verdict: Verdict;
  readonly attempt: number;
  /** Time since the search began (across resumptions) when this run ended. */
  readonly elapsedMs: number;
  readonly outcome: RunOutcome;
}

export interface Journal {
  readonly header: JournalHeader;
  /** The replayable runs: the leading runs of the linear phase. */
  readonly runs: readonly JournalRun[];
}

/** The fields that must agree for a journal to resume a search (startedAt is kept from the first). */
const IDENTITY: readonly (keyof JournalHeader)[] = ['format', 'version', 'stack', 'service', 'what', 'strategy', 'seed', 'start', 'keep', 'oracle', 'specs', 'restart', 'hardspec'];

export function journalHeader(o: {
  stack: string; service: string; what: string; strategy: string; seed: number; start: readonly string[]; keep: readonly string[]; oracle: readonly string[];
  specs: string; restart: 'service' | 'stack'; hardspec: string; engine: { version: string; kernel: string }; startedAt: Date;
}): JournalHeader {
  return {
    format: JOURNAL_FORMAT, version: JOURNAL_VERSION, stack: o.stack, service: o.service, what: o.what, strategy: o.strategy, seed: o.seed,
    start: candidateHash(o.start), keep: candidateHash(o.keep), oracle: [...o.oracle], specs: o.specs, restart: o.restart, hardspec: o.hardspec,
    engine: { version: o.engine.version, kernel: o.engine.kernel }, startedAt: o.startedAt.toISOString(),
  };
}

/** Pure: the specs field of a header: sha256 of the stack's spec files as manifest.json lists them. */
export function specsHash(stack: Pick<StackModel, 'source' | 'services'>): string {
  return sha256(JSON.stringify(specFiles(stack)));
}

/** The journal's replay for the Tester. */
export function replayOf(journal: Journal): ReplayRun<RunOutcome>[] {
  return journal.runs.map((r) => ({ candidate: r.candidate, verdict: r.verdict, detail: r.outcome }));
}

/**
 * Pure: the journal in `text`, checked against the search it is to resume (`expected`). Throws
 * JournalError naming the line and what differs.
 */
export function parseJournal(text: string, expected: JournalHeader, file = 'journal'): Journal {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (!lines.length) throw new JournalError(`${file}: empty; delete ${file} to start again`);
  let header: JournalHeader;
  try {
    header = JSON.parse(lines[0]!) as JournalHeader;
  } catch {
    throw new JournalError(`${file}:1: not a hardspec minimize journal (its first line is not JSON)`);
  }
  if (typeof header !== 'object' || header === null || header.format !== JOURNAL_FORMAT) throw new JournalError(`${file}:1: not a hardspec minimize journal (format ${JSON.stringify((header as { format?: unknown } | null)?.format ?? null)})`);
  for (const k of IDENTITY) {
    if (JSON.stringify(header[k]) !== JSON.stringify(expected[k])) {
      const what = k === 'start' || k === 'keep' ? ': the spec\'s set changed' : k === 'specs' ? ': a spec file was edited' : `: ${JSON.stringify(header[k])}, now ${JSON.stringify(expected[k])}`;
      throw new JournalError(`${file}:1: the journal is of another search (its ${k} ${k === 'specs' ? 'differ' : 'differs'}${what}); delete ${file} to start again`);
    }
  }
  const runs: JournalRun[] = [];
  for (const [i, line] of lines.slice(1).entries()) {
    let run: JournalRun;
    try {
      run = JSON.parse(line) as JournalRun;
    } catch {
      // A kill while a line was written leaves it cut short: only the last line may be.
      if (i === lines.length - 2) break;
      throw new JournalError(`${file}:${i + 2}: not JSON; the journal is damaged, delete ${file} to start again`);
    }
    if (typeof run !== 'object' || run === null || typeof run.outcome !== 'object' || run.outcome === null || run.run !== runs.length + 1 || typeof run.candidate !== 'string' || !['pass', 'fail', 'error'].includes(run.verdict) || typeof run.elapsedMs !== 'number' || typeof run.outcome !== 'object') {
      throw new JournalError(`${file}:${i + 2}: not run ${runs.length + 1} of a journal; the journal is damaged, delete ${file} to start again`);
    }
    if (run.phase !== 'linear') break;
    runs.push(run);
  }
  // The oracle errors a search stopped on are not replayed: that candidate is tried afresh.
  while (runs.at(-1)?.verdict === 'error') runs.pop();
  return { header, runs };
}

export class JournalError extends Error {}

/**
 * Appends each run as it ends (synchronously: a kill loses at most the line being written). The
 * earlier runs it starts with are those a resumed search replays: they are not appended again.
 */
export class JournalWriter {
  private readonly written: number;

  constructor(readonly file: string, header: JournalHeader, earlier: readonly JournalRun[] = []) {
    this.written = earlier.length;
    mkdirSync(path.dirname(file), { recursive: true });
    // Written aside and renamed: a kill while the earlier runs are written again loses none of them.
    writeFileSync(`${file}.tmp`, [header, ...earlier].map((x) => `${JSON.stringify(x)}\n`).join(''), { mode: 0o644 });
    renameSync(`${file}.tmp`, file);
  }

  append(run: JournalRun): void {
    if (run.run <= this.written) return;
    appendFileSync(this.file, `${JSON.stringify(run)}\n`);
  }

  /** The search ended with its report: the journal has nothing left to resume. */
  remove(): void {
    rmSync(this.file, { force: true });
  }
}

export function readJournal(file: string, expected: JournalHeader): Journal {
  if (!existsSync(file)) throw new JournalError(`--resume: no journal at ${file} (it is written by an unfinished --strategy linear run)`);
  return parseJournal(readFileSync(file, 'utf8'), expected, file);
}
