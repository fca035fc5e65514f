/**
 * Tar streams in and out of an image filesystem.
 *
 * - read: `docker export` / `docker save` layer streams (ustar, PAX 'x' and 'g', GNU 'L' and 'K',
 *   octal or GNU base-256 numbers) → MemoryFs. The stream is consumed chunk by chunk; each file's
 *   bytes are copied once into a buffer of their own, so memory follows the content kept.
 * - write: entries → deterministic POSIX ustar for `ADD rootfs.tar /` in a FROM-scratch build, with
 *   PAX records only where a ustar field cannot hold the value; and the build context carrying it.
 */
import { constants as bufferConstants } from 'node:buffer';
import { Readable } from 'node:stream';
import { type EntryType, type FsEntry, type ImageFs, MemoryFs, normalizePath } from './fs.ts';

const BLOCK = 512;
/** PAX and GNU long-name data are a few records; anything bigger is a corrupt header, not a name. */
const MAX_META_SIZE = 1 << 20;

/** A malformed or truncated archive; `offset` is the byte at which the bad header or data starts. */
export class TarFormatError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`tar: ${message} at byte offset ${offset}`);
    this.name = 'TarFormatError';
  }
}

/* ---------------------------------------------------------------- header layout (POSIX ustar) */

const F = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  checksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  version: [263, 2],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
} as const;
type Field = keyof typeof F;

const field = (block: Buffer, f: Field) => block.subarray(F[f][0], F[f][0] + F[f][1]);

/* ----------------------------------------------------------------------------------- reading */

export interface ReadTarOptions {
  /** Told about entries that were skipped or kept only in part (unknown typeflags, sparse files). */
  onNote?(note: string): void;
}

const ENTRY_TYPES: Readonly<Record<string, EntryType>> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file', // contiguous file: POSIX lets readers treat it as a regular file
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};

/** Parses a tar stream into a MemoryFs with absolute, normalised paths ('./usr/bin' → '/usr/bin'). */
export async function readImageTar(
  stream: AsyncIterable<Buffer> | NodeJS.ReadableStream,
  options: ReadTarOptions = {},
): Promise<MemoryFs> {
  const input = new ByteSource(stream);
  try {
    const fs = await readEntries(input, options);
    await input.drain(); // let the producer (a `docker export` pipe) finish writing
    return fs;
  } catch (error) {
    await input.close(); // destroys a Node stream, so a connection does not stay open
    throw error;
  }
}

async function readEntries(input: ByteSource, options: ReadTarOptions): Promise<MemoryFs> {
  const fs = new MemoryFs();
  const meta = new MetaRecords();
  for (;;) {
    const at = input.offset;
    const block = await input.read(BLOCK);
    if (block.length === 0) throw new TarFormatError('stream ended without the end-of-archive blocks (truncated?)', at);
    if (block.length < BLOCK) throw new TarFormatError(`stream ended inside a header (${block.length} of 512 bytes; truncated?)`, at);
    if (isZeroBlock(block)) return fs;
    const header = parseHeader(block, at);

    // 1. Meta entries describe the member that follows them.
    if (META_TYPEFLAGS.has(header.typeflag)) {
      if (header.size > MAX_META_SIZE) throw new TarFormatError(`'${header.typeflag}' header of ${header.size} bytes`, at);
      meta.add(header.typeflag, await readData(input, header.size, `a '${header.typeflag}' header`, at), at);
      continue;
    }

    // 2. The member itself, with what the meta entries said applied.
    const member = meta.take(header, at);
    const preposixDir = header.typeflag === '\0' && member.name.endsWith('/');
    const type = preposixDir ? 'dir' : ENTRY_TYPES[header.typeflag];
    if (!type) {
      options.onNote?.(`skipped ${JSON.stringify(member.name)}: tar typeflag ${JSON.stringify(header.typeflag)} is not a file, link, device, directory or fifo`);
      await readData(input, member.size, `the data of ${JSON.stringify(member.name)}`, at);
      continue;
    }
    const entry = memberEntry(header, member, type);
    if (member.sparse) options.onNote?.(`${entry.path}: GNU sparse file kept as stored (holes are not expanded)`);
    if (type === 'hardlink' && !fs.entry(entry.linkname!)) {
      options.onNote?.(`${entry.path}: hard link to ${entry.linkname}, which the archive has not held before it`);
    }
    if (type !== 'file') {
      // Links, devices, directories and fifos carry no data, whatever their size field says
      // (as Go's archive/tar, which wrote the stream, reads them).
      fs.add(entry);
      continue;
    }
    if (member.size > bufferConstants.MAX_LENGTH) throw new TarFormatError(`${entry.path} is ${member.size} bytes, more than a Buffer holds`, at);
    fs.add(entry, await readData(input, member.size, `the content of ${entry.path}`, at));
  }
}

