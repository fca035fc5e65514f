// The ELF reader and the closure of stripped images, checked against this Debian host: `readelf`
// says what each file holds, `ldd` and the real loader say what a program loads. Images are
// MemoryFs copies of host files (symlinks kept as they are on the host) or small hand-made trees.
// Equivalent question for each closure test: "what must `docker build` COPY into FROM scratch so
// that `docker run <image> /usr/bin/ls` still starts?"
import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { elfClosure, findLibrary, isSetuidOrSetgid, libraryDirs, MAX_SYMLINKS, resolvePath } from '../compiler/src/strip/closure.ts';
import { parseElf, type ElfInfo } from '../compiler/src/strip/elf.ts';
import { MemoryFs, type FsEntry } from '../compiler/src/strip/fs.ts';

const MULTIARCH = '/usr/lib/x86_64-linux-gnu';
const LS = readFileSync('/usr/bin/ls');
const LIBSELINUX = readFileSync('/lib/x86_64-linux-gnu/libselinux.so.1');
const C = { env: { ...process.env, LC_ALL: 'C' }, encoding: 'utf8' as const };

// ---------------------------------------------------------------------------------------------
// Building images.

function entry(p: string, type: FsEntry['type'], extra: Partial<FsEntry> = {}): FsEntry {
  return { path: p, type, mode: type === 'dir' ? 0o755 : 0o644, uid: 0, gid: 0, size: 0, mtime: 0, ...extra };
}

/** A hand-made image: paths ending in '/' are directories, `{ link }` symlinks, Buffers and strings files. */
function image(tree: Record<string, Buffer | string | { link: string } | { hardlink: string }>): MemoryFs {
  const fs = new MemoryFs();
  for (const [p, v] of Object.entries(tree)) {
    if (p.endsWith('/')) fs.add(entry(p.slice(0, -1) || '/', 'dir'));
    else if (typeof v === 'object' && 'link' in v) fs.add(entry(p, 'symlink', { linkname: v.link }));
    else if (typeof v === 'object' && 'hardlink' in v) fs.add(entry(p, 'hardlink', { linkname: v.hardlink }));
    else {
      const bytes = Buffer.isBuffer(v) ? v : Buffer.from(v);
      fs.add(entry(p, 'file', { mode: 0o755, size: bytes.length }), bytes);
    }
  }
  return fs;
}

function hostEntry(p: string, st: Stats, linkname?: string): FsEntry {
  const type = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : 'file';
  return { path: p, type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: type === 'file' ? st.size : 0, mtime: Math.floor(st.mtimeMs / 1000), ...(linkname ? { linkname } : {}) };
}

/** Copies a host path into the image, with every directory and symlink on the way as the host has them. */
function mirror(fs: MemoryFs, hostPath: string, depth = 0): void {
  expect(depth).toBeLessThan(10);
  let real = '';
  for (const part of hostPath.split('/').filter(Boolean)) {
    const p = `${real}/${part}`;
    const st = lstatSync(p);
    if (st.isSymbolicLink()) {
      const target = readlinkSync(p);
      fs.add(hostEntry(p, st, target));
      mirror(fs, path.resolve(path.dirname(p), target), depth + 1);
      real = realpathSync(p);
    } else {
      fs.add(hostEntry(p, st), st.isFile() ? readFileSync(p) : undefined);
      real = p;
    }
  }
}

/** Copies a host directory tree into the image under `imageDir`. */
function mirrorTree(fs: MemoryFs, hostDir: string, imageDir: string): void {
  fs.add(hostEntry(imageDir, lstatSync(hostDir)));
  for (const name of readdirSync(hostDir)) {
    const h = path.join(hostDir, name);
    const i = `${imageDir}/${name}`;
    const st = lstatSync(h);
    if (st.isDirectory()) mirrorTree(fs, h, i);
    else fs.add(hostEntry(i, st, st.isSymbolicLink() ? readlinkSync(h) : undefined), st.isFile() ? readFileSync(h) : undefined);
  }
}

/** Debian's stock loader configuration (the host's adds fakeroot and CUDA, which these tests do not want). */
function addDebianLdConf(fs: MemoryFs): void {
  fs.add(entry('/etc', 'dir'));
  fs.add(entry('/etc/ld.so.conf.d', 'dir'));
  const files: Record<string, string> = {
    '/etc/ld.so.conf': 'include /etc/ld.so.conf.d/*.conf\n\n',
    '/etc/ld.so.conf.d/libc.conf': '# libc default configuration\n/usr/local/lib\n',
    '/etc/ld.so.conf.d/x86_64-linux-gnu.conf': '# Multiarch support\n/usr/local/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n',
  };
  for (const [p, text] of Object.entries(files)) fs.add(entry(p, 'file', { size: text.length }), Buffer.from(text));
}

