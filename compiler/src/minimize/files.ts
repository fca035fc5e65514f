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
import { resolvePath } from '../strip/closure.ts';
import { readDpkgDatabase } from '../strip/dpkg.ts';
import { normalizePath, type FsEntry, type ImageFs } from '../strip/fs.ts';
import { mountPointsOf, packageRoots, type StripInput } from '../strip/plan.ts';
import { STR_MAX, type RecordedItem } from './record/trace.ts';

export interface FileItems {
  /** Absolute paths, in search order (by package, then path). */
  readonly items: readonly string[];
  /** Item → the listed package it came from (absent for listed files and folder entries). */
  readonly packageOf: ReadonlyMap<string, string>;
  /** Listed folder → its entries that are items. */
  readonly folderOf: ReadonlyMap<string, string>;
  /**
   * Listed paths at or under a volume's mount point: the service's state (a database's data
   * folder), kept whole in every candidate and never searched. An interaction that never reads a
   * system table would otherwise "prove" its files unneeded.
   */
  readonly fixed: readonly string[];
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
    for (const f of packageRoots(fs, pkg)) {
      if (packageOf.has(f)) continue;
      packageOf.set(f, name);
      own.push(f);
    }
    byPackage.push(own.sort());
  }
  const listed: string[] = [];
  const fixed: string[] = [];
  const volumeTargets = (s.volumes ?? []).map((v) => normalizePath(v.target));
  const isState = (p: string) => volumeTargets.some((t) => p === t || p.startsWith(`${t}/`));
  for (const raw of s.strip.files) {
    const f = normalizePath(raw);
    if (isState(f)) { fixed.push(f); continue; }
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
  return { items, packageOf, folderOf, fixed: fixed.sort() };
}

/** A candidate as a strip list: its items as files; the policy still exempts only what the spec names. */
export function candidateStripInput(s: ServiceModel, items: Iterable<string>, fixed: readonly string[] = []): StripInput {
  return { service: s.name, packages: [], files: [...new Set([...items, ...fixed])].sort(), named: s.strip.files, mountPoints: mountPointsOf(s) };
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
  const files = [...new Set([...folders, ...all.fixed, ...kept.filter((i) => !covered(i))])].sort();
  return { packages: [...packages].sort(), files };
}

/**
 * The search tree over a strip list, for group tests that go from coarse to fine: first whole
 * packages, listed folders and listed files; then, for what is kept, its sub-folders; down to
 * single files only where a folder is kept. A node is `pkg:<name>|<prefix>` or
 * `dir:<folder>|<prefix>` (the files of that origin under <prefix>) or, for one file, its path.
 */
export interface FileTree {
  /** The coarsest nodes: one per listed package and folder, and every listed file. */
  readonly top: readonly string[];
  /** The files a node stands for. */
  expand(node: string): readonly string[];
  /** The next finer nodes for a kept set (same files), or undefined when every node is a file. */
  refine(kept: readonly string[]): string[] | undefined;
}

export function fileSearchTree(all: FileItems): FileTree {
  const byOrigin = new Map<string, string[]>();
  const leaves: string[] = [];
  for (const f of all.items) {
    const origin = all.packageOf.has(f) ? `pkg:${all.packageOf.get(f)}` : all.folderOf.has(f) ? `dir:${all.folderOf.get(f)}` : undefined;
    if (!origin) { leaves.push(f); continue; }
    const list = byOrigin.get(origin) ?? [];
    list.push(f);
    byOrigin.set(origin, list);
  }
  const isLeaf = (n: string) => n.startsWith('/');
  const parse = (n: string) => { const bar = n.indexOf('|'); return { origin: n.slice(0, bar), prefix: n.slice(bar + 1) }; };
  const under = (f: string, prefix: string) => prefix === '' || f === prefix || f.startsWith(`${prefix}/`);
  const expand = (n: string): readonly string[] => {
    if (isLeaf(n)) return [n];
    const { origin, prefix } = parse(n);
    return (byOrigin.get(origin) ?? []).filter((f) => under(f, prefix));
  };
  const split = (n: string): string[] => {
    const files = [...expand(n)];
    if (files.length <= 1) return files;
    const { origin } = parse(n);
    // The longest folder all files share, then one node per next path component.
    let common = files[0]!.slice(0, files[0]!.lastIndexOf('/'));
    for (const f of files) while (common && !f.startsWith(`${common}/`)) common = common.slice(0, common.lastIndexOf('/'));
    const groups = new Map<string, string[]>();
    for (const f of files) {
      const next = f.slice(common.length + 1).split('/')[0]!;
      const key = `${common}/${next}`;
      groups.set(key, [...(groups.get(key) ?? []), f]);
    }
    return [...groups].map(([key, g]) => (g.length === 1 ? g[0]! : `${origin}|${key}`));
  };
  const top = [...[...byOrigin.keys()].map((o) => `${o}|`), ...leaves];
  return {
    top,
    expand,
    refine: (kept) => (kept.every(isLeaf) ? undefined : kept.flatMap((n) => (isLeaf(n) ? [n] : split(n)))),
  };
}

