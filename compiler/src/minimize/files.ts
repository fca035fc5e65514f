/**
 * The file-list search (`minimize --what files`), pure parts: the items searched, a candidate as a
 * strip list, and a result as the spec's strip.packages and strip.files.
 *
 * Items are the roots of the service's strip list: every file of every listed package (without
 * documentation, as the stripper reads them), every listed file, and every entry directly under a
 * listed folder. The ELF closure (libraries, the loader, symlink targets, parent folders) is not
 * an item: each candidate gets it again from what it keeps, so no candidate lacks a library its
 * binaries need. Items are ordered by package and then by path, so the search's group tests split
 * along packages and folders first and reach single files only where they must.
 */
import type { ServiceModel } from '../model/types.ts';
import { readDpkgDatabase } from '../strip/dpkg.ts';
import { normalizePath, type ImageFs } from '../strip/fs.ts';
import type { StripInput } from '../strip/plan.ts';

const DOCS = /^\/usr\/share\/(doc|doc-base|man|info|lintian|bug|linda)(\/|$)/;

export interface FileItems {
  /** Absolute paths, in search order (by package, then path). */
  readonly items: readonly string[];
  /** Item → the listed package it came from (absent for listed files and folder entries). */
  readonly packageOf: ReadonlyMap<string, string>;
  /** Listed folder → its entries that are items. */
  readonly folderOf: ReadonlyMap<string, string>;
}

export function fileSearchItems(fs: ImageFs, s: ServiceModel): FileItems {
  const db = readDpkgDatabase(fs);
  const packageOf = new Map<string, string>();
  const folderOf = new Map<string, string>();
  const byPackage: string[][] = [];
  for (const name of s.strip.packages) {
    const pkg = db?.packages.get(name);
    if (!pkg) continue;
    const own: string[] = [];
    for (const f of pkg.files) {
      const e = fs.entry(f);
      if (!e || e.type === 'dir' || DOCS.test(f) || packageOf.has(f)) continue;
      packageOf.set(f, name);
      own.push(f);
    }
    byPackage.push(own.sort());
  }
  const listed: string[] = [];
  for (const raw of s.strip.files) {
    const f = normalizePath(raw);
    const e = fs.entry(f);
    if (e?.type === 'dir') {
      const prefix = f === '/' ? '/' : `${f}/`;
      for (const child of fs.entries()) {
        if (!child.path.startsWith(prefix) || child.path.slice(prefix.length).includes('/') || child.path === f) continue;
        if (!packageOf.has(child.path)) { folderOf.set(child.path, f); listed.push(child.path); }
      }
    } else if (!packageOf.has(f)) {
      listed.push(f);
    }
  }
  const items = [...new Set([...byPackage.flat(), ...listed.sort()])];
  return { items, packageOf, folderOf };
}

/** A candidate as a strip list: its items as files; the policy still exempts only what the spec names. */
export function candidateStripInput(s: ServiceModel, items: Iterable<string>): StripInput {
  return { service: s.name, packages: [], files: [...items].sort(), named: s.strip.files };
}

/**
 * A result as strip lists: a package whose every item is kept stays a package, a listed folder
 * whose every entry is kept stays the folder; everything else is listed file by file.
 */
export function resultToStripLists(s: ServiceModel, all: FileItems, kept: readonly string[]): { packages: string[]; files: string[] } {
  const keep = new Set(kept);
  const packages = s.strip.packages.filter((p) => {
    const mine = all.items.filter((i) => all.packageOf.get(i) === p);
    return mine.length > 0 && mine.every((i) => keep.has(i));
  });
  const folders = [...new Set(all.folderOf.values())].filter((f) => {
    const mine = [...all.folderOf].filter(([, d]) => d === f).map(([i]) => i);
    return mine.length > 0 && mine.every((i) => keep.has(i));
  });
  const covered = (i: string) => (all.packageOf.has(i) && packages.includes(all.packageOf.get(i)!)) || (all.folderOf.has(i) && folders.includes(all.folderOf.get(i)!));
  const files = [...new Set([...folders, ...kept.filter((i) => !covered(i))])].sort();
  return { packages: [...packages].sort(), files };
}
