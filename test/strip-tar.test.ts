// The tar reader and writer behind stripped images: what `docker export` streams in must come out of
// readImageTar entry for entry, and what writeTar produces must extract, byte for byte and bit for
// bit, as `docker build` (`ADD rootfs.tar /`) and GNU tar extract it. GNU tar is the reference on
// both sides: it writes the PAX and GNU archives we read, and reads the archives we write.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  createReadStream,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FsEntry } from '../compiler/src/strip/fs.ts';
import { contextTar, readImageTar, type TarInput, TarFormatError, tarInputsOf, tarStream, writeTar } from '../compiler/src/strip/tar.ts';

const work = mkdtempSync(path.join(tmpdir(), 'hardspec-tar-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const tempDir = () => mkdtempSync(path.join(work, 'd-'));

const isRoot = process.getuid?.() === 0;
const hasGnuTar = /GNU tar/.test(spawnSync('tar', ['--version'], { encoding: 'utf8' }).stdout ?? '');
const canMknod = isRoot && spawnSync('mknod', [path.join(work, 'probe'), 'c', '1', '3']).status === 0;

const T = 1_700_000_000;
const LONG_DIR = `/long/${'segment-'.repeat(6)}a`; // > 50 bytes, splittable under ustar's prefix
const SPLITTABLE = `${LONG_DIR}/${'f'.repeat(80)}`; // > 100 bytes: prefix + name
const UNSPLITTABLE = `/long/${'x'.repeat(40)}/${'y'.repeat(40)}/${'z'.repeat(60)}/${'n'.repeat(120)}`; // name part > 100: PAX path
const OVER_255 = `/long/${`${'p'.repeat(90)}/`.repeat(3)}leaf-file`; // > 255: PAX path
const LONG_TARGET = `../${'t'.repeat(150)}/target`;

function file(p: string, content: string | Buffer, more: Partial<FsEntry> = {}): TarInput {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  return { entry: { path: p, type: 'file', mode: 0o644, uid: 0, gid: 0, size: bytes.length, mtime: T, ...more }, content: bytes };
}
function node(p: string, type: FsEntry['type'], more: Partial<FsEntry> = {}): TarInput {
  return { entry: { path: p, type, mode: type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : 0o644, uid: 0, gid: 0, size: 0, mtime: T, ...more } };
}

/** An image root exercising every entry type and every field that needs more than ustar holds. */
function sample(): TarInput[] {
  const allBytes = Buffer.from(Array.from({ length: 513 }, (_, i) => i % 256));
  return [
    node('/', 'dir'),
    node('/usr', 'dir'),
    node('/usr/bin', 'dir'),
    file('/usr/bin/su', 'setuid', { mode: 0o4755 }),
    file('/usr/bin/wall', 'setgid', { mode: 0o2755, gid: 5 }),
    node('/tmp', 'dir', { mode: 0o1777 }),
    node('/usr/bin/sh', 'symlink', { linkname: 'dash' }),
    file('/usr/bin/dash', 'dash'),
    node('/a-link', 'hardlink', { linkname: '/usr/bin/dash' }), // sorts before its target
    node('/usr/bin/zz-link', 'hardlink', { linkname: '/usr/bin/dash' }), // sorts after it
    node('/home', 'dir'),
    node('/home/app', 'dir', { mode: 0o750, uid: 100, gid: 101 }),
    file('/home/app/data', 'owned', { mode: 0o640, uid: 100, gid: 101 }),
    file('/empty', ''),
    file('/block-512', allBytes.subarray(0, 512)),
    file('/block-513', allBytes),
    // Every parent is there, as in `docker export`: else GNU tar creates them and /long's mtime moves.
    ...[LONG_DIR, UNSPLITTABLE, OVER_255].flatMap(parentDirs).filter((p, i, all) => all.indexOf(p) === i).map((p) => node(p, 'dir')),
    node(LONG_DIR, 'dir'),
    file(SPLITTABLE, 'splittable'),
    file(UNSPLITTABLE, 'pax path'),
    file(OVER_255, 'over 255'),
    node('/long-link', 'symlink', { linkname: LONG_TARGET }),
    node('/long-hardlink', 'hardlink', { linkname: OVER_255 }),
    node('/dev', 'dir'),
    node('/dev/null', 'char', { mode: 0o666, devmajor: 1, devminor: 3 }),
    node('/dev/sda', 'block', { mode: 0o660, gid: 6, devmajor: 8, devminor: 0 }),
    node('/run', 'dir'),
    node('/run/initctl', 'fifo', { mode: 0o600 }),
    file('/big-ids', 'ids', { uid: 3_000_000, gid: 4_000_000 }),
    file('/usr/share-ünïcødé', 'utf-8 name'),
    file('/old', 'before 1970', { mtime: -86_400 }),
  ];
}

/** '/a/b/c' → ['/a', '/a/b']. */
const parentDirs = (p: string) => p.split('/').slice(1, -1).map((_, i, parts) => `/${parts.slice(0, i + 1).join('/')}`);

const sortedEntries = (inputs: TarInput[]) => inputs.map((i) => i.entry).sort((a, b) => (a.path < b.path ? -1 : 1));

/** The archive as a stream of `size`-byte chunks, as a socket might deliver it. */
async function* chunked(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** Header names in archive order, straight from the bytes (PAX and GNU names not applied). */
function headerNames(tar: Buffer): string[] {
  const names: string[] = [];
  for (let at = 0; at + 512 <= tar.length && tar[at] !== 0; ) {
    const size = parseInt(tar.toString('latin1', at + 124, at + 136).replace(/\0.*$/, ''), 8);
    const prefix = tar.toString('utf8', at + 345, at + 500).replace(/\0.*$/, '');
    const name = tar.toString('utf8', at, at + 100).replace(/\0.*$/, '');
    names.push(prefix ? `${prefix}/${name}` : name);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}

/** A raw ustar header block with a correct checksum; numeric fields are given as raw bytes or octal. */
function rawHeader(fields: { name: string; typeflag: string; size?: number; uid?: Buffer; mtime?: Buffer }): Buffer {
  const b = Buffer.alloc(512);
  b.write(fields.name, 0, 100);
  b.write('0000644\0', 100);
  (fields.uid ?? Buffer.from('0000000\0')).copy(b, 108);
  b.write('0000000\0', 116);
  b.write(`${(fields.size ?? 0).toString(8).padStart(11, '0')}\0`, 124);
  (fields.mtime ?? Buffer.from('00000000000\0')).copy(b, 136);
  b.write(fields.typeflag, 156);
  b.write('ustar\x0000', 257, 'latin1');
  b.fill(0x20, 148, 156);
  const sum = b.reduce((s, x) => s + x, 0);
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return b;
}
/** One PAX record: its length counts itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const n = Buffer.byteLength(body);
  return `${n + String(n + String(n).length).length}${body}`;
}
const padded = (s: string) => Buffer.concat([Buffer.from(s), Buffer.alloc((512 - (Buffer.byteLength(s) % 512)) % 512)]);
const END = Buffer.alloc(1024);

describe('writeTar then readImageTar', () => {
  it('gives back every entry and every byte (long paths, long link targets, setuid, owners, devices)', async () => {
    const inputs = sample();
    const fs = await readImageTar(chunked(writeTar(inputs), 4096));
    expect(fs.entries()).toEqual(sortedEntries(inputs));
    for (const { entry, content } of inputs) {
      if (entry.type === 'file') expect(fs.content(entry.path), entry.path).toEqual(content);
    }
    expect(fs.content('/a-link')).toEqual(Buffer.from('dash'));
    expect(fs.content('/long-hardlink')).toEqual(Buffer.from('over 255'));
    expect(fs.content('/empty')).toEqual(Buffer.alloc(0));
  });

  it('reads the same from 1-byte chunks, a Node stream and the streaming writer', async () => {
    const inputs = sample();
    const tar = writeTar(inputs);
    const streamed = Buffer.concat(await tarStream(inputs).toArray());
    expect(streamed.equals(tar)).toBe(true);
    const fromBytes = await readImageTar(chunked(tar, 1));
    const fromStream = await readImageTar(tarStream(inputs));
    expect(fromBytes.entries()).toEqual(sortedEntries(inputs));
    expect(fromStream.entries()).toEqual(sortedEntries(inputs));
  });

  it('writes a MemoryFs back out unchanged (tarInputsOf)', async () => {
    const fs = await readImageTar(chunked(writeTar(sample()), 65536));
    const again = writeTar(tarInputsOf(fs));
    expect(again.equals(writeTar(sample()))).toBe(true);
  });
});

describe('writeTar output', () => {
  it('is the same bytes every time and whatever the input order', () => {
    const a = writeTar(sample());
    expect(writeTar(sample()).equals(a)).toBe(true);
    expect(writeTar([...sample()].reverse()).equals(a)).toBe(true);
    const shuffled = sample().sort((x, y) => (x.entry.path.length * 7919) % 31 - (y.entry.path.length * 7919) % 31);
    expect(writeTar(shuffled).equals(a)).toBe(true);
  });

  it('orders entries by path, parents first, each hard link after its target; root as ./, directories with a slash', () => {
    const names = headerNames(writeTar(sample())).filter((n) => !n.startsWith('PaxHeaders/'));
    expect(names[0]).toBe('./');
    expect(names).toContain('usr/bin/');
    expect(names).toContain('usr/bin/su');
    expect(names.indexOf('a-link')).toBeGreaterThan(names.indexOf('usr/bin/dash'));
    expect(names.indexOf('usr/bin/zz-link')).toBeGreaterThan(names.indexOf('usr/bin/dash'));
    expect(names.indexOf('usr/bin/su')).toBeGreaterThan(names.indexOf('usr/bin/'));
    // Depth-first, as `docker export` walks: all of /long/… before /long-link.
    expect(names.indexOf('long-link')).toBeGreaterThan(names.indexOf(`${LONG_DIR.slice(1)}/`));
    expect(names.some((n) => n.startsWith('/'))).toBe(false);
  });

  it('uses PAX records only where ustar cannot hold the value', () => {
    const paxFor = (inputs: TarInput[]) => headerNames(writeTar(inputs)).filter((n) => n.startsWith('PaxHeaders/')).length;
    expect(paxFor([file('/usr/bin/su', 'x', { mode: 0o4755, uid: 100, gid: 101 }), file(SPLITTABLE, 'x')])).toBe(0);
    expect(paxFor([file(UNSPLITTABLE, 'x')])).toBe(1);
    expect(paxFor([file(OVER_255, 'x')])).toBe(1);
    expect(paxFor([node('/l', 'symlink', { linkname: LONG_TARGET })])).toBe(1);
    expect(paxFor([file('/big', 'x', { uid: 3_000_000 })])).toBe(1);
    expect(paxFor([file('/old', 'x', { mtime: -1 })])).toBe(1);
    const tar = writeTar([file('/big', 'x', { uid: 3_000_000, gid: 7 })]);
    expect(tar.toString('latin1', 512, 512 + 512)).toMatch(/^\d+ uid=3000000\n/);
  });

  it('leaves uname and gname empty and ends with two zero blocks', () => {
    const tar = writeTar([file('/a', 'x')]);
    expect(tar.subarray(265, 265 + 64).every((b) => b === 0)).toBe(true);
    expect(tar.length).toBe(512 + 512 + 1024);
    expect(tar.subarray(-1024).every((b) => b === 0)).toBe(true);
  });

  it('refuses what it cannot write faithfully', () => {
    expect(() => writeTar([node('/h', 'hardlink', { linkname: '/missing' })])).toThrow(/not in the archive/);
    expect(() => writeTar([file('/a', 'x'), file('/a', 'y')])).toThrow(/twice/);
    expect(() => writeTar([{ entry: { ...file('/a', 'xy').entry, size: 5 }, content: Buffer.from('xy') }])).toThrow(/size 5 but 2 bytes/);
    expect(() => writeTar([file('/a/../b', 'x')])).toThrow(/normalised/);
    expect(() => writeTar([node('/a', 'hardlink', { linkname: '/b' }), node('/b', 'hardlink', { linkname: '/a' })])).toThrow(/only link to each other/);
  });
});

describe('contextTar', () => {
  it('writes a deterministic build context: sorted, 0:0, mtime 0, mode 0644 unless given', async () => {
    const files = [
      { name: 'rootfs.tar', content: writeTar([file('/a', 'x')]) },
      { name: 'Dockerfile', content: Buffer.from('FROM scratch\nADD rootfs.tar /\n') },
      { name: 'bin/run', content: Buffer.from('#!/bin/sh\n'), mode: 0o755 },
    ];
    const tar = contextTar(files);
    expect(contextTar([...files].reverse()).equals(tar)).toBe(true);
    expect(headerNames(tar)).toEqual(['Dockerfile', 'bin/run', 'rootfs.tar']);
    const fs = await readImageTar(chunked(tar, 1000));
    expect(fs.entries().map((e) => [e.path, e.mode, e.uid, e.gid, e.mtime])).toEqual([
      ['/Dockerfile', 0o644, 0, 0, 0],
      ['/bin/run', 0o755, 0, 0, 0],
      ['/rootfs.tar', 0o644, 0, 0, 0],
    ]);
    expect(fs.content('/rootfs.tar')).toEqual(files[0]!.content);
    expect(() => contextTar([{ name: '/etc/passwd', content: Buffer.alloc(0) }])).toThrow(/relative/);
    expect(() => contextTar([{ name: '../x', content: Buffer.alloc(0) }])).toThrow(/relative/);
  });
});

describe('readImageTar on damaged or unusual input', () => {
  const two = () => writeTar([file('/a', 'first'), file('/b', 'second')]); // headers at 0 and 1024

  it('names the byte offset of a header with a bad checksum', async () => {
    const tar = two();
    tar[1024 + 10] = tar[1024 + 10]! ^ 0x01;
    const error = await readImageTar(chunked(tar, 300)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TarFormatError);
    expect((error as TarFormatError).offset).toBe(1024);
    expect((error as Error).message).toMatch(/bad header checksum.*at byte offset 1024$/);
  });

  it('rejects a stream that is not a tar at all', async () => {
    await expect(readImageTar(chunked(Buffer.alloc(2048, 'x'), 512))).rejects.toThrow(/checksum.*byte offset 0/);
  });

  it('says the stream is truncated, wherever it stops', async () => {
    const tar = two();
    await expect(readImageTar(chunked(tar.subarray(0, 512 + 3), 100))).rejects.toThrow(/ended inside the content of \/a \(3 of 5 bytes; truncated\?\) at byte offset 0/);
    await expect(readImageTar(chunked(tar.subarray(0, 1024 + 100), 100))).rejects.toThrow(/ended inside a header.*at byte offset 1024/);
    await expect(readImageTar(chunked(tar.subarray(0, 2048), 100))).rejects.toThrow(/without the end-of-archive blocks.*at byte offset 2048/);
    await expect(readImageTar(chunked(Buffer.alloc(0), 1))).rejects.toThrow(/without the end-of-archive blocks.*at byte offset 0/);
  });

  it('reads GNU base-256 numbers, positive and negative', async () => {
    const uid = Buffer.from([0x80, 0, 0, 0, 0, 0, 0x01, 0x00]); // 256
    const bigUid = Buffer.from([0x80, 0, 0, 0x02, 0, 0, 0, 0]); // 2^33
    const mtime = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x70]); // -400
    const tar = Buffer.concat([
      rawHeader({ name: 'a', typeflag: '0', uid, mtime }),
      rawHeader({ name: 'b', typeflag: '0', uid: bigUid }),
      END,
    ]);
    const fs = await readImageTar(chunked(tar, 512));
    expect(fs.entry('/a')).toMatchObject({ uid: 256, mtime: -400 });
    expect(fs.entry('/b')).toMatchObject({ uid: 2 ** 33 });
  });

  it('applies PAX global headers to later entries until a local record overrides or deletes them', async () => {
    const [g, x, del] = [paxRecord('uid', '77'), paxRecord('uid', '5'), paxRecord('uid', '')];
    expect([g, x, del]).toEqual(['9 uid=77\n', '8 uid=5\n', '7 uid=\n']);
    const tar = Buffer.concat([
      rawHeader({ name: 'pax_global_header', typeflag: 'g', size: g.length }), padded(g),
      rawHeader({ name: 'a', typeflag: '0' }),
      rawHeader({ name: 'PaxHeaders/b', typeflag: 'x', size: x.length }), padded(x),
      rawHeader({ name: 'b', typeflag: '0' }),
      rawHeader({ name: 'PaxHeaders/c', typeflag: 'x', size: del.length }), padded(del),
      rawHeader({ name: 'c', typeflag: '0', uid: Buffer.from('0000003\0') }),
      END,
    ]);
    const fs = await readImageTar(chunked(tar, 512));
    expect([fs.entry('/a')?.uid, fs.entry('/b')?.uid, fs.entry('/c')?.uid]).toEqual([77, 5, 3]);
  });

  it('skips entries of other types with a note, and keeps reading', async () => {
    const notes: string[] = [];
    const tar = Buffer.concat([
      rawHeader({ name: 'label', typeflag: 'V' }),
      rawHeader({ name: 'odd', typeflag: 'Q', size: 3 }), padded('abc'),
      rawHeader({ name: './etc/x', typeflag: '0', size: 2 }), padded('hi'),
      END,
    ]);
    const fs = await readImageTar(chunked(tar, 512), { onNote: (n) => notes.push(n) });
    expect(fs.entries().map((e) => e.path)).toEqual(['/etc/x']);
    expect(fs.content('/etc/x')?.toString()).toBe('hi');
    expect(notes).toHaveLength(2);
    expect(notes[1]).toMatch(/skipped "odd": tar typeflag "Q"/);
  });

  it('rejects a malformed PAX record', async () => {
    const tar = Buffer.concat([rawHeader({ name: 'PaxHeaders/a', typeflag: 'x', size: 12 }), padded('99 path=abc\n'), rawHeader({ name: 'a', typeflag: '0' }), END]);
    await expect(readImageTar(chunked(tar, 512))).rejects.toThrow(/malformed PAX record.*at byte offset 0/);
  });
});

describe.runIf(hasGnuTar && isRoot)('GNU tar compatibility (as root)', () => {
  /** A directory tree with what images hold: long names, links, setuid, owners, devices. */
  function makeTree(): string {
    const root = tempDir();
    const at = (p: string) => path.join(root, p);
    mkdirSync(at('usr/bin'), { recursive: true });
    writeFileSync(at('usr/bin/su'), 'setuid');
    chmodSync(at('usr/bin/su'), 0o4755);
    writeFileSync(at('usr/bin/dash'), 'dash');
    linkSync(at('usr/bin/dash'), at('usr/bin/sh-hard'));
    symlinkSync('dash', at('usr/bin/sh'));
    symlinkSync(LONG_TARGET, at('usr/long-link'));
    mkdirSync(at(path.dirname(OVER_255.slice(1))), { recursive: true });
    writeFileSync(at(OVER_255.slice(1)), 'over 255');
    mkdirSync(at('home/app'), { recursive: true });
    writeFileSync(at('home/app/data'), '');
    chownSync(at('home/app'), 100, 101);
    chownSync(at('home/app/data'), 100, 101);
    chmodSync(at('home/app'), 0o750);
    mkdirSync(at('tmp'));
    chmodSync(at('tmp'), 0o1777);
    execFileSync('mkfifo', [at('fifo')]);
    if (canMknod) execFileSync('mknod', [at('null'), 'c', '1', '3']);
    writeFileSync(at('big-uid'), 'x');
    chownSync(at('big-uid'), 3_000_000, 3_000_001);
    for (const p of ['usr/bin/su', 'usr/bin/dash', 'home/app/data', 'big-uid', OVER_255.slice(1)]) utimesSync(at(p), T, T);
    return root;
  }

  /** What lstat says of every path under root, keyed like FsEntry paths. */
  function lstatTree(root: string): Map<string, { mode: number; uid: number; gid: number; size: number; link?: string; ino: number; rdev: number }> {
    const out = new Map();
    const walk = (rel: string) => {
      const st = lstatSync(path.join(root, rel));
      out.set(`/${rel}`.replace(/\/$/, '') || '/', {
        mode: st.mode,
        uid: st.uid,
        gid: st.gid,
        size: st.isFile() ? st.size : 0,
        ino: st.ino,
        rdev: st.rdev,
        ...(st.isSymbolicLink() ? { link: readlinkSync(path.join(root, rel)) } : {}),
      });
      if (st.isDirectory()) for (const name of execFileSync('ls', ['-A', path.join(root, rel)], { encoding: 'utf8' }).split('\n').filter(Boolean)) walk(path.join(rel, name));
    };
    walk('');
    return out;
  }

  const typeOf = (mode: number): FsEntry['type'] =>
    (({ 0o100000: 'file', 0o040000: 'dir', 0o120000: 'symlink', 0o020000: 'char', 0o060000: 'block', 0o010000: 'fifo' }) as Record<number, FsEntry['type']>)[mode & 0o170000]!;

  for (const format of ['pax', 'gnu'] as const) {
    it(`reads what tar --format=${format} writes (long names, links, owners, base-256 ids)`, async () => {
      const root = makeTree();
      const archive = path.join(tempDir(), `tree.${format}.tar`);
      execFileSync('tar', [`--format=${format}`, '-cf', archive, '-C', root, '.']);
      const fs = await readImageTar(createReadStream(archive, { highWaterMark: 1000 }));
      const expected = lstatTree(root);
      expect(fs.entries().map((e) => e.path)).toEqual([...expected.keys()].sort());
      for (const [p, st] of expected) {
        const e = fs.entry(p)!;
        // GNU tar stores the second name of a hard-linked file as a link to the first.
        if (e.type === 'hardlink') expect(expected.get(e.linkname!)?.ino, p).toBe(st.ino);
        else expect(e.type, p).toBe(typeOf(st.mode));
        expect([e.mode, e.uid, e.gid], p).toEqual([st.mode & 0o7777, st.uid, st.gid]);
        if (e.type === 'file') expect(fs.content(p), p).toEqual(readFileSync(path.join(root, p)));
        if (e.type === 'symlink') expect(e.linkname, p).toBe(st.link);
        if (e.type === 'char') expect([e.devmajor, e.devminor]).toEqual([1, 3]);
      }
      expect(Math.floor(fs.entry('/usr/bin/su')!.mtime)).toBe(T);
      expect(fs.content('/usr/bin/sh-hard')?.toString() ?? fs.content('/usr/bin/dash')?.toString()).toBe('dash');
    });
  }

  it('lists and extracts what writeTar writes exactly as written (modes, owners, mtimes, links, devices)', () => {
    const inputs = sample().filter((i) => canMknod || (i.entry.type !== 'char' && i.entry.type !== 'block'));
    const archive = path.join(tempDir(), 'ours.tar');
    writeFileSync(archive, writeTar(inputs));

    const list = spawnSync('tar', ['-tvf', archive, '--numeric-owner', '--full-time'], { encoding: 'utf8' });
    expect(list.stderr).toBe('');
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/^-rwsr-xr-x 0\/0 +6 \S+ \S+ usr\/bin\/su$/m);

    const dest = tempDir();
    // Docker and containerd set directory times after the last entry; so does this GNU tar option.
    // (A hard link moved after a later target leaves its directory's subtree, which GNU tar would
    // otherwise take as the moment to set that directory's mtime.)
    const extract = spawnSync('tar', ['-xpf', archive, '-C', dest, '--numeric-owner', '--delay-directory-restore'], { encoding: 'utf8' });
    // GNU tar warns of times before 1970, and extracts them all the same.
    expect(extract.stderr.replace(/^tar: old: implausibly old time stamp .*\n/m, '')).toBe('');
    expect(extract.status).toBe(0);
    const got = lstatTree(dest);
    // Every entry is there; anything else is a parent directory tar had to create.
    const written = new Set(sortedEntries(inputs).map((e) => e.path));
    expect([...written].filter((p) => !got.has(p))).toEqual([]);
    expect([...got].filter(([p, st]) => !written.has(p) && typeOf(st.mode) !== 'dir')).toEqual([]);
    for (const e of sortedEntries(inputs)) {
      const st = got.get(e.path)!;
      const full = lstatSync(path.join(dest, e.path));
      if (e.type === 'hardlink') {
        expect(st.ino, e.path).toBe(got.get(e.linkname!)!.ino);
        continue;
      }
      expect(typeOf(st.mode), e.path).toBe(e.type);
      if (e.type !== 'symlink') expect(st.mode & 0o7777, e.path).toBe(e.mode);
      expect([st.uid, st.gid], e.path).toEqual([e.uid, e.gid]);
      if (e.type === 'file' || e.type === 'dir') expect(Math.floor(full.mtimeMs / 1000), e.path).toBe(Math.floor(e.mtime));
      if (e.type === 'file') expect(readFileSync(path.join(dest, e.path)).length, e.path).toBe(e.size);
      if (e.type === 'symlink') expect(st.link, e.path).toBe(e.linkname);
      if (e.type === 'char' || e.type === 'block') expect([full.rdev >> 8, full.rdev & 0xff], e.path).toEqual([e.devmajor, e.devminor]);
    }
  });
});