const META_TYPEFLAGS = new Set(['x', 'g', 'L', 'K']);

/** A member's name, link target and numbers once PAX records and GNU long names are applied. */
interface Member {
  name: string;
  linkname: string;
  size: number;
  uid: number;
  gid: number;
  mtime: number;
  sparse: boolean;
}

/** What PAX ('x' for the next member, 'g' for all later ones) and GNU 'L'/'K' entries have said. */
class MetaRecords {
  private readonly global = new Map<string, string>();
  private local = new Map<string, string>();
  private longName: string | undefined;
  private longLink: string | undefined;

  add(typeflag: string, data: Buffer, at: number): void {
    if (typeflag === 'x') for (const [k, v] of parsePax(data, at)) this.local.set(k, v);
    else if (typeflag === 'g') for (const [k, v] of parsePax(data, at)) this.global.set(k, v);
    else if (typeflag === 'L') this.longName = cString(data);
    else this.longLink = cString(data);
  }

  /** Applies the records to this header (PAX over GNU long names over the header) and forgets the local ones. */
  take(header: RawHeader, at: number): Member {
    const records = new Map([...this.global, ...this.local]);
    const pax = (key: string) => {
      const v = records.get(key);
      return v === '' || v === undefined ? undefined : v; // an empty value deletes a global record
    };
    const member: Member = {
      name: pax('path') ?? this.longName ?? header.name,
      linkname: pax('linkpath') ?? this.longLink ?? header.linkname,
      size: pax('size') === undefined ? header.size : paxInteger(pax('size')!, 'size', at),
      uid: pax('uid') === undefined ? header.uid : paxInteger(pax('uid')!, 'uid', at),
      gid: pax('gid') === undefined ? header.gid : paxInteger(pax('gid')!, 'gid', at),
      mtime: pax('mtime') === undefined ? header.mtime : paxTime(pax('mtime')!, at),
      sparse: [...records.keys()].some((k) => k.startsWith('GNU.sparse.')),
    };
    this.local = new Map();
    this.longName = this.longLink = undefined;
    return member;
  }
}

function memberEntry(header: RawHeader, m: Member, type: EntryType): FsEntry {
  const common = { path: normalizePath(`/${m.name}`), type, mode: header.mode & 0o7777, uid: m.uid, gid: m.gid, mtime: m.mtime };
  switch (type) {
    case 'file':
      return { ...common, size: m.size };
    case 'symlink':
      return { ...common, size: 0, linkname: m.linkname };
    case 'hardlink':
      return { ...common, size: 0, linkname: normalizePath(`/${m.linkname}`) };
    case 'char':
    case 'block':
      return { ...common, size: 0, devmajor: header.devmajor, devminor: header.devminor };
    default:
      return { ...common, size: 0 };
  }
}

/** `size` bytes of data and the padding after them. */
async function readData(input: ByteSource, size: number, what: string, at: number): Promise<Buffer> {
  const data = await input.read(size);
  if (data.length < size) throw new TarFormatError(`stream ended inside ${what} (${data.length} of ${size} bytes; truncated?)`, at);
  const pad = (BLOCK - (size % BLOCK)) % BLOCK;
  if ((await input.skip(pad)) < pad) throw new TarFormatError(`stream ended inside the padding after ${what} (truncated?)`, at);
  return data;
}

interface RawHeader {
  name: string;
  linkname: string;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  devmajor: number;
  devminor: number;
}

function parseHeader(block: Buffer, at: number): RawHeader {
  verifyChecksum(block, at);
  const num = (f: Field) => parseNumber(field(block, f), f, at);
  // Only POSIX ustar has a prefix field; GNU tar keeps atime and ctime in those bytes.
  const posix = field(block, 'magic').toString('latin1') === 'ustar\0';
  const prefix = posix ? cString(field(block, 'prefix')) : '';
  const name = cString(field(block, 'name'));
  return {
    name: prefix ? `${prefix}/${name}` : name,
    linkname: cString(field(block, 'linkname')),
    typeflag: String.fromCharCode(block[F.typeflag[0]]!),
    mode: num('mode'),
    uid: num('uid'),
    gid: num('gid'),
    size: num('size'),
    mtime: num('mtime'),
    devmajor: num('devmajor'),
    devminor: num('devminor'),
  };
}

