/**
 * The SBOM of a stripped image: an SPDX 2.3 JSON document listing the Debian packages it keeps
 * files of and every regular file it holds, with checksums and why each was kept. Pure and
 * deterministic: the same input gives the same bytes (the namespace is a hash of the content,
 * `created` is passed in), so the document can be committed and diffed.
 */
import { createHash } from 'node:crypto';
import { sha256 } from '../emit/manifest.ts';
import { COMPILER_VERSION } from '../version.ts';

export interface SpdxPackageInput {
  readonly name: string;
  readonly version: string;
  readonly arch?: string;
  /** Paths of this package's files that the image keeps; those not in `files` (symlinks, say) are not listed. */
  readonly files: readonly string[];
}

export interface SpdxFileInput {
  /** Absolute path in the image. */
  readonly path: string;
  readonly sha256: string;
  /** SPDX 2.3 requires a SHA1 checksum for every file. */
  readonly sha1: string;
  readonly size: number;
  /** Owning package: its name, or 'name:arch' where the name alone is ambiguous. */
  readonly package?: string;
  /** Why the stripper kept the file. */
  readonly reason: string;
}

export interface SpdxInput {
  /** The stripped image's name, e.g. 'demo/web:1-stripped'. */
  readonly name: string;
  /** Mixed into the namespace hash, to tell apart documents of equal content. */
  readonly namespaceSeed?: string;
  /** ISO 8601 time; written to whole seconds in UTC as SPDX requires. */
  readonly created: string;
  /** Defaults to the compiler's version. */
  readonly toolVersion?: string;
  /** The purl namespace of the packages (default 'debian') and an optional distro qualifier. */
  readonly vendor?: string;
  readonly distro?: string;
  readonly packages: readonly SpdxPackageInput[];
  readonly files: readonly SpdxFileInput[];
}

interface SpdxChecksum {
  algorithm: 'SHA1' | 'SHA256';
  checksumValue: string;
}

interface SpdxPackage {
  name: string;
  SPDXID: string;
  versionInfo?: string;
  downloadLocation: 'NOASSERTION';
  filesAnalyzed: boolean;
  packageVerificationCode?: { packageVerificationCodeValue: string };
  licenseConcluded: 'NOASSERTION';
  licenseDeclared: 'NOASSERTION';
  copyrightText: 'NOASSERTION';
  primaryPackagePurpose?: 'CONTAINER';
  externalRefs?: { referenceCategory: 'PACKAGE-MANAGER'; referenceType: 'purl'; referenceLocator: string }[];
  comment?: string;
}

interface SpdxFile {
  fileName: string;
  SPDXID: string;
  checksums: SpdxChecksum[];
  licenseConcluded: 'NOASSERTION';
  copyrightText: 'NOASSERTION';
  comment: string;
}

interface SpdxRelationship {
  spdxElementId: string;
  relationshipType: 'DESCRIBES' | 'CONTAINS';
  relatedSpdxElement: string;
}

export interface SpdxDocument {
  spdxVersion: 'SPDX-2.3';
  dataLicense: 'CC0-1.0';
  SPDXID: 'SPDXRef-DOCUMENT';
  name: string;
  documentNamespace: string;
  creationInfo: { created: string; creators: string[] };
  packages: SpdxPackage[];
  files: SpdxFile[];
  relationships: SpdxRelationship[];
}

const DOCUMENT_ID = 'SPDXRef-DOCUMENT';
const IMAGE_ID = 'SPDXRef-Image';
const NOASSERTION = 'NOASSERTION';

