/**
 * The eBPF recording, pure parts: the bpftrace program, the parser of its output, and the
 * attribution of every recorded system call to a service and an origin.
 *
 * What is recorded, and where the cut is:
 *   - Every syscall entry (`raw_syscalls:sys_enter`) of a task in a container cgroup (cgroup v2
 *     level ≥ 2, i.e. /docker/<id>), keyed by cgroup id, process, the task's seccomp mode, its
 *     command name and the syscall number. bpftrace starts before the container is created, so
 *     the runtime's own start-up calls are seen too.
 *   - The cut is the task's own seccomp mode at the syscall (`curtask->seccomp.mode`, 2 = filter).
 *     runc installs the filter (with TSYNC, on every thread) just before it execs the entrypoint
 *     (with no-new-privileges; without it, before dropping privileges). Calls made in mode 0 never
 *     meet the filter and need no allowlist entry (mount, pivot_root, sethostname…); calls in
 *     mode 2 do, including runc's own last ones (execve, futex of its Go threads). This is exact
 *     per task, also for `docker exec` processes, which get the filter the same way.
 *   - Process lineage (fork, execve with its first arguments, cgroup mkdir) is printed as events,
 *     so each process can be told apart afterwards: the service itself, its healthcheck (both
 *     part of what must keep working), the verifier's probe, and other verifier helpers (`docker
 *     exec` of the verifier: sql checks…). Only the first two seed the allowlist.
 *   - Capability checks (`capability:cap_capable`, Linux ≥ 6.13) with their result.
 *   - For the file-list search: the path argument of every call that opens, executes, inspects
 *     or reads a link by name (openat, execve, newfstatat, statx, access, readlink… as the
 *     kernel has them), keyed like the syscalls. Paths are read at entry, as the process gave
 *     them: absolute ones are resolved in the image later; relative ones are reported, not used.
 *     bpftrace cuts strings at BPFTRACE_STRLEN − 1 bytes: a path that long stands for every file
 *     it is a prefix of.
 */

/** The origin of a process in a container, decided at its first execve under the filter. */
export type Origin = 'service' | 'healthcheck' | 'probe' | 'helper';
/** Who made a call: the runtime (runc init, after the filter is installed) or a process of an origin. */
export type Maker = 'runtime' | Origin;

export const ARGV_RECORDED = 4;

export interface TraceProgramOptions {
  /** Also record capability checks (needs the capability:cap_capable tracepoint). */
  readonly caps: boolean;
  /** Also record the paths given to these calls (FILE_CALLS names the kernel has tracepoints for). */
  readonly files?: readonly string[];
}

/** Calls that name a file, and the tracepoint argument holding the name. */
export const FILE_CALLS: ReadonlyMap<string, string> = new Map([
  ['openat', 'filename'], ['open', 'filename'], ['openat2', 'filename'],
  ['execve', 'filename'], ['execveat', 'filename'],
  ['newfstatat', 'filename'], ['statx', 'filename'], ['newstat', 'filename'], ['newlstat', 'filename'],
  ['access', 'filename'], ['faccessat', 'filename'], ['faccessat2', 'filename'],
  ['readlink', 'path'], ['readlinkat', 'pathname'],
]);

/** Longest string bpftrace prints whole (BPFTRACE_STRLEN − 1). */
export const STR_MAX = 79;

