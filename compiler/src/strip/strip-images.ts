/**
 * Strips every service with a strip list: the full image's filesystem, the plan (packages, files,
 * ELF closure, policy), the FROM-scratch image loaded into the engine as strip.target, and the
 * reports for generated/<stack>/images/: an SPDX SBOM and a size report per service. Used by
 * `hardspec strip` and by `hardspec verify --stripped`.
 *
 * Nothing is loaded and nothing is written unless every service's plan is free of problems.
 */
import type Docker from 'dockerode';
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { hasStripList } from '../emit/compose/emit-compose.ts';
import type { ServiceModel, StackModel } from '../model/types.ts';
import { COMPILER_VERSION } from '../version.ts';
import { EnvironmentError } from '../verify/docker.ts';
import { mb } from './format-size.ts';
import type { ImageFs } from './fs.ts';
import { exportImageFs, inspectFullImage, loadArchive, strippedArchive, type FullImage } from './image.ts';
import { mountPointsOf, planStrip, type StripPlan, type StripProblem } from './plan.ts';
import { spdxDocument } from './spdx.ts';

export interface StrippedService {
  readonly service: string;
  readonly full: FullImage;
  readonly target: string;
  readonly strippedId: string;
  readonly strippedSize: number;
  readonly plan: StripPlan;
  readonly sizeReport: SizeReport;
  readonly sbom: object;
}

export interface SizeReport {
  readonly format: 'hardspec-strip';
  readonly version: 1;
  readonly stack: string;
  readonly service: string;
  readonly hardspecVersion: string;
  readonly full: { readonly image: string; readonly id: string; readonly bytes: number; readonly files: number; readonly fileBytes: number };
  readonly stripped: { readonly image: string; readonly id: string; readonly bytes: number; readonly files: number; readonly fileBytes: number };
  /** full.bytes ÷ stripped.bytes. */
  readonly ratio: number;
  readonly packages: readonly { readonly name: string; readonly version: string; readonly listed: boolean; readonly filesKept: number }[];
  readonly policy: StripPlan['policy'];
  readonly kept: readonly { readonly path: string; readonly reason: string }[];
  readonly removed: StripPlan['removed'];
}

export class StripProblems extends Error {
  readonly exitCode = 1;
  constructor(readonly problems: readonly StripProblem[]) {
    super(`${problems.length} problem(s) in the strip lists:\n${problems.map((p) => `  ${p.message}\n    hint: ${p.hint}`).join('\n')}`);
  }
}

/** The services that get a stripped image (a strip list), optionally only one. */
export function servicesToStrip(stack: StackModel, only?: string): ServiceModel[] {
  if (only !== undefined && !stack.services.some((s) => s.name === only)) {
    throw new EnvironmentError(`no service ${JSON.stringify(only)} in stack ${stack.name} (services: ${stack.services.map((s) => s.name).join(', ')})`);
  }
  const list = stack.services.filter((s) => hasStripList(s) && (only === undefined || s.name === only));
  if (only !== undefined && list.length === 0) throw new EnvironmentError(`service ${only} has no strip list (strip.packages or strip.files): nothing to strip`);
  return list;
}

const sha = (alg: 'sha256' | 'sha1', b: Buffer) => createHash(alg).update(b).digest('hex');

export function sizeReportOf(stack: string, plan: StripPlan, full: FullImage, target: string, strippedId: string, strippedSize: number): SizeReport {
  const files = plan.kept.filter((k) => k.entry.path !== '/').length;
  return {
    format: 'hardspec-strip', version: 1, stack, service: plan.service, hardspecVersion: COMPILER_VERSION,
    full: { image: full.name, id: full.id, bytes: full.size, files: plan.fullFiles, fileBytes: plan.fullBytes },
    stripped: { image: target, id: strippedId, bytes: strippedSize, files, fileBytes: plan.keptBytes },
    ratio: Math.round((full.size / Math.max(1, strippedSize)) * 100) / 100,
    packages: plan.packages.map((p) => ({ name: p.name, version: p.version, listed: p.listed, filesKept: p.kept.length })),
    policy: plan.policy,
    kept: plan.kept.filter((k) => k.entry.path !== '/').map((k) => ({ path: k.entry.path, reason: k.reason })),
    removed: plan.removed,
  };
}

