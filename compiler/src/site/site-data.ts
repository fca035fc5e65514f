/**
 * What the evidence site shows for one stack, assembled from the compiler's own result (model and
 * in-memory artifacts) and the stack's evidence file. Pure: load-site-data.ts does the reading.
 * Every count and list a page shows is computed here or in docker-comparison.ts.
 */
import type { MinimizeRead } from './minimize-record.ts';
import type { StripRead } from './strip-record.ts';
import { sha256 } from '../emit/manifest.ts';
import type { Artifact } from '../emit/artifact.ts';
import type { InteractionModel, ServiceModel, StackModel } from '../model/types.ts';
import type { CompiledStack } from '../pipeline.ts';
import type { EvidenceRecord, InteractionEvidence, InteractionStatus } from './evidence-record.ts';
import { evidenceChanges, type FreshnessChange, type HashesNow } from './evidence-freshness.ts';

/** What the site knows of a stack's evidence. Only `current` results may be shown as current. */
export type EvidenceState =
  | { readonly kind: 'missing'; readonly path: string }
  | { readonly kind: 'unreadable'; readonly path: string; readonly problem: string }
  | { readonly kind: 'stale'; readonly path: string; readonly evidence: EvidenceRecord; readonly changes: readonly FreshnessChange[] }
  | { readonly kind: 'current'; readonly path: string; readonly evidence: EvidenceRecord };

/** Where an evidence file was looked for, and what was found there. */
export type EvidenceRead =
  | { readonly kind: 'missing'; readonly path: string }
  | { readonly kind: 'unreadable'; readonly path: string; readonly problem: string }
  | { readonly kind: 'read'; readonly path: string; readonly evidence: EvidenceRecord; readonly text: string };

export interface SiteArtifact {
  /** Path in generated/<stack>/, e.g. "seccomp/web.json". */
  readonly path: string;
  readonly content: string;
  readonly sha256: string;
  /** Spec files it was made from, relative to the stack folder. */
  readonly sources: readonly string[];
}

export interface InteractionRow {
  readonly id: string;
  readonly description: string;
  readonly reason: string;
  readonly purpose: 'functional' | 'security';
  readonly origin: 'spec' | 'automatic';
  /** The check's kind (http, probe, …, or auto/health for automatic checks). */
  readonly kind: string;
  /** Service name whose group the row is in; '' for stack-wide rows. */
  readonly group: string;
  /** False for evidence rows whose interaction the current specs no longer declare. */
  readonly inSpec: boolean;
  readonly result?: InteractionEvidence;
}

export interface InteractionGroup {
  /** '' for the interactions of stack.md and automatic checks of the whole stack. */
  readonly service: string;
  readonly rows: readonly InteractionRow[];
}

export type StatusCounts = Readonly<Record<InteractionStatus, number>>;

export interface SiteService {
  readonly model: ServiceModel;
  /** The minimiser's reports for this service (generated/<stack>/minimize/), if any. */
  readonly minimize: readonly MinimizeRead[];
  /** The stripped image's size report and SBOM (generated/<stack>/images/), if any. */
  readonly stripped?: StripRead;
  /** The service's own artifacts (seccomp, selinux, strip), sorted by path. */
  readonly artifacts: readonly SiteArtifact[];
  readonly rows: readonly InteractionRow[];
}

export interface SiteStack {
  readonly name: string;
  readonly model: StackModel;
  /** Every artifact as the specs compile now, manifest.json included, sorted by path. */
  readonly artifacts: readonly SiteArtifact[];
  readonly services: readonly SiteService[];
  readonly evidence: EvidenceState;
  readonly groups: readonly InteractionGroup[];
  /** Counts of the evidence's results; all zero when there is no readable evidence. */
  readonly counts: StatusCounts;
  /** The evidence file's text, published as it is, when it could be read. */
  readonly evidenceText?: string;
  /** Screenshots the evidence refers to, by their path in the evidence folder. */
  readonly screenshots: ReadonlyMap<string, Uint8Array>;
  /** Whether generated/<stack>/ on disk holds what the specs compile to now. */
  readonly generatedOnDisk: 'same' | 'differs' | 'absent';
}

export interface StackEvidenceInput {
  readonly evidence: EvidenceRead;
  readonly screenshots: ReadonlyMap<string, Uint8Array>;
  /** The manifest.json in generated/<stack>/ on disk, if any. */
  readonly manifestOnDisk?: string;
  /** The minimiser's reports by service name. */
  readonly minimize?: ReadonlyMap<string, readonly MinimizeRead[]>;
  readonly stripped?: ReadonlyMap<string, StripRead | undefined>;
}