/** Builds the document. Throws on input that cannot make a valid one (bad checksums, unknown owners). */
export function spdxDocument(input: SpdxInput): SpdxDocument {
  // 1. Validate and sort, so nothing below depends on input order.
  const created = spdxTimestamp(input.created);
  const files = [...input.files].sort((a, b) => compare(a.path, b.path));
  const filesByPath = new Map<string, SpdxFileInput>();
  for (const f of files) {
    if (!/^[0-9a-f]{64}$/.test(f.sha256) || !/^[0-9a-f]{40}$/.test(f.sha1)) {
      throw new Error(`SPDX: ${f.path}: sha256 must be 64 and sha1 40 lowercase hex digits`);
    }
    if (filesByPath.has(f.path)) throw new Error(`SPDX: ${f.path} is listed twice`);
    filesByPath.set(f.path, f);
  }
  const packages = [...input.packages].sort((a, b) => compare(packageKey(a), packageKey(b)) || compare(a.version, b.version));
  const packageByKey = new Map<string, SpdxPackageInput>();
  for (const p of packages) {
    if (packageByKey.has(packageKey(p))) throw new Error(`SPDX: package ${packageKey(p)} is listed twice`);
    packageByKey.set(packageKey(p), p);
  }

  // 2. Owners: a file belongs to every package that lists it and to the one it names.
  const owned = new Map<SpdxPackageInput, Set<string>>(packages.map((p) => [p, new Set(p.files.filter((f) => filesByPath.has(f)))]));
  for (const f of files) {
    if (f.package !== undefined) owned.get(resolvePackage(f, packages, packageByKey))!.add(f.path);
  }
  const hasOwner = new Set([...owned.values()].flatMap((s) => [...s]));

  // 3. Identifiers, unique after sanitising.
  const ids = new IdAllocator([DOCUMENT_ID, IMAGE_ID]);
  const packageIds = new Map(packages.map((p) => [p, ids.allocate(`Package-${packageKey(p)}-${p.version}`)]));
  const fileIds = new Map(files.map((f) => [f.path, ids.allocate(`File-${f.path.replace(/^\/+/, '')}`)]));

  // 4. The document.
  const image: SpdxPackage = {
    name: input.name,
    SPDXID: IMAGE_ID,
    downloadLocation: NOASSERTION,
    ...analysed(files),
    licenseConcluded: NOASSERTION,
    licenseDeclared: NOASSERTION,
    copyrightText: NOASSERTION,
    primaryPackagePurpose: 'CONTAINER',
    comment: 'FROM-scratch image stripped by hardspec to the files listed here',
  };
  const debs: SpdxPackage[] = packages.map((p) => ({
    name: p.name,
    SPDXID: packageIds.get(p)!,
    versionInfo: p.version,
    downloadLocation: NOASSERTION,
    ...analysed([...owned.get(p)!].sort(compare).map((path) => filesByPath.get(path)!)),
    licenseConcluded: NOASSERTION,
    licenseDeclared: NOASSERTION,
    copyrightText: NOASSERTION,
    externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: debPurl(p, input.vendor, input.distro) }],
  }));
  const relationships: SpdxRelationship[] = [
    { spdxElementId: DOCUMENT_ID, relationshipType: 'DESCRIBES', relatedSpdxElement: IMAGE_ID },
    ...packages.map((p) => contains(IMAGE_ID, packageIds.get(p)!)),
    ...packages.flatMap((p) => [...owned.get(p)!].sort(compare).map((path) => contains(packageIds.get(p)!, fileIds.get(path)!))),
    ...files.filter((f) => !hasOwner.has(f.path)).map((f) => contains(IMAGE_ID, fileIds.get(f.path)!)),
  ];
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: DOCUMENT_ID,
    name: input.name,
    documentNamespace: documentNamespace(input, packages, files),
    creationInfo: { created, creators: [`Tool: hardspec-${input.toolVersion ?? COMPILER_VERSION}`] },
    packages: [image, ...debs],
    files: files.map((f) => ({
      fileName: `.${f.path}`,
      SPDXID: fileIds.get(f.path)!,
      checksums: [
        { algorithm: 'SHA1', checksumValue: f.sha1 },
        { algorithm: 'SHA256', checksumValue: f.sha256 },
      ],
      licenseConcluded: NOASSERTION,
      copyrightText: NOASSERTION,
      comment: `kept: ${f.reason} (${f.size} bytes)`,
    })),
    relationships,
  };
}