export function sbomOf(fs: ImageFs, plan: StripPlan, full: FullImage, target: string): object {
  const files = plan.kept.filter((k) => k.entry.type === 'file' || k.entry.type === 'hardlink').map((k) => {
    const content = fs.content(k.entry.path) ?? Buffer.alloc(0);
    return { path: k.entry.path, sha256: sha('sha256', content), sha1: sha('sha1', content), size: content.length, ...(k.packages[0] ? { package: k.packages[0] } : {}), reason: k.reason };
  });
  return spdxDocument({
    name: target,
    created: full.created,
    toolVersion: COMPILER_VERSION,
    packages: plan.packages.map((p) => ({ name: p.name, version: p.version, arch: p.architecture, files: [...p.kept] })),
    files,
  });
}

/** Plans, builds and loads the stripped image of each service; throws StripProblems before loading anything. */
export async function stripImages(docker: Docker, stack: StackModel, services: readonly ServiceModel[], say: (line: string) => void): Promise<StrippedService[]> {
  const planned: { s: ServiceModel; full: FullImage; fs: ImageFs; plan: StripPlan }[] = [];
  const problems: StripProblem[] = [];
  for (const s of services) {
    const full = await inspectFullImage(docker, s.image.name);
    if (!full) throw new EnvironmentError(`image ${s.image.name} of service ${s.name} is missing: build it first (hardspec verify builds it, or docker-compose build)`);
    say(`${s.name}: reading ${s.image.name} (${mb(full.size)}) and planning what to keep`);
    const fs = await exportImageFs(docker, s.image.name);
    const plan = planStrip(fs, { service: s.name, packages: s.strip.packages, files: s.strip.files, mountPoints: mountPointsOf(s) });
    problems.push(...plan.problems);
    planned.push({ s, full, fs, plan });
  }
  if (problems.length) throw new StripProblems(problems);
  const out: StrippedService[] = [];
  for (const { s, full, fs, plan } of planned) {
    const archive = strippedArchive(fs, plan, full, s.strip.target);
    await loadArchive(docker, archive.archive);
    const loaded = await inspectFullImage(docker, s.strip.target);
    if (!loaded) throw new EnvironmentError(`docker load did not create ${s.strip.target}`);
    if (loaded.id !== archive.imageId) throw new EnvironmentError(`docker load gave ${s.strip.target} the id ${loaded.id}, expected ${archive.imageId}`);
    const sizeReport = sizeReportOf(stack.name, plan, full, s.strip.target, loaded.id, loaded.size);
    say(`${s.name}: ${s.strip.target} is ${mb(loaded.size)} (full ${mb(full.size)}, ${sizeReport.ratio}× smaller), ${sizeReport.stripped.files} of ${plan.fullFiles} files kept`);
    for (const p of plan.policy) say(`${s.name}:   ${p.action === 'dropped' ? 'dropped' : 'cleared the set-id bits of'} ${p.path}: ${p.why}`);
    out.push({ service: s.name, full, target: s.strip.target, strippedId: loaded.id, strippedSize: loaded.size, plan, sizeReport, sbom: sbomOf(fs, plan, full, s.strip.target) });
  }
  return out;
}

/**
 * Writes images/<service>.spdx.json and images/<service>.size.json for every stripped service,
 * all or nothing (a staging folder renamed into place file by file at the end).
 */
export async function writeStripReports(outStackDir: string, stripped: readonly StrippedService[]): Promise<string[]> {
  const dir = path.join(outStackDir, 'images');
  const staging = path.join(outStackDir, `.images-staging-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const names: string[] = [];
  try {
    for (const s of stripped) {
      await writeFile(path.join(staging, `${s.service}.spdx.json`), `${JSON.stringify(s.sbom, null, 2)}\n`);
      await writeFile(path.join(staging, `${s.service}.size.json`), `${JSON.stringify(s.sizeReport, null, 2)}\n`);
      names.push(`${s.service}.spdx.json`, `${s.service}.size.json`);
    }
    await mkdir(dir, { recursive: true });
    for (const n of names) await rename(path.join(staging, n), path.join(dir, n));
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return names.map((n) => path.join(dir, n));
}
