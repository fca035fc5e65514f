/**
 * Pure decoders for what the Docker API sends back: the multiplexed stdout/stderr stream of a
 * non-TTY exec or log, and the tar archive of `GET /containers/{id}/archive`.
 */

export interface StreamFrame {
  readonly stream: 'stdin' | 'stdout' | 'stderr';
  readonly data: Buffer;
}

const STREAM_NAMES = ['stdin', 'stdout', 'stderr'] as const;

/**
 * Splits Docker's multiplexed stream: frames of an 8-byte header (stream type, 3 zero bytes, a
 * big-endian 32-bit length) and that many bytes. A trailing partial frame is kept as stdout
 * (an engine may cut a stream short); bytes not in frame format at all are returned as stdout.
 */
export function demuxDockerStream(buf: Buffer): StreamFrame[] {
  const frames: StreamFrame[] = [];
  let at = 0;
  while (at < buf.length) {
    const type = buf[at];
    if (buf.length - at < 8 || type === undefined || type > 2 || buf[at + 1] !== 0 || buf[at + 2] !== 0 || buf[at + 3] !== 0) {
      frames.push({ stream: 'stdout', data: buf.subarray(at) });
      break;
    }
    const size = buf.readUInt32BE(at + 4);
    const data = buf.subarray(at + 8, Math.min(buf.length, at + 8 + size));
    frames.push({ stream: STREAM_NAMES[type]!, data });
    at += 8 + size;
  }
  return frames;
}

export function splitStreams(frames: readonly StreamFrame[]): { stdout: string; stderr: string } {
  const pick = (s: StreamFrame['stream']) => Buffer.concat(frames.filter((f) => f.stream === s).map((f) => f.data)).toString('utf8');
  return { stdout: pick('stdout'), stderr: pick('stderr') };
}

/** Keeps the last `n` lines of a text (without a trailing empty line). */
export function lastLines(text: string, n: number): string {
  const lines = text.replace(/\n$/, '').split('\n');
  return lines.slice(Math.max(0, lines.length - n)).join('\n');
}

/** One line of a program's output as evidence quotes it: trailing blanks off, cut at 300 characters. */
export function quoteLine(line: string): string {
  const l = line.trimEnd();
  return l.length > 300 ? `${l.slice(0, 300)}…` : l;
}

export interface TarEntry {
  readonly name: string;
  /** '0' file, '2' symlink, '5' directory, … (ustar typeflag). */
  readonly type: string;
  readonly linkName: string;
  readonly data: Buffer;
}

function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('utf8');
}

function octal(b: Buffer): number {
  // GNU base-256 encoding for large sizes: high bit of the first byte set.
  if (b[0] !== undefined && b[0] & 0x80) {
    let v = 0;
    for (let i = 1; i < b.length; i++) v = v * 256 + (b[i] ?? 0);
    return v;
  }
  const s = cString(b).trim();
  return s ? parseInt(s, 8) : 0;
}

/**
 * Reads a tar archive's entries (ustar, GNU long names, pax path headers): enough for the
 * single-file archives the engine returns. Throws on a truncated archive.
 */
export function readTar(buf: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let at = 0;
  let longName: string | undefined;
  let longLink: string | undefined;
  let paxPath: string | undefined;
  while (at + 512 <= buf.length) {
    const header = buf.subarray(at, at + 512);
    if (header.every((x) => x === 0)) break;
    const size = octal(header.subarray(124, 136));
    const type = String.fromCharCode(header[156] || 0x30);
    const start = at + 512;
    if (start + size > buf.length) throw new Error('the archive is truncated');
    const data = buf.subarray(start, start + size);
    at = start + Math.ceil(size / 512) * 512;
    if (type === 'L') { longName = cString(data); continue; }
    if (type === 'K') { longLink = cString(data); continue; }
    if (type === 'x') { paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'))?.[1]; continue; }
    if (type === 'g') continue;
    const prefix = cString(header.subarray(345, 500));
    const plain = cString(header.subarray(0, 100));
    const name = paxPath ?? longName ?? (prefix ? `${prefix}/${plain}` : plain);
    entries.push({ name, type, linkName: longLink ?? cString(header.subarray(157, 257)), data });
    longName = longLink = paxPath = undefined;
  }
  return entries;
}
