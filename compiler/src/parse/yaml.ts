/**
 * YAML → plain data plus a position map. js-yaml's event stream carries source offsets, so we walk
 * it once, recording for every JSON-pointer path (the form ajv reports in `instancePath`) where its
 * key and its value start. Validation errors are then mapped back to file:line:column exactly,
 * instead of guessing the line from the top-level key.
 */
import {
  CORE_SCHEMA,
  EVENT_ID,
  SCALAR_STYLE,
  constructFromEvents,
  getScalarValue,
  parseEvents,
  type Event,
  type YAMLException,
} from 'js-yaml';

export interface PathPosition {
  /** Offset of the key (for mapping entries) or of the item (for sequence entries). */
  readonly keyOffset: number;
  /** Offset where the value starts. */
  readonly valueOffset: number;
}

export type PositionMap = ReadonlyMap<string, PathPosition>;

export type YamlResult =
  | { ok: true; value: unknown; positions: PositionMap }
  | { ok: false; kind: 'syntax' | 'duplicate-key' | 'unsupported'; offset: number; reason: string; hint?: string };

export function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function parseYaml(source: string): YamlResult {
  let events: Event[];
  try {
    events = parseEvents(source, { maxDepth: 40 });
  } catch (e) {
    return yamlFailure(e);
  }
  const unsupported = findUnsupported(events, source);
  if (unsupported) return { ok: false, kind: 'unsupported', ...unsupported };
  let value: unknown;
  try {
    const values = constructFromEvents(events, { source, schema: CORE_SCHEMA, maxAliases: 0 } as never);
    value = values[0] ?? null;
  } catch (e) {
    return yamlFailure(e);
  }
  const { map, mergeKeyOffset } = buildPositionMap(events, source);
  if (mergeKeyOffset !== undefined) {
    return { ok: false, kind: 'unsupported', offset: mergeKeyOffset, reason: 'YAML merge keys (<<)', hint: 'write the keys out in full instead of merging them in with <<' };
  }
  return { ok: true, value, positions: map };
}

/** The first YAML feature specs refuse (several documents, aliases, tags, anchors), if any. */
function findUnsupported(events: readonly Event[], source: string): { offset: number; reason: string; hint: string } | undefined {
  if (events.filter((e) => e.type === EVENT_ID.DOCUMENT).length > 1) {
    // Point at the separator ("---" or "...") that starts or ends the first document.
    const separator = /^(---|\.\.\.)(?=\s|$)/m.exec(source);
    return { offset: separator?.index ?? 0, reason: 'several YAML documents in one frontmatter', hint: 'keep one document between the two "---" lines: remove this separator line' };
  }
  for (const e of events) {
    // anchorStart is the name's first character; the token starts one before, at "*" or "&".
    if (e.type === EVENT_ID.ALIAS) {
      return { offset: e.anchorStart - 1, reason: 'YAML aliases (*name)', hint: 'write the value out in full where it is used' };
    }
    if ((e.type === EVENT_ID.SCALAR || e.type === EVENT_ID.MAPPING || e.type === EVENT_ID.SEQUENCE) && e.tagStart >= 0) {
      return { offset: e.tagStart, reason: `the YAML tag ${source.slice(e.tagStart, e.tagEnd)}`, hint: 'remove the tag and write the value as plain YAML' };
    }
    if ((e.type === EVENT_ID.SCALAR || e.type === EVENT_ID.MAPPING || e.type === EVENT_ID.SEQUENCE) && e.anchorStart >= 0) {
      return { offset: e.anchorStart - 1, reason: 'YAML anchors (&name)', hint: 'remove the anchor and write the value out in full where it is used' };
    }
  }
  return undefined;
}

function yamlFailure(e: unknown): YamlResult {
  const err = e as YAMLException & { mark?: { position?: number } };
  const reason = String(err.reason ?? err.message ?? e);
  const offset = err.mark?.position ?? 0;
  if (/duplicat\w* (mapping )?key/i.test(reason)) return { ok: false, kind: 'duplicate-key', offset, reason };
  if (/merge/i.test(reason)) return { ok: false, kind: 'unsupported', offset, reason };
  return { ok: false, kind: 'syntax', offset, reason };
}

interface Frame {
  kind: 'map' | 'seq';
  path: string;
  index: number;
  /** For mappings: the pending key (after a key scalar, before its value). */
  pendingKey?: { name: string; offset: number };
}

function buildPositionMap(events: readonly Event[], source: string): { map: Map<string, PathPosition>; mergeKeyOffset?: number } {
  const map = new Map<string, PathPosition>();
  let mergeKeyOffset: number | undefined;
  const stack: Frame[] = [];

  // A quoted scalar's valueStart is inside its quotes; the token people see starts at the quote.
  const startOf = (e: Event): number =>
    e.type === EVENT_ID.SCALAR
      ? e.valueStart - (e.style === SCALAR_STYLE.SINGLE_QUOTED || e.style === SCALAR_STYLE.DOUBLE_QUOTED ? 1 : 0)
      : e.type === EVENT_ID.MAPPING || e.type === EVENT_ID.SEQUENCE ? e.start : 0;

  /** Called for each node event: returns the path of the node being opened, or undefined for keys. */
  const place = (e: Event): string | undefined => {
    const top = stack[stack.length - 1];
    if (!top) {
      map.set('', { keyOffset: startOf(e), valueOffset: startOf(e) });
      return '';
    }
    if (top.kind === 'seq') {
      const path = `${top.path}/${top.index++}`;
      map.set(path, { keyOffset: startOf(e), valueOffset: startOf(e) });
      return path;
    }
    if (!top.pendingKey) {
      // The decoded key (quotes and escapes resolved), as ajv's instancePath spells it.
      const name = e.type === EVENT_ID.SCALAR ? getScalarValue(source, e) : '?';
      // The core schema reads << as a plain key; it is refused like the merge it looks like.
      if (name === '<<' && e.type === EVENT_ID.SCALAR && e.style === SCALAR_STYLE.PLAIN) mergeKeyOffset ??= startOf(e);
      top.pendingKey = { name, offset: startOf(e) };
      return undefined;
    }
    const path = `${top.path}/${escapePointer(top.pendingKey.name)}`;
    map.set(path, { keyOffset: top.pendingKey.offset, valueOffset: startOf(e) });
    top.pendingKey = undefined;
    return path;
  };

  let keyDepth = 0; // > 0 while inside a complex (non-scalar) key, which we do not map
  for (const e of events) {
    switch (e.type) {
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        if (keyDepth > 0) { keyDepth++; break; }
        const path = place(e);
        if (path === undefined) { keyDepth = 1; break; }
        stack.push({ kind: e.type === EVENT_ID.MAPPING ? 'map' : 'seq', path, index: 0 });
        break;
      }
      case EVENT_ID.SCALAR:
      case EVENT_ID.ALIAS:
        if (keyDepth === 0) place(e);
        break;
      case EVENT_ID.POP:
        if (keyDepth > 0) { keyDepth--; if (keyDepth === 0) { const top = stack[stack.length - 1]; if (top) top.pendingKey = { name: '?', offset: 0 }; } break; }
        stack.pop();
        break;
      default:
        break;
    }
  }
  return { map, mergeKeyOffset };
}
