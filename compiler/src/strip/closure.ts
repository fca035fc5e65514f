/**
 * The ELF closure of a stripped image: from the paths a spec keeps, every file the dynamic loader
 * will open to run them (interpreter, DT_NEEDED libraries, recursively), every symlink on the way,
 * hardlink targets and parent directories. Pure: it reads an ImageFs and nothing of the host.
 *
 * Libraries are found the way glibc's ld.so finds them on Debian, from the ELF files themselves
 * (not `ldd`, which would run the image's loader on the host), loading breadth-first:
 *   0. a name that an object loaded earlier in the same load was asked for, or has as SONAME
 *      (the interpreter included), is that object: no search;
 *   1. a DT_NEEDED name with a '/' is a path;
 *   2. DT_RPATH of the object, then of the executable, unless the object has DT_RUNPATH;
 *   3. DT_RUNPATH of the object;
 *   4. the directories of /etc/ld.so.conf (ld.so reads them through ld.so.cache);
 *   5. the trusted directories of the architecture.
 * Each directory is also searched in its glibc-hwcaps/<level>/ subdirectories, which the loader
 * prefers on CPUs that support them: all levels present are kept, as the target CPU is unknown.
 * A candidate of another ELF class, byte order or machine is skipped, as ld.so skips it.
 * LD_LIBRARY_PATH, LD_PRELOAD, /etc/ld.so.preload and dlopen() are not seen here: list those files.
 */
import { hasElfMagic, parseElf, type ElfInfo } from './elf.ts';
import { normalizePath, type FsEntry, type ImageFs } from './fs.ts';

/** Linux's limit on symlinks followed in one lookup (ELOOP beyond it). */
export const MAX_SYMLINKS = 40;

export type Resolved = { path: string; chain: string[] } | { error: string };

export type ElfTarget = Pick<ElfInfo, 'machine' | 'class' | 'endian'>;

export interface LibraryHit {
  /** The path ld.so opens ('/lib/x86_64-linux-gnu/libc.so.6'); $ORIGIN of the library is its directory. */
  candidate: string;
  /** The real file, after symlinks. */
  path: string;
  /** Symlinks passed through on the way from candidate to path. */
  chain: string[];
  /** The same library in glibc-hwcaps subdirectories searched before it, which some CPUs load instead. */
  variants: Omit<LibraryHit, 'variants'>[];
}

export interface FindLibraryOptions {
  /** The executable that started the load, with the directory of its real path: its DT_RPATH is searched too. */
  executable?: { elf: ElfInfo; originDir: string };
  /** Receives one line for each candidate skipped as incompatible (wrong class, machine, not a library). */
  skipped?: string[];
}

export interface MissingLibrary { library: string; neededBy: string }

export interface Closure {
  /** Every path to keep, sorted, with why it is kept. */
  keep: Map<string, string>;
  /** Libraries (and interpreters) that could not be found, sorted by neededBy then library. */
  missing: MissingLibrary[];
  /** Things to look at: unreadable roots, dangling symlinks, damaged ELF files; sorted. */
  problems: string[];
}

/** True for a regular file with the setuid or setgid bit (setgid on a directory only sets the group of new files). */
export function isSetuidOrSetgid(e: FsEntry): boolean {
  return (e.type === 'file' || e.type === 'hardlink') && (e.mode & 0o6000) !== 0;
}

/**
 * Resolves symlinks in every component of an absolute path, inside the image: an absolute target
 * starts again at the image's root, '..' stops at the root. Returns the real path and each symlink
 * passed through (in order, once each), or an error for a missing path, a loop, or a file used as a
 * directory. With followLast false a final symlink is returned itself. A tar may omit directory
 * entries: a missing directory on the way is taken to exist, and so is a missing final path that
 * has entries under it.
 */
