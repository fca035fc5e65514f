/**
 * What a stripped image keeps, and why; pure, over an image's exported filesystem.
 *
 *   1. roots     the files of the spec's packages (as `dpkg -L` lists them, without their
 *                documentation) and the spec's files (a folder means everything below it);
 *   2. closure   symlinks followed inside the image, every ELF binary's interpreter and needed
 *                libraries (read from its dynamic section and the loader's paths), recursively,
 *                and every parent folder;
 *   3. policy    no shell, package manager, chmod, chown, chgrp or sed, and no setuid or setgid
 *                bit, unless strip.files names the file itself: such files are dropped (and
 *                symlinks to them), set-id bits cleared, each with its reason;
 *   4. report    every file of the full image not kept, grouped by why.
 *
 * Problems (a package not installed, a listed file not in the image, a needed library not
 * found) are errors: the stripper builds nothing then.
 */
import { elfClosure, isSetuidOrSetgid, resolvePath } from './closure.ts';
import { readDpkgDatabase, type DebPackage, type DpkgDatabase } from './dpkg.ts';
import { normalizePath, type FsEntry, type ImageFs } from './fs.ts';

export interface StripInput {
  readonly service: string;
  readonly packages: readonly string[];
  readonly files: readonly string[];
  /**
   * Paths the policy lets through (a shell, a set-id file): those strip.files names. Defaults to
   * `files`; the file-list search passes the spec's own list here, since its candidates list
   * every file they keep.
   */
  readonly named?: readonly string[];
  /**
   * Where the service mounts tmpfs and volumes: kept as the full image has them (the folder, its
   * mode and owner, and its parents), though empty. Without its /tmp a stripped MariaDB started
   * once, but after a stop and start (a `docker restart`, a host reboot) the engine gave it a /tmp
   * it could not write to, and InnoDB would not start.
   */
  readonly mountPoints?: readonly string[];
}

export interface KeptFile {
  readonly entry: FsEntry;
  /** The mode written into the stripped image (set-id bits cleared where the policy says so). */
  readonly mode: number;
  readonly reason: string;
  /** Packages that list this path (a shared folder may have several). */
  readonly packages: readonly string[];
}

export interface RemovedGroup {
  readonly reason: string;
  readonly files: number;
  readonly bytes: number;
  readonly paths: readonly string[];
}

export interface StripProblem {
  readonly kind: 'package-missing' | 'file-missing' | 'library-missing' | 'no-package-database' | 'closure';
  readonly message: string;
  readonly hint: string;
}

export interface StripPlan {
  readonly service: string;
  readonly kept: readonly KeptFile[];
  readonly removed: readonly RemovedGroup[];
  /** Set-id bits cleared, and forbidden files dropped, with why (also in `removed`). */
  readonly policy: readonly { readonly path: string; readonly action: 'dropped' | 'setid-cleared'; readonly why: string }[];
  readonly problems: readonly StripProblem[];
  /** Installed packages the stripped image keeps at least one file of, with the files kept. */
  readonly packages: readonly (DebPackage & { readonly kept: readonly string[]; readonly listed: boolean })[];
  readonly fullFiles: number;
  readonly fullBytes: number;
  readonly keptBytes: number;
}

/** Package paths that are documentation: not kept from a package unless listed by name. */
const DOCS = /^\/usr\/share\/(doc|doc-base|man|info|lintian|bug|linda)(\/|$)/;

/** Executables a stripped image must not hold unless its spec names them. */
export const FORBIDDEN: readonly { readonly pattern: RegExp; readonly what: string }[] = [
  { pattern: /^(sh|bash|rbash|dash|ash|zsh|ksh|ksh93|mksh|lksh|pdksh|csh|tcsh|fish|yash|posh|busybox|toybox)$/, what: 'a shell' },
  { pattern: /^(dpkg|dpkg-[a-z-]+|apt|apt-get|apt-cache|apt-config|apt-key|apt-mark|aptitude|rpm|yum|dnf|microdnf|apk|pip|pip3|gem|npm)$/, what: 'a package manager' },
  { pattern: /^(chmod|chown|chgrp|sed|setfacl|chattr|install)$/, what: 'a tool that changes files or their permissions' },
];

