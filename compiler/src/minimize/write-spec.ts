/**
 * `--write`: the result into the service's spec, by editing the frontmatter text in place. Only
 * the values that change are rewritten (`seccomp.baseline` and `seccomp.allow`, `capabilities.add`,
 * or `strip.packages` and `strip.files`, the files as a block list of one path a line), located
 * with js-yaml's event offsets; every other byte — key order, comments, the Markdown body — stays
 * as it was. The edited frontmatter is parsed again and must hold exactly the old data with the
 * change applied, or nothing is written. Pure.
 */
import { CORE_SCHEMA, EVENT_ID, SCALAR_STYLE, constructFromEvents, getScalarValue, parseEvents, type Event } from 'js-yaml';

export type SpecChange =
  | { readonly what: 'syscalls'; readonly allow: readonly string[] }
  | { readonly what: 'caps'; readonly add: readonly string[] }
  | { readonly what: 'files'; readonly packages: readonly string[]; readonly files: readonly string[] };

interface Node {
  readonly kind: 'map' | 'seq' | 'scalar';
  readonly start: number;
  end: number;
  readonly flow: boolean;
  /** For mapping entries: key node → value node, in order. */
  readonly entries: { key: Node; keyName: string; value: Node }[];
  readonly items: Node[];
}

/** Builds a small tree with source ranges from js-yaml's events (end-exclusive offsets). */
function buildTree(events: readonly Event[], source: string): Node | undefined {
  const stack: { node: Node; pendingKey?: { node: Node; name: string } }[] = [];
  let root: Node | undefined;
  const attach = (n: Node) => {
    const top = stack[stack.length - 1];
    if (!top) { root = n; return; }
    if (top.node.kind === 'seq') { top.node.items.push(n); return; }
    if (!top.pendingKey) { top.pendingKey = { node: n, name: n.kind === 'scalar' ? (n as Node & { text?: string }).text ?? '' : '?' }; return; }
    top.node.entries.push({ key: top.pendingKey.node, keyName: top.pendingKey.name, value: n });
    top.pendingKey = undefined;
  };
  for (const e of events) {
    if (e.type === EVENT_ID.MAPPING || e.type === EVENT_ID.SEQUENCE) {
      const n: Node = { kind: e.type === EVENT_ID.MAPPING ? 'map' : 'seq', start: e.start, end: e.start, flow: e.style === 2 || source[e.start] === '[' || source[e.start] === '{', entries: [], items: [] };
      attach(n);
      stack.push({ node: n });
    } else if (e.type === EVENT_ID.SCALAR) {
      const quoted = e.style === SCALAR_STYLE.SINGLE_QUOTED || e.style === SCALAR_STYLE.DOUBLE_QUOTED;
      const n = { kind: 'scalar' as const, start: e.valueStart - (quoted ? 1 : 0), end: e.valueEnd + (quoted ? 1 : 0), flow: false, entries: [], items: [], text: getScalarValue(source, e) };
      attach(n);
    } else if (e.type === EVENT_ID.POP) {
      const top = stack.pop();
      if (!top) continue;
      const n = top.node;
      const last = [...n.entries.flatMap((x) => [x.key, x.value]), ...n.items].reduce((m, c) => Math.max(m, c.end), n.start);
      if (n.flow) {
        const close = source.indexOf(n.kind === 'map' ? '}' : ']', last);
        n.end = close >= 0 ? close + 1 : last;
      } else {
        n.end = last;
      }
    }
  }
  return root;
}

const lineStart = (s: string, i: number) => s.lastIndexOf('\n', i - 1) + 1;
const indentAt = (s: string, i: number) => i - lineStart(s, i);

/**
 * A string as a YAML list item: plain when YAML reads it back as the same string (in a flow list
 * too), else double-quoted (JSON is valid YAML). Words YAML could read as booleans, null or numbers
 * ("true", "null", anything starting with a digit) are quoted as well.
 */
function yamlString(s: string): string {
  const plain = /^[A-Za-z0-9_./@+-]+$/.test(s) && !/^[-.+@]/.test(s) && !/^(?:[0-9]|(?:true|false|null)$)/i.test(s);
  return plain ? s : JSON.stringify(s);
}

/** `[a, b, …]` wrapped before 100 columns; `firstColumn` is where the "[" stands. */
function flowList(names: readonly string[], continuationIndent: number, firstColumn: number): string {
  if (names.length === 0) return '[]';
  const lines: string[] = [];
  let line = '[';
  let column = firstColumn;
  names.forEach((n, i) => {
    const piece = `${yamlString(n)}${i < names.length - 1 ? ',' : ']'}`;
    const sep = line === '[' || line === '' ? '' : ' ';
    if (column + line.length + sep.length + piece.length > 100 && line !== '[' && line !== '') {
      lines.push(line);
      line = '';
      column = continuationIndent;
    }
    line += (line === '[' || line === '' ? '' : ' ') + piece;
  });
  lines.push(line);
  return lines.map((l, i) => (i === 0 ? l : `${' '.repeat(continuationIndent)}${l}`)).join('\n');
}

