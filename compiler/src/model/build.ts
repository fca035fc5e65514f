/**
 * Phase 3, model: schema-valid frontmatter → the normalised, readonly model, with every semantic
 * check that needs only one spec (names, paths, capabilities, system calls, safety rules). Checks
 * across specs (references, duplicates) live in check-stack.ts. Pure: no fs, no process.
 */
import { createHash } from 'node:crypto';
import { diagnostic, type Diagnostic } from '../diagnostics/diagnostic.ts';
import type { DiagnosticCode } from '../diagnostics/catalogue.ts';
import { didYouMean } from '../diagnostics/suggest.ts';
import { allSyscallNames, isKnownSyscall, resolveSeccomp } from '../emit/seccomp/emit-seccomp.ts';
import type { ParsedSpec } from '../parse/spec-file.ts';
import { locate } from '../schema/validate.ts';
import { CAPABILITIES } from './capabilities.ts';
import {
  CONTROL_CHARS, DEBIAN_PACKAGE, ENV_NAME, IDENTIFIER, IMAGE_NAME, SAFE_PATH_CHARS, SELINUX_TOKEN,
  SELINUX_TYPE, ULIMIT_NAME, isIpLiteral, isLoopbackUrl, isNormalisedAbsolute, normaliseInside,
} from './names.ts';
import { isKnownSelinuxClass, isKnownSelinuxPermission, selinuxClassNames, selinuxPermissionNames } from './selinux-classes.ts';
import type {
  Check, HttpCheck, InteractionModel, NetworkModel, ProbeOp, SecretModel, ServiceModel,
  SimpleCheck, SpecSource, StackModel, VolumeModel,
} from './types.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- data is schema-valid; shapes are known. */
type Raw = any;

/** Collects diagnostics for one spec, locating JSON-pointer paths in its source. */
export class SpecReporter {
  readonly diagnostics: Diagnostic[] = [];
  constructor(readonly spec: ParsedSpec) {}
  at(path: string, part: 'key' | 'value' = 'value') {
    return locate(this.spec, path, part);
  }
  report(code: DiagnosticCode, path: string, message: string, hint = '', part: 'key' | 'value' = 'value'): void {
    this.diagnostics.push(diagnostic(code, this.at(path, part), message, hint));
  }
}

export function specSource(spec: ParsedSpec, relPath: string): SpecSource {
  return {
    path: spec.file.path,
    relPath,
    sha256: createHash('sha256').update(spec.file.bytes).digest('hex'),
    // The body is split into sections on first use only (the site reads them, emitters do not).
    get title() { return spec.title; },
    get sections() { return spec.sections; },
    body: spec.body,
  };
}

const sortedUnique = (xs: readonly string[]) => [...new Set(xs)].sort();

// ── Stack ─────────────────────────────────────────────────────────────────────────────────────

export interface StackHead {
  readonly networks: readonly NetworkModel[];
  readonly volumes: readonly VolumeModel[];
  readonly secrets: readonly SecretModel[];
  readonly interactions: readonly InteractionModel[];
  readonly description: string;
  readonly source: SpecSource;
}

export function buildStackHead(spec: ParsedSpec, r: SpecReporter): StackHead {
  const d = spec.data as Raw;
  const names = (section: 'networks' | 'volumes' | 'secrets'): string[] =>
    Object.keys(d[section] ?? {}).filter((name) => {
      if (IDENTIFIER.test(name)) return true;
      r.report('HS3010', `/${section}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`, `the ${section.slice(0, -1)} name ${JSON.stringify(name)} is not a safe identifier`, 'use lowercase letters, digits and dashes, starting with a letter', 'key');
      return false;
    }).sort();
  const networks = names('networks').map((name) => ({ name, internal: d.networks[name]?.internal === true, description: d.networks[name]?.description ?? '' }));
  const volumes = names('volumes').map((name) => ({ name, description: d.volumes[name]?.description ?? '' }));
  const secrets = names('secrets').map((name) => ({ name, description: d.secrets[name]?.description ?? '', generateBytes: d.secrets[name]?.generate?.bytes ?? 32 }));
  const interactions = buildInteractions(d.interactions ?? [], '/interactions', undefined, r);
  return { networks, volumes, secrets, interactions, description: d.description ?? '', source: specSource(spec, 'stack.md') };
}

