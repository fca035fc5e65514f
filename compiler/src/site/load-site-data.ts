/**
 * Reads what the evidence site publishes: every stack under the specs folder, compiled in memory by
 * the compiler's own pipeline (the one parser; nothing is written) exactly as `hardspec compile
 * --out <generated>` would, so the hashes compare with what the verifier recorded, and each
 * stack's evidence from <generated>/<stack>/evidence/latest.json with the screenshots it names.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { formatDiagnostic } from '../diagnostics/report.ts';
import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import { displayPath, findStackDirs, readStack } from '../io/read-specs.ts';
import { compile } from '../pipeline.ts';
import { readEvidence } from './evidence-record.ts';
import { readMinimizeReports } from './minimize-record.ts';
import { readStripRecord } from './strip-record.ts';
import { buildSiteStack, type EvidenceRead, type SiteStack } from './site-data.ts';

export interface SiteSources {
  /** A folder of stacks, or one stack folder. */
  readonly specsDir: string;
  /** Where generated/<stack>/ folders are (their evidence/ is read). */
  readonly generatedDir: string;
  /** Paths shown on the site are relative to this folder. */
  readonly cwd: string;
}

export interface SiteData {
  readonly stacks: readonly SiteStack[];
  /** Warnings of the compile (errors stop the load). */
  readonly warnings: readonly Diagnostic[];
}

export class SiteSpecsError extends Error {}

export async function loadSiteData(sources: SiteSources): Promise<SiteData> {
  const specsDir = path.resolve(sources.cwd, sources.specsDir);
  const generatedDir = path.resolve(sources.cwd, sources.generatedDir);
  const dirs = await findStackDirs(specsDir);
  if (dirs.length === 0) throw new SiteSpecsError(`no stack found in ${displayPath(sources.cwd, specsDir)}`);
  const inputs = await Promise.all(dirs.map((d) => readStack(d, generatedDir, sources.cwd)));
  const result = compile(inputs);
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) {
    throw new SiteSpecsError(`the specs do not compile, so there is nothing to publish:\n${errors.map((d) => formatDiagnostic(d, { color: false })).join('\n')}`);
  }
  const stacks = await Promise.all(result.stacks.map(async (compiled) => {
    const stackOut = path.join(generatedDir, compiled.name);
    const evidenceDir = path.join(stackOut, 'evidence');
    const evidence = await readEvidenceFile(path.join(evidenceDir, 'latest.json'), sources.cwd);
    const screenshots = evidence.kind === 'read' ? await readScreenshots(evidenceDir, evidence) : new Map<string, Uint8Array>();
    const manifestOnDisk = await readFile(path.join(stackOut, 'manifest.json'), 'utf8').catch(() => undefined);
    const minimize = new Map(await Promise.all(compiled.model.services.map(async (s) => [s.name, await readMinimizeReports(stackOut, s)] as const)));
    const stripped = new Map(await Promise.all(compiled.model.services.map(async (s) => [s.name, await readStripRecord(stackOut, s)] as const)));
    return buildSiteStack(compiled, { evidence, screenshots, minimize, stripped, ...(manifestOnDisk === undefined ? {} : { manifestOnDisk }) });
  }));
  return { stacks, warnings: result.diagnostics };
}

async function readEvidenceFile(file: string, cwd: string): Promise<EvidenceRead> {
  const shown = displayPath(cwd, file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? { kind: 'missing', path: shown } : { kind: 'unreadable', path: shown, problem: `it cannot be read (${code ?? String(e)})` };
  }
  const read = readEvidence(text);
  return 'problem' in read ? { kind: 'unreadable', path: shown, problem: read.problem } : { kind: 'read', path: shown, evidence: read.evidence, text };
}

/** The PNGs the evidence names, read only from inside the evidence folder. */
async function readScreenshots(evidenceDir: string, read: Extract<EvidenceRead, { kind: 'read' }>): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const it of read.evidence.interactions) {
    const rel = it.screenshot;
    if (!rel || !/^[A-Za-z0-9._/-]+\.png$/.test(rel)) continue;
    const full = path.resolve(evidenceDir, rel);
    if (!full.startsWith(evidenceDir + path.sep)) continue;
    const bytes = await readFile(full).catch(() => undefined);
    if (bytes) out.set(rel, new Uint8Array(bytes));
  }
  return out;
}