export function resolvePath(fs: ImageFs, path: string, { followLast = true }: { followLast?: boolean } = {}): Resolved {
  const chain: string[] = [];
  const pending = components(path).reverse();
  let resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.pop()!;
    if (part === '.') continue;
    if (part === '..') { resolved.pop(); continue; }
    const candidate = `/${[...resolved, part].join('/')}`;
    const last = pending.length === 0;
    const e = fs.entry(candidate);
    if (!e) {
      if (last && children(fs, candidate).length === 0) return { error: `${candidate} does not exist` };
      resolved.push(part);
      continue;
    }
    if (e.type === 'symlink' && (followLast || !last)) {
      if (++links > MAX_SYMLINKS) return { error: `more than ${MAX_SYMLINKS} symlinks resolving ${path} (a loop at ${candidate}?)` };
      if (!e.linkname) return { error: `${candidate} is a symlink with an empty target` };
      if (!chain.includes(candidate)) chain.push(candidate);
      if (e.linkname.startsWith('/')) resolved = [];
      pending.push(...components(e.linkname).reverse());
      continue;
    }
    if (!last && e.type !== 'dir') return { error: `${candidate} is not a directory (resolving ${path})` };
    resolved.push(part);
  }
  return { path: `/${resolved.join('/')}`, chain };
}

function components(p: string): string[] {
  return p.split('/').filter((c) => c !== '');
}

/** Collapses repeated and trailing slashes without touching '..' (which must be resolved physically). */
function tidy(p: string): string {
  const s = p.replace(/\/+/g, '/');
  return s.length > 1 && s.endsWith('/') ? s.slice(0, -1) : s;
}

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

// ---------------------------------------------------------------------------------------------
// Architecture: Debian's multiarch triplets, $LIB and $PLATFORM.

interface Arch { multiarch?: string; platform?: string; is64: boolean }

function archOf(target: number | ElfTarget): Arch {
  const t = typeof target === 'number' ? { machine: target, class: undefined, endian: 'little' as const } : target;
  const little = t.endian === 'little';
  switch (t.machine) {
    case 62: return t.class === 32 ? { multiarch: 'x86_64-linux-gnux32', platform: 'x86_64', is64: false } : { multiarch: 'x86_64-linux-gnu', platform: 'x86_64', is64: true };
    case 183: return { multiarch: 'aarch64-linux-gnu', platform: 'aarch64', is64: true };
    case 3: return { multiarch: 'i386-linux-gnu', platform: 'i686', is64: false };
    case 40: return { multiarch: 'arm-linux-gnueabihf', platform: 'v7l', is64: false };
    case 21: return { multiarch: little ? 'powerpc64le-linux-gnu' : 'powerpc64-linux-gnu', platform: little ? 'power8' : 'ppc64', is64: true };
    case 22: return { multiarch: 's390x-linux-gnu', platform: 'z13', is64: t.class !== 32 };
    case 243: return { multiarch: 'riscv64-linux-gnu', is64: t.class !== 32 };
    case 258: return { multiarch: 'loongarch64-linux-gnu', is64: true };
    default: return { is64: t.class === 64 };
  }
}

/** $LIB as Debian's glibc expands it: the multiarch library directory. */
function libToken(arch: Arch): string {
  return arch.multiarch ? `lib/${arch.multiarch}` : arch.is64 ? 'lib64' : 'lib';
}

/** Expands $ORIGIN, $LIB and $PLATFORM (bare or in braces, as whole tokens); others stay as written. */
function expandTokens(s: string, originDir: string, arch: Arch): string {
  return s.replace(/\$(?:\{(ORIGIN|LIB|PLATFORM)\}|(ORIGIN|LIB|PLATFORM)(?![A-Za-z0-9_]))/g, (whole, braced, bare) => {
    const name = (braced ?? bare) as string;
    if (name === 'ORIGIN') return originDir;
    if (name === 'LIB') return libToken(arch);
    return arch.platform ?? whole;
  });
}

// ---------------------------------------------------------------------------------------------
// Directory listing and ld.so.conf.

const childIndex = new WeakMap<readonly FsEntry[], Map<string, string[]>>();

/**
 * The paths directly inside a directory (exact path, no symlinks), sorted. A directory that a
 * tar left out but that holds entries is listed too.
 */