export function buildSiteStack(compiled: CompiledStack, input: StackEvidenceInput): SiteStack {
  const model = compiled.model;
  const artifacts = compiled.artifacts.map(toSiteArtifact);
  const evidence = judge(model, artifacts, input.evidence);
  const results = evidence.kind === 'current' || evidence.kind === 'stale' ? evidence.evidence.interactions : [];
  const groups = groupRows(model, results);
  const rows = groups.flatMap((g) => g.rows);
  const manifest = artifacts.find((a) => a.path === 'manifest.json');
  return {
    name: model.name,
    model,
    artifacts,
    services: model.services.map((s) => ({
      model: s,
      minimize: input.minimize?.get(s.name) ?? [],
      ...(input.stripped?.get(s.name) ? { stripped: input.stripped.get(s.name)! } : {}),
      artifacts: artifacts.filter((a) => a.path !== 'compose.yaml' && a.sources.length === 1 && a.sources[0] === s.source.relPath),
      rows: rows.filter((r) => r.group === s.name),
    })),
    evidence,
    groups,
    counts: countStatuses(results),
    ...(input.evidence.kind === 'read' ? { evidenceText: input.evidence.text } : {}),
    screenshots: input.screenshots,
    generatedOnDisk: input.manifestOnDisk === undefined ? 'absent' : input.manifestOnDisk === manifest?.content ? 'same' : 'differs',
  };
}

function toSiteArtifact(a: Artifact): SiteArtifact {
  return { path: a.path, content: a.content, sha256: sha256(a.content), sources: a.sources.map((s) => s.relPath).sort() };
}

function judge(model: StackModel, artifacts: readonly SiteArtifact[], read: EvidenceRead): EvidenceState {
  if (read.kind !== 'read') return read;
  const { evidence } = read;
  if (evidence.stack !== model.name) {
    return { kind: 'unreadable', path: read.path, problem: `it is the evidence of the stack "${evidence.stack}", not of "${model.name}"` };
  }
  const changes = evidenceChanges(model.name, evidence, hashesNow(model, artifacts));
  return changes.length ? { kind: 'stale', path: read.path, evidence, changes } : { kind: 'current', path: read.path, evidence };
}

/**
 * The hashes evidence must have recorded to be current: every spec file of the stack and every
 * artifact (manifest.json included; evidenceChanges() compares it only when the evidence has it).
 */
export function hashesNow(model: StackModel, artifacts: readonly { readonly path: string; readonly content: string }[]): HashesNow {
  return {
    specs: [model.source, ...model.services.map((s) => s.source)].map((s) => ({ path: s.relPath, sha256: s.sha256 })),
    artifacts: artifacts.map((a) => ({ path: a.path, sha256: sha256(a.content) })),
  };
}

/**
 * One row per interaction: every interaction of the specs (stack.md's first, then each service's),
 * with its result when the evidence has one, then the evidence's automatic checks and any result
 * whose interaction the specs no longer declare. Grouped: stack-wide first, then services by name.
 */
function groupRows(model: StackModel, results: readonly InteractionEvidence[]): InteractionGroup[] {
  const byId = new Map(results.map((r) => [r.id, r]));
  const rows: InteractionRow[] = [];
  const fromSpec = (it: InteractionModel, group: string): InteractionRow => {
    const result = byId.get(it.id);
    return { id: it.id, description: it.description, reason: it.reason, purpose: it.purpose, origin: 'spec', kind: it.check.kind, group, inSpec: true, ...(result ? { result } : {}) };
  };
  for (const it of model.interactions) rows.push(fromSpec(it, ''));
  for (const s of model.services) for (const it of s.interactions) rows.push(fromSpec(it, s.name));
  const declared = new Set(rows.map((r) => r.id));
  const services = new Set(model.services.map((s) => s.name));
  for (const r of results) {
    if (declared.has(r.id)) continue;
    rows.push({
      id: r.id, description: r.description, reason: r.reason, purpose: r.purpose, origin: r.origin, kind: r.kind,
      group: r.service !== null && services.has(r.service) ? r.service : '', inSpec: r.origin === 'automatic', result: r,
    });
  }
  const order = ['', ...model.services.map((s) => s.name)];
  return order.map((service) => ({ service, rows: rows.filter((r) => r.group === service) })).filter((g) => g.rows.length > 0);
}

export function countStatuses(results: readonly { readonly status: InteractionStatus }[]): StatusCounts {
  const counts: Record<InteractionStatus, number> = { passed: 0, failed: 0, 'not-verifiable': 0, skipped: 0 };
  for (const r of results) counts[r.status]++;
  return counts;
}
