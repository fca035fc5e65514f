/**
 * Docker's own default seccomp profile (vendored from Docker 20.10.24, see
 * compiler/vendor/docker-seccomp/NOTICE) and the profile format it is written in.
 *
 * Docker turns the profile into a filter per container: a rule applies only when its `includes`
 * (arches, caps, minKernel) all hold and none of its `excludes` do, on the engine's architecture
 * and with the container's bounding capabilities (moby's profiles/seccomp `setupSeccomp`). The
 * functions here do the same evaluation without an engine, so hardspec can expand the
 * "docker-default" baseline and compare a generated profile with Docker's.
 */
import defaultProfileJson from '../../../vendor/docker-seccomp/default.json' with { type: 'json' };

// ── The profile format (moby's types.Seccomp, field order as moby marshals it) ───────────────

export type SeccompAction =
  | 'SCMP_ACT_KILL' | 'SCMP_ACT_KILL_PROCESS' | 'SCMP_ACT_KILL_THREAD' | 'SCMP_ACT_TRAP'
  | 'SCMP_ACT_ERRNO' | 'SCMP_ACT_TRACE' | 'SCMP_ACT_ALLOW' | 'SCMP_ACT_LOG' | 'SCMP_ACT_NOTIFY';

export type SeccompOperator =
  | 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_EQ' | 'SCMP_CMP_GE' | 'SCMP_CMP_GT'
  | 'SCMP_CMP_MASKED_EQ';

export interface SeccompArg {
  readonly index: number;
  readonly value: number;
  readonly valueTwo?: number;
  readonly op: SeccompOperator;
}

export interface SeccompFilter {
  readonly caps?: readonly string[];
  /** Go-style architecture names as Docker's `runtime.GOARCH` maps them: amd64, arm64, x86, … */
  readonly arches?: readonly string[];
  /** "<kernel>.<major>", compared with the host's kernel. */
  readonly minKernel?: string;
}

export interface SeccompRule {
  readonly names: readonly string[];
  readonly action: SeccompAction;
  readonly errnoRet?: number;
  readonly args?: readonly SeccompArg[] | null;
  readonly comment?: string;
  readonly includes?: SeccompFilter;
  readonly excludes?: SeccompFilter;
}

export interface SeccompArchitecture {
  readonly architecture: string;
  readonly subArchitectures: readonly string[];
}

export interface SeccompProfile {
  readonly defaultAction: SeccompAction;
  readonly defaultErrnoRet?: number;
  readonly archMap?: readonly SeccompArchitecture[];
  readonly syscalls: readonly SeccompRule[];
}

// ── Evaluating Docker's default profile ───────────────────────────────────────────────────────

/** The two architectures hardspec emits profiles for, named as the kernel headers name them. */
export type SeccompArch = 'x86_64' | 'aarch64';

/** Docker names architectures by Go's GOARCH (moby's goToNative map). */
const DOCKER_ARCH: Record<SeccompArch, string> = { x86_64: 'amd64', aarch64: 'arm64' };

export const DOCKER_DEFAULT_PROFILE = defaultProfileJson as unknown as SeccompProfile;

export interface DockerDefaultOptions {
  /**
   * The host kernel as "<kernel>.<major>" for `minKernel` conditions (only ptrace ≥ 4.8 has one).
   * Left out, every kernel condition counts as met: hardspec targets current kernels.
   */
  readonly kernel?: string;
}

/**
 * Names in Docker's default profile allowed outright: groups with action SCMP_ACT_ALLOW and no
 * includes, no excludes and no argument conditions. Sorted. (346 names in Docker 20.10.24; many
 * are other architectures' names.)
 */
export function dockerDefaultUnconditional(): readonly string[] {
  const names = DOCKER_DEFAULT_PROFILE.syscalls
    .filter((r) => r.action === 'SCMP_ACT_ALLOW' && isEmptyFilter(r.includes) && isEmptyFilter(r.excludes) && !hasArgs(r))
    .flatMap((r) => r.names);
  return sortedUnique(names);
}