function children(fs: ImageFs, dir: string): string[] {
  const all = fs.entries();
  let index = childIndex.get(all);
  if (!index) {
    const sets = new Map<string, Set<string>>();
    for (const e of all) {
      for (let p = e.path; p !== '/'; p = dirname(p)) {
        const parent = dirname(p);
        let set = sets.get(parent);
        if (!set) sets.set(parent, (set = new Set()));
        if (set.has(p)) break; // its ancestors are registered already
        set.add(p);
      }
    }
    index = new Map([...sets].map(([d, set]) => [d, [...set].sort()]));
    childIndex.set(all, index);
  }
  return index.get(dir) ?? [];
}

const basename = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** Files matching a pattern with '*' and '?' in its last component, sorted as glob(3) sorts them. */
function glob(fs: ImageFs, pattern: string): string[] {
  const dir = dirname(pattern);
  const namePattern = pattern.slice(pattern.lastIndexOf('/') + 1);
  if (!/[*?]/.test(namePattern)) return 'error' in resolvePath(fs, pattern) ? [] : [pattern];
  const real = resolvePath(fs, dir);
  if ('error' in real) return [];
  const re = new RegExp(`^${namePattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`);
  return children(fs, real.path)
    .map(basename)
    .filter((name) => re.test(name) && (!name.startsWith('.') || namePattern.startsWith('.')))
    .sort()
    .map((name) => `${dir === '/' ? '' : dir}/${name}`);
}

/** The directories listed in one ld.so.conf file and the files it includes, in order. */
function readConf(fs: ImageFs, file: string, out: string[], seen: Set<string>, depth: number): void {
  const real = resolvePath(fs, file);
  if ('error' in real || seen.has(real.path) || depth > 16) return;
  seen.add(real.path);
  const text = fs.content(real.path)?.toString('utf8') ?? '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const words = line.split(/\s+/);
    if (words[0] === 'include' && words.length > 1) {
      for (const pattern of words.slice(1)) {
        const abs = pattern.startsWith('/') ? pattern : `${dirname(file)}/${pattern}`;
        for (const inc of glob(fs, tidy(abs))) readConf(fs, inc, out, seen, depth + 1);
      }
    } else if (words[0]?.toLowerCase() !== 'hwcap') {
      // ldconfig accepts a historical "dir=TYPE" suffix; relative names are taken from '/'.
      out.push(tidy(`/${line.replace(/=[^/]*$/, '')}`));
    }
  }
}

/**
 * The loader's search directories for an architecture, in order: those of /etc/ld.so.conf (with
 * its `include` globs), then the trusted defaults (/lib/<multiarch>, /usr/lib/<multiarch>, and
 * for 64-bit /lib64, /usr/lib64, then /lib, /usr/lib). Each directory once, as first listed.
 */
export function libraryDirs(fs: ImageFs, machine: number | ElfTarget): string[] {
  const arch = archOf(machine);
  const dirs: string[] = [];
  readConf(fs, '/etc/ld.so.conf', dirs, new Set(), 0);
  if (arch.multiarch) dirs.push(`/lib/${arch.multiarch}`, `/usr/lib/${arch.multiarch}`);
  if (arch.is64) dirs.push('/lib64', '/usr/lib64');
  dirs.push('/lib', '/usr/lib');
  return [...new Set(dirs)];
}

// ---------------------------------------------------------------------------------------------
// Finding one library.

/**
 * Finds the library `name` that the object `elf` (whose $ORIGIN is originDir) needs, in glibc's
 * order (see the top of this file); `dirs` are libraryDirs(). Only a shared object of the same
 * class, byte order and machine is accepted. Undefined when none is found.
 */