/**
 * Pure: the items with every folder item (an entry under a listed folder that is itself a
 * folder) replaced by what it holds, down to files, symlinks and empty folders: the units a
 * recording can name. Origins are kept, so a result still folds back into packages and folders.
 */
export function expandFolderItems(fs: ImageFs, all: FileItems): FileItems {
  const folderOf = new Map(all.folderOf);
  const items: string[] = [];
  // ImageFs.entries() is sorted by path: the entries under a folder are one run of it, found by
  // binary search (a scan of every entry per folder item was items × entries).
  const entries = fs.entries();
  const hasChildren = new Set(entries.map((e) => e.path.slice(0, e.path.lastIndexOf('/'))));
  const under = (prefix: string) => {
    let lo = 0;
    let hi = entries.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (entries[mid]!.path < prefix) lo = mid + 1; else hi = mid; }
    const found: FsEntry[] = [];
    for (let i = lo; i < entries.length && entries[i]!.path.startsWith(prefix); i++) found.push(entries[i]!);
    return found;
  };
  for (const item of all.items) {
    if (fs.entry(item)?.type !== 'dir') { items.push(item); continue; }
    const inside = under(`${item}/`).filter((e) => e.type !== 'dir' || !hasChildren.has(e.path));
    if (inside.length === 0) { items.push(item); continue; }
    const origin = all.folderOf.get(item);
    folderOf.delete(item);
    for (const e of inside) {
      items.push(e.path);
      if (origin !== undefined) folderOf.set(e.path, origin);
    }
  }
  return { ...all, items: [...new Set(items)], folderOf };
}

/**
 * Pure: the recorded paths as search items. A path names the item it is (symlink or not) and the
 * item it resolves to in the image; a path cut by bpftrace's string limit names every item it is a
 * prefix of. Folders named only to be listed or inspected name no item: the stripper keeps every
 * folder on the way to a kept file anyway. Recorded paths that name no item (outside the strip
 * list, relative, missing from the image) are returned in `other`, for the report.
 */
export function recordedFileItems(fs: ImageFs, all: FileItems, recorded: readonly RecordedItem[]): { items: RecordedItem[]; other: string[] } {
  const itemSet = new Set(all.items);
  const byItem = new Map<string, { count: number; makers: Set<RecordedItem['makers'][number]> }>();
  const other = new Set<string>();
  for (const r of recorded) {
    const named = new Set<string>();
    // fstat-like calls name no file (an empty path with AT_EMPTY_PATH).
    if (r.name === '') continue;
    if (!r.name.startsWith('/')) { other.add(r.name); continue; }
    const p = normalizePath(r.name);
    if (r.name.length >= STR_MAX) {
      for (const i of all.items) if (i.startsWith(p)) named.add(i);
    } else {
      if (itemSet.has(p)) named.add(p);
      const real = resolvePath(fs, r.name);
      if ('path' in real) {
        if (itemSet.has(real.path)) named.add(real.path);
        for (const link of real.chain) if (itemSet.has(link)) named.add(link);
      }
    }
    if (named.size === 0) { other.add(r.name); continue; }
    for (const i of named) {
      const cur = byItem.get(i) ?? { count: 0, makers: new Set() };
      cur.count += r.count;
      r.makers.forEach((m) => cur.makers.add(m));
      byItem.set(i, cur);
    }
  }
  const items = [...byItem].map(([name, v]) => ({ name, count: v.count, failed: 0, makers: [...v.makers].sort() })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { items, other: [...other].sort() };
}
