/**
 * Reads what the dynamic loader reads from an ELF file: class, byte order, machine, type, the
 * program interpreter (PT_INTERP) and the dynamic section's DT_NEEDED, DT_RPATH, DT_RUNPATH and
 * DT_SONAME. Pure: bytes in, a value out.
 *
 * The file may be truncated or hostile, so every read is bounds-checked and every loop is bounded
 * by the buffer's length; what cannot be read is recorded in `problems` instead of thrown.
 * Steps, in order (each needs the one before):
 *   1. the ELF header (magic, class, byte order, e_type, e_machine, where the program headers are);
 *   2. the program headers: PT_LOAD (address → file offset), PT_INTERP, PT_DYNAMIC;
 *   3. the dynamic entries, up to DT_NULL;
 *   4. the strings they point at, in the table at DT_STRTAB (a virtual address, mapped to a file
 *      offset through the PT_LOAD segment that contains it).
 */

export type ElfType = 'none' | 'rel' | 'exec' | 'dyn' | 'core' | 'other';

export interface ElfInfo {
  readonly class: 32 | 64;
  readonly endian: 'little' | 'big';
  /** e_machine: 62 x86_64, 183 aarch64, 3 i386, 40 arm, … */
  readonly machine: number;
  /** 'x86_64', 'aarch64', 'i386', 'arm', …, or 'machine-<n>' for one this table does not name. */
  readonly machineName: string;
  readonly type: ElfType;
  /** PT_INTERP, e.g. '/lib64/ld-linux-x86-64.so.2'. */
  readonly interpreter?: string;
  /** DT_NEEDED, in file order. */
  readonly needed: readonly string[];
  /** DT_RPATH and DT_RUNPATH split on ':'; empty elements are dropped. */
  readonly rpath: readonly string[];
  readonly runpath: readonly string[];
  readonly soname?: string;
  /** Parts that could not be read (truncated or inconsistent file), one sentence each. */
  readonly problems: readonly string[];
}

const MACHINE_NAMES: Readonly<Record<number, string>> = {
  3: 'i386', 8: 'mips', 20: 'ppc', 21: 'ppc64', 22: 's390', 40: 'arm', 62: 'x86_64', 183: 'aarch64', 243: 'riscv', 258: 'loongarch',
};

const TYPES: readonly ElfType[] = ['none', 'rel', 'exec', 'dyn', 'core'];

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const PN_XNUM = 0xffff;
const DT_NULL = 0;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_STRSZ = 10;
const DT_SONAME = 14;
const DT_RPATH = 15;
const DT_RUNPATH = 29;

/** The name of an e_machine value, as parseElf reports it. */
export function machineName(machine: number): string {
  return MACHINE_NAMES[machine] ?? `machine-${machine}`;
}

/** True when the bytes start with the ELF magic (cheap test before parsing). */
export function hasElfMagic(buf: Buffer): boolean {
  return buf.length >= 4 && buf[0] === 0x7f && buf[1] === 0x45 && buf[2] === 0x4c && buf[3] === 0x46;
}


/** Bounds-checked reads; every method returns undefined instead of reading past the end. */
class Reader {
  constructor(readonly buf: Buffer, readonly little: boolean, readonly wide: boolean) {}

  u16(off: number): number | undefined {
    if (!this.fits(off, 2)) return undefined;
    return this.little ? this.buf.readUInt16LE(off) : this.buf.readUInt16BE(off);
  }

  u32(off: number): number | undefined {
    if (!this.fits(off, 4)) return undefined;
    return this.little ? this.buf.readUInt32LE(off) : this.buf.readUInt32BE(off);
  }

  /** A 64-bit value as a number, or undefined when it is beyond 2^53 (no buffer is that large). */
  u64(off: number): number | undefined {
    if (!this.fits(off, 8)) return undefined;
    const v = this.little ? this.buf.readBigUInt64LE(off) : this.buf.readBigUInt64BE(off);
    return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined;
  }

  /** An address-sized word: 4 bytes in ELF32, 8 in ELF64. */
  word(off: number): number | undefined {
    return this.wide ? this.u64(off) : this.u32(off);
  }

  fits(off: number, len: number): boolean {
    return Number.isSafeInteger(off) && off >= 0 && len >= 0 && off + len <= this.buf.length;
  }
}

interface Segment { readonly type: number; readonly offset: number; readonly vaddr: number; readonly filesz: number }

/** Parses an ELF file's header and dynamic section; undefined when the bytes are not an ELF file. */
export function parseElf(buf: Buffer): ElfInfo | undefined {
  if (!hasElfMagic(buf) || buf.length < 16) return undefined;
  const klass = buf[4] === 1 ? 32 : buf[4] === 2 ? 64 : undefined;
  const endian = buf[5] === 1 ? 'little' : buf[5] === 2 ? 'big' : undefined;
  if (!klass || !endian) return undefined;
  const r = new Reader(buf, endian === 'little', klass === 64);
  if (buf.length < (klass === 64 ? 64 : 52)) return undefined;
  const eType = r.u16(16)!;
  const machine = r.u16(18)!;
  const problems: string[] = [];
  const segments = readSegments(r, problems);

  let interpreter: string | undefined;
  const interp = segments.find((s) => s.type === PT_INTERP);
  if (interp) {
    if (r.fits(interp.offset, interp.filesz)) interpreter = cString(buf, interp.offset, interp.offset + interp.filesz);
    else problems.push('the PT_INTERP segment lies outside the file');
  }
  const dyn = readDynamic(r, segments, problems);
  return {
    class: klass,
    endian,
    machine,
    machineName: machineName(machine),
    type: TYPES[eType] ?? 'other',
    ...(interpreter !== undefined ? { interpreter } : {}),
    ...dyn,
    problems,
  };
}