/** The libraries `ldd` reports for a host program, and its interpreter. */
function lddPaths(program: string): string[] {
  return execFileSync('ldd', [program], C).split('\n')
    .map((l) => /=>\s+(\/\S+)/.exec(l)?.[1] ?? /^\s*(\/\S+)\s+\(/.exec(l)?.[1])
    .filter((p): p is string => p !== undefined);
}

/** /usr/bin/ls and everything ldd says it loads, plus a few unrelated libraries the closure must leave out. */
function lsImage(): MemoryFs {
  const fs = new MemoryFs();
  addDebianLdConf(fs);
  for (const p of ['/usr/bin/ls', ...lddPaths('/usr/bin/ls'), '/lib/x86_64-linux-gnu/libm.so.6', '/lib/x86_64-linux-gnu/libz.so.1']) mirror(fs, p);
  return fs;
}

function keptFiles(fs: MemoryFs, keep: Map<string, string>): string[] {
  return [...keep.keys()].filter((p) => fs.entry(p)?.type === 'file');
}

// ---------------------------------------------------------------------------------------------
// readelf, the reference.

interface ReadelfView { class: number; endian: string; type: string; interpreter?: string; needed: string[]; rpath: string[]; runpath: string[]; soname?: string }

function readelf(file: string): ReadelfView {
  const h = execFileSync('readelf', ['-h', '-l', '-d', '-W', file], C);
  const all = (tag: string) => [...h.matchAll(new RegExp(`\\(${tag}\\)\\s+[^\\[]*\\[([^\\]]*)\\]`, 'g'))].map((m) => m[1]!);
  const paths = (tag: string) => all(tag).flatMap((s) => s.split(':')).filter(Boolean);
  const interpreter = /\[Requesting program interpreter: ([^\]]+)\]/.exec(h)?.[1];
  const soname = all('SONAME')[0];
  return {
    class: Number(/Class:\s+ELF(\d+)/.exec(h)![1]),
    endian: /Data:.*(little|big) endian/.exec(h)![1]!,
    type: /Type:\s+(\w+)/.exec(h)![1]!.toLowerCase(),
    ...(interpreter ? { interpreter } : {}),
    needed: all('NEEDED'),
    rpath: paths('RPATH'),
    runpath: paths('RUNPATH'),
    ...(soname ? { soname } : {}),
  };
}

function view(e: ElfInfo): ReadelfView {
  const { class: klass, endian, type, interpreter, needed, rpath, runpath, soname } = e;
  return { class: klass, endian, type, ...(interpreter ? { interpreter } : {}), needed: [...needed], rpath: [...rpath], runpath: [...runpath], ...(soname ? { soname } : {}) };
}