/** The bpftrace program. Event lines are tab-separated; maps are printed by bpftrace on exit. */
export function bpftraceProgram(options: TraceProgramOptions): string {
  const inContainer = 'curtask->cgroups->dfl_cgrp->level >= 2';
  const argv = Array.from({ length: ARGV_RECORDED }, (_, i) => `str(args->argv[${i}])`).join(', ');
  const lines = [
    `tracepoint:cgroup:cgroup_mkdir /args->root == 0/ { printf("MKDIR\\t%llu\\t%s\\n", args->id, str(args->path)); }`,
    `tracepoint:raw_syscalls:sys_enter /${inContainer}/ { @s[cgroup, pid, curtask->seccomp.mode, comm, args->id] = count(); }`,
    // Calls that returned an error: ones whose failure the service already tolerates are the
    // likeliest to be removable, so the search tries them first.
    `tracepoint:raw_syscalls:sys_exit /${inContainer} && args->ret < 0/ { @f[cgroup, pid, curtask->seccomp.mode, comm, args->id] = count(); }`,
    `tracepoint:sched:sched_process_fork /${inContainer}/ { printf("FORK\\t%llu\\t%d\\t%d\\n", cgroup, pid, args->child_pid); }`,
    `tracepoint:syscalls:sys_enter_execve /${inContainer}/ { printf("EXECVE\\t%llu\\t%d\\t%d${'\\t%s'.repeat(ARGV_RECORDED)}\\n", cgroup, pid, curtask->seccomp.mode, ${argv}); }`,
  ];
  const files = (options.files ?? []).filter((c) => FILE_CALLS.has(c));
  for (const arg of [...new Set(files.map((c) => FILE_CALLS.get(c)!))].sort()) {
    const probes = files.filter((c) => FILE_CALLS.get(c) === arg).map((c) => `tracepoint:syscalls:sys_enter_${c}`).join(', ');
    lines.push(`${probes} /${inContainer}/ { @o[cgroup, pid, curtask->seccomp.mode, str(args->${arg})] = count(); }`);
  }
  if (options.caps) {
    // Only checks of the task's own credentials: the kernel also checks file openers' credentials.
    lines.push(`tracepoint:capability:cap_capable /${inContainer} && args->cred == curtask->cred/ { @c[cgroup, pid, curtask->seccomp.mode, comm, args->cap, args->ret] = count(); }`);
  }
  lines.push('END { printf("END\\n"); }');
  return `${lines.join('\n')}\n`;
}

/** Environment for bpftrace: long enough strings for cgroup paths and arguments, enough map keys. */
export const BPFTRACE_ENV: Readonly<Record<string, string>> = {
  BPFTRACE_STRLEN: '80',
  // Newer bpftrace appends ".." to a string it cut (0.17 does not); a cut path must stay a prefix.
  BPFTRACE_STR_TRUNC_TRAILER: '',
  BPFTRACE_MAP_KEYS_MAX: '1048576',
  BPFTRACE_NO_CPP_DEMANGLE: '1',
};

// ── Parsing ───────────────────────────────────────────────────────────────────────────────────

export interface SyscallCount { readonly cgroup: string; readonly pid: number; readonly mode: number; readonly comm: string; readonly nr: number; readonly count: number }
export interface CapCount { readonly cgroup: string; readonly pid: number; readonly mode: number; readonly comm: string; readonly cap: number; readonly ret: number; readonly count: number }
export interface ExecEvent { readonly cgroup: string; readonly pid: number; readonly mode: number; readonly argv: readonly string[]; readonly seq: number }
export interface ForkEvent { readonly cgroup: string; readonly parent: number; readonly child: number; readonly seq: number }
export interface FileCount { readonly cgroup: string; readonly pid: number; readonly mode: number; readonly path: string; readonly count: number }

export interface RawTrace {
  /** cgroup id → container id (from /docker/<id>). */
  readonly cgroups: ReadonlyMap<string, string>;
  readonly forks: readonly ForkEvent[];
  readonly execs: readonly ExecEvent[];
  readonly syscalls: readonly SyscallCount[];
  /** Calls that returned an error (same keys as syscalls). */
  readonly failures: readonly SyscallCount[];
  readonly caps: readonly CapCount[];
  /** Paths named to file calls (with TraceProgramOptions.files). */
  readonly files: readonly FileCount[];
  /** The END line was seen: bpftrace exited cleanly and printed its maps. */
  readonly complete: boolean;
}