/** One `- item` line per name, at `indent`: long lists of paths stay readable and diff line by line. */
function blockList(names: readonly string[], indent: number): string {
  return names.map((n) => `${' '.repeat(indent)}- ${yamlString(n)}`).join('\n');
}

interface Edit { readonly from: number; readonly to: number; readonly text: string }

/** A new value: a scalar, or a list written as `[a, b]` or, with `block`, as `- a` lines. */
interface Value { readonly scalar?: string; readonly list?: readonly string[]; readonly block?: boolean }

const isBlock = (v: Value) => v.block === true && (v.list?.length ?? 0) > 0;

/** What follows `key:` for a key indented by `indent`: " value", or the block list on the next lines. */
function afterColon(v: Value, indent: number, key: string): string {
  if (isBlock(v)) return `\n${blockList(v.list!, indent + 2)}`;
  return ` ${v.scalar ?? flowList(v.list ?? [], indent + 2, indent + key.length + 2)}`;
}

function applyEdits(source: string, edits: readonly Edit[]): string {
  let out = source;
  for (const e of [...edits].sort((a, b) => b.from - a.from)) out = out.slice(0, e.from) + e.text + out.slice(e.to);
  return out;
}

/**
 * The edits that set `parent.<key> = <value>` (and other scalar keys) inside a top-level block
 * mapping, adding the mapping at the end when it is absent.
 */
function setKeys(yaml: string, root: Node, parent: string, values: readonly (readonly [string, Value])[]): Edit[] | string {
  const entry = root.entries.find((e) => e.keyName === parent);
  if (!entry) {
    const lines = values.map(([k, v]) => `  ${k}:${afterColon(v, 2, k)}`);
    const at = yaml.length;
    const sep = yaml.endsWith('\n') || yaml.length === 0 ? '' : '\n';
    return [{ from: at, to: at, text: `${sep}${parent}:\n${lines.join('\n')}\n` }];
  }
  const map = entry.value;
  if (map.kind !== 'map' || map.flow || map.entries.length === 0) {
    // A flow mapping (or an empty value): rewritten as a block mapping with the same keys.
    if (map.kind !== 'map' && !(map.kind === 'scalar' && (map as Node & { text?: string }).text === '')) return `${parent} is not a mapping`;
    const indent = indentAt(yaml, entry.key.start) + 2;
    const pad = ' '.repeat(indent);
    const kept = map.entries.filter((e) => !values.some(([k]) => k === e.keyName)).map((e) => `${pad}${e.keyName}: ${yaml.slice(e.value.start, e.value.end)}`);
    const lines = [...values.map(([k, v]) => `${pad}${k}:${afterColon(v, indent, k)}`), ...kept];
    const colon = yaml.indexOf(':', entry.key.end);
    const to = map.kind === 'map' ? map.end : colon + 1;
    return [{ from: colon, to, text: `:\n${lines.join('\n')}` }];
  }
  const edits: Edit[] = [];
  const indent = indentAt(yaml, map.entries[0]!.key.start);
  let insertAfter = lineStart(yaml, map.entries[0]!.key.start);
  const inserts: string[] = [];
  for (const [key, v] of values) {
    const found = map.entries.find((e) => e.keyName === key);
    if (found) {
      edits.push(replaceValue(yaml, found, key, v));
      const nl = yaml.indexOf('\n', Math.max(found.key.end, found.value.end));
      insertAfter = nl < 0 ? yaml.length : nl + 1;
    } else {
      inserts.push(`${' '.repeat(indent)}${key}:${afterColon(v, indent, key)}\n`);
    }
  }
  if (inserts.length) edits.push({ from: insertAfter, to: insertAfter, text: inserts.join('') });
  return edits;
}

/**
 * The edit that replaces one entry's value. A block list replaces from the line its old value
 * starts on (so a comment after `key:` stays), or from the colon when the old value is on the key's line.
 */
function replaceValue(yaml: string, found: { key: Node; value: Node }, key: string, v: Value): Edit {
  const indent = indentAt(yaml, found.key.start);
  const colon = yaml.indexOf(':', found.key.end);
  // An empty value (`key:` and nothing) has no offsets in js-yaml's events (-1).
  if (found.value.start < 0) return { from: colon + 1, to: colon + 1, text: afterColon(v, indent, key) };
  if (!isBlock(v)) return { from: found.value.start, to: found.value.end, text: afterColon(v, indent, key).slice(1) };
  const nextLine = yaml.slice(colon + 1, found.value.start).includes('\n');
  const list = blockList(v.list!, indent + 2);
  return nextLine ? { from: lineStart(yaml, found.value.start), to: found.value.end, text: list } : { from: colon + 1, to: found.value.end, text: `\n${list}` };
}