/** A minimal ELF file with PT_INTERP, one PT_LOAD over the whole file and PT_DYNAMIC, in any class and byte order. */
function buildElf(s: { klass: 32 | 64; endian: 'little' | 'big'; machine: number; type: number; interp?: string; needed: string[]; rpath?: string; runpath?: string; soname?: string }): Buffer {
  const wide = s.klass === 64;
  const le = s.endian === 'little';
  const base = 0x10000;
  const ehsize = wide ? 64 : 52;
  const phentsize = wide ? 56 : 32;
  const phnum = s.interp ? 3 : 2;
  const interp = s.interp ? Buffer.from(`${s.interp}\0`) : Buffer.alloc(0);
  const interpAt = ehsize + phnum * phentsize;
  const strAt = interpAt + interp.length;
  const strings: Buffer[] = [Buffer.from([0])];
  let strLen = 1;
  const str = (x: string) => { strings.push(Buffer.from(`${x}\0`)); strLen += x.length + 1; return strLen - x.length - 1; };
  const dyn: [number, number][] = s.needed.map((n) => [1, str(n)]);
  if (s.rpath !== undefined) dyn.push([15, str(s.rpath)]);
  if (s.runpath !== undefined) dyn.push([29, str(s.runpath)]);
  if (s.soname !== undefined) dyn.push([14, str(s.soname)]);
  dyn.push([5, base + strAt], [10, strLen], [0, 0]);
  const dynAt = Math.ceil((strAt + strLen) / 8) * 8;
  const buf = Buffer.alloc(dynAt + dyn.length * 2 * (wide ? 8 : 4));
  const u16 = (o: number, v: number) => (le ? buf.writeUInt16LE(v, o) : buf.writeUInt16BE(v, o));
  const u32 = (o: number, v: number) => (le ? buf.writeUInt32LE(v, o) : buf.writeUInt32BE(v, o));
  const word = (o: number, v: number) => (wide ? (le ? buf.writeBigUInt64LE(BigInt(v), o) : buf.writeBigUInt64BE(BigInt(v), o)) : u32(o, v));
  buf.set([0x7f, 0x45, 0x4c, 0x46, wide ? 2 : 1, le ? 1 : 2, 1], 0);
  u16(16, s.type); u16(18, s.machine); u32(20, 1);
  word(wide ? 32 : 28, ehsize);
  u16(wide ? 52 : 40, ehsize); u16(wide ? 54 : 42, phentsize); u16(wide ? 56 : 44, phnum);
  const ph = (i: number, type: number, offset: number, size: number) => {
    const at = ehsize + i * phentsize;
    u32(at, type);
    word(at + (wide ? 8 : 4), offset); word(at + (wide ? 16 : 8), base + offset); word(at + (wide ? 24 : 12), base + offset);
    word(at + (wide ? 32 : 16), size); word(at + (wide ? 40 : 20), size);
  };
  let i = 0;
  if (s.interp) ph(i++, 3, interpAt, interp.length);
  ph(i++, 1, 0, buf.length);
  ph(i++, 2, dynAt, buf.length - dynAt);
  interp.copy(buf, interpAt);
  Buffer.concat(strings).copy(buf, strAt);
  dyn.forEach(([tag, val], k) => { word(dynAt + k * 2 * (wide ? 8 : 4), tag); word(dynAt + (k * 2 + 1) * (wide ? 8 : 4), val); });
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Programs built for the test: $ORIGIN, RPATH and RUNPATH as the real loader sees them.

const work = mkdtempSync(path.join(tmpdir(), 'hardspec-strip-elf-'));
const app = path.join(work, 'opt/app');
afterAll(() => rmSync(work, { recursive: true, force: true }));

function gcc(args: string[]): void {
  execFileSync('gcc', args, { cwd: work, stdio: 'pipe' });
}

beforeAll(() => {
  mkdirSync(path.join(app, 'bin'), { recursive: true });
  mkdirSync(path.join(app, 'lib/private'), { recursive: true });
  writeFileSync(path.join(work, 'foo.c'), 'int foo(void) { return 42; }\n');
  writeFileSync(path.join(work, 'bar.c'), 'int foo(void);\nint bar(void) { return foo() + 1; }\n');
  writeFileSync(path.join(work, 'baz.c'), 'int foo(void);\nint baz(void) { return foo() + 2; }\n');
  writeFileSync(path.join(work, 'main-bar.c'), 'int bar(void);\nint main(void) { return bar(); }\n');
  writeFileSync(path.join(work, 'main-baz.c'), 'int baz(void);\nint main(void) { return baz(); }\n');
  const lib = (name: string, src: string, extra: string[] = []) =>
    gcc(['-shared', '-fPIC', `-Wl,-soname,${name}`, '-o', name, src, ...extra]);
  lib('libfoo.so.1', 'foo.c');
  lib('libbar.so.1', 'bar.c', ['./libfoo.so.1', '-Wl,--enable-new-dtags', '-Wl,-rpath,${ORIGIN}/private']);
  lib('libbaz.so.1', 'baz.c', ['./libfoo.so.1']);
  // app-rpath: DT_RPATH $ORIGIN/../lib. app-inherit: DT_RPATH with lib/private, which libbaz (no
  // path of its own) inherits. app-runpath: the same dirs as DT_RUNPATH, which libbaz does not inherit.
  gcc(['-o', 'opt/app/bin/app-rpath', 'main-bar.c', './libbar.so.1', '-Wl,-rpath-link,.', '-Wl,--disable-new-dtags', '-Wl,-rpath,$ORIGIN/../lib']);
  gcc(['-o', 'opt/app/bin/app-inherit', 'main-baz.c', './libbaz.so.1', '-Wl,-rpath-link,.', '-Wl,--disable-new-dtags', '-Wl,-rpath,$ORIGIN/../lib:$ORIGIN/../lib/private']);
  gcc(['-o', 'opt/app/bin/app-runpath', 'main-baz.c', './libbaz.so.1', '-Wl,-rpath-link,.', '-Wl,--enable-new-dtags', '-Wl,-rpath,$ORIGIN/../lib:$ORIGIN/../lib/private']);
  // app-both: like app-runpath, but needs libfoo itself, so libbaz finds it loaded already.
  gcc(['-o', 'opt/app/bin/app-both', 'main-baz.c', '-Wl,--no-as-needed', './libbaz.so.1', './libfoo.so.1', '-Wl,--enable-new-dtags', '-Wl,-rpath,$ORIGIN/../lib:$ORIGIN/../lib/private']);
  for (const [name, dir] of [['libfoo.so.1', 'lib/private'], ['libbar.so.1', 'lib'], ['libbaz.so.1', 'lib']] as const) {
    writeFileSync(path.join(app, dir, name), readFileSync(path.join(work, name)));
  }
}, 30_000);

/** The real loader's verdict: exit status and stderr of running a built program on the host. */
function run(program: string): { status: number | null; stderr: string } {
  const r = spawnSync(path.join(app, 'bin', program), { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
  return { status: r.status, stderr: r.stderr };
}

/** The app tree at /opt/app, `ls`'s libraries, and /usr/local/bin/<name> -> /opt/app/bin/<name> (absolute symlinks). */
function appImage(): MemoryFs {
  const fs = lsImage();
  mirrorTree(fs, app, '/opt/app');
  fs.add(entry('/opt', 'dir'));
  fs.add(entry('/usr/local', 'dir'));
  fs.add(entry('/usr/local/bin', 'dir'));
  for (const p of ['app-rpath', 'app-inherit', 'app-runpath']) fs.add(entry(`/usr/local/bin/${p}`, 'symlink', { linkname: `/opt/app/bin/${p}` }));
  // A decoy of the same name on the default path, which the RUNPATH of libbar must win over.
  fs.add(entry(`${MULTIARCH}/libfoo.so.1`, 'file', { size: 1 }), readFileSync(path.join(work, 'libfoo.so.1')));
  return fs;
}

// ---------------------------------------------------------------------------------------------

describe('parseElf', () => {
  it('reads what readelf reads from the host binaries and libraries', () => {
    const files = ['/usr/bin/ls', ...lddPaths('/usr/bin/ls')];
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const info = parseElf(readFileSync(f));
      expect(info, f).toBeDefined();
      expect(view(info!), f).toEqual(readelf(f));
      expect(info!.machine).toBe(62);
      expect(info!.machineName).toBe('x86_64');
      expect(info!.problems, f).toEqual([]);
    }
    expect(parseElf(LS)!.needed).toEqual(['libselinux.so.1', 'libc.so.6']);
  });

  it('reads DT_RPATH and DT_RUNPATH as gcc wrote them', () => {
    for (const f of ['bin/app-rpath', 'bin/app-inherit', 'bin/app-runpath', 'lib/libbar.so.1']) {
      const file = path.join(app, f);
      expect(view(parseElf(readFileSync(file))!), f).toEqual(readelf(file));
    }
    expect(parseElf(readFileSync(path.join(app, 'bin/app-inherit')))).toMatchObject({ rpath: ['$ORIGIN/../lib', '$ORIGIN/../lib/private'], runpath: [] });
    expect(parseElf(readFileSync(path.join(app, 'bin/app-runpath')))).toMatchObject({ rpath: [], runpath: ['$ORIGIN/../lib', '$ORIGIN/../lib/private'] });
    expect(parseElf(readFileSync(path.join(app, 'lib/libbar.so.1')))).toMatchObject({ runpath: ['${ORIGIN}/private'], soname: 'libbar.so.1', type: 'dyn' });
  });

  it('reads ELF32 and big-endian files (checked with readelf on hand-made files)', () => {
    const cases = [
      { klass: 32, endian: 'little', machine: 3, name: 'i386', type: 2 },
      { klass: 32, endian: 'little', machine: 40, name: 'arm', type: 3 },
      { klass: 32, endian: 'big', machine: 20, name: 'ppc', type: 2 },
      { klass: 64, endian: 'big', machine: 22, name: 's390', type: 3 },
      { klass: 64, endian: 'little', machine: 183, name: 'aarch64', type: 3 },
    ] as const;
    for (const c of cases) {
      const bytes = buildElf({ ...c, interp: '/lib/ld-test.so.1', needed: ['libone.so.1', 'libtwo.so.2'], rpath: '/r1:/r2', runpath: '$ORIGIN/x', soname: 'libself.so.3' });
      const file = path.join(work, `hand-${c.name}`);
      writeFileSync(file, bytes);
      const info = parseElf(bytes)!;
      expect(view(info), c.name).toEqual(readelf(file));
      expect(info).toMatchObject({ class: c.klass, endian: c.endian, machine: c.machine, machineName: c.name, needed: ['libone.so.1', 'libtwo.so.2'], rpath: ['/r1', '/r2'], runpath: ['$ORIGIN/x'], problems: [] });
    }
  });

  it('says undefined for what is not ELF', () => {
    for (const b of [Buffer.alloc(0), Buffer.from('#!/bin/sh\n'), Buffer.from('\x7fELF'), Buffer.from('\x7fELF\x03\x01\x01'.padEnd(64, '\0'))]) {
      expect(parseElf(b)).toBeUndefined();
    }
  });

  it('reads a truncated file as far as it goes, and says what is missing', () => {
    const info = parseElf(LS.subarray(0, 100))!;
    expect(info).toMatchObject({ class: 64, machine: 62, needed: [] });
    expect(info.interpreter).toBeUndefined();
    expect(info.problems.join('\n')).toMatch(/truncated/);
    // Cut just after the program headers: the interpreter is there, the dynamic section is not.
    const cut = parseElf(LS.subarray(0, 0x400))!;
    expect(cut.interpreter).toBe('/lib64/ld-linux-x86-64.so.2');
    expect(cut.needed).toEqual([]);
    expect(cut.problems.length).toBeGreaterThan(0);
  });

  it('never throws, loops or reads out of bounds on cut, mutated or random bytes', () => {
    let seed = 0x5eed;
    const rand = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed / 2 ** 32; };
    for (let n = 0; n <= 4096; n++) parseElf(LS.subarray(0, n));
    for (let n = 4096; n < LS.length; n += 997) parseElf(LS.subarray(0, n));
    const dynOffset = 0x23d98 < LS.length ? 0x23d98 : 0;
    const copy = Buffer.from(LS);
    for (let i = 0; i < 3000; i++) {
      const at = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => Math.floor(rand() * 2) ? Math.floor(rand() * 0x400) : dynOffset + Math.floor(rand() * 0x200));
      const saved = at.map((a) => copy[a]!);
      for (const a of at) copy[a] = Math.floor(rand() * 256);
      const info = parseElf(copy);
      if (info) expect(Array.isArray(info.needed)).toBe(true);
      at.forEach((a, k) => { copy[a] = saved[k]!; });
    }
    for (let i = 0; i < 1000; i++) {
      const b = Buffer.from(Array.from({ length: Math.floor(rand() * 512) }, () => Math.floor(rand() * 256)));
      if (i % 2 === 0 && b.length >= 6) b.set([0x7f, 0x45, 0x4c, 0x46, 1 + (i % 4 === 0 ? 1 : 0), 1 + Math.floor(rand() * 2)], 0);
      parseElf(b);
    }
    // Hostile headers: 0xffff program headers (PN_XNUM), offsets near 2^64.
    const hostile = Buffer.from(LS.subarray(0, 4096));
    hostile.writeUInt16LE(0xffff, 56);
    expect(() => parseElf(hostile)).not.toThrow();
    hostile.writeBigUInt64LE(0xffffffffffffff00n, 32);
    expect(parseElf(hostile)!.needed).toEqual([]);
  });
});