/**
 * Names Docker's default profile allows on `arch` for a container whose bounding set is `caps`
 * ("NET_ADMIN" or "CAP_NET_ADMIN"), including names allowed only for some argument values
 * (clone, personality; see dockerDefaultArgFilters). Sorted.
 */
export function dockerDefaultFor(
  arch: SeccompArch,
  caps: readonly string[] = [],
  options: DockerDefaultOptions = {},
): readonly string[] {
  const rules = applicableRules(arch, caps, options).filter((r) => r.action === 'SCMP_ACT_ALLOW');
  return sortedUnique(rules.flatMap((r) => r.names));
}

/**
 * Names Docker allows on `arch` with `caps` only when their arguments match, each with the
 * alternative argument conditions (any one of them allows the call). Names that another rule
 * allows outright for these caps are left out (clone once CAP_SYS_ADMIN is there).
 */
export function dockerDefaultArgFilters(
  arch: SeccompArch,
  caps: readonly string[] = [],
  options: DockerDefaultOptions = {},
): ReadonlyMap<string, readonly (readonly SeccompArg[])[]> {
  const allows = applicableRules(arch, caps, options).filter((r) => r.action === 'SCMP_ACT_ALLOW');
  const outright = new Set(allows.filter((r) => !hasArgs(r)).flatMap((r) => r.names));
  const filters = new Map<string, SeccompArg[][]>();
  for (const rule of allows.filter(hasArgs)) {
    for (const name of rule.names) {
      if (outright.has(name)) continue;
      const list = filters.get(name) ?? [];
      list.push(rule.args!.map(normaliseArg));
      filters.set(name, list);
    }
  }
  return new Map([...filters].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The rules Docker keeps for this arch, caps and kernel, as moby's setupSeccomp decides. */
function applicableRules(arch: SeccompArch, caps: readonly string[], options: DockerDefaultOptions): SeccompRule[] {
  const dockerArch = DOCKER_ARCH[arch];
  const bounding = new Set(caps.map((c) => (c.startsWith('CAP_') ? c : `CAP_${c}`)));
  const kernelAtLeast = (min: string): boolean => options.kernel === undefined || compareKernel(options.kernel, min) >= 0;
  return DOCKER_DEFAULT_PROFILE.syscalls.filter((rule) => {
    const ex = rule.excludes ?? {};
    if (ex.arches?.includes(dockerArch)) return false;
    if (ex.caps?.some((c) => bounding.has(c))) return false;
    if (ex.minKernel && kernelAtLeast(ex.minKernel)) return false;
    const inc = rule.includes ?? {};
    if (inc.arches && inc.arches.length > 0 && !inc.arches.includes(dockerArch)) return false;
    if (inc.caps?.some((c) => !bounding.has(c))) return false;
    if (inc.minKernel && !kernelAtLeast(inc.minKernel)) return false;
    return true;
  });
}

function compareKernel(a: string, b: string): number {
  const [a1 = 0, a2 = 0] = a.split(/[.-]/).map(Number);
  const [b1 = 0, b2 = 0] = b.split(/[.-]/).map(Number);
  return a1 !== b1 ? a1 - b1 : a2 - b2;
}

function isEmptyFilter(f: SeccompFilter | undefined): boolean {
  return !f || ((f.caps ?? []).length === 0 && (f.arches ?? []).length === 0 && !f.minKernel);
}

function hasArgs(rule: SeccompRule): boolean {
  return (rule.args ?? []).length > 0;
}

/** Docker's file leaves valueTwo out when it is 0; keep that, in moby's field order. */
function normaliseArg(arg: SeccompArg): SeccompArg {
  return arg.valueTwo
    ? { index: arg.index, value: arg.value, valueTwo: arg.valueTwo, op: arg.op }
    : { index: arg.index, value: arg.value, op: arg.op };
}

/** Sorted by UTF-16 code units (Array#sort's default), never by locale: output must not vary. */
function sortedUnique(names: Iterable<string>): string[] {
  return [...new Set(names)].sort();
}