export function findLibrary(fs: ImageFs, name: string, elf: ElfInfo, originDir: string, dirs: readonly string[], opts: FindLibraryOptions = {}): LibraryHit | undefined {
  const arch = archOf(elf);
  const expanded = name.includes('$') ? expandTokens(name, originDir, arch) : name;
  if (expanded.includes('/')) {
    const candidate = expanded.startsWith('/') ? expanded : `/${expanded}`;
    const hit = tryCandidate(fs, candidate, elf, opts.skipped);
    return hit && { ...hit, variants: [] };
  }
  const variants: LibraryHit['variants'] = [];
  for (const dir of searchPath(elf, originDir, dirs, opts.executable)) {
    for (const hwcapsDir of hwcapsDirs(fs, dir)) {
      const v = tryCandidate(fs, `${hwcapsDir}/${expanded}`, elf, opts.skipped);
      if (v && !variants.some((x) => x.path === v.path)) variants.push(v);
    }
    const hit = tryCandidate(fs, `${dir === '/' ? '' : dir}/${expanded}`, elf, opts.skipped);
    if (hit) return { ...hit, variants: variants.filter((v) => v.path !== hit.path) };
  }
  const [first, ...rest] = variants;
  return first && { ...first, variants: rest };
}

/** Steps 2 to 5: the directories to search for the object's DT_NEEDED entries, tokens expanded. */
function searchPath(elf: ElfInfo, originDir: string, dirs: readonly string[], exe: FindLibraryOptions['executable']): string[] {
  const arch = archOf(elf);
  const expand = (list: readonly string[], origin: string) => list.map((d) => {
    const e = expandTokens(d, origin, arch);
    return tidy(e.startsWith('/') ? e : `/${e}`);
  });
  const out: string[] = [];
  if (elf.runpath.length === 0) {
    out.push(...expand(elf.rpath, originDir));
    if (exe && exe.elf !== elf && exe.elf.runpath.length === 0) out.push(...expand(exe.elf.rpath, exe.originDir));
  }
  out.push(...expand(elf.runpath, originDir), ...dirs);
  return [...new Set(out)];
}

/** The glibc-hwcaps/<level> subdirectories of a search directory that exist in the image. */
function hwcapsDirs(fs: ImageFs, dir: string): string[] {
  const base = `${dir === '/' ? '' : dir}/glibc-hwcaps`;
  const real = resolvePath(fs, base);
  if ('error' in real) return [];
  return children(fs, real.path)
    .filter((p) => { const t = fs.entry(p)?.type; return t === undefined || t === 'dir' || t === 'symlink'; })
    .map((p) => `${base}/${basename(p)}`)
    .sort()
    .reverse(); // higher levels first: x86-64-v4, -v3, -v2
}

function tryCandidate(fs: ImageFs, candidate: string, want: ElfInfo, skipped: string[] | undefined): Omit<LibraryHit, 'variants'> | undefined {
  const r = resolvePath(fs, candidate);
  if ('error' in r) return undefined;
  const e = fs.entry(r.path);
  if (!e || (e.type !== 'file' && e.type !== 'hardlink')) return undefined;
  const bytes = fs.content(r.path);
  const got = bytes && parseElf(bytes);
  const why = !got ? 'not an ELF file'
    : got.class !== want.class || got.endian !== want.endian || got.machine !== want.machine ? `${elfKind(got)}, not ${elfKind(want)}`
    : got.type !== 'dyn' ? `an ELF ${got.type} file, not a shared object`
    : undefined;
  if (why) {
    skipped?.push(`${candidate}: ${why}`);
    return undefined;
  }
  return { candidate, path: r.path, chain: r.chain };
}

function elfKind(e: ElfInfo): string {
  return `ELF${e.class} ${e.endian === 'big' ? 'big-endian ' : ''}${e.machineName}`;
}

// ---------------------------------------------------------------------------------------------
// The closure.

/**
 * One load as ld.so performs it: an executable (or a library listed for dlopen()) and the names of
 * everything loaded so far, breadth-first. A DT_NEEDED name that matches one of them (the name it
 * was asked for, its path or its SONAME) is reused without a search, as glibc's _dl_map_object does.
 */
interface LoadContext {
  readonly root: string;
  readonly executable: { elf: ElfInfo; originDir: string };
  readonly loaded: Map<string, string>;
}

interface WorkItem {
  path: string;
  /** $ORIGIN for this object: the directory of the path it was reached by. */
  origin: string;
  /** The load this object is part of; undefined for one that starts its own (not reached by DT_NEEDED). */
  ctx: LoadContext | undefined;
  /** A listed directory: keep everything under it. */
  expand: boolean;
}

