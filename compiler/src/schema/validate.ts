/**
 * Phase 2, schema: the frontmatter is validated against spec.schema.json before any other code
 * looks at it, so malformed shapes never reach code that assumes them (compose-go's rule). ajv's
 * errors are folded into one diagnostic per problem and mapped back to file:line:column through the
 * parser's position map.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { diagnostic, type Diagnostic, type Location } from '../diagnostics/diagnostic.ts';
import { didYouMean } from '../diagnostics/suggest.ts';
import type { ParsedSpec } from '../parse/spec-file.ts';
import { escapePointer } from '../parse/yaml.ts';
import specSchema from './spec.schema.json' with { type: 'json' };

export type SpecKind = 'service' | 'stack';

let validators: Record<SpecKind, ValidateFunction> | undefined;

/** Compiled once per process: ajv compilation costs far more than validating a spec. */
function getValidators(): Record<SpecKind, ValidateFunction> {
  if (!validators) {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
    ajv.addSchema(specSchema, 'spec');
    validators = {
      service: ajv.getSchema('spec#/definitions/service')!,
      stack: ajv.getSchema('spec#/definitions/stack')!,
    };
  }
  return validators;
}

export const SPEC_SCHEMA = specSchema;

/** Keys that would weaken isolation get a refusal that says why and what to do, not "unknown key". */
const REFUSED_KEYS: Record<string, { code: 'HS3011' | 'HS3012' | 'HS3013' | 'HS3014'; why: string; hint: string }> = {
  privileged: { code: 'HS3011', why: 'hardspec never emits privileged containers', hint: 'remove it and list the few capabilities the service needs under capabilities.add' },
  devices: { code: 'HS3011', why: 'hardspec does not pass host devices into containers', hint: 'remove it; a service that needs a host device needs a separate, audited design' },
  network_mode: { code: 'HS3012', why: 'hardspec never shares a host namespace (network_mode)', hint: 'remove it and join networks declared in stack.md under networks:' },
  pid: { code: 'HS3012', why: 'hardspec never shares the host PID namespace', hint: 'remove it: every service runs in its own PID namespace' },
  ipc: { code: 'HS3012', why: 'hardspec never shares the host IPC namespace', hint: 'remove it: every service runs in its own IPC namespace' },
  uts: { code: 'HS3012', why: 'hardspec never shares the host UTS namespace', hint: 'remove it: every service runs in its own UTS namespace' },
  userns_mode: { code: 'HS3012', why: 'hardspec never shares the host user namespace', hint: 'remove it, so the engine\'s user-namespace remapping (if any) applies to this service too' },
  security_opt: { code: 'HS3014', why: 'security options are generated from no_new_privileges, seccomp and selinux; they cannot be set by hand', hint: 'remove it and use no_new_privileges, seccomp and selinux instead' },
};

export function validateSpec(spec: ParsedSpec, kind: SpecKind): Diagnostic[] {
  const validate = getValidators()[kind];
  if (validate(spec.data)) return [];
  const errors = foldErrors(validate.errors ?? []);
  return errors.map((e) => toDiagnostic(e, spec, kind));
}

/** Drops the noise of anyOf/oneOf branches: keep the most specific error per instance path. */
function foldErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const byPath = new Map<string, ErrorObject[]>();
  for (const e of errors) {
    const list = byPath.get(e.instancePath) ?? [];
    list.push(e);
    byPath.set(e.instancePath, list);
  }
  const kept: ErrorObject[] = [];
  const paths = [...byPath.keys()];
  for (const [path, list] of byPath) {
    // An anyOf error at a path whose branches reported deeper errors is redundant.
    const deeper = paths.some((p) => p !== path && p.startsWith(path + '/'));
    const useful = list.filter((e) => !(e.keyword === 'anyOf' || e.keyword === 'oneOf') || !deeper);
    if (useful.some((e) => e.keyword === 'anyOf')) {
      kept.push(useful.find((e) => e.keyword === 'anyOf')!);
      continue;
    }
    // For an anyOf of types, several "type" errors at one path say one thing.
    const seen = new Set<string>();
    for (const e of useful) {
      const key = e.keyword === 'type' ? 'type' : `${e.keyword}:${JSON.stringify(e.params)}`;
      if (seen.has(key)) continue;
      seen.add(key);
      kept.push(e);
    }
  }
  return kept;
}