function verifyChecksum(block: Buffer, at: number): void {
  const [start, length] = F.checksum;
  let unsigned = 0;
  let signed = 0; // some historic writers summed signed chars
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= start && i < start + length ? 0x20 : block[i]!;
    unsigned += b;
    signed += b >= 0x80 ? b - 0x100 : b;
  }
  const text = field(block, 'checksum').toString('latin1').replace(/^[\0 ]+|[\0 ]+$/g, '');
  const stored = /^[0-7]+$/.test(text) ? parseInt(text, 8) : NaN;
  if (stored !== unsigned && stored !== signed) {
    throw new TarFormatError(
      `bad header checksum (stored ${JSON.stringify(text)}, computed ${unsigned.toString(8)}; not a tar stream, or corrupt)`,
      at,
    );
  }
}

/** An octal field, or GNU base-256 (high bit of the first byte set; two's complement when negative). */
function parseNumber(bytes: Buffer, name: string, at: number): number {
  if (bytes[0]! & 0x80) {
    const inv = bytes[0]! & 0x40 ? 0xff : 0;
    let x = 0n;
    bytes.forEach((byte, i) => {
      x = (x << 8n) | BigInt((byte ^ inv) & (i === 0 ? 0x7f : 0xff));
    });
    const value = inv ? -x - 1n : x;
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new TarFormatError(`base-256 ${name} ${value} is out of range`, at);
    }
    return Number(value);
  }
  const text = bytes.toString('latin1').replace(/^[\0 ]+|[\0 ]+$/g, '');
  if (!/^[0-7]*$/.test(text)) throw new TarFormatError(`${name} field ${JSON.stringify(text)} is not octal`, at);
  return text === '' ? 0 : parseInt(text, 8);
}

/** PAX records: "<length> <key>=<value>\n", the length counting the whole record in bytes. */
function parsePax(data: Buffer, at: number): Map<string, string> {
  const records = new Map<string, string>();
  let pos = 0;
  while (pos < data.length && data[pos] !== 0) {
    const space = data.indexOf(0x20, pos);
    const lengthText = space < 0 ? '' : data.toString('latin1', pos, space);
    const length = /^[1-9][0-9]*$/.test(lengthText) ? Number(lengthText) : NaN;
    const end = pos + length;
    if (!(end > space + 1 && end <= data.length && data[end - 1] === 0x0a)) {
      throw new TarFormatError(`malformed PAX record at byte ${pos} of the extended header`, at);
    }
    const record = data.toString('utf8', space + 1, end - 1);
    const eq = record.indexOf('=');
    if (eq <= 0) throw new TarFormatError(`PAX record without a key at byte ${pos} of the extended header`, at);
    records.set(record.slice(0, eq), record.slice(eq + 1));
    pos = end;
  }
  return records;
}

function paxInteger(value: string, key: string, at: number): number {
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new TarFormatError(`PAX ${key} ${JSON.stringify(value)} is not a non-negative integer`, at);
  }
  return Number(value);
}

function paxTime(value: string, at: number): number {
  if (!/^-?[0-9]+(\.[0-9]*)?$/.test(value)) throw new TarFormatError(`PAX mtime ${JSON.stringify(value)} is not a number`, at);
  return Number(value);
}

function cString(bytes: Buffer): string {
  const nul = bytes.indexOf(0);
  return bytes.toString('utf8', 0, nul < 0 ? bytes.length : nul);
}

function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

/**
 * Pulls chunks from the stream on demand and hands out exact byte counts. Chunks are dropped as
 * soon as they are consumed; nothing is ever concatenated beyond the bytes asked for.
 */
class ByteSource {
  private readonly iterator: AsyncIterator<unknown>;
  private chunks: Buffer[] = [];
  private first = 0; // index of the current chunk in `chunks`
  private head = 0; // bytes of the current chunk already consumed
  private buffered = 0;
  /** Bytes consumed so far: the stream offset of the next byte. */
  offset = 0;

  constructor(stream: AsyncIterable<Buffer> | NodeJS.ReadableStream) {
    const iterable: AsyncIterable<unknown> =
      Symbol.asyncIterator in stream ? (stream as AsyncIterable<unknown>) : new Readable().wrap(stream as NodeJS.ReadableStream);
    this.iterator = iterable[Symbol.asyncIterator]();
  }