/** Step 2: the program headers, as many as the buffer holds. */
function readSegments(r: Reader, problems: string[]): Segment[] {
  const wide = r.wide;
  const phoff = r.word(wide ? 32 : 28);
  const phentsize = r.u16(wide ? 54 : 42) ?? 0;
  let phnum = r.u16(wide ? 56 : 44) ?? 0;
  if (phnum === PN_XNUM) phnum = extendedPhnum(r) ?? 0;
  if (phnum === 0) return [];
  if (phoff === undefined || phentsize < (wide ? 56 : 32)) {
    problems.push('the program header table is malformed');
    return [];
  }
  const fit = phoff < r.buf.length ? Math.floor((r.buf.length - phoff) / phentsize) : 0;
  if (fit < phnum) problems.push(`the file is truncated: ${phnum - fit} of ${phnum} program headers are missing`);
  const out: Segment[] = [];
  for (let i = 0; i < Math.min(phnum, fit); i++) {
    const at = phoff + i * phentsize;
    const type = r.u32(at)!;
    const offset = r.word(at + (wide ? 8 : 4));
    const vaddr = r.word(at + (wide ? 16 : 8));
    const filesz = r.word(at + (wide ? 32 : 16));
    if (offset === undefined || vaddr === undefined || filesz === undefined) continue;
    out.push({ type, offset, vaddr, filesz });
  }
  return out;
}

/** With 0xffff or more program headers, e_phnum is PN_XNUM and the count is in section 0's sh_info. */
function extendedPhnum(r: Reader): number | undefined {
  const shoff = r.word(r.wide ? 40 : 32);
  return shoff === undefined ? undefined : r.u32(shoff + (r.wide ? 44 : 28));
}

interface DynamicInfo { needed: string[]; rpath: string[]; runpath: string[]; soname?: string }

/** Steps 3 and 4: the dynamic entries and the strings they name. */
function readDynamic(r: Reader, segments: readonly Segment[], problems: string[]): DynamicInfo {
  const out: DynamicInfo = { needed: [], rpath: [], runpath: [] };
  const dynamic = segments.find((s) => s.type === PT_DYNAMIC);
  if (!dynamic) return out;
  const entsize = r.wide ? 16 : 8;
  const end = Math.min(dynamic.offset + dynamic.filesz, r.buf.length);
  if (dynamic.offset >= r.buf.length) {
    problems.push('the PT_DYNAMIC segment lies outside the file');
    return out;
  }
  // Tags to string offsets, in file order; a later DT_RPATH/RUNPATH/SONAME wins, as in glibc.
  const refs: { tag: number; value: number }[] = [];
  let strtab: number | undefined;
  let strsz: number | undefined;
  let terminated = false;
  for (let at = dynamic.offset; at + entsize <= end; at += entsize) {
    const tag = r.wide ? smallTag(r, at) : r.u32(at)!;
    const value = r.word(at + (r.wide ? 8 : 4));
    if (tag === DT_NULL) { terminated = true; break; }
    if (value === undefined) continue;
    if (tag === DT_STRTAB) strtab ??= value;
    else if (tag === DT_STRSZ) strsz ??= value;
    else if (tag === DT_NEEDED || tag === DT_RPATH || tag === DT_RUNPATH || tag === DT_SONAME) refs.push({ tag, value });
  }
  if (!terminated) problems.push('the dynamic section has no DT_NULL entry within the file (truncated?)');
  if (refs.length === 0) return out;
  if (strtab === undefined) {
    problems.push('the dynamic section names libraries but has no DT_STRTAB');
    return out;
  }
  const table = fileOffset(segments, strtab);
  if (table === undefined || table >= r.buf.length) {
    problems.push(`DT_STRTAB (0x${strtab.toString(16)}) is not in any PT_LOAD segment within the file`);
    return out;
  }
  const tableEnd = strsz === undefined ? r.buf.length : Math.min(r.buf.length, table + strsz);
  for (const { tag, value } of refs) {
    const s = table + value < tableEnd ? cString(r.buf, table + value, tableEnd, true) : undefined;
    if (s === undefined) {
      problems.push(`a string of the dynamic section (offset ${value}) lies outside the string table`);
      continue;
    }
    if (tag === DT_NEEDED) out.needed.push(s);
    else if (tag === DT_SONAME) out.soname = s;
    else if (tag === DT_RPATH) out.rpath = s.split(':').filter((d) => d !== '');
    else out.runpath = s.split(':').filter((d) => d !== '');
  }
  return out;
}

/** An ELF64 d_tag (signed 64-bit) as a number when it is small enough to matter here, else -1. */
function smallTag(r: Reader, at: number): number {
  const v = r.u64(at);
  return v === undefined || v > 0x7fffffff ? -1 : v;
}

/** Maps a virtual address to a file offset through the PT_LOAD segment that holds it. */
function fileOffset(segments: readonly Segment[], vaddr: number): number | undefined {
  for (const s of segments) {
    if (s.type === PT_LOAD && vaddr >= s.vaddr && vaddr - s.vaddr < s.filesz) return s.offset + (vaddr - s.vaddr);
  }
  return undefined;
}

/**
 * The NUL-terminated string at `start`, read no further than `end`. Without a NUL before `end`
 * it is undefined when `needNul`, else the bytes up to `end` (PT_INTERP's size bounds it).
 */
function cString(buf: Buffer, start: number, end: number, needNul = false): string | undefined {
  const nul = buf.subarray(start, end).indexOf(0);
  if (nul === -1) return needNul ? undefined : buf.toString('utf8', start, end);
  return buf.toString('utf8', start, start + nul);
}