function toDiagnostic(e: ErrorObject, spec: ParsedSpec, kind: SpecKind): Diagnostic {
  const path = e.instancePath;
  const where = (p: string, part: 'key' | 'value'): Location => locate(spec, p, part);
  const field = path === '' ? 'the frontmatter' : `"${pointerToDotted(path)}"`;
  const value = valueAt(spec.data, path);
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const childPath = `${path}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      const refused = path === '' && kind === 'service' ? REFUSED_KEYS[key] : undefined;
      if (refused) {
        return diagnostic(refused.code, where(childPath, 'key'), `"${key}" is refused: ${refused.why}`, refused.hint);
      }
      const allowed = allowedKeys(e.parentSchema);
      return diagnostic('HS2001', where(childPath, 'key'), `unknown key "${key}" in ${field}${didYouMean(key, allowed)}`, allowed.length ? `allowed keys: ${allowed.join(', ')}` : '');
    }
    case 'required': {
      const missing = String(e.params.missingProperty);
      if (missing === 'hardspec') {
        return diagnostic('HS2005', where(path, 'key'), 'the format version is missing', 'add "hardspec: 1" as the first frontmatter line');
      }
      return diagnostic('HS2002', where(path, 'key'), `missing key "${missing}" in ${field}`, hintForMissing(missing));
    }
    case 'const': {
      if (path === '/hardspec') {
        return diagnostic('HS2005', where(path, 'value'), `format version ${JSON.stringify(value)} is not supported by this compiler`, 'use "hardspec: 1"');
      }
      if (path === '/kind') {
        const expected = String(e.params.allowedValue);
        return diagnostic('HS2006', where(path, 'value'), `this file must have "kind: ${expected}", not ${JSON.stringify(value)}`, expected === 'stack' ? 'stack.md describes the stack; put services in their own files' : 'only stack.md may have kind: stack');
      }
      return diagnostic('HS2004', where(path, 'value'), `${field} must be ${JSON.stringify(e.params.allowedValue)}`);
    }
    case 'type': {
      if (path === '/seccomp' && value === 'unconfined') {
        return diagnostic('HS3014', where(path, 'value'), 'seccomp "unconfined" is refused: it would turn the system-call filter off', 'list the system calls the service needs under seccomp.allow');
      }
      const want = Array.isArray(e.params.type) ? e.params.type.join(' or ') : String(e.params.type);
      return diagnostic('HS2003', where(path, 'value'), `${field} must be ${article(want)}, not ${describe(value)}`, typeHint(path, want, value));
    }
    case 'enum':
      return diagnostic('HS2004', where(path, 'value'), `${field} must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, not ${JSON.stringify(value)}${didYouMean(String(value), (e.params.allowedValues as unknown[]).map(String))}`);
    case 'pattern':
      return diagnostic('HS2004', where(path, 'value'), `${field} has the wrong form: ${JSON.stringify(value)}`, patternHint(path, e.params.pattern as string));
    case 'minProperties':
    case 'maxProperties':
      if (/\/check$|\/(write|read)$/.test(path)) {
        const names = Object.keys((e.parentSchema as { properties?: object }).properties ?? {});
        const given = Object.keys((value ?? {}) as object);
        // Too many: point at the second check, the first one that is too many.
        const at = e.keyword === 'minProperties' ? where(path, 'key') : where(`${path}/${escapePointer(given[1] ?? '')}`, 'key');
        const what = given.length ? `holds ${given.length} checks (${given.join(', ')}); it must hold exactly one` : 'holds no check; it must hold exactly one';
        return diagnostic('HS2004', at, `${field} ${what}`, `one of: ${names.join(', ')}`);
      }
      return diagnostic('HS2004', where(path, 'value'), `${field} ${e.message ?? 'is invalid'}`);
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const words = { minimum: 'at least', maximum: 'at most', exclusiveMinimum: 'more than', exclusiveMaximum: 'less than' } as const;
      return diagnostic('HS2004', where(path, 'value'), `${field} must be ${words[e.keyword]} ${String(e.params.limit)}, not ${String(value)}`);
    }
    case 'minItems':
      return diagnostic('HS2004', where(path, 'value'), `${field} must hold at least ${String(e.params.limit)} item${e.params.limit === 1 ? '' : 's'}`, requiredBySchema(e.schemaPath) ? 'add the missing items (the key is required)' : 'add the missing items, or leave the key out');
    case 'maxLength':
      return diagnostic('HS2004', where(path, 'value'), `${field} is longer than ${String(e.params.limit)} characters`, 'shorten it');
    case 'anyOf':
      return diagnostic('HS2004', where(path, 'value'), `${field} is not valid: ${describeAnyOf(e.parentSchema)}`);
    default:
      return diagnostic('HS2004', where(path, 'value'), `${field} ${e.message ?? 'is invalid'}`);
  }
}

/** Line and column of a JSON-pointer path; falls back to the closest mapped ancestor. */
export function locate(spec: ParsedSpec, path: string, part: 'key' | 'value'): Location {
  let p = path;
  for (;;) {
    const pos = spec.positions.get(p);
    if (pos) {
      const offset = spec.frontmatterOffset + (part === 'key' ? pos.keyOffset : pos.valueOffset);
      return { file: spec.file.path, ...spec.lines.position(offset) };
    }
    if (p === '') return { file: spec.file.path, ...spec.lines.position(spec.frontmatterOffset) };
    p = p.slice(0, p.lastIndexOf('/'));
  }
}

export function pointerToDotted(path: string): string {
  return path
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`))
    .join('');
}