describe('resolvePath', () => {
  const fs = image({
    '/etc/': '', '/etc/passwd': 'image passwd', '/usr/': '', '/usr/lib/': '', '/usr/lib/x': 'x',
    '/lib': { link: 'usr/lib' }, '/abs': { link: '/etc/passwd' }, '/up': { link: '../../../../etc/passwd' },
    '/a': { link: 'b' }, '/b': { link: 'a' }, '/self': { link: '/self' }, '/d/': '', '/d/loop': { link: '../d/loop/x' },
    '/dangling': { link: '/nowhere' }, '/via-file': { link: '/etc/passwd/x' },
  });

  it('resolves absolute targets from the image root, never the host', () => {
    expect(resolvePath(fs, '/abs')).toEqual({ path: '/etc/passwd', chain: ['/abs'] });
    expect(resolvePath(fs, '/up')).toEqual({ path: '/etc/passwd', chain: ['/up'] });
    expect(resolvePath(fs, '/lib/x')).toEqual({ path: '/usr/lib/x', chain: ['/lib'] });
    // '..' after a symlink leaves the directory it points to, as the kernel does: /lib/.. is /usr.
    expect(resolvePath(fs, '/lib/../lib/x')).toEqual({ path: '/usr/lib/x', chain: ['/lib'] });
    expect(resolvePath(fs, '/lib/../etc/passwd')).toEqual({ error: '/usr/etc/passwd does not exist' });
    expect(resolvePath(fs, '/abs', { followLast: false })).toEqual({ path: '/abs', chain: [] });
  });

  it('reports loops, dangling links and files used as directories instead of hanging', () => {
    for (const p of ['/a', '/self', '/d/loop']) expect(resolvePath(fs, p), p).toEqual({ error: expect.stringMatching(/more than 40 symlinks/) });
    expect(resolvePath(fs, '/dangling')).toEqual({ error: '/nowhere does not exist' });
    expect(resolvePath(fs, '/via-file')).toEqual({ error: expect.stringMatching(/\/etc\/passwd is not a directory/) });
  });

  it('follows exactly 40 symlinks and refuses the 41st', () => {
    const chain = (n: number) => {
      const tree: Record<string, { link: string } | string> = { '/end': 'end' };
      for (let i = 0; i < n; i++) tree[`/l${i}`] = { link: i === n - 1 ? '/end' : `/l${i + 1}` };
      return image(tree);
    };
    expect(resolvePath(chain(MAX_SYMLINKS), '/l0')).toMatchObject({ path: '/end' });
    expect(resolvePath(chain(MAX_SYMLINKS + 1), '/l0')).toHaveProperty('error');
  });
});

