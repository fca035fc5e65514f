/**
 * The minimiser's reports for the site: generated/<stack>/minimize/<service>-<what>.json, checked
 * against the report schema, summed up for the service page (how the set was found, how many runs,
 * whether it was proven 1-minimal and confirmed) and compared with the spec as it is now, so a
 * report whose result is no longer what the spec says is shown as such.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { validateReport } from '../minimize/report.ts';
import type { ServiceModel } from '../model/types.ts';

export interface MinimizeSummary {
  readonly what: 'syscalls' | 'caps' | 'files';
  /** Path inside generated/<stack>/, e.g. "minimize/web-syscalls.json". */
  readonly path: string;
  readonly text: string;
  readonly strategy: string;
  /** What recorded the start (strategy record): eBPF, strace, or nothing (the whole set). */
  readonly recorder: 'bpftrace' | 'strace' | 'none';
  readonly minimal: boolean;
  readonly startedAt: string;
  readonly startSize: number;
  readonly resultSize: number;
  readonly removed: number;
  readonly oneMinimal: boolean;
  /** How 1-minimality was proven (reports without the field were proven against the final set). */
  readonly proof: 'as-tested' | 'final-set';
  readonly runs: number;
  readonly wallMs: number;
  /** Candidates run at once (--parallel; 1 in reports without the field). */
  readonly lanes: number;
  /** Runs replayed from an interrupted search's journal (--resume), when the search went on from one. */
  readonly resumedRuns?: number;
  readonly confirmation: { readonly runs: number; readonly passed: number; readonly flaky: boolean };
  /** Whether the spec's current list is exactly the report's result (undefined for files: that needs the image). */
  readonly inSpec?: boolean;
}

export type MinimizeRead = MinimizeSummary | { readonly what: 'syscalls' | 'caps' | 'files'; readonly path: string; readonly problem: string };

/* eslint-disable @typescript-eslint/no-explicit-any -- validated against the report schema first. */
export function summarizeReport(text: string, file: string, service: ServiceModel): MinimizeRead {
  const what = file.endsWith('-caps.json') ? 'caps' : file.endsWith('-files.json') ? 'files' : 'syscalls';
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    return { what, path: file, problem: 'it is not JSON' };
  }
  const problems = validateReport(json);
  if (problems.length) return { what, path: file, problem: `it does not match the report format: ${problems[0]}` };
  const items: string[] = [...json.result.items].sort();
  const current = what === 'caps' ? [...service.capAdd] : [...service.seccomp.allow];
  return {
    what,
    path: file,
    text,
    strategy: json.strategy,
    recorder: json.recorder.kind,
    minimal: json.minimal,
    startedAt: json.startedAt,
    startSize: json.start.size,
    resultSize: json.result.size,
    removed: json.result.removed.length,
    oneMinimal: json.result.oneMinimal === true,
    proof: json.result.proof === 'as-tested' ? 'as-tested' : 'final-set',
    runs: json.runs.total,
    wallMs: json.wallMs,
    lanes: json.runs.lanes ?? 1,
    ...(json.runs.resumed ? { resumedRuns: json.runs.resumed.runs } : {}),
    confirmation: { runs: json.confirmation.runs, passed: json.confirmation.passed, flaky: json.confirmation.flaky },
    ...(what === 'files' ? {} : { inSpec: items.join(',') === current.sort().join(',') }),
  };
}

/** The reports of one service that exist, syscalls first. */
export async function readMinimizeReports(stackOut: string, service: ServiceModel): Promise<MinimizeRead[]> {
  const out: MinimizeRead[] = [];
  for (const what of ['syscalls', 'caps', 'files'] as const) {
    const rel = `minimize/${service.name}-${what}.json`;
    const text = await readFile(path.join(stackOut, rel), 'utf8').catch(() => undefined);
    if (text !== undefined) out.push(summarizeReport(text, rel, service));
  }
  return out;
}
