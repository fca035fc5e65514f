/**
 * Phase 1, parse: one spec file's bytes → frontmatter data with a position map, and the Markdown
 * body split into sections. Pure: the bytes come in, nothing is read here.
 */
import type { Root, RootContent } from 'mdast';
import remarkFrontmatter from 'remark-frontmatter';
import remarkParse from 'remark-parse';
import { unified } from 'unified';
import { diagnostic, type Diagnostic } from '../diagnostics/diagnostic.ts';
import { LineIndex } from './position.ts';
import { parseYaml, type PositionMap } from './yaml.ts';

/** Spec files larger than this are refused (HS1002). */
export const MAX_SPEC_BYTES = 256 * 1024;

export interface SourceFile {
  /** Path as shown to people: relative to the working folder, with forward slashes. */
  readonly path: string;
  readonly bytes: Uint8Array;
  /** Set when the file could not be read; reported as HS1001. */
  readonly readError?: string;
}

export interface BodySection {
  /** Heading text, or '' for the text before the first heading. */
  readonly heading: string;
  readonly depth: number;
  /** The section's Markdown, without its heading line. */
  readonly markdown: string;
}

export interface ParsedSpec {
  readonly file: SourceFile;
  readonly text: string;
  readonly data: unknown;
  readonly positions: PositionMap;
  /** Offset of the frontmatter's first character in `text`. */
  readonly frontmatterOffset: number;
  readonly lines: LineIndex;
  readonly body: string;
  readonly title: string;
  readonly sections: readonly BodySection[];
}

const processor = unified().use(remarkParse).use(remarkFrontmatter, ['yaml']);
const bodyProcessor = unified().use(remarkParse);

export function decodeSpecText(file: SourceFile): { text: string } | { diagnostic: Diagnostic } {
  const at = { file: file.path, line: 1, column: 1 };
  if (file.readError !== undefined) {
    return { diagnostic: diagnostic('HS1001', at, `the file cannot be read: ${file.readError}`, 'make it a readable file (or a link to one), or remove it from the stack folder') };
  }
  if (file.bytes.length > MAX_SPEC_BYTES) {
    return { diagnostic: diagnostic('HS1002', at, `the file is larger than the limit of ${MAX_SPEC_BYTES} bytes (256 KiB)`, 'split the reasoning into shorter sections or check that this is the right file') };
  }
  if (file.bytes.length === 0) {
    return { diagnostic: diagnostic('HS1004', at, 'the file is empty', 'start it with a frontmatter block: ---, hardspec: 1, kind: service, …, ---') };
  }
  const nul = file.bytes.indexOf(0);
  let text: string;
  try {
    if (nul >= 0) throw new Error('NUL');
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(file.bytes);
  } catch {
    const offset = nul >= 0 ? nul : firstInvalidUtf8(file.bytes);
    const where = positionOfByte(file.bytes, offset);
    return { diagnostic: diagnostic('HS1003', { file: file.path, ...where }, `the file is not UTF-8 text (byte ${offset} is ${nul === offset ? 'a NUL byte' : 'not valid UTF-8'})`, 'save the spec as UTF-8 text') };
  }
  // CRLF and a BOM are accepted: normalise so they compile to the same artifacts as plain files.
  return { text: text.replace(/\r\n?/g, '\n') };
}