/**
 * Everything to keep so that the listed paths work in a FROM-scratch image: listed directories
 * with all they contain, symlink chains and targets, hardlink targets, for every ELF file its
 * interpreter and needed libraries (recursively), and every parent directory. Sorted; reasons are
 * the first found, in a fixed order of work, so the same image and list give the same output.
 */
export function elfClosure(fs: ImageFs, roots: Iterable<string>): Closure {
  const walk = new ClosureWalk(fs);
  for (const root of [...new Set(roots)].sort()) walk.addRoot(root);
  return walk.finish();
}

/** The state of one elfClosure() run: what is kept so far and the work still to do. */
class ClosureWalk {
  private readonly keep = new Map<string, string>();
  private readonly missing = new Map<string, MissingLibrary>();
  private readonly problems = new Set<string>();
  private readonly queue: WorkItem[] = [];
  private readonly queued = new Set<string>();
  private readonly dirsByArch = new Map<string, string[]>();

  constructor(private readonly fs: ImageFs) {}

  addRoot(root: string): void {
    if (!root.startsWith('/')) { this.problems.add(`listed path ${JSON.stringify(root)} is not absolute`); return; }
    const own = normalizePath(root);
    const r = resolvePath(this.fs, root);
    if ('error' in r) {
      this.problems.add(`listed path ${root}: ${r.error}`);
      const self = resolvePath(this.fs, root, { followLast: false }); // keep a dangling listed symlink itself
      if (!('error' in self)) { this.keepChain(self.chain, self.path); this.keepPath(self.path, 'listed'); }
      return;
    }
    this.keepChain(r.chain, r.path, own);
    this.visit({ path: r.path, origin: dirname(r.path), ctx: undefined, expand: true }, r.path === own ? 'listed' : `listed as ${root}`);
  }

  /** Works through the queue (breadth-first, like ld.so's own walk of DT_NEEDED), then adds parent directories. */
  finish(): Closure {
    for (let i = 0; i < this.queue.length; i++) this.step(this.queue[i]!);
    keepParents(this.fs, this.keep);
    const byPath = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    return {
      keep: new Map([...this.keep].sort((a, b) => byPath(a[0], b[0]))),
      missing: [...this.missing.values()].sort((a, b) => byPath(a.neededBy, b.neededBy) || byPath(a.library, b.library)),
      problems: [...this.problems].sort(byPath),
    };
  }

  private keepPath(p: string, why: string): void {
    if (!this.keep.has(p)) this.keep.set(p, why);
  }

  private keepChain(chain: readonly string[], to: string, own?: string): void {
    for (const c of chain) this.keepPath(c, c === own ? 'listed' : `symlink on the way to ${to}`);
  }

  /** Keeps a path and queues it, once for each (path, $ORIGIN, load). */
  private visit(item: WorkItem, why: string): void {
    this.keepPath(item.path, why);
    const key = [item.path, item.origin, item.ctx?.root ?? '', String(item.expand)].join('\0');
    if (!this.queued.has(key)) { this.queued.add(key); this.queue.push(item); }
  }

  private step(item: WorkItem): void {
    const e = this.fs.entry(item.path);
    if (!e) return;
    if (e.type === 'dir' && item.expand) {
      const prefix = item.path === '/' ? '/' : `${item.path}/`;
      for (const d of this.fs.entries()) {
        if (d.path.startsWith(prefix)) this.visit({ path: d.path, origin: dirname(d.path), ctx: undefined, expand: false }, `in listed directory ${item.path}`);
      }
    } else if (e.type === 'symlink') {
      const r = resolvePath(this.fs, item.path);
      if ('error' in r) { this.problems.add(`dangling symlink ${item.path} -> ${e.linkname ?? ''}: ${r.error}`); return; }
      this.keepChain(r.chain.filter((c) => c !== item.path), r.path);
      this.visit({ path: r.path, origin: dirname(r.path), ctx: undefined, expand: false }, `target of symlink ${item.path}`);
    } else if (e.type === 'hardlink' || e.type === 'file') {
      if (e.type === 'hardlink') {
        const target = e.linkname ? normalizePath(e.linkname) : undefined;
        if (target && this.fs.entry(target)) this.visit({ path: target, origin: dirname(target), ctx: undefined, expand: false }, `hardlink target of ${item.path}`);
        else this.problems.add(`hardlink ${item.path} points to ${e.linkname ?? '(nothing)'}, which is not in the image`);
      }
      const bytes = this.fs.content(item.path);
      if (bytes && hasElfMagic(bytes)) this.followElf(item, bytes);
    }
  }

