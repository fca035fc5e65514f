/**
 * How a service's hardening differs from what `docker run` gives a container by default: Docker's
 * 14 default capabilities, Docker's default seccomp profile (evaluated for those capabilities, on
 * the same two architectures hardspec emits profiles for), a writable root, the image's user, no
 * no-new-privileges and no limits. Pure: every number on the site's comparison comes from here.
 */
import { DOCKER_DEFAULT_CAPABILITIES } from '../model/capabilities.ts';
import type { ServiceModel } from '../model/types.ts';
import { dockerDefaultFor, type SeccompArch } from '../emit/seccomp/docker-default.ts';
import { isKnownSyscall } from '../emit/seccomp/emit-seccomp.ts';

const ARCHES: readonly SeccompArch[] = ['x86_64', 'aarch64'];

export interface SetDifference {
  /** In both: Docker's default and the service. */
  readonly kept: readonly string[];
  /** In the service only. */
  readonly added: readonly string[];
  /** In Docker's default only. */
  readonly removed: readonly string[];
}

export interface DockerComparison {
  readonly capabilities: SetDifference & { readonly dockerDefault: readonly string[] };
  readonly syscalls: SetDifference & {
    readonly dockerDefault: readonly string[];
    readonly allowed: readonly string[];
    /** Answered with ENOSYS instead of EPERM (clone3, so glibc falls back to clone). */
    readonly enosys: readonly string[];
  };
  readonly readOnlyRoot: boolean;
  readonly user: { readonly uid: number; readonly gid: number };
  readonly noNewPrivileges: boolean;
  readonly limits: readonly { readonly name: string; readonly value: string }[];
}

let dockerSyscalls: readonly string[] | undefined;

/**
 * The names Docker's default profile allows a container with Docker's default capabilities, on
 * x86_64 or aarch64, kept to names known on those architectures: the same universe the compiler
 * resolves a service's allowlist in, so the two lists compare name for name.
 */
export function dockerDefaultSyscalls(): readonly string[] {
  dockerSyscalls ??= sortedUnique(ARCHES.flatMap((arch) => dockerDefaultFor(arch, DOCKER_DEFAULT_CAPABILITIES)).filter(isKnownSyscall));
  return dockerSyscalls;
}

export function compareWithDockerDefaults(service: ServiceModel): DockerComparison {
  const limits: { name: string; value: string }[] = [];
  const r = service.resources;
  if (r.memory !== undefined) limits.push({ name: 'memory', value: r.memory });
  if (r.cpus !== undefined) limits.push({ name: 'cpus', value: String(r.cpus) });
  if (r.pids !== undefined) limits.push({ name: 'pids', value: String(r.pids) });
  for (const u of r.ulimits) limits.push({ name: `ulimit ${u.name}`, value: u.soft === u.hard ? String(u.soft) : `${u.soft} soft, ${u.hard} hard` });
  return {
    capabilities: { dockerDefault: DOCKER_DEFAULT_CAPABILITIES, ...difference(DOCKER_DEFAULT_CAPABILITIES, service.capAdd) },
    syscalls: {
      dockerDefault: dockerDefaultSyscalls(),
      allowed: service.seccomp.allow,
      enosys: service.seccomp.enosys,
      ...difference(dockerDefaultSyscalls(), service.seccomp.allow),
    },
    readOnlyRoot: service.readOnly,
    user: service.user,
    noNewPrivileges: service.noNewPrivileges,
    limits,
  };
}

function difference(base: readonly string[], mine: readonly string[]): SetDifference {
  const inBase = new Set(base);
  const inMine = new Set(mine);
  return {
    kept: sortedUnique(mine.filter((n) => inBase.has(n))),
    added: sortedUnique(mine.filter((n) => !inBase.has(n))),
    removed: sortedUnique(base.filter((n) => !inMine.has(n))),
  };
}

function sortedUnique(names: Iterable<string>): string[] {
  return [...new Set(names)].sort();
}