  /** Up to `n` bytes in a buffer of their own; fewer only when the stream ends. */
  async read(n: number): Promise<Buffer> {
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      if (this.buffered === 0 && !(await this.pull())) return out.subarray(0, filled);
      const chunk = this.chunks[this.first]!;
      const take = Math.min(chunk.length - this.head, n - filled);
      chunk.copy(out, filled, this.head, this.head + take);
      filled += take;
      this.consume(take);
    }
    return out;
  }

  /** Skips up to `n` bytes; returns how many were there. */
  async skip(n: number): Promise<number> {
    let skipped = 0;
    while (skipped < n) {
      if (this.buffered === 0 && !(await this.pull())) break;
      const take = Math.min(this.chunks[this.first]!.length - this.head, n - skipped);
      skipped += take;
      this.consume(take);
    }
    return skipped;
  }

  async close(): Promise<void> {
    await this.iterator.return?.();
  }

  async drain(): Promise<void> {
    this.chunks = [];
    this.first = this.head = this.buffered = 0;
    while (!(await this.iterator.next()).done);
  }

  private async pull(): Promise<boolean> {
    for (;;) {
      const next = await this.iterator.next();
      if (next.done) return false;
      const chunk = toBuffer(next.value);
      if (chunk.length === 0) continue;
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      return true;
    }
  }

  private consume(n: number): void {
    this.head += n;
    this.buffered -= n;
    this.offset += n;
    if (this.head === this.chunks[this.first]!.length) {
      this.first++;
      this.head = 0;
      if (this.first === this.chunks.length || this.first > 1024) {
        this.chunks = this.chunks.slice(this.first);
        this.first = 0;
      }
    }
  }
}

function toBuffer(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === 'string') throw new Error('readImageTar needs a binary stream (the stream has an encoding set)');
  throw new Error(`readImageTar: unexpected chunk of type ${typeof value}`);
}

/* ----------------------------------------------------------------------------------- writing */

/** One archive member: the entry, and for a regular file its bytes (entry.size of them). */
export interface TarInput {
  readonly entry: FsEntry;
  readonly content?: Buffer;
}

const OCTAL_MAX = { 8: 0o7777777, 12: 0o77777777777 } as const;

/** Every entry of an image filesystem with the bytes of its regular files, ready for writeTar. */
export function tarInputsOf(fs: ImageFs): TarInput[] {
  return fs.entries().map((entry) => (entry.type === 'file' ? { entry, content: fs.content(entry.path) } : { entry }));
}

/**
 * The archive as a sequence of buffers (headers, the callers' content buffers, padding).
 * Deterministic: entries are in depth-first path order whatever the input order, so parents
 * precede children; a hard link is moved to just after its target when the target sorts later.
 */
export function* tarChunks(inputs: Iterable<TarInput>): Generator<Buffer> {
  for (const input of archiveOrder(inputs)) {
    yield* entryChunks(input);
  }
  yield Buffer.alloc(2 * BLOCK);
}

/** The whole archive in one buffer. */
export function writeTar(inputs: Iterable<TarInput>): Buffer {
  return Buffer.concat([...tarChunks(inputs)]);
}

/** The archive as a byte stream, for piping into `docker build` without holding it twice. */
export function tarStream(inputs: Iterable<TarInput>): Readable {
  return Readable.from(tarChunks(inputs), { objectMode: false });
}

/**
 * A `docker build` context: regular files at the given relative names, owned by 0:0, mtime 0,
 * mode 0644 unless given, sorted by name.
 */
export function contextTar(files: readonly { name: string; content: Buffer; mode?: number }[]): Buffer {
  return writeTar(
    files.map((f) => {
      if (f.name === '' || f.name.startsWith('/') || `/${f.name}` !== normalizePath(`/${f.name}`)) {
        throw new Error(`build context file name ${JSON.stringify(f.name)} must be relative and normalised`);
      }
      const entry: FsEntry = { path: `/${f.name}`, type: 'file', mode: f.mode ?? 0o644, uid: 0, gid: 0, size: f.content.length, mtime: 0 };
      return { entry, content: f.content };
    }),
  );
}

