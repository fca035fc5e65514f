/**
 * YAML → plain data plus a position map. js-yaml's event stream carries source offsets, so we walk
 * it once, recording for every JSON-pointer path (the form ajv reports in `instancePath`) where its
 * key and its value start. Validation errors are then mapped back to file:line:column exactly,
 * instead of guessing the line from the top-level key.
 */
import {
  CORE_SCHEMA,
  EVENT_ID,
  constructFromEvents,
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
  | { ok: false; kind: 'syntax' | 'duplicate-key' | 'unsupported'; offset: number; reason: string };

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
  const docs = events.filter((e) => e.type === EVENT_ID.DOCUMENT).length;
  if (docs > 1) {
    return { ok: false, kind: 'unsupported', offset: 0, reason: 'several YAML documents in one frontmatter' };
  }
  for (const e of events) {
    if (e.type === EVENT_ID.ALIAS) {
      return { ok: false, kind: 'unsupported', offset: e.anchorStart, reason: 'YAML aliases (*name)' };
    }
    if ((e.type === EVENT_ID.SCALAR || e.type === EVENT_ID.MAPPING || e.type === EVENT_ID.SEQUENCE) && e.tagStart >= 0) {
      return { ok: false, kind: 'unsupported', offset: e.tagStart, reason: `the YAML tag ${source.slice(e.tagStart, e.tagEnd)}` };
    }
    if ((e.type === EVENT_ID.SCALAR || e.type === EVENT_ID.MAPPING || e.type === EVENT_ID.SEQUENCE) && e.anchorStart >= 0) {
      return { ok: false, kind: 'unsupported', offset: e.anchorStart, reason: 'YAML anchors (&name)' };
    }
  }
  let value: unknown;
  try {
    const values = constructFromEvents(events, { source, schema: CORE_SCHEMA, maxAliases: 0 } as never);
    value = values[0] ?? null;
  } catch (e) {
    return yamlFailure(e);
  }
  return { ok: true, value, positions: buildPositionMap(events, source) };
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

function buildPositionMap(events: readonly Event[], source: string): Map<string, PathPosition> {
  const map = new Map<string, PathPosition>();
  const stack: Frame[] = [];

  const startOf = (e: Event): number =>
    e.type === EVENT_ID.SCALAR ? e.valueStart : e.type === EVENT_ID.MAPPING || e.type === EVENT_ID.SEQUENCE ? e.start : 0;

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
      const name = e.type === EVENT_ID.SCALAR ? source.slice(e.valueStart, e.valueEnd) : '?';
      top.pendingKey = { name: unquoteKey(name), offset: startOf(e) };
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
  return map;
}

/** Keys arrive as raw source slices; quoted keys need their quotes (and simple escapes) removed. */
function unquoteKey(raw: string): string {
  if (raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2) {
    try { return JSON.parse(raw) as string; } catch { return raw.slice(1, -1); }
  }
  if (raw.startsWith("'") && raw.endsWith("'") && raw.length >= 2) return raw.slice(1, -1).replace(/''/g, "'");
  return raw;
}