// `@s[2590, 20764, 2, runc:[2:INIT], 257]: 17` — the command name may hold anything: parse it
// between the numbers on the left and those on the right.
const SYSCALL_LINE = /^@([sf])\[(\d+), (\d+), (\d+), (.*), (\d+)\]: (\d+)$/;
const CAP_LINE = /^@c\[(\d+), (\d+), (\d+), (.*), (\d+), (-?\d+)\]: (\d+)$/;
const FILE_LINE = /^@o\[(\d+), (\d+), (\d+), (.*)\]: (\d+)$/;

/** Parses bpftrace's output (events and the maps printed at exit). Unknown lines are ignored. */
export function parseTrace(text: string): RawTrace {
  const cgroups = new Map<string, string>();
  const forks: ForkEvent[] = [];
  const execs: ExecEvent[] = [];
  const syscalls: SyscallCount[] = [];
  const failures: SyscallCount[] = [];
  const caps: CapCount[] = [];
  const files: FileCount[] = [];
  let complete = false;
  let seq = 0;
  for (const line of text.split('\n')) {
    seq++;
    if (line.startsWith('MKDIR\t')) {
      const [, id = '', path = ''] = line.split('\t');
      const m = /^\/docker\/([0-9a-f]{64})$/.exec(path);
      if (m) cgroups.set(id, m[1]!);
    } else if (line.startsWith('FORK\t')) {
      const [, cgroup = '', parent = '', child = ''] = line.split('\t');
      forks.push({ cgroup, parent: Number(parent), child: Number(child), seq });
    } else if (line.startsWith('EXECVE\t')) {
      const [, cgroup = '', pid = '', mode = '', ...argv] = line.split('\t');
      while (argv.length && argv[argv.length - 1] === '') argv.pop();
      execs.push({ cgroup, pid: Number(pid), mode: Number(mode), argv, seq });
    } else if (line === 'END') {
      complete = true;
    } else {
      let m = SYSCALL_LINE.exec(line);
      if (m) {
        (m[1] === 's' ? syscalls : failures).push({ cgroup: m[2]!, pid: Number(m[3]), mode: Number(m[4]), comm: m[5]!, nr: Number(m[6]), count: Number(m[7]) });
        continue;
      }
      m = CAP_LINE.exec(line);
      if (m) {
        caps.push({ cgroup: m[1]!, pid: Number(m[2]), mode: Number(m[3]), comm: m[4]!, cap: Number(m[5]), ret: Number(m[6]), count: Number(m[7]) });
        continue;
      }
      m = FILE_LINE.exec(line);
      if (m) files.push({ cgroup: m[1]!, pid: Number(m[2]), mode: Number(m[3]), path: m[4]!, count: Number(m[5]) });
    }
  }
  return { cgroups, forks, execs, syscalls, failures, caps, files, complete };
}

// ── Attribution ───────────────────────────────────────────────────────────────────────────────

export interface AttributionContext {
  /** Container id → compose service (every container of the run, removed ones included). */
  readonly services: ReadonlyMap<string, string>;
  /** Service → its healthcheck command (exec form). */
  readonly healthchecks: ReadonlyMap<string, readonly string[]>;
  /** Path of the verifier's probe in containers (argv[0] of its execs). */
  readonly probePath: string;
  /** Syscall number → name for the engine's architecture. */
  readonly syscallName: (nr: number) => string | undefined;
  /** Capability number → name (without CAP_). */
  readonly capName: (nr: number) => string | undefined;
}

export interface RecordedItem {
  readonly name: string;
  /** Calls seen (summed over processes and containers). */
  readonly count: number;
  /** Of those, calls that returned an error (syscalls only). */
  readonly failed: number;
  /** Who made them, sorted. */
  readonly makers: readonly Maker[];
}