describe('libraryDirs', () => {
  it('reads ld.so.conf with include globs (relative, nested, cyclic), then the trusted directories', () => {
    const fs = image({
      '/etc/ld.so.conf': '# comment\ninclude conf.d/*.conf\n/opt/first/   # trailing comment\nhwcap 0 nosegneg\n',
      '/etc/conf.d/': '',
      '/etc/conf.d/b.conf': '/opt/b\ninclude /etc/more/x?.conf\n',
      '/etc/conf.d/a.conf': '/opt/a\n/usr/lib/x86_64-linux-gnu\n',
      '/etc/conf.d/c.conf.bak': '/opt/never\n',
      '/etc/conf.d/.hidden.conf': '/opt/never\n',
      '/etc/more/': '',
      '/etc/more/x1.conf': '/opt/x1\ninclude /etc/ld.so.conf\n',
    });
    expect(libraryDirs(fs, 62)).toEqual([
      '/opt/a', '/usr/lib/x86_64-linux-gnu', '/opt/b', '/opt/x1', '/opt/first',
      '/lib/x86_64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib',
    ]);
    expect(libraryDirs(new MemoryFs(), 183)).toEqual(['/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib']);
    expect(libraryDirs(new MemoryFs(), 3)).toEqual(['/lib/i386-linux-gnu', '/usr/lib/i386-linux-gnu', '/lib', '/usr/lib']);
  });
});