const basename = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** Why a file is forbidden in a stripped image (an executable of the list above), or undefined. */
export function forbiddenWhat(fs: ImageFs, e: FsEntry): string | undefined {
  let target = e;
  if (e.type === 'symlink') {
    const r = resolvePath(fs, e.path, { followLast: true });
    const t = 'error' in r ? undefined : fs.entry(r.path);
    if (!t) return undefined;
    target = t;
  }
  if ((target.type !== 'file' && target.type !== 'hardlink') || (target.mode & 0o111) === 0) return undefined;
  for (const f of FORBIDDEN) if (f.pattern.test(basename(e.path)) || f.pattern.test(basename(target.path))) return f.what;
  return undefined;
}

/**
 * The files a package contributes to a stripped image, as `dpkg -L` lists them: not its
 * documentation (unless `listed` names the path), and not its directories — they are kept as
 * parents of what is kept, not with all they hold; so is a listed directory that is a symlink in
 * this image (/lib → usr/lib with merged /usr).
 */
export function packageRoots(fs: ImageFs, pkg: DebPackage, listed: ReadonlySet<string> = new Set()): string[] {
  return pkg.files.filter((f) => {
    if (DOCS.test(f) && !listed.has(f)) return false;
    const e = fs.entry(f);
    return e !== undefined && e.type !== 'dir' && !(e.type === 'symlink' && isDirectory(fs, f));
  });
}

function isDirectory(fs: ImageFs, p: string): boolean {
  const r = resolvePath(fs, p, { followLast: true });
  return !('error' in r) && fs.entry(r.path)?.type === 'dir';
}


function parents(p: string): string[] {
  const out: string[] = [];
  for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) out.push(p.slice(0, i));
  out.push('/');
  return out;
}

/** Pure: where a service mounts tmpfs and volumes (StripInput.mountPoints). */
export function mountPointsOf(s: { readonly tmpfs?: readonly { readonly path: string }[]; readonly volumes?: readonly { readonly target: string }[] }): string[] {
  return [...(s.tmpfs ?? []).map((t) => t.path), ...(s.volumes ?? []).map((v) => v.target)].sort();
}