function archiveOrder(inputs: Iterable<TarInput>): TarInput[] {
  const byPath = new Map<string, TarInput>();
  for (const input of inputs) {
    validateInput(input);
    if (byPath.has(input.entry.path)) throw new Error(`tar: ${input.entry.path} is given twice`);
    byPath.set(input.entry.path, input);
  }
  const out: TarInput[] = [];
  const written = new Set<string>();
  const waiting = new Map<string, TarInput[]>();
  const emit = (input: TarInput): void => {
    out.push(input);
    written.add(input.entry.path);
    const links = waiting.get(input.entry.path);
    waiting.delete(input.entry.path);
    links?.forEach(emit);
  };
  for (const input of [...byPath.values()].sort((a, b) => compareTreeOrder(a.entry.path, b.entry.path))) {
    const { path, type, linkname } = input.entry;
    if (type === 'hardlink') {
      const target = byPath.get(linkname!);
      if (!target) throw new Error(`tar: hard link ${path} links to ${linkname}, which is not in the archive`);
      if (target.entry.type === 'dir') throw new Error(`tar: hard link ${path} links to the directory ${linkname}`);
      if (!written.has(linkname!)) {
        waiting.set(linkname!, [...(waiting.get(linkname!) ?? []), input]);
        continue;
      }
    }
    emit(input);
  }
  if (waiting.size > 0) throw new Error(`tar: hard links that only link to each other: ${[...waiting.keys()].join(', ')}`);
  return out;
}

function validateInput({ entry, content }: TarInput): void {
  const what = `tar: ${entry.path}`;
  if (normalizePath(entry.path) !== entry.path) throw new Error(`${what}: path is not absolute and normalised`);
  if (!Number.isInteger(entry.mode) || entry.mode < 0 || entry.mode > 0o7777) throw new Error(`${what}: mode ${entry.mode} is not within 0o7777`);
  for (const id of [entry.uid, entry.gid]) {
    if (!Number.isSafeInteger(id) || id < 0) throw new Error(`${what}: uid/gid ${id} is not a non-negative integer`);
  }
  if (!Number.isFinite(entry.mtime) || Math.abs(entry.mtime) >= 1e15) throw new Error(`${what}: mtime ${entry.mtime} is out of range`);
  if (entry.type === 'file') {
    const length = content?.length ?? 0;
    if (length !== entry.size) throw new Error(`${what}: entry size ${entry.size} but ${length} bytes of content`);
  }
  if ((entry.type === 'symlink' || entry.type === 'hardlink') && !entry.linkname) throw new Error(`${what}: ${entry.type} without a target`);
  if (entry.type === 'hardlink' && normalizePath(entry.linkname!) !== entry.linkname) {
    throw new Error(`${what}: hard link target ${entry.linkname} is not absolute and normalised`);
  }
  if (entry.type === 'char' || entry.type === 'block') {
    for (const n of [entry.devmajor ?? 0, entry.devminor ?? 0]) {
      if (!Number.isInteger(n) || n < 0 || n > OCTAL_MAX[8]) throw new Error(`${what}: device number ${n} does not fit a tar header`);
    }
  }
}

const TYPEFLAGS: Readonly<Record<EntryType, string>> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};

/**
 * Names are relative, as `docker export` writes them: 'usr/bin/ls', directories with a trailing
 * '/', the root as './' (Docker's unpacker skips '.', GNU tar applies it to the target directory).
 */
function archiveName(entry: FsEntry): string {
  if (entry.path === '/') return './';
  const rel = entry.path.slice(1);
  return entry.type === 'dir' ? `${rel}/` : rel;
}

function entryChunks({ entry, content }: TarInput): Buffer[] {
  const name = archiveName(entry);
  const linkname = entry.type === 'symlink' ? entry.linkname! : entry.type === 'hardlink' ? entry.linkname!.slice(1) : '';
  const size = entry.type === 'file' ? entry.size : 0;
  const pax = new Map<string, string>();

  const split = splitUstarName(name);
  if (!split) pax.set('path', name);
  if (Buffer.byteLength(linkname) > F.linkname[1]) pax.set('linkpath', linkname);
  if (entry.uid > OCTAL_MAX[8]) pax.set('uid', String(entry.uid));
  if (entry.gid > OCTAL_MAX[8]) pax.set('gid', String(entry.gid));
  if (size > OCTAL_MAX[12]) pax.set('size', String(size));
  if (!Number.isInteger(entry.mtime) || entry.mtime < 0 || entry.mtime > OCTAL_MAX[12]) pax.set('mtime', String(entry.mtime));

  const header = encodeHeader({
    name: split?.name ?? truncateUtf8(name, F.name[1]),
    prefix: split?.prefix ?? '',
    mode: entry.mode,
    uid: Math.min(entry.uid, OCTAL_MAX[8]),
    gid: Math.min(entry.gid, OCTAL_MAX[8]),
    size: Math.min(size, OCTAL_MAX[12]),
    mtime: Math.max(0, Math.min(Math.floor(entry.mtime), OCTAL_MAX[12])),
    typeflag: TYPEFLAGS[entry.type],
    linkname: truncateUtf8(linkname, F.linkname[1]),
    devmajor: entry.devmajor ?? 0,
    devminor: entry.devminor ?? 0,
  });
  const chunks: Buffer[] = [];
  if (pax.size > 0) chunks.push(...paxChunks(name, pax));
  chunks.push(header);
  if (size > 0) chunks.push(content!, Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK));
  return chunks;
}