describe('findLibrary', () => {
  const base = parseElf(LIBSELINUX)!;
  const lib = (over: Partial<ElfInfo>): ElfInfo => ({ ...base, ...over });
  const fs = image({
    '/a/libselinux.so.1': LIBSELINUX, '/b/libselinux.so.1': LIBSELINUX, '/conf/libselinux.so.1': LIBSELINUX,
    '/lib/x86_64-linux-gnu/libselinux.so.1': LIBSELINUX,
    '/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libselinux.so.1': LIBSELINUX,
    '/opt/lib/x86_64-linux-gnu/libselinux.so.1': LIBSELINUX, '/opt/x86_64/libselinux.so.1': LIBSELINUX,
    '/app/bin/': '', '/app/lib/libselinux.so.1': LIBSELINUX, '/sub/libselinux.so.1': LIBSELINUX,
    '/$ORIGINAL/libselinux.so.1': LIBSELINUX,
  });
  const dirs = ['/conf', '/lib/x86_64-linux-gnu'];
  const find = (elf: ElfInfo, exe?: ElfInfo, name = 'libselinux.so.1') =>
    findLibrary(fs, name, elf, '/app/bin', dirs, exe ? { executable: { elf: exe, originDir: '/exe' } } : {})?.candidate;

  it('searches DT_RPATH, then DT_RUNPATH, then ld.so.conf, then the defaults', () => {
    expect(find(lib({ rpath: ['/a'], runpath: [] }))).toBe('/a/libselinux.so.1');
    expect(find(lib({ rpath: [], runpath: ['/b'] }))).toBe('/b/libselinux.so.1');
    expect(find(lib({ rpath: ['/a'], runpath: ['/b'] })), 'DT_RUNPATH turns DT_RPATH off').toBe('/b/libselinux.so.1');
    expect(find(lib({ rpath: ['/nowhere'], runpath: [] }))).toBe('/conf/libselinux.so.1');
    expect(findLibrary(fs, 'libselinux.so.1', lib({}), '/', ['/lib/x86_64-linux-gnu'])?.candidate).toBe('/lib/x86_64-linux-gnu/libselinux.so.1');
  });

  it("uses the executable's DT_RPATH only when neither object has DT_RUNPATH", () => {
    expect(find(lib({}), lib({ rpath: ['/a'] }))).toBe('/a/libselinux.so.1');
    expect(find(lib({ rpath: ['/b'] }), lib({ rpath: ['/a'] })), 'own RPATH first').toBe('/b/libselinux.so.1');
    expect(find(lib({ runpath: ['/nowhere'] }), lib({ rpath: ['/a'] }))).toBe('/conf/libselinux.so.1');
    expect(find(lib({}), lib({ rpath: ['/a'], runpath: ['/nowhere'] }))).toBe('/conf/libselinux.so.1');
  });

  it('expands $ORIGIN, ${ORIGIN}, $LIB and $PLATFORM, and takes a name with a slash as a path', () => {
    expect(find(lib({ runpath: ['$ORIGIN/../lib'] }))).toBe('/app/bin/../lib/libselinux.so.1');
    expect(find(lib({ runpath: ['${ORIGIN}/../lib'] }))).toBe('/app/bin/../lib/libselinux.so.1');
    expect(find(lib({ runpath: ['/opt/$LIB'] }))).toBe('/opt/lib/x86_64-linux-gnu/libselinux.so.1');
    expect(find(lib({ runpath: ['/opt/${PLATFORM}'] }))).toBe('/opt/x86_64/libselinux.so.1');
    expect(find(lib({ runpath: ['/$ORIGINAL'] })), '$ORIGINAL is no token').toBe('/$ORIGINAL/libselinux.so.1');
    expect(find(lib({}), undefined, 'sub/libselinux.so.1')).toBe('/sub/libselinux.so.1');
    expect(find(lib({}), undefined, '$ORIGIN/../lib/libselinux.so.1')).toBe('/app/bin/../lib/libselinux.so.1');
  });

  it('keeps glibc-hwcaps variants, which a newer CPU loads instead', () => {
    const hit = findLibrary(fs, 'libselinux.so.1', lib({}), '/', ['/lib/x86_64-linux-gnu'])!;
    expect(hit.variants.map((v) => v.path)).toEqual(['/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libselinux.so.1']);
  });

  it('skips a library of another class or machine', () => {
    const i386 = Buffer.from(LIBSELINUX);
    i386[4] = 1; // ELFCLASS32
    i386.writeUInt16LE(3, 18); // EM_386
    const mixed = image({ '/lib32/libselinux.so.1': i386, '/lib/x86_64-linux-gnu/libselinux.so.1': LIBSELINUX });
    const skipped: string[] = [];
    expect(findLibrary(mixed, 'libselinux.so.1', base, '/', ['/lib32', '/lib/x86_64-linux-gnu'], { skipped })?.path).toBe('/lib/x86_64-linux-gnu/libselinux.so.1');
    expect(skipped).toEqual(['/lib32/libselinux.so.1: ELF32 i386, not ELF64 x86_64']);
  });
});

