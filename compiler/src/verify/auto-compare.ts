/**
 * Pure comparisons for the automatic checks: what `docker inspect`, /proc/<pid>/status and
 * /proc/<pid>/mountinfo must show for a service, field by field, derived from the model alone
 * (never from the emitted compose file, so an emitter bug shows up here). Each returns the
 * observed values and a list of problems.
 */
import type { ContainerInspectInfo } from 'dockerode';
import { sha256 } from '../emit/manifest.ts';
import { CAPABILITIES, capabilitiesFromMask } from '../model/capabilities.ts';
import type { ServiceModel, StackModel, TmpfsMount } from '../model/types.ts';
import { sortKeys } from './evidence.ts';
import { PROBE_MOUNT_PATH } from './probe.ts';

export interface Comparison {
  readonly observed: Record<string, unknown>;
  readonly problems: string[];
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
const show = (v: unknown) => JSON.stringify(v);

/** "64k" / "256m" / "1g" / "1024" → bytes (Docker's RAMInBytes, binary units). */
export function sizeInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)b?$/i.exec(s.trim());
  if (!m) return Number.NaN;
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.round(Number(m[1]) * mult);
}

/** "10s" → nanoseconds (Docker stores healthcheck durations in ns). */
export function durationNs(s: string | undefined): number {
  if (s === undefined) return 0;
  const m = /^(\d+)(ms|s|m|h)$/.exec(s);
  if (!m) return Number.NaN;
  return Number(m[1]) * { ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

/** The capability mask (bit n = CAPABILITIES[n]) of a set of names. */
export function capabilityMask(names: readonly string[]): bigint {
  let mask = 0n;
  for (const n of names) {
    const bit = CAPABILITIES.indexOf(n.replace(/^CAP_/, ''));
    if (bit >= 0) mask |= 1n << BigInt(bit);
  }
  return mask;
}

/** JSON with object keys sorted: the same profile gives the same text however it was serialised. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

// ── docker inspect ────────────────────────────────────────────────────────────────────────────

export function compareUser(s: ServiceModel, info: ContainerInspectInfo): Comparison {
  const expected = `${s.user.uid}:${s.user.gid}`;
  const got = info.Config.User ?? '';
  return { observed: { expected, actual: got }, problems: got === expected ? [] : [`Config.User is ${show(got)}, expected ${show(expected)}`] };
}

export function compareCapabilities(s: ServiceModel, info: ContainerInspectInfo): Comparison {
  const norm = (l: readonly string[] | null | undefined) => (l ?? []).map((c) => c.toUpperCase().replace(/^CAP_/, '')).sort();
  const drop = norm(info.HostConfig.CapDrop);
  const add = norm(info.HostConfig.CapAdd);
  const problems: string[] = [];
  if (!sameSet(drop, ['ALL'])) problems.push(`CapDrop is ${show(drop)}, expected ["ALL"]`);
  if (!sameSet(add, s.capAdd)) problems.push(`CapAdd is ${show(add)}, expected ${show(s.capAdd)}`);
  return { observed: { capDrop: drop, capAdd: add, expectedCapAdd: s.capAdd }, problems };
}

/** SecurityOpt: no-new-privileges, the seccomp profile (same JSON as the generated file), the SELinux type; nothing else. */
export function compareSecurityOpt(s: ServiceModel, info: ContainerInspectInfo, generatedProfile: string): Comparison {
  const opts = info.HostConfig.SecurityOpt ?? [];
  const problems: string[] = [];
  const shown: string[] = [];
  let nnp = false;
  let seccomp: { appliedCanonicalSha256: string; generatedCanonicalSha256: string; generatedFileSha256: string; same: boolean } | undefined;
  let label: string | undefined;
  const generatedCanonical = canonicalJson(JSON.parse(generatedProfile));
  for (const o of opts) {
    const [key, ...rest] = o.split(/[=:]/);
    const value = o.slice((key ?? '').length + 1);
    if (key === 'no-new-privileges') {
      nnp = rest.length === 0 || value === 'true';
      shown.push(o);
    } else if (key === 'seccomp') {
      let applied: string;
      try {
        applied = canonicalJson(JSON.parse(value));
      } catch {
        applied = value;
      }
      seccomp = { appliedCanonicalSha256: sha256(applied), generatedCanonicalSha256: sha256(generatedCanonical), generatedFileSha256: sha256(generatedProfile), same: applied === generatedCanonical };
      shown.push(value.startsWith('{') ? `seccomp=<profile sha256:${seccomp.appliedCanonicalSha256.slice(0, 16)}…>` : o);
    } else if (key === 'label' && value.startsWith('type:')) {
      label = value.slice('type:'.length);
      shown.push(o);
    } else {
      shown.push(o);
      problems.push(`unexpected security option ${show(o.length > 80 ? `${o.slice(0, 80)}…` : o)}`);
    }
  }
  if (nnp !== s.noNewPrivileges) problems.push(s.noNewPrivileges ? 'no-new-privileges is not set' : 'no-new-privileges is set but the spec turns it off');
  if (!seccomp) problems.push('no seccomp profile in SecurityOpt (the engine would use its default profile)');
  else if (!seccomp.same) problems.push('the seccomp profile the engine holds differs from the generated one');
  const wantLabel = s.selinux?.type;
  if (wantLabel !== label) problems.push(wantLabel ? `label=type:${wantLabel} is ${label ? `label=type:${label}` : 'missing'}` : `unexpected label=type:${label}`);
  return { observed: { securityOpt: shown, noNewPrivileges: nnp, ...(seccomp ? { seccomp } : {}), ...(label ? { selinuxType: label } : {}) }, problems };
}

export function compareReadOnly(s: ServiceModel, info: ContainerInspectInfo): Comparison {
  const got = Boolean(info.HostConfig.ReadonlyRootfs);
  return { observed: { readonlyRootfs: got, expected: s.readOnly }, problems: got === s.readOnly ? [] : [`ReadonlyRootfs is ${got}, expected ${s.readOnly}`] };
}

interface TmpfsOptions { size?: number; mode?: number; uid?: number; gid?: number; flags: string[] }

export function parseTmpfsOptions(opts: string): TmpfsOptions {
  const out: TmpfsOptions = { flags: [] };
  for (const o of opts.split(',').map((x) => x.trim()).filter(Boolean)) {
    const [k, v] = o.split('=');
    if (v === undefined) out.flags.push(k!);
    else if (k === 'size') out.size = sizeInBytes(v);
    else if (k === 'mode') out.mode = parseInt(v, 8);
    else if (k === 'uid') out.uid = Number(v);
    else if (k === 'gid') out.gid = Number(v);
    else out.flags.push(o);
  }
  out.flags.sort();
  return out;
}

function expectedTmpfs(t: TmpfsMount): TmpfsOptions {
  return {
    ...(t.size !== undefined ? { size: sizeInBytes(t.size) } : {}),
    ...(t.mode !== undefined ? { mode: parseInt(t.mode, 8) } : {}),
    ...(t.uid !== undefined ? { uid: t.uid } : {}),
    ...(t.gid !== undefined ? { gid: t.gid } : {}),
    flags: [t.exec ? 'exec' : 'noexec', 'nodev', 'nosuid'].sort(),
  };
}

export function compareTmpfs(s: ServiceModel, info: ContainerInspectInfo): Comparison {
  const got = (info.HostConfig.Tmpfs ?? {}) as Record<string, string>;
  const problems: string[] = [];
  for (const t of s.tmpfs) {
    if (!(t.path in got)) { problems.push(`tmpfs ${t.path} is missing`); continue; }
    const a = parseTmpfsOptions(got[t.path] ?? '');
    const e = expectedTmpfs(t);
    if (canonicalJson(a) !== canonicalJson(e)) problems.push(`tmpfs ${t.path} has options ${show(got[t.path])}, expected ${show(e)}`);
  }
  for (const p of Object.keys(got)) if (!s.tmpfs.some((t) => t.path === p)) problems.push(`unexpected tmpfs ${p}`);
  return { observed: { tmpfs: got }, problems };
}

export interface MountContext {
  readonly project: string;
  /** Absolute stack folder (bind sources are relative to it). */
  readonly stackDir: string;
  /** Absolute generated/<stack>/secrets folder. */
  readonly secretsDir: string;
}

/** Mounts: the spec's volumes and binds, the secrets (read-only), the probe (read-only); nothing else. */
export function compareMounts(s: ServiceModel, info: ContainerInspectInfo, mc: MountContext): Comparison {
  const got = (info.Mounts ?? []).map((m) => ({ type: m.Type, name: m.Name, source: m.Source, target: m.Destination, rw: m.RW }));
  const problems: string[] = [];
  const expected: { type: string; name?: string; source?: string; target: string; rw: boolean }[] = [
    ...s.volumes.map((v) => v.type === 'volume'
      ? { type: 'volume', name: `${mc.project}_${v.source}`, target: v.target, rw: !v.readOnly }
      : { type: 'bind', source: `${mc.stackDir}/${v.source}`.replace(/\/\.$/, ''), target: v.target, rw: !v.readOnly }),
    ...s.secrets.map((n) => ({ type: 'bind', source: `${mc.secretsDir}/${n}`, target: `/run/secrets/${n}`, rw: false })),
    { type: 'bind', target: PROBE_MOUNT_PATH, rw: false },
  ];
  for (const e of expected) {
    const m = got.find((g) => g.target === e.target);
    if (!m) { problems.push(`mount ${e.target} is missing`); continue; }
    if (m.type !== e.type) problems.push(`mount ${e.target} is a ${m.type}, expected a ${e.type}`);
    if (e.name && m.name !== e.name) problems.push(`mount ${e.target} is volume ${show(m.name)}, expected ${show(e.name)}`);
    if (e.source && m.source !== e.source) problems.push(`mount ${e.target} comes from ${show(m.source)}, expected ${show(e.source)}`);
    if (m.rw !== e.rw) problems.push(`mount ${e.target} is ${m.rw ? 'writable' : 'read-only'}, expected ${e.rw ? 'writable' : 'read-only'}`);
  }
  for (const g of got) {
    if (!expected.some((e) => e.target === g.target)) problems.push(`unexpected ${g.rw ? 'writable' : 'read-only'} ${g.type} mount on ${g.target}${g.type === 'volume' ? ' (an anonymous volume from the image\'s VOLUME?)' : ''}`);
  }
  // Host paths shown relative to what they are, so evidence does not depend on where it ran.
  const shown = (g: (typeof got)[number]) => {
    if (g.type === 'volume') return { type: g.type, name: g.name, target: g.target, rw: g.rw };
    const src = g.source ?? '';
    const source = g.target === PROBE_MOUNT_PATH ? '(hardspec probe)'
      : src.startsWith(`${mc.secretsDir}/`) ? `(generated)/secrets/${src.slice(mc.secretsDir.length + 1)}`
        : src.startsWith(`${mc.stackDir}/`) ? `(stack folder)/${src.slice(mc.stackDir.length + 1)}` : src;
    return { type: g.type, source, target: g.target, rw: g.rw };
  };
  return { observed: { mounts: got.map(shown).sort((a, b) => (a.target < b.target ? -1 : 1)) }, problems };
}

export function comparePorts(s: ServiceModel, info: ContainerInspectInfo): Comparison {
  const bindings = (info.HostConfig.PortBindings ?? {}) as Record<string, { HostIp: string; HostPort: string }[] | null>;
  const got = Object.entries(bindings).flatMap(([cp, list]) => (list ?? []).map((b) => `${b.HostIp || '0.0.0.0'}:${b.HostPort}->${cp}`)).sort();
  const expected = s.ports.map((p) => `${p.hostIp}:${p.host}->${p.container}/${p.protocol}`).sort();
  const problems: string[] = [];
  for (const e of expected) if (!got.includes(e)) problems.push(`port ${e} is not published`);
  for (const g of got) if (!expected.includes(g)) problems.push(`unexpected published port ${g}`);
  return { observed: { portBindings: got, expected }, problems };
}

export function compareNetworks(s: ServiceModel, info: ContainerInspectInfo, project: string, stack: StackModel, internal: Readonly<Record<string, boolean>>): Comparison {
  const got = Object.keys(info.NetworkSettings.Networks ?? {}).sort();
  const names = s.networks.length ? s.networks : ['default'];
  const expected = names.map((n) => `${project}_${n}`).sort();
  const problems: string[] = [];
  if (!sameSet(got, expected)) problems.push(`joins ${show(got)}, expected ${show(expected)}`);
  for (const n of s.networks) {
    const want = stack.networks.find((x) => x.name === n)?.internal ?? false;
    if (internal[n] !== want) problems.push(`network ${n} is ${internal[n] ? '' : 'not '}internal, expected ${want ? '' : 'not '}internal`);
  }
  return { observed: { networks: got, internal: Object.fromEntries(s.networks.map((n) => [n, internal[n] ?? null])) }, problems };
}

export function compareResources(s: ServiceModel, info: ContainerInspectInfo): Comparison {
  const hc = info.HostConfig;
  const memory = hc.Memory ?? 0;
  const nanoCpus = hc.NanoCpus ?? 0;
  const pids = hc.PidsLimit ?? 0;
  const want = { memory: s.resources.memory ? sizeInBytes(s.resources.memory) : 0, nanoCpus: s.resources.cpus ? Math.round(s.resources.cpus * 1e9) : 0, pids: s.resources.pids ?? 0 };
  const problems: string[] = [];
  if (memory !== want.memory) problems.push(`Memory is ${memory}, expected ${want.memory}`);
  if (nanoCpus !== want.nanoCpus) problems.push(`NanoCpus is ${nanoCpus}, expected ${want.nanoCpus}`);
  if ((pids > 0 ? pids : 0) !== want.pids) problems.push(`PidsLimit is ${pids}, expected ${want.pids}`);
  return { observed: { memory, nanoCpus, pidsLimit: pids, expected: want }, problems };
}

export function compareUlimits(s: ServiceModel, info: ContainerInspectInfo): Comparison {
  const got = (info.HostConfig.Ulimits ?? []).map((u) => `${u.Name}=${u.Soft}:${u.Hard}`).sort();
  const expected = s.resources.ulimits.map((u) => `${u.name}=${u.soft}:${u.hard}`).sort();
  return { observed: { ulimits: got, expected }, problems: sameSet(got, expected) ? [] : [`Ulimits are ${show(got)}, expected ${show(expected)}`] };
}

export function compareRestart(s: ServiceModel, info: ContainerInspectInfo): Comparison {
  const got = info.HostConfig.RestartPolicy?.Name || 'no';
  return { observed: { restartPolicy: got, expected: s.restart }, problems: got === s.restart ? [] : [`RestartPolicy is ${show(got)}, expected ${show(s.restart)}`] };
}

export function compareHealthcheck(s: ServiceModel, info: ContainerInspectInfo): Comparison {
  const h = info.Config.Healthcheck as { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number } | undefined;
  const got = { test: h?.Test ?? [], interval: h?.Interval ?? 0, timeout: h?.Timeout ?? 0, startPeriod: h?.StartPeriod ?? 0, retries: h?.Retries ?? 0 };
  if (!s.healthcheck) return { observed: { healthcheck: got, note: 'the spec sets no healthcheck: the image\'s (if any) applies' }, problems: [] };
  const want = {
    test: ['CMD', ...s.healthcheck.command],
    interval: durationNs(s.healthcheck.interval), timeout: durationNs(s.healthcheck.timeout),
    startPeriod: durationNs(s.healthcheck.startPeriod), retries: s.healthcheck.retries ?? 0,
  };
  const problems: string[] = [];
  if (canonicalJson(got.test) !== canonicalJson(want.test)) problems.push(`Healthcheck.Test is ${show(got.test)}, expected ${show(want.test)}`);
  for (const k of ['interval', 'timeout', 'startPeriod', 'retries'] as const) {
    if (got[k] !== want[k]) problems.push(`Healthcheck.${k} is ${got[k]}, expected ${want[k]}`);
  }
  return { observed: { healthcheck: got }, problems };
}

export function compareIsolation(info: ContainerInspectInfo): Comparison {
  const hc = info.HostConfig as ContainerInspectInfo['HostConfig'] & { PidMode?: string; UTSMode?: string; UsernsMode?: string; IpcMode?: string };
  const observed = {
    privileged: Boolean(hc.Privileged), networkMode: hc.NetworkMode ?? '', pidMode: hc.PidMode ?? '', ipcMode: hc.IpcMode ?? '',
    utsMode: hc.UTSMode ?? '', usernsMode: hc.UsernsMode ?? '', devices: (hc.Devices ?? []).length,
  };
  const problems: string[] = [];
  if (observed.privileged) problems.push('the container is privileged');
  for (const [k, v] of [['NetworkMode', observed.networkMode], ['PidMode', observed.pidMode], ['IpcMode', observed.ipcMode], ['UTSMode', observed.utsMode], ['UsernsMode', observed.usernsMode]] as const) {
    if (v === 'host') problems.push(`${k} is host: the container shares the host's namespace`);
  }
  if (observed.devices) problems.push(`${observed.devices} host device(s) are mapped into the container`);
  return { observed, problems };
}

// ── /proc ─────────────────────────────────────────────────────────────────────────────────────

/** "Key:\tvalue" lines of /proc/<pid>/status → map (tabs turned into spaces, as the probe does). */
export function parseProcStatus(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim().replace(/\s+/g, ' ');
  }
  return out;
}

/**
 * Capabilities, no-new-privileges, seccomp mode and ids of a process, from /proc/<pid>/status
 * fields (read on the host, or by the probe inside). The bounding set must be exactly the spec's
 * capabilities; the permitted, effective, inheritable and ambient sets may not exceed them (a
 * non-root process loses its permitted set at exec: equal to the spec only for uid 0).
 */
export function judgeProcStatus(s: ServiceModel, f: Readonly<Record<string, string>>): Comparison {
  const want = capabilityMask(s.capAdd);
  const problems: string[] = [];
  const caps: Record<string, string[]> = {};
  for (const key of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) {
    const hex = f[key];
    if (hex === undefined) { problems.push(`${key} is missing`); continue; }
    const mask = BigInt(`0x${hex}`);
    caps[key] = capabilitiesFromMask(hex);
    if (key === 'CapBnd' ? mask !== want : (mask & ~want) !== 0n) {
      problems.push(`${key} is ${hex} (${caps[key]!.join(', ') || 'none'}), expected ${key === 'CapBnd' ? 'exactly' : 'at most'} ${s.capAdd.join(', ') || 'none'}`);
    }
  }
  const ids = (k: string) => (f[k] ?? '').split(' ').filter(Boolean).map(Number);
  const uid = ids('Uid');
  const gid = ids('Gid');
  if (uid.length !== 4 || uid.some((x) => x !== s.user.uid)) problems.push(`Uid is ${show(f.Uid)}, expected ${s.user.uid} four times`);
  if (gid.length !== 4 || gid.some((x) => x !== s.user.gid)) problems.push(`Gid is ${show(f.Gid)}, expected ${s.user.gid} four times`);
  if (s.user.uid === 0 && caps.CapEff && !sameSet(caps.CapEff, s.capAdd)) problems.push(`CapEff of a root process is ${show(caps.CapEff)}, expected ${show(s.capAdd)}`);
  const nnp = f.NoNewPrivs;
  if (nnp !== (s.noNewPrivileges ? '1' : '0')) problems.push(`NoNewPrivs is ${show(nnp)}, expected ${s.noNewPrivileges ? 1 : 0}`);
  if (f.Seccomp !== '2') problems.push(`Seccomp is ${show(f.Seccomp)}, expected 2 (filter mode)`);
  return {
    observed: { Uid: f.Uid, Gid: f.Gid, CapInh: f.CapInh, CapPrm: f.CapPrm, CapEff: f.CapEff, CapBnd: f.CapBnd, CapAmb: f.CapAmb, NoNewPrivs: nnp, Seccomp: f.Seccomp, capabilities: caps },
    problems,
  };
}

export interface MountInfo {
  readonly mountPoint: string;
  readonly options: readonly string[];
  readonly fsType: string;
  readonly superOptions: readonly string[];
}

/** /proc/<pid>/mountinfo lines → mounts (later lines over the same point win, as in the kernel). */
export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const [head, tail] = line.split(' - ');
    const f = (head ?? '').split(' ');
    const t = (tail ?? '').split(' ');
    const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    out.push({ mountPoint: unescape(f[4] ?? ''), options: (f[5] ?? '').split(','), fsType: t[0] ?? '', superOptions: (t[2] ?? '').split(',') });
  }
  return out;
}