function valueAt(data: unknown, path: string): unknown {
  let v: unknown = data;
  for (const seg of path.split('/').slice(1)) {
    const key = seg.replace(/~1/g, '/').replace(/~0/g, '~');
    v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  }
  return v;
}

/** Whether the key an error's schema path ends in (`…/properties/<key>/<keyword>`) is required by the object schema around it. */
function requiredBySchema(schemaPath: string): boolean {
  const m = /^#\/(.*)\/properties\/([^/]+)\/[^/]+$/.exec(schemaPath);
  if (!m) return false;
  const required = (valueAt(specSchema, `/${m[1]}`) as { required?: unknown } | undefined)?.required;
  return Array.isArray(required) && required.includes(m[2]);
}

function allowedKeys(schema: unknown): string[] {
  const props = (schema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return props ? Object.keys(props).sort() : [];
}

function describe(v: unknown): string {
  if (v === null) return 'empty (null)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the text ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return `${typeof v === 'number' ? 'the number' : 'the value'} ${String(v)}`;
}

function article(type: string): string {
  const names: Record<string, string> = { object: 'a mapping', array: 'a list', string: 'a text', integer: 'a whole number', number: 'a number', boolean: 'true or false' };
  return type.split(' or ').map((t) => names[t] ?? t).join(' or ');
}

function describeAnyOf(schema: unknown): string {
  const branches = (schema as { anyOf?: Array<{ type?: string }> } | undefined)?.anyOf ?? [];
  return `expected ${branches.map((b) => article(String(b.type ?? 'value'))).join(' or ')}`;
}

function patternHint(path: string, pattern: string): string {
  if (path === '/user') return 'write the numeric user and group, e.g. "33:33"';
  if (/\/mode$/.test(path)) return 'write an octal mode as quoted text, e.g. "0755"';
  if (/\/size$|\/memory$/.test(path)) return 'write a number with an optional unit k, m or g, e.g. "64m"';
  if (/interval|timeout|start_period/.test(path)) return 'write a duration such as 500ms, 10s or 2m';
  if (/errno/.test(path)) return 'write an errno name such as EPERM or EROFS';
  return `it must match ${pattern}`;
}

function typeHint(path: string, want: string, value: unknown): string {
  if (want === 'array') return 'write a list, e.g. [a, b] or one "- item" per line';
  if (want === 'boolean' && typeof value === 'string') return 'write true or false, without quotes';
  if ((want === 'integer' || want === 'number') && typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return 'write the number without quotes';
  if (want === 'string' && typeof value === 'number') {
    if (/interval|timeout|start_period/.test(path)) return 'write a duration with its unit, such as 10s or 500ms';
    if (/\/mode$/.test(path)) return 'quote an octal mode, e.g. "0755", so YAML keeps its leading zero';
    return `quote the value, e.g. "${String(value)}", so YAML keeps it as text`;
  }
  return '';
}

function hintForMissing(key: string): string {
  const hints: Record<string, string> = {
    kind: 'add "kind: service" (or "kind: stack" in stack.md)',
    image: 'add "image:" with at least "name:", and "build: { context: … }" to build it',
    user: 'add the numeric user, e.g. user: "33:33"; hardened services do not run as root',
    name: 'add "name:", e.g. the image name and tag',
    check: 'add "check:" with one machine-checkable check (http, browser, probe, …)',
  };
  return hints[key] ?? '';
}