export function parseSpecFile(file: SourceFile): { spec?: ParsedSpec; diagnostics: Diagnostic[] } {
  const decoded = decodeSpecText(file);
  if ('diagnostic' in decoded) return { diagnostics: [decoded.diagnostic] };
  const { text } = decoded;
  const lines = new LineIndex(text);
  const at = (offset: number) => ({ file: file.path, ...lines.position(offset) });

  if (text.trim() === '') {
    return { diagnostics: [diagnostic('HS1004', at(0), 'the file holds only white space', 'start it with a frontmatter block: ---, hardspec: 1, kind: service, …, ---')] };
  }
  if (!/^---[ \t]*\n/.test(text)) {
    return { diagnostics: [diagnostic('HS1005', at(0), 'the file does not start with a "---" line, so it has no YAML frontmatter', 'put the facts between two "---" lines at the very top of the file')] };
  }
  // Only the frontmatter block goes through remark here: the body is parsed on first use (the site
  // needs its sections, the compiler does not), which halves the cost of a compile.
  const closing = /\n---[ \t]*(?:\n|$)/g;
  closing.lastIndex = text.indexOf('\n');
  const close = closing.exec(text);
  const frontmatterEnd = close ? close.index + close[0].length : text.length;
  const tree = processor.parse(text.slice(0, frontmatterEnd)) as Root;
  const first = tree.children[0];
  if (!close || !first || first.type !== 'yaml') {
    return { diagnostics: [diagnostic('HS1006', at(0), 'the frontmatter opened here is never closed', 'add a line holding only "---" after the last frontmatter line')] };
  }
  const frontmatterOffset = text.indexOf('\n') + 1;
  const yamlText = first.value;
  const parsed = parseYaml(yamlText);
  if (!parsed.ok) {
    // js-yaml marks a quoted duplicate key inside its quotes; the token starts at the quote.
    const offset = parsed.kind === 'duplicate-key' && /["']/.test(yamlText[parsed.offset - 1] ?? '') ? parsed.offset - 1 : parsed.offset;
    const code = parsed.kind === 'duplicate-key' ? 'HS1009' : parsed.kind === 'unsupported' ? 'HS1010' : 'HS1007';
    // js-yaml's message for a tab in the indentation does not mention the tab; say it plainly.
    const tab = parsed.kind === 'syntax' ? /^ *\t/m.exec(yamlText) : null;
    if (tab && tab.index <= parsed.offset) {
      return { diagnostics: [diagnostic('HS1007', at(frontmatterOffset + tab.index + tab[0].length - 1), 'YAML syntax error: this line is indented with a tab; YAML allows only spaces', 'replace the tab with spaces')] };
    }
    // js-yaml reports an unclosed quote where the frontmatter ends; point at the quote instead.
    const unclosed = parsed.kind === 'syntax' ? /end of the stream within a (double|single) quoted scalar/.exec(parsed.reason) : null;
    if (unclosed) {
      const quote = openingQuote(yamlText, parsed.offset, unclosed[1] === 'double' ? '"' : "'");
      return { diagnostics: [diagnostic('HS1007', at(frontmatterOffset + quote), `YAML syntax error: this ${unclosed[1]} quote is never closed`, `add the closing ${unclosed[1] === 'double' ? '"' : "'"} at the end of the value`)] };
    }
    const message =
      parsed.kind === 'duplicate-key' ? `the key ${keyAt(yamlText, offset)}is already defined in the same mapping`
      : parsed.kind === 'unsupported' ? `specs do not accept ${parsed.reason}`
      : `YAML syntax error: ${parsed.reason}`;
    const hint =
      parsed.kind === 'duplicate-key' ? 'remove one of the two entries'
      : parsed.kind === 'unsupported' ? parsed.hint ?? 'write the value out in full as plain YAML'
      : 'check quotes, colons and indentation on this line and the one before';
    return { diagnostics: [diagnostic(code, at(frontmatterOffset + offset), message, hint)] };
  }
  if (parsed.value === null || typeof parsed.value !== 'object' || Array.isArray(parsed.value)) {
    const valueStart = parsed.positions.get('')?.valueOffset ?? 0;
    return { diagnostics: [diagnostic('HS1008', at(frontmatterOffset + valueStart), `the frontmatter is ${parsed.value === null ? 'empty' : Array.isArray(parsed.value) ? 'a list' : 'a single value'}, not a mapping`, 'write it as "key: value" lines, starting with "hardspec: 1" and "kind: …"')] };
  }
  const body = text.slice(frontmatterEnd).replace(/^\n+/, '');
  let split: { title: string; sections: BodySection[] } | undefined;
  const splitBody = () => (split ??= splitSections((bodyProcessor.parse(body) as Root).children, body));
  return {
    spec: {
      file, text, data: parsed.value, positions: parsed.positions, frontmatterOffset, lines, body,
      get title() { return splitBody().title; },
      get sections() { return splitBody().sections; },
    },
    diagnostics: [],
  };
}

/** Splits the body at headings of depth 2 and deeper; a depth-1 heading is the title. */
function splitSections(nodes: RootContent[], text: string): { title: string; sections: BodySection[] } {
  let title = '';
  const sections: BodySection[] = [];
  let current: { heading: string; depth: number; start: number } | undefined;
  let introStart: number | undefined;
  const close = (end: number) => {
    if (current) {
      sections.push({ heading: current.heading, depth: current.depth, markdown: text.slice(current.start, end).trim() });
    } else if (introStart !== undefined) {
      const markdown = text.slice(introStart, end).trim();
      if (markdown) sections.push({ heading: '', depth: 0, markdown });
    }
  };
  for (const node of nodes) {
    const start = node.position?.start.offset ?? 0;
    const end = node.position?.end.offset ?? start;
    if (node.type === 'heading' && node.depth === 1 && !title && !current) {
      close(start);
      title = text.slice(start, end).replace(/^#\s*/, '').trim();
      introStart = end;
      continue;
    }
    if (node.type === 'heading') {
      close(start);
      introStart = undefined;
      current = { heading: text.slice(start, end).replace(/^#+\s*/, '').replace(/\s*#*\s*$/, ''), depth: node.depth, start: end };
      continue;
    }
    if (!current && introStart === undefined) introStart = start;
  }
  close(text.length);
  return { title, sections };
}

/** The last `quote` before `end` that is not escaped (\" in double quotes), or `end`. */
function openingQuote(yaml: string, end: number, quote: '"' | "'"): number {
  for (let i = Math.min(end, yaml.length) - 1; i >= 0; i--) {
    if (yaml[i] !== quote) continue;
    let backslashes = 0;
    while (quote === '"' && yaml[i - 1 - backslashes] === '\\') backslashes++;
    if (backslashes % 2 === 0) return i;
  }
  return end;
}

/** The key written at `offset` (quoted for the message, with a trailing space), or ''. */
function keyAt(yaml: string, offset: number): string {
  const m = /^("(?:[^"\\\n]|\\.)*"|'(?:[^'\n]|'')*'|[^\s:#][^:\n]*?)[ \t]*:/.exec(yaml.slice(offset));
  if (!m) return '';
  const raw = m[1]!;
  return `${raw.startsWith('"') || raw.startsWith("'") ? raw : JSON.stringify(raw)} `;
}

function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    const len = b < 0x80 ? 1 : b >> 5 === 6 ? 2 : b >> 4 === 14 ? 3 : b >> 3 === 30 ? 4 : 0;
    if (len === 0) return i;
    for (let k = 1; k < len; k++) if (((bytes[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    i += len;
  }
  return 0;
}

function positionOfByte(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let column = 1;
  for (let i = 0; i < offset && i < bytes.length; i++) {
    if (bytes[i] === 10) { line++; column = 1; } else column++;
  }
  return { line, column };
}