/** The root mount read-only (when the spec says so), every tmpfs mounted nosuid,nodev and noexec (unless exec), the probe read-only. */
export function judgeMounts(s: ServiceModel, mounts: readonly MountInfo[]): Comparison {
  const last = (p: string) => [...mounts].reverse().find((m) => m.mountPoint === p);
  const problems: string[] = [];
  const root = last('/');
  const observed: Record<string, unknown> = {};
  if (!root) problems.push('no root mount in mountinfo');
  else {
    observed.root = { fsType: root.fsType, options: root.options };
    const ro = root.options.includes('ro');
    if (ro !== s.readOnly) problems.push(`the root file system is mounted ${ro ? 'ro' : 'rw'}, expected ${s.readOnly ? 'ro' : 'rw'}`);
  }
  const tmpfs: Record<string, unknown> = {};
  for (const t of s.tmpfs) {
    const m = last(t.path);
    if (!m) { problems.push(`${t.path} is not mounted`); continue; }
    tmpfs[t.path] = { fsType: m.fsType, options: m.options };
    if (m.fsType !== 'tmpfs') problems.push(`${t.path} is ${m.fsType}, expected tmpfs`);
    for (const flag of ['nosuid', 'nodev', ...(t.exec ? [] : ['noexec'])]) if (!m.options.includes(flag)) problems.push(`${t.path} is mounted without ${flag}`);
  }
  observed.tmpfs = tmpfs;
  const probe = last(PROBE_MOUNT_PATH);
  if (probe) {
    observed.probe = { options: probe.options };
    if (!probe.options.includes('ro')) problems.push(`the probe mount ${PROBE_MOUNT_PATH} is writable`);
  }
  return { observed, problems };
}