export interface ServiceRecording {
  readonly service: string;
  readonly containers: readonly string[];
  /** Syscalls made under the filter, by name, sorted. */
  readonly syscalls: readonly RecordedItem[];
  /** Syscalls made before the filter was installed (runtime set-up; need no allowlist entry). */
  readonly beforeFilter: readonly string[];
  /** Capability checks that succeeded / failed under the filter, by name (without CAP_). */
  readonly capsGranted: readonly RecordedItem[];
  readonly capsDenied: readonly RecordedItem[];
  /** Numbers no table knew (should be none). */
  readonly unknownNumbers: readonly number[];
  /** Paths named to file calls under the filter, sorted (with TraceProgramOptions.files). */
  readonly files: readonly RecordedItem[];
}

const RUNC_COMM = /^runc(:\[|$)/;

/** True when a recorded call should seed the allowlist: the runtime after the cut, the service, its healthcheck. */
export function seedsAllowlist(makers: readonly Maker[]): boolean {
  return makers.some((m) => m === 'runtime' || m === 'service' || m === 'healthcheck');
}

/**
 * Decides each process's origin and sums the calls per service. A process that execs under the
 * filter with no classified parent is a root: the first root of a container is its entrypoint
 * (`service`); a later one is a `docker exec`: the probe (by path), the healthcheck (same
 * arguments as the spec's command, as far as recorded) or else a verifier helper. Processes
 * forked from a classified one inherit its origin.
 */
export function attributeTrace(raw: RawTrace, ctx: AttributionContext): ServiceRecording[] {
  const parentOf = new Map<string, number>();
  for (const f of raw.forks) if (f.parent !== f.child) parentOf.set(`${f.cgroup}/${f.child}`, f.parent);
  const firstExec = new Map<string, ExecEvent>();
  for (const e of raw.execs) {
    const key = `${e.cgroup}/${e.pid}`;
    if (e.mode === 2 && !firstExec.has(key)) firstExec.set(key, e);
  }
  // The entrypoint: per cgroup, the earliest root exec.
  const origins = new Map<string, Origin | undefined>();
  const entry = new Map<string, number>();
  const classify = (cgroup: string, pid: number, depth = 0): Origin | undefined => {
    const key = `${cgroup}/${pid}`;
    if (origins.has(key)) return origins.get(key);
    if (depth > 64) return undefined;
    const parent = parentOf.get(key);
    const inherited = parent === undefined ? undefined : classify(cgroup, parent, depth + 1);
    let origin: Origin | undefined = inherited;
    const exec = firstExec.get(key);
    if (!origin && exec) origin = rootOrigin(exec, entry.get(cgroup) === pid, ctx, raw.cgroups.get(cgroup));
    origins.set(key, origin);
    return origin;
  };
  const rootsByCgroup = new Map<string, ExecEvent[]>();
  for (const e of firstExec.values()) {
    const list = rootsByCgroup.get(e.cgroup) ?? [];
    list.push(e);
    rootsByCgroup.set(e.cgroup, list);
  }
  for (const [cgroup, list] of rootsByCgroup) {
    // A root is an exec whose lineage holds no other exec under the filter.
    const roots = list.filter((e) => !hasExecAncestor(cgroup, e.pid, parentOf, firstExec));
    roots.sort((a, b) => a.seq - b.seq);
    if (roots[0]) entry.set(cgroup, roots[0].pid);
  }

  interface Tally { count: number; failed: number; makers: Set<Maker> }
  interface Acc { containers: Set<string>; calls: Map<string, Tally>; before: Set<string>; granted: Map<string, Tally>; denied: Map<string, Tally>; unknown: Set<number>; files: Map<string, Tally> }
  const byService = new Map<string, Acc>();
  const accOf = (cgroup: string): Acc | undefined => {
    const container = raw.cgroups.get(cgroup);
    const service = container ? ctx.services.get(container) : undefined;
    if (!service || !container) return undefined;
    let acc = byService.get(service);
    if (!acc) {
      acc = { containers: new Set(), calls: new Map(), before: new Set(), granted: new Map(), denied: new Map(), unknown: new Set(), files: new Map() };
      byService.set(service, acc);
    }
    acc.containers.add(container);
    return acc;
  };
  const add = (m: Map<string, Tally>, name: string, count: number, maker: Maker) => {
    const cur = m.get(name) ?? { count: 0, failed: 0, makers: new Set<Maker>() };
    cur.count += count;
    cur.makers.add(maker);
    m.set(name, cur);
  };
  const makerOf = (cgroup: string, pid: number, comm: string): Maker =>
    RUNC_COMM.test(comm) ? 'runtime' : (classify(cgroup, pid) ?? 'runtime');

  for (const s of raw.syscalls) {
    const acc = accOf(s.cgroup);
    if (!acc) continue;
    const name = ctx.syscallName(s.nr);
    if (name === undefined) { acc.unknown.add(s.nr); continue; }
    if (s.mode !== 2) { acc.before.add(name); continue; }
    add(acc.calls, name, s.count, makerOf(s.cgroup, s.pid, s.comm));
  }
  for (const f of raw.failures) {
    const acc = accOf(f.cgroup);
    const name = ctx.syscallName(f.nr);
    const cur = f.mode === 2 && name !== undefined ? acc?.calls.get(name) : undefined;
    if (cur) cur.failed += f.count;
  }
  for (const c of raw.caps) {
    const acc = accOf(c.cgroup);
    if (!acc || c.mode !== 2) continue;
    const name = ctx.capName(c.cap) ?? `cap${c.cap}`;
    add(c.ret === 0 ? acc.granted : acc.denied, name, c.count, makerOf(c.cgroup, c.pid, c.comm));
  }
  // Before the filter, runc init is still setting up the container (its /proc, /dev, the
  // mounts): only what happens under the filter is the service's own.
  for (const f of raw.files) {
    const acc = accOf(f.cgroup);
    if (!acc || f.mode !== 2) continue;
    add(acc.files, f.path, f.count, classify(f.cgroup, f.pid) ?? 'runtime');
  }
  const items = (m: Map<string, Tally>): RecordedItem[] =>
    [...m].map(([name, v]) => ({ name, count: v.count, failed: Math.min(v.failed, v.count), makers: [...v.makers].sort() })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return [...byService].sort(([a], [b]) => (a < b ? -1 : 1)).map(([service, acc]) => ({
    service,
    containers: [...acc.containers].sort(),
    syscalls: items(acc.calls),
    beforeFilter: [...acc.before].sort(),
    capsGranted: items(acc.granted),
    capsDenied: items(acc.denied),
    unknownNumbers: [...acc.unknown].sort((a, b) => a - b),
    files: items(acc.files),
  }));
}

function hasExecAncestor(cgroup: string, pid: number, parentOf: ReadonlyMap<string, number>, firstExec: ReadonlyMap<string, ExecEvent>): boolean {
  let cur = parentOf.get(`${cgroup}/${pid}`);
  for (let i = 0; cur !== undefined && i < 64; i++) {
    if (firstExec.has(`${cgroup}/${cur}`)) return true;
    cur = parentOf.get(`${cgroup}/${cur}`);
  }
  return false;
}

function rootOrigin(exec: ExecEvent, isEntry: boolean, ctx: AttributionContext, container: string | undefined): Origin {
  if (isEntry) return 'service';
  if (exec.argv[0] === ctx.probePath) return 'probe';
  const service = container ? ctx.services.get(container) : undefined;
  const hc = service ? ctx.healthchecks.get(service) : undefined;
  if (hc && argvMatches(exec.argv, hc)) return 'healthcheck';
  return 'helper';
}

/** Compares the recorded arguments (at most ARGV_RECORDED, each cut by bpftrace's string limit) with a command. */
export function argvMatches(recorded: readonly string[], command: readonly string[]): boolean {
  const n = Math.min(ARGV_RECORDED, command.length);
  if (recorded.length < n) return false;
  for (let i = 0; i < n; i++) {
    const r = recorded[i]!;
    const c = command[i]!;
    // bpftrace cuts strings at BPFTRACE_STRLEN - 1 bytes.
    if (r !== c && !(r.length >= STR_MAX && c.startsWith(r))) return false;
  }
  return true;
}