describe('elfClosure', () => {
  it('keeps exactly the files ldd finds for /usr/bin/ls, the interpreter, and the symlinks and directories on the way', () => {
    const fs = lsImage();
    const { keep, missing, problems } = elfClosure(fs, ['/usr/bin/ls']);
    const expected = ['/usr/bin/ls', ...lddPaths('/usr/bin/ls')].map((p) => realpathSync(p)).sort();
    expect(keptFiles(fs, keep)).toEqual(expected);
    expect(missing).toEqual([]);
    expect(problems).toEqual([]);
    const interp = parseElf(LS)!.interpreter!;
    expect(keep.get('/usr/bin/ls')).toBe('listed');
    expect(keep.get(realpathSync(interp))).toBe('interpreter of /usr/bin/ls');
    expect(keep.get(realpathSync('/lib/x86_64-linux-gnu/libc.so.6'))).toBe('needed by /usr/bin/ls');
    expect(keep.get(realpathSync('/lib/x86_64-linux-gnu/libpcre2-8.so.0'))).toBe(`needed by ${realpathSync('/lib/x86_64-linux-gnu/libselinux.so.1')}`);
    // Every symlink the loader passes through is kept: /lib64 -> usr/lib64, the interpreter's link, /lib -> usr/lib.
    for (const link of [interp, '/lib/x86_64-linux-gnu/libpcre2-8.so.0']) {
      for (const c of (resolvePath(fs, link) as { chain: string[] }).chain) expect(keep.get(c), c).toMatch(/^symlink on the way to \//);
    }
    expect(keep.get('/usr')).toBe('parent directory');
    expect([...keep.keys()]).toEqual([...keep.keys()].sort());
    expect(JSON.stringify([...elfClosure(fs, ['/usr/bin/ls', '/usr/bin/ls']).keep])).toBe(JSON.stringify([...keep]));
  });

  it('follows $ORIGIN from the real path of a program listed through an absolute symlink, as the real loader does', () => {
    expect(run('app-rpath').status).toBe(43);
    const fs = appImage();
    const { keep, missing } = elfClosure(fs, ['/usr/local/bin/app-rpath']);
    expect(missing).toEqual([]);
    expect(keep.get('/usr/local/bin/app-rpath')).toBe('listed');
    expect(keep.get('/opt/app/bin/app-rpath')).toBe('listed as /usr/local/bin/app-rpath');
    expect(keep.get('/opt/app/lib/libbar.so.1')).toBe('needed by /opt/app/bin/app-rpath');
    // libbar's DT_RUNPATH ${ORIGIN}/private wins over the decoy on the default path.
    expect(keep.get('/opt/app/lib/private/libfoo.so.1')).toBe('needed by /opt/app/lib/libbar.so.1');
    expect(keep.has(`${MULTIARCH}/libfoo.so.1`)).toBe(false);
  });

  it("passes the executable's DT_RPATH on to its libraries, but not its DT_RUNPATH, as the real loader does", () => {
    expect(run('app-inherit').status).toBe(44);
    const noInherit = run('app-runpath');
    expect(noInherit.status).toBe(127);
    expect(noInherit.stderr).toMatch(/libfoo\.so\.1/);
    const fs = appImage();
    fs.add(entry(`${MULTIARCH}/libfoo.so.1`, 'file'), Buffer.from('no decoy: app-runpath must come up short'));
    const inherit = elfClosure(fs, ['/opt/app/bin/app-inherit']);
    expect(inherit.missing).toEqual([]);
    expect(inherit.keep.get('/opt/app/lib/private/libfoo.so.1')).toBe('needed by /opt/app/lib/libbaz.so.1');
    const runpath = elfClosure(fs, ['/opt/app/bin/app-runpath']);
    expect(runpath.missing).toEqual([{ library: 'libfoo.so.1', neededBy: '/opt/app/lib/libbaz.so.1' }]);
    expect(runpath.keep.has('/opt/app/lib/libbaz.so.1')).toBe(true);
  });

  it('reuses a library the executable loaded already (by SONAME) instead of searching for it again', () => {
    expect(run('app-both').status).toBe(44);
    const fs = appImage();
    expect(parseElf(fs.content('/opt/app/bin/app-both')!)!.needed).toEqual(['libbaz.so.1', 'libfoo.so.1', 'libc.so.6']);
    const { keep, missing } = elfClosure(fs, ['/opt/app/bin/app-both']);
    expect(missing).toEqual([]);
    expect(keep.get('/opt/app/lib/private/libfoo.so.1')).toBe('needed by /opt/app/bin/app-both');
    expect(keep.has(`${MULTIARCH}/libfoo.so.1`), 'the decoy on the default path is not what libbaz gets').toBe(false);
  });

  it('reports a library the image lacks in missing', () => {
    const fs = lsImage();
    const pcre = realpathSync('/lib/x86_64-linux-gnu/libpcre2-8.so.0');
    fs.add(entry(pcre, 'dir')); // replaced by something that is no library
    const { missing } = elfClosure(fs, ['/usr/bin/ls']);
    expect(missing).toEqual([{ library: 'libpcre2-8.so.0', neededBy: realpathSync('/lib/x86_64-linux-gnu/libselinux.so.1') }]);
  });

  it('skips an i386 library of the same name found first, and says so when it is the only one', () => {
    const fs = lsImage();
    const i386 = Buffer.from(LIBSELINUX);
    i386[4] = 1;
    i386.writeUInt16LE(3, 18);
    fs.add(entry('/usr/local', 'dir'));
    fs.add(entry('/usr/local/lib', 'dir'));
    fs.add(entry('/usr/local/lib/libselinux.so.1', 'file', { size: i386.length }), i386); // /usr/local/lib comes first in ld.so.conf
    const ok = elfClosure(fs, ['/usr/bin/ls']);
    expect(ok.keep.has('/usr/local/lib/libselinux.so.1')).toBe(false);
    expect(ok.keep.get(realpathSync('/lib/x86_64-linux-gnu/libselinux.so.1'))).toBe('needed by /usr/bin/ls');
    fs.add(entry(realpathSync('/lib/x86_64-linux-gnu/libselinux.so.1'), 'dir'));
    const only = elfClosure(fs, ['/usr/bin/ls']);
    expect(only.missing).toEqual([{ library: 'libselinux.so.1', neededBy: '/usr/bin/ls' }]);
    expect(only.problems).toContain('libselinux.so.1 needed by /usr/bin/ls: skipped /usr/local/lib/libselinux.so.1: ELF32 i386, not ELF64 x86_64');
  });

  it('keeps listed directories whole, symlink targets, hardlink targets, and reports dangling links and loops', () => {
    const fs = lsImage();
    const extra = image({
      '/etc/app/': '', '/etc/app/app.conf': 'x', '/etc/app/sub/': '', '/etc/app/sub/deep': 'y',
      '/etc/app/shared': { link: '../../srv/shared.conf' }, '/etc/app/gone': { link: '/nowhere' },
      '/srv/': '', '/srv/shared.conf': 'z', '/srv/unrelated': 'no',
      '/sbin/': '', '/sbin/ls-hard': { hardlink: '/usr/bin/ls' }, '/loop1': { link: 'loop2' }, '/loop2': { link: 'loop1' },
    });
    for (const e of extra.entries()) fs.add(e, extra.content(e.path));
    fs.add(entry('/usr/bin/ls', 'file', { mode: 0o4755, size: LS.length }), LS);
    const { keep, problems } = elfClosure(fs, ['/etc/app', '/sbin/ls-hard', '/loop1', 'relative']);
    expect(keep.get('/etc/app/sub/deep')).toBe('in listed directory /etc/app');
    expect(keep.get('/srv/shared.conf')).toBe('target of symlink /etc/app/shared');
    expect(keep.has('/srv/unrelated')).toBe(false);
    expect(keep.get('/usr/bin/ls')).toBe('hardlink target of /sbin/ls-hard');
    expect(keep.get(realpathSync('/lib/x86_64-linux-gnu/libc.so.6'))).toMatch(/^needed by /);
    expect(problems).toEqual([
      'dangling symlink /etc/app/gone -> /nowhere: /nowhere does not exist',
      'listed path "relative" is not absolute',
      expect.stringMatching(/^listed path \/loop1: more than 40 symlinks/),
    ]);
    expect(keep.get('/loop1')).toBe('listed');
    expect(isSetuidOrSetgid(fs.entry('/usr/bin/ls')!)).toBe(true);
    expect(isSetuidOrSetgid(entry('/var/mail', 'dir', { mode: 0o2775 }))).toBe(false);
    expect(isSetuidOrSetgid(entry('/usr/bin/wall', 'file', { mode: 0o2755 }))).toBe(true);
    expect(isSetuidOrSetgid(entry('/usr/bin/cat', 'file', { mode: 0o755 }))).toBe(false);
  });

  it('does not throw on a truncated ELF or random bytes in the image, and says what it could not read', () => {
    const fs = lsImage();
    fs.add(entry('/usr/bin/cut', 'file'), LS.subarray(0, 100));
    let seed = 7;
    const junk = Buffer.from(Array.from({ length: 4096 }, () => (seed = (seed * 69069 + 1) >>> 0) >>> 24));
    junk.set([0x7f, 0x45, 0x4c, 0x46, 2, 1], 0);
    fs.add(entry('/usr/bin/junk', 'file'), junk);
    fs.add(entry('/usr/bin/noise', 'file'), junk.subarray(4));
    const { keep, problems } = elfClosure(fs, ['/usr/bin/cut', '/usr/bin/junk', '/usr/bin/noise']);
    expect(keep.get('/usr/bin/cut')).toBe('listed');
    expect(keep.get('/usr/bin/noise')).toBe('listed');
    expect(problems.some((p) => p.startsWith('/usr/bin/cut: the file is truncated'))).toBe(true);
  });
});
