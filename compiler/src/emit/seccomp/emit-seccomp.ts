/**
 * Phase 6, emit: a service's seccomp model → seccomp/<service>.json, a Docker seccomp profile.
 *
 * The profile is built as a typed value with moby's field order and serialised once, so the bytes
 * depend only on the model: an EPERM default, Docker's archMap for x86_64 and aarch64, one rule
 * allowing the allowlist, Docker's own argument filters for the few names Docker allows only with
 * certain arguments (clone without namespace flags, personality with a fixed set of personas), and
 * one rule answering the `enosys` names (always clone3, unless allowed) with ENOSYS.
 *
 * One profile serves both architectures: runc resolves each name for the engine's architecture
 * and skips names that architecture does not have (see test/seccomp.test.ts).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { ServiceModel, SeccompModel } from '../../model/types.ts';
import type { Artifact } from '../artifact.ts';
import {
  dockerDefaultArgFilters,
  dockerDefaultFor,
  type SeccompArchitecture,
  type SeccompArg,
  type SeccompArch,
  type SeccompProfile,
  type SeccompRule,
} from './docker-default.ts';
import profileSchema from './profile.schema.json' with { type: 'json' };
import syscallTables from './syscall-tables.json' with { type: 'json' };

const EPERM = 1;
const ENOSYS = 38;
const ARCHES: readonly SeccompArch[] = ['x86_64', 'aarch64'];

/** As Docker's default profile maps them: 32-bit and x32 callers on x86_64, arm on aarch64. */
const ARCH_MAP: readonly SeccompArchitecture[] = [
  { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
  { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
];

// ── Syscall names (scripts/gen-syscall-tables.ts, from linux-libc-dev) ──────────────────────────

export const SYSCALLS_X86_64: ReadonlySet<string> = new Set(Object.keys(syscallTables.x86_64));
export const SYSCALLS_AARCH64: ReadonlySet<string> = new Set(Object.keys(syscallTables.aarch64));

/** True for a system call of x86_64 or aarch64 (Linux 6.1 headers). */
export function isKnownSyscall(name: string): boolean {
  return SYSCALLS_X86_64.has(name) || SYSCALLS_AARCH64.has(name);
}

let allNames: readonly string[] | undefined;

/** Every name known on x86_64 or aarch64, sorted (for "did you mean" suggestions). */
export function allSyscallNames(): readonly string[] {
  allNames ??= sortedUnique([...SYSCALLS_X86_64, ...SYSCALLS_AARCH64]);
  return allNames;
}

// ── Model: baseline + allow − deny ────────────────────────────────────────────────────────────

export interface SeccompSpec {
  readonly baseline?: 'none' | 'docker-default';
  readonly allow?: readonly string[];
  /** Allowed like `allow`; the minimiser never removes them. */
  readonly keep?: readonly string[];
  readonly deny?: readonly string[];
  readonly enosys?: readonly string[];
}

/**
 * The final allowlist: baseline ∪ allow − deny, kept to names known on x86_64 or aarch64 (Docker's
 * list also holds 32-bit and other architectures' names), sorted and unique; enosys is
 * (enosys ∪ {clone3}) − allow. The "docker-default" baseline is what Docker's default profile
 * allows on x86_64 or aarch64 for a container with `caps` (names without "CAP_" or with). Pure.
 */
export function resolveSeccomp(spec: SeccompSpec, caps: readonly string[] = []): SeccompModel {
  const baseline = spec.baseline ?? 'none';
  const fromBaseline = baseline === 'docker-default' ? dockerBaseline(caps) : [];
  const deny = new Set(spec.deny ?? []);
  const allow = sortedUnique([...fromBaseline, ...(spec.allow ?? []), ...(spec.keep ?? [])].filter((n) => isKnownSyscall(n) && !deny.has(n)));
  const allowed = new Set(allow);
  // glibc falls back to clone when clone3 says ENOSYS; EPERM would make thread creation fail.
  const enosys = sortedUnique([...(spec.enosys ?? []), 'clone3'].filter((n) => isKnownSyscall(n) && !allowed.has(n)));
  return {
    baseline,
    allow,
    enosys,
    declaredAllow: sortedUnique(spec.allow ?? []),
    keep: sortedUnique((spec.keep ?? []).filter(isKnownSyscall)),
    declaredDeny: sortedUnique(spec.deny ?? []),
  };
}

// Services of a stack mostly share one capability set: compute Docker's lists once per set.
const baselineCache = new Map<string, readonly string[]>();
function dockerBaseline(caps: readonly string[]): readonly string[] {
  const key = [...caps].sort().join(',');
  let names = baselineCache.get(key);
  if (!names) {
    names = ARCHES.flatMap((arch) => dockerDefaultFor(arch, caps));
    baselineCache.set(key, names);
  }
  return names;
}

// ── Emit ──────────────────────────────────────────────────────────────────────────────────────

/**
 * seccomp/<service>.json for `docker run --security-opt seccomp=…`. `stack` is unused: the path
 * is relative to generated/<stack>/ and provenance goes in the manifest.
 */
export function emitSeccompProfile(stack: string, service: ServiceModel): Artifact {
  void stack;
  return {
    path: `seccomp/${service.name}.json`,
    content: `${JSON.stringify(buildSeccompProfile(service), null, 2)}\n`,
    sources: [service.source],
  };
}

/** The profile as a typed value; its field order is the order of the JSON. */
export function buildSeccompProfile(service: Pick<ServiceModel, 'seccomp' | 'capAdd'>): SeccompProfile {
  const { allow, enosys } = service.seccomp;
  const filtered = argFilters(service.capAdd);
  const rules: SeccompRule[] = [];
  const outright = allow.filter((n) => !filtered.has(n));
  if (outright.length > 0) rules.push({ names: outright, action: 'SCMP_ACT_ALLOW' });
  for (const name of allow) {
    for (const args of filtered.get(name) ?? []) rules.push({ names: [name], action: 'SCMP_ACT_ALLOW', args });
  }
  if (enosys.length > 0) rules.push({ names: enosys, action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
  return { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: EPERM, archMap: ARCH_MAP, syscalls: rules };
}

/**
 * Docker's argument filters that apply on x86_64 or aarch64 with these capabilities, merged (for
 * clone and personality they are the same on both). An allowed name with a filter here is allowed
 * only with those arguments, as in Docker's default profile: without CAP_SYS_ADMIN, clone may not
 * create namespaces.
 */
const argFilterCache = new Map<string, ReadonlyMap<string, readonly (readonly SeccompArg[])[]>>();
function argFilters(caps: readonly string[]): ReadonlyMap<string, readonly (readonly SeccompArg[])[]> {
  const key = [...caps].sort().join(',');
  const cached = argFilterCache.get(key);
  if (cached) return cached;
  const merged = new Map<string, (readonly SeccompArg[])[]>();
  for (const arch of ARCHES) {
    for (const [name, alternatives] of dockerDefaultArgFilters(arch, caps)) {
      const list = merged.get(name) ?? [];
      for (const args of alternatives) {
        if (!list.some((a) => JSON.stringify(a) === JSON.stringify(args))) list.push(args);
      }
      merged.set(name, list);
    }
  }
  argFilterCache.set(key, merged);
  return merged;
}

// ── Validate ──────────────────────────────────────────────────────────────────────────────────

let validator: ValidateFunction | undefined;

/** Checks a profile against profile.schema.json; returns one message per problem, [] when valid. */
export function validateSeccompProfile(json: unknown): string[] {
  validator ??= new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true }).compile(profileSchema);
  if (validator(json)) return [];
  // Branch errors inside anyOf and the "must match then schema" echo only repeat the real message.
  const errors = (validator.errors ?? []).filter((e) => e.keyword !== 'if' && !/\/anyOf\/\d+\//.test(e.schemaPath));
  return errors.map((e) => `${e.instancePath || '/'} ${describe(e)}`);
}

function describe(e: ErrorObject): string {
  const described = (s: unknown): string | undefined => (s as { description?: string } | undefined)?.description;
  switch (e.keyword) {
    case 'enum':
      return `${e.message}: ${JSON.stringify((e.params as { allowedValues: unknown }).allowedValues)}`;
    case 'not':
      return described(e.schema) ?? e.message ?? 'must NOT be valid';
    case 'anyOf':
      return `must be one of: ${(e.schema as unknown[]).map((s) => described(s) ?? JSON.stringify(s)).join(' | ')}`;
    default:
      return e.message ?? e.keyword;
  }
}

function sortedUnique(names: Iterable<string>): string[] {
  return [...new Set(names)].sort();
}