export function planStrip(fs: ImageFs, input: StripInput): StripPlan {
  const problems: StripProblem[] = [];
  const db: DpkgDatabase | undefined = readDpkgDatabase(fs);
  const reason = new Map<string, string>();
  const roots: string[] = [];
  const root = (p: string, why: string) => { if (!reason.has(p)) { reason.set(p, why); roots.push(p); } };

  // 1. roots: listed files first (their reason wins), then the packages' files.
  const listed = new Set<string>();
  for (const raw of input.files) {
    const f = normalizePath(raw);
    listed.add(f);
    if (!fs.entry(f)) {
      problems.push({ kind: 'file-missing', message: `${input.service}: strip.files lists ${f}, which is not in the image`, hint: 'remove it from strip.files, or add it to the image (Dockerfile)' });
      continue;
    }
    root(f, 'listed in strip.files');
  }
  if (input.packages.length && !db) {
    problems.push({ kind: 'no-package-database', message: `${input.service}: strip.packages is set but the image has no Debian package database (/var/lib/dpkg/status)`, hint: 'list the files in strip.files instead' });
  }
  for (const name of input.packages) {
    const pkg = db?.packages.get(name);
    if (!pkg) {
      if (db) problems.push({ kind: 'package-missing', message: `${input.service}: strip.packages names ${name}, which is not installed in the image`, hint: 'install it in the Dockerfile, or remove it from strip.packages' });
      continue;
    }
    for (const f of packageRoots(fs, pkg, listed)) root(f, `file of package ${name}`);
  }

  // 2. closure
  const closure = elfClosure(fs, roots);
  for (const m of closure.missing) {
    problems.push({ kind: 'library-missing', message: `${input.service}: ${m.neededBy} needs ${m.library}, which is not in the image's library paths`, hint: 'install the package that holds it, or list its path in strip.files' });
  }
  for (const p of closure.problems) problems.push({ kind: 'closure', message: `${input.service}: ${p}`, hint: 'fix the symlink or the listed path' });
  const keep = new Map<string, string>();
  for (const [p, why] of closure.keep) keep.set(p, reason.get(p) ?? why);

  // 3. policy
  const policy: { path: string; action: 'dropped' | 'setid-cleared'; why: string }[] = [];
  const dropped = new Map<string, string>();
  const namedSet = input.named ? new Set(input.named.map(normalizePath)) : listed;
  const named = (p: string) => namedSet.has(p);
  for (const p of [...keep.keys()].sort()) {
    const e = fs.entry(p);
    if (!e || named(p)) continue;
    const what = forbiddenWhat(fs, e);
    if (what) dropped.set(p, `${what}, not named in strip.files`);
  }
  // Symlinks that lead to a dropped file go too.
  for (const p of [...keep.keys()].sort()) {
    const e = fs.entry(p);
    if (e?.type !== 'symlink' || dropped.has(p) || named(p)) continue;
    const r = resolvePath(fs, p, { followLast: true });
    if (!('error' in r) && dropped.has(r.path)) dropped.set(p, `a symlink to ${r.path} (${dropped.get(r.path)})`);
  }
  for (const [p, why] of [...dropped].sort(([a], [b]) => (a < b ? -1 : 1))) {
    keep.delete(p);
    policy.push({ path: p, action: 'dropped', why });
  }
  for (const m of input.mountPoints ?? []) {
    const p = normalizePath(m);
    if (fs.entry(p)?.type === 'dir' && !keep.has(p)) keep.set(p, 'mount point of a tmpfs or volume');
  }
  // Parent folders of what is kept (the closure adds them; dropping may leave some unneeded, harmless).
  for (const p of [...keep.keys()]) for (const d of parents(p)) if (!keep.has(d) && fs.entry(d)) keep.set(d, 'parent folder');

  const owners = db?.owners;
  const kept: KeptFile[] = [];
  for (const p of [...keep.keys()].sort()) {
    const e = fs.entry(p)!;
    if (!e) continue;
    let mode = e.mode;
    if (isSetuidOrSetgid(e) && !named(p)) {
      mode &= ~0o6000;
      policy.push({ path: p, action: 'setid-cleared', why: `${(e.mode & 0o4000) ? 'setuid' : 'setgid'} bit cleared: not named in strip.files` });
    }
    kept.push({ entry: e, mode, reason: keep.get(p)!, packages: owners?.get(p) ?? [] });
  }

  // 4. what is not kept, grouped by why
  const groups = new Map<string, { files: number; bytes: number; paths: string[] }>();
  const listedPkgs = new Set(input.packages);
  let fullBytes = 0;
  let keptBytes = 0;
  let fullFiles = 0;
  for (const e of fs.entries()) {
    if (e.path === '/') continue;
    fullFiles++;
    fullBytes += e.size;
    if (keep.has(e.path)) { keptBytes += e.size; continue; }
    const own = owners?.get(e.path) ?? [];
    let why: string;
    if (dropped.has(e.path)) why = `policy: ${dropped.get(e.path)}`;
    else if (own.some((o) => listedPkgs.has(o)) && DOCS.test(e.path)) why = `documentation of ${own.filter((o) => listedPkgs.has(o)).join(', ')}`;
    else if (own.length) why = `package ${own.join(', ')}: not listed in strip.packages`;
    else why = 'no package: not listed in strip.files and not needed by a kept binary';
    const g = groups.get(why) ?? { files: 0, bytes: 0, paths: [] };
    g.files++;
    g.bytes += e.size;
    g.paths.push(e.path);
    groups.set(why, g);
  }
  const removed = [...groups].map(([r, g]) => ({ reason: r, ...g })).sort((a, b) => b.bytes - a.bytes || (a.reason < b.reason ? -1 : 1));

  const packages = db ? [...db.packages.values()]
    .map((pkg) => ({ ...pkg, kept: pkg.files.filter((f) => keep.has(f) && fs.entry(f)?.type !== 'dir'), listed: listedPkgs.has(pkg.name) }))
    .filter((pkg) => pkg.kept.length > 0 || pkg.listed)
    .sort((a, b) => (a.name < b.name ? -1 : 1)) : [];

  policy.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { service: input.service, kept, removed, policy, problems, packages, fullFiles, fullBytes, keptBytes };
}
