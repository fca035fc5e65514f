/**
 * Reads an evidence file (generated/<stack>/evidence/latest.json) for the site, checked against
 * the verifier's own schema (verify/evidence.schema.json) before use, so a truncated, hand-edited
 * or older-format file is reported plainly instead of breaking the build or showing partial
 * results as if they were whole.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { InteractionResult } from '../verify/runner.ts';
import evidenceSchema from '../verify/evidence.schema.json' with { type: 'json' };

export type InteractionStatus = 'passed' | 'failed' | 'not-verifiable' | 'skipped';
export const INTERACTION_STATUSES: readonly InteractionStatus[] = ['passed', 'failed', 'not-verifiable', 'skipped'];

/**
 * One interaction's result as evidence.schema.json writes it: the verifier's own result type, with
 * `service` null (not absent) for stack-wide checks.
 */
export type InteractionEvidence = Omit<InteractionResult, 'service'> & { readonly service: string | null };

export interface HashedFile {
  readonly path: string;
  readonly sha256: string;
}

/** The evidence document, as evidence.schema.json defines it (format version 1). */
export interface EvidenceRecord {
  readonly format: 'hardspec-evidence';
  readonly formatVersion: 1;
  readonly stack: string;
  readonly runId: string;
  readonly project: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly result: 'passed' | 'failed' | 'error' | 'interrupted';
  readonly exitCode: number;
  readonly error?: string;
  readonly hardspec: { readonly version: string };
  readonly engine: {
    readonly version: string; readonly apiVersion: string; readonly os: string; readonly kernel: string; readonly arch: string;
    readonly cgroupDriver: string; readonly cgroupVersion: string; readonly securityOptions: readonly string[];
  };
  readonly compose: { readonly variant: 'v1' | 'v2'; readonly command: string; readonly version: string };
  readonly host: { readonly kernel: string; readonly arch: string; readonly selinux: boolean };
  readonly images: readonly { readonly service: string; readonly image: string; readonly id: string }[];
  /** Spec files, path relative to the stack folder. */
  readonly specs: readonly HashedFile[];
  /** Artifacts, path relative to generated/<stack>/ (manifest.json's list, without itself). */
  readonly artifacts: readonly HashedFile[];
  readonly timings: { readonly buildMs: number; readonly upMs: number; readonly interactionsMs: number; readonly teardownMs: number; readonly totalMs: number };
  readonly summary: { readonly total: number; readonly passed: number; readonly failed: number; readonly notVerifiable: number; readonly skipped: number };
  readonly teardown: { readonly remaining: number; readonly problems: readonly string[] };
  readonly interactions: readonly InteractionEvidence[];
}

let validator: ValidateFunction | undefined;

/** Parses and checks an evidence file's text; returns the record or, in one line, what is wrong with it. */
export function readEvidence(text: string): { evidence: EvidenceRecord } | { problem: string } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { problem: `it is not valid JSON (${(e as Error).message})` };
  }
  validator ??= new Ajv({ allErrors: true, strict: false }).compile(evidenceSchema);
  if (!validator(data)) {
    const errors = validator.errors ?? [];
    const first = errors[0];
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? 's' : ''})` : '';
    return { problem: `it does not match the evidence format: ${first?.instancePath || '/'} ${first?.message ?? ''}${more}` };
  }
  const evidence = data as EvidenceRecord;
  // The summary is what a reader sees first: it must agree with the results it summarises.
  const count = (s: InteractionStatus) => evidence.interactions.filter((i) => i.status === s).length;
  const s = evidence.summary;
  if (s.total !== evidence.interactions.length || s.passed !== count('passed') || s.failed !== count('failed') || s.notVerifiable !== count('not-verifiable') || s.skipped !== count('skipped')) {
    return { problem: 'its summary does not match its interaction results' };
  }
  return { evidence };
}
