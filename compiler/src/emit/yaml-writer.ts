/**
 * A small, deterministic YAML writer for the compose file. Keys keep the order the emitter built
 * them in (moby's rule: write from a typed value, so field order is fixed). Strings are plain only
 * when no YAML 1.1 or 1.2 reader could take them for anything else (docker-compose 1.29 reads YAML
 * 1.1, where `on`, `no` and `0755` are not strings); otherwise they are double-quoted with JSON
 * escapes, which every YAML reader accepts.
 */
export type YamlValue = string | number | boolean | null | readonly YamlValue[] | { readonly [k: string]: YamlValue | undefined };

const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./@+-]*$/;
const YAML11_KEYWORDS = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~)$/;

export function yamlString(s: string): string {
  return PLAIN.test(s) && !YAML11_KEYWORDS.test(s) ? s : JSON.stringify(s);
}

function scalar(v: string | number | boolean | null): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return yamlString(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`cannot write ${v} to YAML`);
    return String(v);
  }
  return v ? 'true' : 'false';
}

const isScalar = (v: YamlValue): v is string | number | boolean | null => v === null || typeof v !== 'object';

/** Lists of scalars that fit on one line are written in flow style: [a, b]. */
function flowList(v: readonly YamlValue[]): string | undefined {
  if (!v.every(isScalar)) return undefined;
  const s = `[${v.map((x) => scalar(x as string)).join(', ')}]`;
  return s.length <= 80 ? s : undefined;
}

export function toYaml(value: YamlValue, indent = 0): string {
  const pad = ' '.repeat(indent);
  if (isScalar(value)) return `${pad}${scalar(value)}\n`;
  if (Array.isArray(value)) {
    if (value.length === 0) return `${pad}[]\n`;
    return value.map((item) => {
      if (isScalar(item)) return `${pad}- ${scalar(item)}\n`;
      const inner = toYaml(item, indent + 2);
      return `${pad}- ${inner.slice(indent + 2)}`;
    }).join('');
  }
  const entries = Object.entries(value as Record<string, YamlValue | undefined>).filter(([, v]) => v !== undefined) as [string, YamlValue][];
  if (entries.length === 0) return `${pad}{}\n`;
  return entries.map(([k, v]) => {
    const key = yamlString(k);
    if (isScalar(v)) return `${pad}${key}: ${scalar(v)}\n`;
    if (Array.isArray(v)) {
      const flow = flowList(v);
      if (flow !== undefined) return `${pad}${key}: ${flow}\n`;
      return `${pad}${key}:\n${toYaml(v, indent + 2)}`;
    }
    if (Object.keys(v).length === 0) return `${pad}${key}: {}\n`;
    return `${pad}${key}:\n${toYaml(v, indent + 2)}`;
  }).join('');
}