/** An 'x' header and its records, keys in a fixed (sorted) order. */
function paxChunks(name: string, records: Map<string, string>): Buffer[] {
  const body = Buffer.concat(
    [...records]
      .sort(([a], [b]) => comparePaths(a, b))
      .map(([key, value]) => {
        const text = ` ${key}=${value}\n`;
        const bytes = Buffer.byteLength(text);
        let digits = 1;
        while (String(bytes + digits).length > digits) digits++;
        return Buffer.from(`${bytes + digits}${text}`);
      }),
  );
  // GNU tar's default name for the header itself is '%d/PaxHeaders/%f'; keep it ASCII and fixed.
  const base = name.replace(/\/$/, '').split('/').pop()!.replace(/[^\x21-\x7e]/g, '_') || '.';
  const header = encodeHeader({
    name: `PaxHeaders/${base}`.slice(0, F.name[1]),
    prefix: '',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: body.length,
    mtime: 0,
    typeflag: 'x',
    linkname: '',
    devmajor: 0,
    devminor: 0,
  });
  return [header, body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK)];
}

/** Splits a name into ustar prefix (≤155 bytes) and name (≤100 bytes) at a '/', if it can be. */
function splitUstarName(name: string): { prefix: string; name: string } | undefined {
  const bytes = Buffer.from(name);
  if (bytes.length <= F.name[1]) return { prefix: '', name };
  // '/' never occurs inside a multi-byte UTF-8 sequence, so splitting the bytes there is safe.
  for (let i = bytes.indexOf(0x2f); i >= 0; i = bytes.indexOf(0x2f, i + 1)) {
    if (i > F.prefix[1]) return undefined;
    const rest = bytes.length - i - 1;
    if (i > 0 && rest > 0 && rest <= F.name[1]) return { prefix: bytes.toString('utf8', 0, i), name: bytes.toString('utf8', i + 1) };
  }
  return undefined;
}

interface HeaderValues {
  name: string;
  prefix: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  devmajor: number;
  devminor: number;
}

function encodeHeader(h: HeaderValues): Buffer {
  const block = Buffer.alloc(BLOCK);
  const text = (f: Field, value: string) => block.write(value, F[f][0], F[f][1], 'utf8');
  const octal = (f: Field, value: number) => text(f, `${value.toString(8).padStart(F[f][1] - 1, '0')}\0`);
  text('name', h.name);
  octal('mode', h.mode);
  octal('uid', h.uid);
  octal('gid', h.gid);
  octal('size', h.size);
  octal('mtime', h.mtime);
  text('typeflag', h.typeflag);
  text('linkname', h.linkname);
  text('magic', 'ustar\0');
  text('version', '00');
  // uname and gname stay empty: ownership is numeric, and Docker ignores names anyway.
  octal('devmajor', h.devmajor);
  octal('devminor', h.devminor);
  text('prefix', h.prefix);
  block.fill(0x20, F.checksum[0], F.checksum[0] + F.checksum[1]);
  let sum = 0;
  for (const b of block) sum += b;
  text('checksum', `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

function truncateUtf8(s: string, max: number): string {
  const bytes = Buffer.from(s);
  if (bytes.length <= max) return s;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--; // do not cut a character in two
  return bytes.toString('utf8', 0, end);
}

const comparePaths = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Depth-first order, as `tar -c` and `docker export` walk a tree: '/a', '/a/b', '/a-b'. Each
 * directory's subtree is contiguous, so GNU tar can set a directory's mtime once it has left it
 * (plain string order would put '/a-b' between '/a' and '/a/b').
 */
const compareTreeOrder = (a: string, b: string) => comparePaths(a.replaceAll('/', '\0'), b.replaceAll('/', '\0'));