  /** Keeps the interpreter (for an object that starts a load) and every DT_NEEDED library. */
  private followElf(item: WorkItem, bytes: Buffer): void {
    const elf = parseElf(bytes);
    if (!elf) { this.problems.add(`${item.path}: starts like an ELF file but its header cannot be read`); return; }
    for (const p of elf.problems) this.problems.add(`${item.path}: ${p}`);
    const ctx = item.ctx ?? this.startLoad(item, elf);
    for (const name of elf.needed) {
      if (ctx.loaded.has(name)) continue;
      const skipped: string[] = [];
      const hit = findLibrary(this.fs, name, elf, item.origin, this.dirsFor(elf), { executable: ctx.executable, skipped });
      if (!hit) {
        this.missing.set(`${item.path}\0${name}`, { library: name, neededBy: item.path });
        for (const s of skipped) this.problems.add(`${name} needed by ${item.path}: skipped ${s}`);
        continue;
      }
      for (const found of [hit, ...hit.variants]) {
        this.keepChain(found.chain, found.path);
        const why = found === hit ? `needed by ${item.path}` : `needed by ${item.path} (glibc-hwcaps variant)`;
        this.visit({ path: found.path, origin: dirname(found.candidate), ctx, expand: false }, why);
      }
      const soname = this.sonameOf(hit.path);
      for (const n of [name, hit.candidate, ...(soname ? [soname] : [])]) if (!ctx.loaded.has(n)) ctx.loaded.set(n, hit.path);
    }
  }

  /** An object not reached by DT_NEEDED starts a load; its interpreter (PT_INTERP) is loaded first. */
  private startLoad(item: WorkItem, elf: ElfInfo): LoadContext {
    const ctx: LoadContext = { root: item.path, executable: { elf, originDir: item.origin }, loaded: new Map() };
    if (elf.soname) ctx.loaded.set(elf.soname, item.path);
    if (elf.interpreter === undefined) return ctx;
    const r = resolvePath(this.fs, elf.interpreter);
    if ('error' in r) {
      this.missing.set(`${item.path}\0${elf.interpreter}`, { library: elf.interpreter, neededBy: item.path });
      return ctx;
    }
    this.keepChain(r.chain, r.path);
    this.visit({ path: r.path, origin: dirname(elf.interpreter), ctx: undefined, expand: false }, `interpreter of ${item.path}`);
    const soname = this.sonameOf(r.path);
    for (const n of [elf.interpreter, ...(soname ? [soname] : [])]) ctx.loaded.set(n, r.path);
    return ctx;
  }

  private dirsFor(elf: ElfInfo): string[] {
    const k = `${elf.machine}/${elf.class}/${elf.endian}`;
    let d = this.dirsByArch.get(k);
    if (!d) this.dirsByArch.set(k, (d = libraryDirs(this.fs, elf)));
    return d;
  }

  private sonameOf(p: string): string | undefined {
    const bytes = this.fs.content(p);
    return bytes && parseElf(bytes)?.soname;
  }
}

/** Every parent directory of a kept path that the image has an entry for. */
function keepParents(fs: ImageFs, keep: Map<string, string>): void {
  for (const p of [...keep.keys()]) {
    for (let d = dirname(p); ; d = dirname(d)) {
      if (!keep.has(d) && fs.entry(d)) keep.set(d, 'parent directory');
      if (d === '/') break;
    }
  }
}
