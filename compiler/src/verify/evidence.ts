/**
 * The evidence document of a run (format described by evidence.schema.json beside this file):
 * built with a fixed key order (observed data with sorted keys), every string scrubbed of
 * secrets, written to <evidence-dir>/latest.json and <evidence-dir>/runs/<UTC time>-<run id>.json.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { InteractionResult } from './runner.ts';
import type { Scrubber } from './secrets.ts';

export const EVIDENCE_FORMAT = 'hardspec-evidence';
export const EVIDENCE_FORMAT_VERSION = 1;

export type RunResult = 'passed' | 'failed' | 'error' | 'interrupted';

export interface Summary {
  readonly total: number;
  readonly passed: number;
  readonly failed: number;
  readonly notVerifiable: number;
  readonly skipped: number;
}

export interface EvidenceInput {
  readonly stack: string;
  readonly runId: string;
  readonly project: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly result: RunResult;
  readonly exitCode: number;
  readonly error?: string;
  readonly hardspecVersion: string;
  readonly engine: { version: string; apiVersion: string; os: string; kernel: string; arch: string; cgroupDriver: string; cgroupVersion: string; securityOptions: readonly string[] };
  readonly compose: { variant: 'v1' | 'v2'; command: string; version: string };
  readonly host: { kernel: string; arch: string; selinux: boolean };
  readonly images: readonly { service: string; image: string; id: string }[];
  readonly specs: readonly { path: string; sha256: string }[];
  readonly artifacts: readonly { path: string; sha256: string }[];
  readonly timings: { buildMs: number; upMs: number; interactionsMs: number; teardownMs: number; totalMs: number };
  readonly teardown: { remaining: number; problems: readonly string[] };
  readonly interactions: readonly InteractionResult[];
}

export function summarize(results: readonly InteractionResult[]): Summary {
  const count = (s: InteractionResult['status']) => results.filter((r) => r.status === s).length;
  return { total: results.length, passed: count('passed'), failed: count('failed'), notVerifiable: count('not-verifiable'), skipped: count('skipped') };
}

/** The exit code for a run: 0 nothing failed, 1 an interaction failed or was skipped, 2 an environment error. */
export function exitCodeFor(summary: Summary, environmentError = false): number {
  if (environmentError) return 2;
  return summary.failed > 0 || summary.skipped > 0 ? 1 : 0;
}

/** Sorted keys, recursively: observed data is free-form, its serialisation must not be. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

function interactionEntry(r: InteractionResult): Record<string, unknown> {
  return {
    id: r.id,
    description: r.description,
    reason: r.reason,
    service: r.service ?? null,
    origin: r.origin,
    purpose: r.purpose,
    kind: r.kind,
    status: r.status,
    durationMs: r.durationMs,
    method: [...r.method],
    observed: sortKeys(r.observed),
    ...(r.problems?.length ? { problems: [...r.problems] } : {}),
    ...(r.screenshot ? { screenshot: r.screenshot } : {}),
    ...(r.logTail ? { logTail: sortKeys(r.logTail) } : {}),
  };
}

/** Pure: the evidence document, keys in a fixed order, every string scrubbed. */
export function buildEvidence(e: EvidenceInput, scrubber: Scrubber): Record<string, unknown> {
  const doc = {
    format: EVIDENCE_FORMAT,
    formatVersion: EVIDENCE_FORMAT_VERSION,
    stack: e.stack,
    runId: e.runId,
    project: e.project,
    startedAt: e.startedAt.toISOString(),
    finishedAt: e.finishedAt.toISOString(),
    result: e.result,
    exitCode: e.exitCode,
    ...(e.error ? { error: e.error } : {}),
    hardspec: { version: e.hardspecVersion },
    engine: {
      version: e.engine.version, apiVersion: e.engine.apiVersion, os: e.engine.os, kernel: e.engine.kernel, arch: e.engine.arch,
      cgroupDriver: e.engine.cgroupDriver, cgroupVersion: e.engine.cgroupVersion, securityOptions: [...e.engine.securityOptions],
    },
    compose: { variant: e.compose.variant, command: e.compose.command, version: e.compose.version },
    host: { kernel: e.host.kernel, arch: e.host.arch, selinux: e.host.selinux },
    images: e.images.map((i) => ({ service: i.service, image: i.image, id: i.id })),
    specs: e.specs.map((s) => ({ path: s.path, sha256: s.sha256 })),
    artifacts: e.artifacts.map((a) => ({ path: a.path, sha256: a.sha256 })),
    timings: { buildMs: e.timings.buildMs, upMs: e.timings.upMs, interactionsMs: e.timings.interactionsMs, teardownMs: e.timings.teardownMs, totalMs: e.timings.totalMs },
    summary: summarize(e.interactions),
    teardown: { remaining: e.teardown.remaining, problems: [...e.teardown.problems] },
    interactions: e.interactions.map(interactionEntry),
  };
  return scrubber.scrubDeep(doc);
}

export function evidenceJson(doc: Record<string, unknown>): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** "2024-05-02T09:15:00.123Z" → "20240502T091500Z": sortable, safe in file names. */
export function compactUtc(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
}

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o644 });
  await rename(tmp, file);
}

/** Writes latest.json and runs/<time>-<run id>.json; returns both paths. */
export async function writeEvidence(dir: string, doc: Record<string, unknown>, startedAt: Date, runId: string): Promise<{ latest: string; run: string }> {
  const text = evidenceJson(doc);
  await mkdir(path.join(dir, 'runs'), { recursive: true });
  const run = path.join(dir, 'runs', `${compactUtc(startedAt)}-${runId}.json`);
  const latest = path.join(dir, 'latest.json');
  await writeAtomic(run, text);
  await writeAtomic(latest, text);
  return { latest, run };
}