function parse(yaml: string): { root?: Node; data?: unknown; error?: string } {
  try {
    const events = parseEvents(yaml, { maxDepth: 40 });
    const data = constructFromEvents(events, { source: yaml, schema: CORE_SCHEMA, maxAliases: 0 } as never)[0] ?? null;
    const root = buildTree(events, yaml);
    return { ...(root ? { root } : {}), data };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** Canonical JSON (keys sorted) for comparing data. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

/** Splits a spec into frontmatter YAML and the rest, at the "---" lines. */
export function splitFrontmatter(text: string): { head: string; yaml: string; tail: string } | undefined {
  const open = /^---[ \t]*\r?\n/.exec(text);
  if (!open) return undefined;
  const rest = text.slice(open[0].length);
  const close = /^---[ \t]*$/m.exec(rest);
  if (!close) return undefined;
  return { head: open[0], yaml: rest.slice(0, close.index), tail: rest.slice(close.index) };
}

/** The spec text with the change applied, or why it cannot be applied safely. */
export function applySpecChange(text: string, change: SpecChange): { text: string } | { error: string } {
  const parts = splitFrontmatter(text);
  if (!parts) return { error: 'the spec has no frontmatter between two "---" lines' };
  const before = parse(parts.yaml);
  if (!before.root || before.root.kind !== 'map' || before.error) return { error: `the frontmatter does not parse: ${before.error ?? 'not a mapping'}` };
  const edits = change.what === 'syscalls'
    ? setKeys(parts.yaml, before.root, 'seccomp', [['baseline', { scalar: 'none' }], ['allow', { list: change.allow }]])
    : change.what === 'caps'
      ? setKeys(parts.yaml, before.root, 'capabilities', [['add', { list: change.add }]])
      : setKeys(parts.yaml, before.root, 'strip', [['packages', { list: change.packages }], ['files', { list: change.files, block: true }]]);
  if (typeof edits === 'string') return { error: edits };
  const yaml = applyEdits(parts.yaml, edits);
  const after = parse(yaml);
  if (after.error) return { error: `the edited frontmatter does not parse (a bug; nothing written): ${after.error}` };
  const expected = structuredClone(before.data) as Record<string, Record<string, unknown> | undefined>;
  if (change.what === 'syscalls') expected.seccomp = { ...(expected.seccomp ?? {}), baseline: 'none', allow: [...change.allow] };
  else if (change.what === 'caps') expected.capabilities = { ...(expected.capabilities ?? {}), add: [...change.add] };
  else expected.strip = { ...(expected.strip ?? {}), packages: [...change.packages], files: [...change.files] };
  if (canonical(after.data) !== canonical(expected)) return { error: 'the edited frontmatter does not hold the expected data (a bug; nothing written)' };
  return { text: parts.head + yaml + parts.tail };
}

/** A unified diff of two texts (line based, LCS), with `label` as the file name. */
export function unifiedDiff(a: string, b: string, label: string, context = 3): string {
  const x = a.split('\n');
  const y = b.split('\n');
  const n = x.length;
  const m = y.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: { op: ' ' | '-' | '+'; line: string; ai: number; bi: number }[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) { ops.push({ op: ' ', line: x[i]!, ai: i, bi: j }); i++; j++; }
    else if (i < n && (j >= m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) { ops.push({ op: '-', line: x[i]!, ai: i, bi: j }); i++; }
    else { ops.push({ op: '+', line: y[j]!, ai: i, bi: j }); j++; }
  }
  const out = [`--- a/${label}`, `+++ b/${label}`];
  const changes = ops.map((o, k) => (o.op === ' ' ? -1 : k)).filter((k) => k >= 0);
  let h = 0;
  while (h < changes.length) {
    let last = h;
    while (last + 1 < changes.length && changes[last + 1]! - changes[last]! <= 2 * context + 1) last++;
    const from = Math.max(0, changes[h]! - context);
    const to = Math.min(ops.length, changes[last]! + context + 1);
    const hunk = ops.slice(from, to);
    out.push(`@@ -${hunk[0]!.ai + 1},${hunk.filter((o) => o.op !== '+').length} +${hunk[0]!.bi + 1},${hunk.filter((o) => o.op !== '-').length} @@`);
    for (const o of hunk) out.push(`${o.op}${o.line}`);
    h = last + 1;
  }
  return out.length > 2 ? `${out.join('\n')}\n` : '';
}
