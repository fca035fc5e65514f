/**
 * A service's stripped image for the site: generated/<stack>/images/<service>.size.json (written by
 * `hardspec strip` and `verify --stripped`) summed up, with the SBOM beside it for download. A
 * report whose full image is not the one the spec names is shown as such.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ServiceModel } from '../model/types.ts';

export interface StripSummary {
  /** Paths inside generated/<stack>/ and the files' text, for download. */
  readonly sizePath: string;
  readonly sizeText: string;
  readonly sbomPath?: string;
  readonly sbomText?: string;
  readonly image: string;
  readonly fullImage: string;
  readonly bytes: number;
  readonly fullBytes: number;
  readonly ratio: number;
  readonly files: number;
  readonly fullFiles: number;
  readonly dropped: number;
  readonly setIdCleared: number;
  readonly packages: number;
  /** The report is for the image and target the spec names now. */
  readonly current: boolean;
}

export type StripRead = StripSummary | { readonly sizePath: string; readonly problem: string };

/* eslint-disable @typescript-eslint/no-explicit-any -- shape checked field by field below. */
export function summarizeStrip(sizeText: string, sizePath: string, service: ServiceModel, sbom?: { path: string; text: string }): StripRead {
  let r: any;
  try {
    r = JSON.parse(sizeText);
  } catch {
    return { sizePath, problem: 'it is not JSON' };
  }
  if (r?.format !== 'hardspec-strip' || r.version !== 1 || typeof r.full?.bytes !== 'number' || typeof r.stripped?.bytes !== 'number' || !Array.isArray(r.policy)) {
    return { sizePath, problem: 'it is not a hardspec strip report (format hardspec-strip, version 1)' };
  }
  return {
    sizePath, sizeText, ...(sbom ? { sbomPath: sbom.path, sbomText: sbom.text } : {}),
    image: String(r.stripped.image), fullImage: String(r.full.image),
    bytes: r.stripped.bytes, fullBytes: r.full.bytes, ratio: r.ratio, files: r.stripped.files, fullFiles: r.full.files,
    dropped: r.policy.filter((p: any) => p.action === 'dropped').length,
    setIdCleared: r.policy.filter((p: any) => p.action === 'setid-cleared').length,
    packages: Array.isArray(r.packages) ? r.packages.length : 0,
    current: r.full.image === service.image.name && r.stripped.image === service.strip.target,
  };
}

export async function readStripRecord(stackOut: string, service: ServiceModel): Promise<StripRead | undefined> {
  const sizePath = `images/${service.name}.size.json`;
  const text = await readFile(path.join(stackOut, sizePath), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const sbomPath = `images/${service.name}.spdx.json`;
  const sbom = await readFile(path.join(stackOut, sbomPath), 'utf8').catch(() => undefined);
  return summarizeStrip(text, sizePath, service, sbom === undefined ? undefined : { path: sbomPath, text: sbom });
}