/** purl of a Debian package: pkg:deb/<vendor>/<name>@<version>?arch=<arch>, percent-encoded per the purl spec. */
export function debPurl(p: { name: string; version: string; arch?: string }, vendor = 'debian', distro?: string): string {
  const qualifiers = (
    [
      ['arch', p.arch],
      ['distro', distro],
    ] as const
  )
    .filter(([, v]) => v)
    .map(([k, v]) => `${k}=${purlEncode(v!)}`)
    .join('&');
  const version = p.version ? `@${purlEncode(p.version)}` : '';
  return `pkg:deb/${purlEncode(vendor.toLowerCase())}/${purlEncode(p.name.toLowerCase())}${version}${qualifiers ? `?${qualifiers}` : ''}`;
}

/** Keeps A-Z a-z 0-9 . - _ ~ and ':' (never encoded, says the spec); every other UTF-8 byte becomes %XX. */
function purlEncode(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += byte < 0x80 && /[A-Za-z0-9._~:-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * Minimal shape checks of an SPDX 2.3 JSON document (for tests, and before writing one): the
 * required fields, identifiers well-formed and unique, every relationship naming known elements.
 * Returns the problems found; empty when none.
 */
export function validateSpdxShape(doc: unknown): string[] {
  const problems: string[] = [];
  const d = doc as Partial<SpdxDocument>;
  if (typeof doc !== 'object' || doc === null) return ['document is not an object'];
  if (d.spdxVersion !== 'SPDX-2.3') problems.push(`spdxVersion is ${JSON.stringify(d.spdxVersion)}, not "SPDX-2.3"`);
  if (d.dataLicense !== 'CC0-1.0') problems.push('dataLicense must be "CC0-1.0"');
  if (d.SPDXID !== DOCUMENT_ID) problems.push(`document SPDXID must be ${DOCUMENT_ID}`);
  if (typeof d.name !== 'string' || !d.name) problems.push('document name is missing');
  if (typeof d.documentNamespace !== 'string' || !/^[a-z][a-z0-9+.-]*:\/\/[^#\s]+$/.test(d.documentNamespace)) {
    problems.push('documentNamespace must be an absolute URI without "#"');
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(d.creationInfo?.created ?? '')) problems.push('creationInfo.created must be YYYY-MM-DDThh:mm:ssZ');
  const creators = d.creationInfo?.creators;
  if (!Array.isArray(creators) || creators.length === 0 || !creators.every((c) => /^(Tool|Organization|Person): \S/.test(c))) {
    problems.push('creationInfo.creators must list "Tool: …", "Organization: …" or "Person: …"');
  }

  const known = new Set<string>([DOCUMENT_ID]);
  const claim = (id: unknown, where: string) => {
    if (typeof id !== 'string' || !/^SPDXRef-[A-Za-z0-9.-]+$/.test(id)) problems.push(`${where}: SPDXID ${JSON.stringify(id)} is malformed`);
    else if (known.has(id)) problems.push(`${where}: SPDXID ${id} is not unique`);
    else known.add(id);
  };
  for (const [i, p] of (d.packages ?? []).entries()) {
    const where = `packages[${i}]`;
    claim(p.SPDXID, where);
    if (!p.name) problems.push(`${where}: name is missing`);
    if (!p.downloadLocation) problems.push(`${where}: downloadLocation is missing`);
    if (p.filesAnalyzed === false && p.packageVerificationCode) problems.push(`${where}: packageVerificationCode with filesAnalyzed false`);
  }
  for (const [i, f] of (d.files ?? []).entries()) {
    const where = `files[${i}]`;
    claim(f.SPDXID, where);
    if (!f.fileName) problems.push(`${where}: fileName is missing`);
    if (!f.checksums?.some((c) => c.algorithm === 'SHA1' && /^[0-9a-f]{40}$/.test(c.checksumValue))) problems.push(`${where}: no SHA1 checksum`);
  }
  const relationships = d.relationships ?? [];
  for (const [i, r] of relationships.entries()) {
    for (const id of [r.spdxElementId, r.relatedSpdxElement]) {
      if (!known.has(id)) problems.push(`relationships[${i}]: ${JSON.stringify(id)} is not an element of the document`);
    }
  }
  if (!relationships.some((r) => r.spdxElementId === DOCUMENT_ID && r.relationshipType === 'DESCRIBES')) problems.push('no DESCRIBES relationship from the document');
  // A package whose files were not analysed "shall not contain any files" (SPDX 2.3, 7.8).
  const unanalysed = new Set((d.packages ?? []).filter((p) => p.filesAnalyzed === false).map((p) => p.SPDXID));
  const fileIds = new Set((d.files ?? []).map((f) => f.SPDXID));
  for (const r of relationships) {
    if (r.relationshipType === 'CONTAINS' && unanalysed.has(r.spdxElementId) && fileIds.has(r.relatedSpdxElement)) {
      problems.push(`${r.spdxElementId} has filesAnalyzed false but contains ${r.relatedSpdxElement}`);
    }
  }
  return problems;
}

/* ------------------------------------------------------------------------------------ helpers */

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const packageKey = (p: SpdxPackageInput) => (p.arch ? `${p.name}:${p.arch}` : p.name);

const contains = (from: string, to: string): SpdxRelationship => ({ spdxElementId: from, relationshipType: 'CONTAINS', relatedSpdxElement: to });

function resolvePackage(f: SpdxFileInput, packages: readonly SpdxPackageInput[], byKey: Map<string, SpdxPackageInput>): SpdxPackageInput {
  const exact = byKey.get(f.package!);
  if (exact) return exact;
  const byName = packages.filter((p) => p.name === f.package);
  if (byName.length === 1) return byName[0]!;
  throw new Error(
    byName.length
      ? `SPDX: ${f.path} names package ${f.package}, installed for several architectures; write name:arch`
      : `SPDX: ${f.path} names package ${f.package}, which is not in the package list`,
  );
}

/**
 * A package that contains files must say its files were analysed (SPDX 2.3, 7.8); the
 * verification code is the SHA1 of its files' sorted SHA1s (7.9).
 */
function analysed(files: readonly SpdxFileInput[]): Pick<SpdxPackage, 'filesAnalyzed' | 'packageVerificationCode'> {
  if (files.length === 0) return { filesAnalyzed: false };
  const sha1s = files.map((f) => f.sha1).sort();
  return { filesAnalyzed: true, packageVerificationCode: { packageVerificationCodeValue: createHash('sha1').update(sha1s.join('')).digest('hex') } };
}

/** https://hardspec.invalid/spdx/<name>-<sha256 of the content list>: equal content, equal namespace. */
function documentNamespace(input: SpdxInput, packages: readonly SpdxPackageInput[], files: readonly SpdxFileInput[]): string {
  const content = JSON.stringify({
    seed: input.namespaceSeed ?? '',
    name: input.name,
    packages: packages.map((p) => [p.name, p.version, p.arch ?? '', [...p.files].sort(compare)]),
    files: files.map((f) => [f.path, f.sha256, f.size, f.package ?? '', f.reason]),
  });
  return `https://hardspec.invalid/spdx/${sanitizeId(input.name)}-${sha256(content)}`;
}

/** SPDX wants whole seconds in UTC: 2024-05-01T12:00:00Z. Docker's nanosecond times are cut, not rounded. */
function spdxTimestamp(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(iso);
  const date = m ? new Date(`${m[1]}${m[2]}`) : undefined;
  if (!date || Number.isNaN(date.getTime())) throw new Error(`SPDX: created ${JSON.stringify(iso)} is not an ISO 8601 time`);
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const sanitizeId = (s: string) => s.replace(/[^A-Za-z0-9.-]/g, '-');

/** SPDXRef-<sanitised>; a name that collides after sanitising gets a short hash of the original. */
class IdAllocator {
  private readonly used: Set<string>;
  constructor(reserved: readonly string[]) {
    this.used = new Set(reserved);
  }

  allocate(name: string): string {
    let id = `SPDXRef-${sanitizeId(name)}`;
    if (this.used.has(id)) id = `${id}-${sha256(name).slice(0, 8)}`;
    const base = id;
    for (let n = 2; this.used.has(id); n++) id = `${base}-${n}`;
    this.used.add(id);
    return id;
  }
}