// ── Service ───────────────────────────────────────────────────────────────────────────────────

export function buildService(spec: ParsedSpec, fileStem: string, r: SpecReporter): ServiceModel {
  const d = spec.data as Raw;
  let name = fileStem;
  if (typeof d.service === 'string') {
    if (IDENTIFIER.test(d.service)) name = d.service;
    else r.report('HS3010', '/service', `the service name ${JSON.stringify(d.service)} is not a safe identifier`, 'use lowercase letters, digits and dashes, starting with a letter');
  }

  const image = buildImage(d.image, r);
  const [uid, gid] = String(d.user).split(':').map(Number) as [number, number];
  if (uid === 0 || gid === 0) r.report('HS3019', '/user', `the service runs as ${uid === 0 ? 'root (uid 0)' : 'group root (gid 0)'}`, 'run it as an unprivileged user, e.g. "33:33"');
  if (d.read_only === false) r.report('HS3026', '/read_only', 'the root file system is writable', 'set read_only: true and add tmpfs mounts for the paths that need writing');
  if (d.no_new_privileges === false) r.report('HS3025', '/no_new_privileges', 'no_new_privileges is off', 'remove the line unless the reasoning explains why setuid binaries must work');

  const tmpfs = (d.tmpfs ?? []).map((t: Raw, i: number) => {
    checkContainerPath(t.path, `/tmpfs/${i}/path`, r);
    return { path: t.path, size: t.size, mode: t.mode === undefined ? undefined : t.mode.padStart(4, '0'), uid: t.uid, gid: t.gid, exec: t.exec === true };
  }).sort((a: { path: string }, b: { path: string }) => cmp(a.path, b.path));

  const ports = (d.ports ?? []).map((p: Raw, i: number) => {
    const hostIp = p.host_ip ?? '127.0.0.1';
    if (!isIpLiteral(hostIp)) r.report('HS3031', `/ports/${i}/host_ip`, `${JSON.stringify(hostIp)} is not an IP address`, 'write 127.0.0.1 (the default) or another address literal');
    else if (hostIp !== '127.0.0.1' && hostIp !== '::1') r.report('HS3022', `/ports/${i}/host_ip`, `port ${p.host} is published on ${hostIp}, reachable beyond this machine`, 'leave host_ip out to bind 127.0.0.1, or explain in the reasoning why it must be public');
    return { container: p.container, host: p.host, hostIp, protocol: p.protocol ?? 'tcp' };
  }).sort((a: Raw, b: Raw) => a.host - b.host || a.container - b.container || cmp(a.protocol, b.protocol));

  const volumes = (d.volumes ?? []).map((v: Raw, i: number) => {
    const type = v.type ?? 'volume';
    checkContainerPath(v.target, `/volumes/${i}/target`, r);
    const dockerSocket = /docker\.sock$/.test(v.target) || /docker\.sock$/.test(v.source);
    if (dockerSocket) {
      r.report('HS3013', `/volumes/${i}/${/docker\.sock$/.test(v.source) ? 'source' : 'target'}`, 'mounting the Docker socket is refused: it gives the container full control of the host', 'remove this mount; a service that must manage containers needs a separate, audited design');
    }
    let source: string = v.source;
    // The socket refusal already says all there is to say about its source path.
    if (type === 'bind' && !dockerSocket) source = checkRelativePath(v.source, `/volumes/${i}/source`, 'bind mount source', r) ?? v.source;
    else if (!IDENTIFIER.test(v.source) && !CONTROL_CHARS.test(v.source)) {
      // Undeclared volumes are reported by the stack check, which knows the declared names.
    } else if (CONTROL_CHARS.test(v.source)) r.report('HS3010', `/volumes/${i}/source`, 'the volume name holds control characters', 'use the name of a volume declared in stack.md');
    return { type, source, target: v.target, readOnly: v.read_only === true, selinux: v.selinux };
  }).sort((a: Raw, b: Raw) => cmp(a.target, b.target));

  const capAdd = checkCapabilities(d.capabilities?.add ?? [], r);
  const seccomp = buildSeccomp(d.seccomp ?? {}, capAdd, r);
  const selinux = d.selinux ? buildSelinux(d.selinux, r) : undefined;
  const strip = buildStrip(d.strip ?? {}, image.name, r);
  const resources = buildResources(d.resources ?? {}, r);
  const healthcheck = d.healthcheck ? {
    command: checkArgv(d.healthcheck.command, '/healthcheck/command', r),
    interval: d.healthcheck.interval, timeout: d.healthcheck.timeout, startPeriod: d.healthcheck.start_period, retries: d.healthcheck.retries,
  } : undefined;
  const environment = Object.keys(d.environment ?? {}).sort().map((key) => {
    const value = String(d.environment[key]);
    const path = `/environment/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (!ENV_NAME.test(key)) r.report('HS3010', path, `the variable name ${JSON.stringify(key)} is not a safe identifier`, 'use letters, digits and underscores', 'key');
    if (CONTROL_CHARS.test(value)) r.report('HS3010', path, 'the value holds control characters (such as a newline)', 'put multi-line data in a file, not the environment');
    if (/(PASS(WORD|WD)?|SECRET|TOKEN|PRIVATE_?KEY|API_?KEY|CREDENTIAL)/i.test(key) && !/_FILE$/i.test(key) && value !== '' && !value.startsWith('/run/secrets/')) {
      r.report('HS3020', path, `${key} looks like a secret in the environment`, 'declare it under secrets: in stack.md and read /run/secrets/<name>, or pass the file path in a *_FILE variable', 'key');
    }
    return [key, value] as const;
  });
  const workingDir = d.working_dir === undefined ? undefined : (checkContainerPath(d.working_dir, '/working_dir', r), d.working_dir as string);

  return {
    name,
    description: d.description ?? '',
    source: specSource(spec, `${fileStem}.md`),
    image,
    command: d.command === undefined ? undefined : checkArgv(d.command, '/command', r),
    entrypoint: d.entrypoint === undefined ? undefined : checkArgv(d.entrypoint, '/entrypoint', r),
    workingDir,
    user: { uid, gid },
    readOnly: d.read_only !== false,
    tmpfs,
    ports,
    networks: dedupe(d.networks ?? [], '/networks', r).sort(),
    volumes,
    capAdd,
    noNewPrivileges: d.no_new_privileges !== false,
    seccomp,
    selinux,
    strip,
    resources,
    healthcheck,
    restart: d.restart ?? 'unless-stopped',
    environment,
    secrets: dedupe(d.secrets ?? [], '/secrets', r).sort(),
    dependsOn: dedupe(d.depends_on ?? [], '/depends_on', r).sort(),
    interactions: buildInteractions(d.interactions ?? [], '/interactions', name, r),
  };
}

function buildImage(img: Raw, r: SpecReporter): ServiceModel['image'] {
  if (!IMAGE_NAME.test(img.name)) r.report('HS3010', '/image/name', `${JSON.stringify(img.name)} is not a valid image reference`, 'write it as name:tag in lowercase, e.g. example/web:1');
  if (img.base !== undefined && !IMAGE_NAME.test(img.base)) r.report('HS3010', '/image/base', `${JSON.stringify(img.base)} is not a valid image reference`, 'write it as name:tag, e.g. debian:bookworm');
  if (!img.build) return { name: img.name, base: img.base };
  const context = checkRelativePath(img.build.context, '/image/build/context', 'build context', r) ?? img.build.context;
  const dockerfile = checkRelativePath(img.build.dockerfile ?? 'Dockerfile', '/image/build/dockerfile', 'Dockerfile path', r) ?? 'Dockerfile';
  const args = Object.keys(img.build.args ?? {}).sort().map((k) => {
    if (!ENV_NAME.test(k) || CONTROL_CHARS.test(img.build.args[k])) r.report('HS3010', `/image/build/args/${k}`, `build argument ${JSON.stringify(k)} has an unsafe name or value`, 'use letters, digits and underscores for names and no control characters in values', 'key');
    return [k, String(img.build.args[k])] as const;
  });
  return { name: img.name, base: img.base, build: { context, dockerfile, args } };
}

function checkCapabilities(list: readonly string[], r: SpecReporter): string[] {
  const out: string[] = [];
  list.forEach((raw, i) => {
    const name = raw.replace(/^CAP_/, '');
    if (!CAPABILITIES.includes(name)) {
      r.report('HS3001', `/capabilities/add/${i}`, `unknown capability ${JSON.stringify(raw)}${didYouMean(name.toUpperCase(), CAPABILITIES)}`, 'write capability names in capitals without the CAP_ prefix');
    } else if (out.includes(name)) {
      r.report('HS3027', `/capabilities/add/${i}`, `capability ${name} is listed twice`, 'remove the duplicate');
    } else out.push(name);
  });
  return out.sort();
}

function buildSeccomp(s: Raw, capAdd: readonly string[], r: SpecReporter): ServiceModel['seccomp'] {
  const known = allSyscallNames();
  const check = (section: 'allow' | 'keep' | 'deny' | 'enosys') =>
    (s[section] ?? []).filter((name: string, i: number) => {
      if (isKnownSyscall(name)) return true;
      r.report('HS3002', `/seccomp/${section}/${i}`, `unknown system call ${JSON.stringify(name)}${didYouMean(name, known)}`, 'names are checked against the x86_64 and aarch64 tables of Linux (linux-libc-dev)');
      return false;
    });
  const allow: string[] = check('allow');
  const deny: string[] = check('deny');
  const enosys: string[] = check('enosys');
  const keep: string[] = check('keep');
  for (const section of ['allow', 'keep'] as const) {
    (s[section] ?? []).forEach((name: string, i: number) => {
      if ((s.deny ?? []).includes(name)) r.report('HS3021', `/seccomp/${section}/${i}`, `${name} is both ${section === 'keep' ? 'kept' : 'allowed'} and denied`, 'keep it in one of the two lists');
    });
  }
  for (const section of ['allow', 'keep', 'deny', 'enosys'] as const) dedupe(s[section] ?? [], `/seccomp/${section}`, r);
  return resolveSeccomp({ baseline: s.baseline ?? 'none', allow, keep, deny, enosys }, capAdd);
}

function buildSelinux(s: Raw, r: SpecReporter): ServiceModel['selinux'] {
  if (!SELINUX_TYPE.test(s.type)) {
    r.report('HS3010', '/selinux/type', `${JSON.stringify(s.type)} is not a safe SELinux type name`, 'use lowercase letters, digits and underscores, ending in _t, e.g. guestbook_web_t');
  }
  const merged = new Map<string, Set<string>>();
  (s.allow ?? []).forEach((rule: Raw, i: number) => {
    let ok = true;
    if (!SELINUX_TOKEN.test(rule.target)) { ok = false; r.report('HS3010', `/selinux/allow/${i}/target`, `${JSON.stringify(rule.target)} is not a safe SELinux type name`, 'use lowercase letters, digits and underscores'); }
    if (!SELINUX_TOKEN.test(rule.class)) { ok = false; r.report('HS3010', `/selinux/allow/${i}/class`, `${JSON.stringify(rule.class)} is not a safe SELinux class name`, 'use lowercase letters, digits and underscores'); }
    else if (!isKnownSelinuxClass(rule.class)) { ok = false; r.report('HS3030', `/selinux/allow/${i}/class`, `unknown SELinux class ${JSON.stringify(rule.class)}${didYouMean(rule.class, selinuxClassNames())}`, 'see the object classes of the reference policy'); }
    (rule.permissions as string[]).forEach((perm, j) => {
      if (!SELINUX_TOKEN.test(perm)) { ok = false; r.report('HS3010', `/selinux/allow/${i}/permissions/${j}`, `${JSON.stringify(perm)} is not a safe SELinux permission name`, 'use lowercase letters, digits and underscores'); }
      else if (ok && !isKnownSelinuxPermission(rule.class, perm)) { ok = false; r.report('HS3030', `/selinux/allow/${i}/permissions/${j}`, `class ${rule.class} has no permission ${JSON.stringify(perm)}${didYouMean(perm, selinuxPermissionNames(rule.class))}`, `permissions of ${rule.class}: ${selinuxPermissionNames(rule.class).join(' ')}`); }
    });
    if (!ok) return;
    const key = `${rule.target}\0${rule.class}`;
    const perms = merged.get(key) ?? new Set<string>();
    for (const p of rule.permissions) perms.add(p);
    merged.set(key, perms);
  });
  const allow = [...merged.entries()].sort(([a], [b]) => cmp(a, b)).map(([key, perms]) => {
    const [target, cls] = key.split('\0') as [string, string];
    return { target, class: cls, permissions: [...perms].sort() };
  });
  return { type: s.type, module: String(s.type).replace(/_t$/, ''), allow };
}

function buildStrip(s: Raw, imageName: string, r: SpecReporter): ServiceModel['strip'] {
  const packages = (s.packages ?? []).filter((p: string, i: number) => {
    if (DEBIAN_PACKAGE.test(p)) return true;
    r.report('HS3010', `/strip/packages/${i}`, `${JSON.stringify(p)} is not a valid Debian package name`, 'package names are lowercase letters, digits and + - .');
    return false;
  });
  const files = (s.files ?? []).filter((f: string, i: number) => checkContainerPath(f, `/strip/files/${i}`, r));
  let target: string = s.target ?? defaultStripTarget(imageName);
  if (s.target !== undefined && !IMAGE_NAME.test(s.target)) {
    r.report('HS3010', '/strip/target', `${JSON.stringify(s.target)} is not a valid image reference`, 'write it as name:tag');
    target = defaultStripTarget(imageName);
  }
  dedupe(s.packages ?? [], '/strip/packages', r);
  dedupe(s.files ?? [], '/strip/files', r);
  return { target, packages: sortedUnique(packages), files: sortedUnique(files) };
}

export function defaultStripTarget(imageName: string): string {
  const at = imageName.indexOf('@');
  const base = at >= 0 ? imageName.slice(0, at) : imageName;
  const colon = base.lastIndexOf(':');
  return colon > base.lastIndexOf('/') ? `${base}-stripped` : `${base}:stripped`;
}

function buildResources(s: Raw, r: SpecReporter): ServiceModel['resources'] {
  const ulimits = Object.keys(s.ulimits ?? {}).sort().map((name) => {
    const v = s.ulimits[name];
    if (!ULIMIT_NAME.test(name)) r.report('HS2004', `/resources/ulimits/${name}`, `unknown ulimit ${JSON.stringify(name)}${didYouMean(name, ULIMIT_NAME.source.replace(/[\^$()]/g, '').split('|'))}`, '', 'key');
    const soft = typeof v === 'number' ? v : v.soft;
    const hard = typeof v === 'number' ? v : v.hard;
    if (soft > hard) r.report('HS2004', `/resources/ulimits/${name}`, `the soft limit ${soft} is above the hard limit ${hard}`, 'the soft limit must not exceed the hard limit');
    return { name, soft, hard };
  });
  return { memory: s.memory, cpus: s.cpus, pids: s.pids, ulimits };
}

// ── Interactions ──────────────────────────────────────────────────────────────────────────────

const PROBE_DEFAULT_PURPOSE = new Set(['probe', 'port_closed', 'selinux']);

function buildInteractions(list: Raw[], base: string, service: string | undefined, r: SpecReporter): InteractionModel[] {
  return list.map((it: Raw, i: number) => {
    const path = `${base}/${i}`;
    if (!IDENTIFIER.test(it.id)) r.report('HS3010', `${path}/id`, `the interaction id ${JSON.stringify(it.id)} is not a safe identifier`, 'use lowercase letters, digits and dashes, starting with a letter');
    const kind = Object.keys(it.check)[0]!;
    const check = buildCheck(it.check, `${path}/check`, service, r);
    return {
      id: it.id,
      description: it.description,
      reason: it.reason,
      purpose: it.purpose ?? (PROBE_DEFAULT_PURPOSE.has(kind) ? 'security' : 'functional'),
      timeoutMs: parseDuration(it.timeout ?? '30s'),
      declaredIn: service,
      check,
    };
  });
}

function buildCheck(c: Raw, path: string, service: string | undefined, r: SpecReporter): Check {
  if ('outage' in c) {
    const v = c.outage;
    const s: string | undefined = v.service ?? service;
    if (s === undefined) r.report('HS3028', `${path}/outage`, 'this outage check stops a container but names no service', 'add "service: <name>"', 'key');
    if (v.during === undefined && !v.log && !v.clean_stop) r.report('HS3033', `${path}/outage`, 'this outage check stops a service and starts it again but checks nothing', 'add a check to run while it is stopped (during), lines its outage must log (log), or clean_stop: true', 'key');
    // `during` runs while `s` is stopped: it defaults to the spec's own service, like any check.
    const during = v.during === undefined ? undefined : buildSimpleCheck(v.during, `${path}/outage/during`, service, r);
    return { kind: 'outage', service: s ?? '', ...(during ? { during } : {}), ...(v.log ? { log: { service: v.log.service, contains: [...v.log.contains] } } : {}), ...(v.clean_stop ? { cleanStop: true } : {}) };
  }
  if (!('persistence' in c)) return buildSimpleCheck(c, path, service, r);
  const v = c.persistence;
  const s: string | undefined = v.service ?? service;
  if (s === undefined) r.report('HS3028', `${path}/persistence`, 'this persistence check recreates a container but names no service', 'add "service: <name>"', 'key');
  const p = `${path}/persistence`;
  return { kind: 'persistence', service: s ?? '', write: buildSimpleCheck(v.write, `${p}/write`, s, r), read: buildSimpleCheck(v.read, `${p}/read`, s, r) };
}

function buildSimpleCheck(c: Raw, path: string, service: string | undefined, r: SpecReporter): SimpleCheck {
  const kind = Object.keys(c)[0]!;
  const v = c[kind];
  const p = `${path}/${kind}`;
  const svc = (): string => {
    const s = v.service ?? service;
    if (s === undefined) {
      r.report('HS3028', p, `this ${kind} check runs in a container but names no service`, 'add "service: <name>"', 'key');
      return '';
    }
    return s;
  };
  const url = (u: string, at: string) => {
    if (!isLoopbackUrl(u)) r.report('HS3029', at, `${JSON.stringify(u)} is not a loopback URL`, 'checks may only reach http://127.0.0.1:<port>/ (or localhost)');
    return u;
  };
  switch (kind) {
    case 'http': {
      const check: HttpCheck = {
        kind: 'http',
        method: v.method ?? (v.form ? 'POST' : 'GET'),
        url: url(v.url, `${p}/url`),
        headers: v.headers ?? {},
        form: v.form,
        formFrom: v.form_from === undefined ? undefined : url(v.form_from, `${p}/form_from`),
        expect: {
          status: v.expect?.status,
          bodyContains: v.expect?.body_contains ?? [],
          bodyNotContains: v.expect?.body_not_contains ?? [],
          headers: Object.fromEntries(Object.entries(v.expect?.headers ?? {}).map(([k, x]) => [k.toLowerCase(), x as string])),
          headersAbsent: (v.expect?.headers_absent ?? []).map((h: string) => h.toLowerCase()),
        },
      };
      return check;
    }
    case 'browser':
      return {
        kind: 'browser',
        url: url(v.url, `${p}/url`),
        fill: Object.entries(v.fill ?? {}).map(([k, x]) => [k, x as string] as const),
        submit: v.submit,
        expect: { textContains: v.expect?.text_contains ?? [], textNotContains: v.expect?.text_not_contains ?? [] },
        screenshot: v.screenshot !== false,
      };
    case 'exec':
      return { kind: 'exec', service: svc(), command: checkArgv(v.command, `${p}/command`, r), expect: { exitCode: v.expect?.exit_code ?? 0, stdoutContains: v.expect?.stdout_contains ?? [], stderrContains: v.expect?.stderr_contains ?? [] } };
    case 'probe': {
      const expect = v.expect?.errno !== undefined
        ? { ok: false as const, errno: ([] as string[]).concat(v.expect.errno) }
        : { ok: true as const };
      return { kind: 'probe', service: svc(), op: v.op as ProbeOp, args: checkArgv(v.args ?? [], `${p}/args`, r), expect };
    }
    case 'sql':
      if (CONTROL_CHARS.test(v.query.replace(/\n/g, ' '))) r.report('HS3010', `${p}/query`, 'the query holds control characters', 'write the query on one or more plain lines');
      return { kind: 'sql', service: svc(), query: v.query, expect: { minRows: v.expect?.min_rows, contains: v.expect?.contains ?? [] } };
    case 'file':
      checkContainerPath(v.path, `${p}/path`, r);
      return { kind: 'file', service: svc(), path: v.path, sameAs: checkRelativePath(v.same_as, `${p}/same_as`, 'file', r) ?? v.same_as };
    case 'port_closed':
      if (v.host !== undefined && !/^(127(\.\d{1,3}){3}|::1|localhost)$/.test(v.host)) r.report('HS3029', `${p}/host`, `${JSON.stringify(v.host)} is not a loopback address`, 'checks may only reach 127.0.0.1');
      return { kind: 'port_closed', host: v.host ?? '127.0.0.1', port: v.port };
    case 'selinux':
      return { kind: 'selinux', service: svc() };
    case 'log':
      return { kind: 'log', service: svc(), lacks: [...v.lacks] };
    default:
      throw new Error(`unreachable: schema admitted check kind ${kind}`);
  }
}

// ── Helpers ───────────────────────────────────────────────────────────────────────────────────

/** Absolute container path with safe characters; reports HS3008 or HS3010. */
function checkContainerPath(p: string, at: string, r: SpecReporter): boolean {
  if (CONTROL_CHARS.test(p) || !SAFE_PATH_CHARS.test(p)) {
    r.report('HS3010', at, `the path ${JSON.stringify(p)} holds characters that are unsafe in generated files`, 'use letters, digits and . _ - + @ / only');
    return false;
  }
  if (!isNormalisedAbsolute(p)) {
    r.report('HS3008', at, `the path ${JSON.stringify(p)} is not an absolute, normalised container path`, `write it from the root without ".", ".." or "//", e.g. "${normaliseAbsolute(p)}"`);
    return false;
  }
  return true;
}

/** The absolute path `p` most likely means, for hints: "run/php/" → "/run/php", "/a/../b" → "/b". */
function normaliseAbsolute(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '..') out.pop();
    else if (seg !== '' && seg !== '.') out.push(seg);
  }
  return `/${out.join('/')}`;
}

/** A path relative to the stack folder that must stay inside it; returns it normalised. */
function checkRelativePath(p: string, at: string, what: string, r: SpecReporter): string | undefined {
  if (CONTROL_CHARS.test(p) || !SAFE_PATH_CHARS.test(p)) {
    r.report('HS3010', at, `the ${what} ${JSON.stringify(p)} holds characters that are unsafe in generated files`, 'use letters, digits and . _ - + @ / only');
    return undefined;
  }
  const n = normaliseInside(p);
  if (n === undefined) {
    r.report('HS3018', at, `the ${what} ${JSON.stringify(p)} is outside the stack folder`, 'use a path relative to the stack folder, without leading / or ..');
    return undefined;
  }
  return n;
}

function checkArgv(argv: readonly string[], at: string, r: SpecReporter): string[] {
  argv.forEach((a, i) => {
    if (CONTROL_CHARS.test(a)) r.report('HS3010', `${at}/${i}`, 'the argument holds control characters (such as a newline)', 'split it into separate arguments');
  });
  return [...argv];
}

function dedupe(list: readonly string[], at: string, r: SpecReporter): string[] {
  const seen = new Set<string>();
  list.forEach((x, i) => {
    if (seen.has(x)) r.report('HS3027', `${at}/${i}`, `${JSON.stringify(x)} is listed twice`, 'remove the duplicate');
    seen.add(x);
  });
  return [...seen];
}

export function parseDuration(s: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(s);
  if (!m) return 30_000;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export type { StackModel };
