/**
 * An image's root filesystem as read from `docker export` (a tar stream), held in memory: the
 * entries by absolute path, and the bytes of regular files. The stripper, the ELF closure and the
 * checks of stripped images all work on this view; nothing here touches Docker.
 */

export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface FsEntry {
  /** Absolute, normalised: '/usr/bin/env', '/' for the root. No trailing slash. */
  readonly path: string;
  readonly type: EntryType;
  /** Permission bits with setuid/setgid/sticky (0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Bytes of a regular file; 0 otherwise. */
  readonly size: number;
  /** Seconds since the epoch. */
  readonly mtime: number;
  /** Symlink target as stored (relative or absolute), or for a hardlink the absolute path of the file it links to. */
  readonly linkname?: string;
  /** Device numbers of char and block devices. */
  readonly devmajor?: number;
  readonly devminor?: number;
}

export interface ImageFs {
  /** The entry at exactly this path (no symlink resolution), or undefined. */
  entry(path: string): FsEntry | undefined;
  /** Bytes of the regular file at exactly this path (a hardlink reads its target); undefined otherwise. */
  content(path: string): Buffer | undefined;
  /** Every entry, sorted by path. */
  entries(): readonly FsEntry[];
}

/** A plain in-memory ImageFs (the tar reader fills one; tests build small ones by hand). */
export class MemoryFs implements ImageFs {
  private readonly byPath = new Map<string, FsEntry>();
  private readonly bytes = new Map<string, Buffer>();
  private sorted: FsEntry[] | undefined;

  add(e: FsEntry, content?: Buffer): void {
    this.byPath.set(e.path, e);
    if (content) this.bytes.set(e.path, content);
    this.sorted = undefined;
  }

  entry(p: string): FsEntry | undefined { return this.byPath.get(p); }

  content(p: string): Buffer | undefined {
    const e = this.byPath.get(p);
    if (!e) return undefined;
    if (e.type === 'hardlink' && e.linkname) return this.bytes.get(e.linkname);
    return e.type === 'file' ? this.bytes.get(p) : undefined;
  }

  entries(): readonly FsEntry[] {
    this.sorted ??= [...this.byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return this.sorted;
  }
}

/** Normalises an absolute path: collapses '//' and '.', resolves '..' lexically, no trailing '/'. */
export function normalizePath(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}