// ── Seccomp probe target ──────────────────────────────────────────────────────────────────────

/**
 * Harmless syscalls for proving the filter, in order of preference. The first ones would return
 * something other than EPERM without a filter (get_mempolicy succeeds; sysfs(0) and ustat(0) give
 * EINVAL/EFAULT), so an EPERM proves the filter, not a missing capability; acct, swapoff and
 * reboot answer EPERM without CAP_SYS_* anyway and are the fallback.
 */
export const SECCOMP_PROBE_CANDIDATES: readonly string[] = ['get_mempolicy', 'sysfs', 'ustat', 'acct', 'swapoff', 'reboot'];

/**
 * Pure: a syscall the service's filter must refuse with EPERM: not allowed, not answered ENOSYS,
 * and numbered below the highest number the filter names (above it, runc answers ENOSYS).
 */
export function pickDeniedSyscall(s: ServiceModel, table: Readonly<Record<string, number>>): { name: string; nr: number; highest: number } | undefined {
  const named = [...s.seccomp.allow, ...s.seccomp.enosys].map((n) => table[n]).filter((n): n is number => n !== undefined);
  const highest = Math.max(-1, ...named);
  for (const name of SECCOMP_PROBE_CANDIDATES) {
    const nr = table[name];
    if (nr === undefined || s.seccomp.allow.includes(name) || s.seccomp.enosys.includes(name)) continue;
    if (nr < highest) return { name, nr, highest };
  }
  return undefined;
}
