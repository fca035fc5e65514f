/**
 * The strace recording, pure part: turns the traces the runtime hardspec-strace writes
 * (scripts/runc-strace: `strace -f -q -n -s 80 -e signal=none --decode-pids=pidns` around
 * `runc create` and `runc exec`) into the same RawTrace the eBPF recorder gives, so one
 * attribution (trace.ts) serves both.
 *
 * What strace shows, and how each part of RawTrace is made from it:
 *   - Every line is `<tid> [<nr>] <call>(<args>) = <result>`, or split in two when another
 *     thread interleaves (`… <unfinished ...>`, later `<tid> [<nr>] <... call resumed>… = <result>`).
 *     A call is counted when it starts (as the eBPF recorder counts entries), its result is
 *     read when it ends.
 *   - The cut: a thread is under the filter from the moment the runtime's
 *     `seccomp(SECCOMP_SET_MODE_FILTER, …) = 0` or `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, …) = 0`
 *     returns in it; with SECCOMP_FILTER_FLAG_TSYNC, every thread of its process is. Threads and
 *     processes a filtered thread creates are filtered too. The install call itself is made
 *     before the cut (mode 0), as the kernel sees it.
 *   - Processes: strace names threads; a clone without CLONE_THREAD makes a process (a FORK
 *     event, parent and child by process id). The child's id is the host's
 *     (`= 6 /* 29960 in strace's PID NS *\/`): the container has its own pid namespace. A new
 *     task can print its first calls before the clone that made it returns, so who made whom
 *     is read first; `+++ exited` ends a task, so an id the kernel hands out again starts a
 *     new one. An execve from a thread other than the first ends under the process's id
 *     (`+++ superseded by execve in pid N +++`): the thread's state moves there.
 *   - Each `runc create` of a container (a restart makes another) is a life of its own, with
 *     its own entrypoint; a `runc exec` belongs to the latest life started before it.
 *   - execve/execveat give EXECVE events (at entry, with the first ARGV_RECORDED arguments)
 *     and the command name the kernel gives the new program; prctl(PR_SET_NAME) renames.
 *   - Paths named to FILE_CALLS (the first string argument), cut at STR_MAX like the eBPF
 *     recorder's, so a cut path stands for every file it is a prefix of.
 *   - No capability checks: strace cannot see them (`caps` stays empty).
 * Unlike the eBPF recording, strace also sees calls the filter then refuses (ptrace reports a call
 * before seccomp decides): such calls are outside the list the run had, and a search never
 * starts from them.
 */
import { ARGV_RECORDED, FILE_CALLS, STR_MAX, type CapCount, type ExecEvent, type FileCount, type ForkEvent, type RawTrace, type SyscallCount } from './trace.ts';

/** One trace file of the runtime: `<container id>.<create|exec>.<start time, ns>.<runc pid>.trace`. */
export interface StraceFile {
  readonly container: string;
  readonly command: 'create' | 'exec';
  /** When runc started, in nanoseconds since 1970 (orders the traces of one container; digits). */
  readonly started: string;
  /** runc's process id. */
  readonly pid: number;
  /** The trace's lines; read twice. */
  readonly lines: () => Iterable<string>;
}

const FILE_NAME = /^([0-9a-f]{64})\.(create|exec)\.(\d{1,30})\.(\d+)\.trace$/;

/** Reads a trace file's name; undefined for any other file. */
export function parseStraceFileName(name: string): { container: string; command: 'create' | 'exec'; started: string; pid: number } | undefined {
  const m = FILE_NAME.exec(name);
  return m ? { container: m[1]!, command: m[2] as 'create' | 'exec', started: m[3]!, pid: Number(m[4]) } : undefined;
}

/** Orders traces by start time (digits of any length), then by runc's pid. */
const byStart = (a: StraceFile, b: StraceFile): number => {
  const d = BigInt(a.started) - BigInt(b.started);
  return d < 0n ? -1 : d > 0n ? 1 : a.pid - b.pid;
};

const LINE = /^(\d+) +\[ *(\d+)\] (.*)$/;
const RESUMED = /^<\.\.\. ([\w?]+) resumed>(.*)$/;
const SUPERSEDED = /^\+\+\+ superseded by execve in pid (\d+) \+\+\+$/;
const ENDED = /^\+\+\+ (?:exited with -?\d+|killed by \w+(?: \(core dumped\))?) \+\+\+$/;
/** A call strace prints in two parts; an execve whose thread the kernel renames ends `<pid changed to N ...>`. */
const UNFINISHED = / <(?:unfinished|pid changed to \d+) \.\.\.>$/;
const TASK_COMM_LEN = 16;

/** A call's result: the number strace printed (for clones, the child's id in strace's namespace). */
export function parseResult(line: string): { value: number | undefined; error: boolean; hostPid: number | undefined } {
  const at = line.lastIndexOf(' = ');
  if (at < 0) return { value: undefined, error: false, hostPid: undefined };
  const text = line.slice(at + 3);
  const m = /^(0x[0-9a-f]+|-?\d+|\?)(?: \/\* (\d+) in strace's PID NS \*\/)?/.exec(text);
  if (!m) return { value: undefined, error: false, hostPid: undefined };
  // `= ? ERESTARTSYS (To be restarted…)`: interrupted, an error as the kernel returns it.
  if (m[1] === '?') return { value: undefined, error: /^\? E[A-Z0-9_]+\b/.test(text), hostPid: undefined };
  const value = Number(m[1]);
  return { value, error: value < 0, hostPid: m[2] !== undefined ? Number(m[2]) : undefined };
}

/**
 * The string literals at the top of an argument list and in its first array, decoded:
 * `"/bin/sh", ["sh", "-c", "x"], 0x…` → { strings: ['/bin/sh'], array: ['sh', '-c', 'x'] }.
 * A literal strace cut (`"abc"...`) is returned as far as printed.
 */
export function stringArguments(args: string): { strings: string[]; array: string[] } {
  const strings: string[] = [];
  const array: string[] = [];
  let depth = 0;
  let arraysSeen = 0;
  for (let i = 0; i < args.length; i++) {
    const c = args[i];
    if (c === '"') {
      const { value, end } = cString(args, i);
      if (depth === 0) strings.push(value);
      else if (depth === 1 && arraysSeen === 1) array.push(value);
      i = end;
    } else if (c === '[' || c === '{') {
      depth++;
      if (c === '[' && depth === 1) arraysSeen++;
    } else if (c === ']' || c === '}') {
      depth = Math.max(0, depth - 1);
    }
  }
  return { strings, array };
}

const ESCAPES: Readonly<Record<string, number>> = { n: 10, t: 9, r: 13, v: 11, f: 12, a: 7, b: 8, '\\': 92, '"': 34, "'": 39 };

/** Decodes the C string literal starting at `start` (a quote); returns it and its closing quote's index. */
function cString(text: string, start: number): { value: string; end: number } {
  const bytes: number[] = [];
  let i = start + 1;
  const push = (s: string) => { for (const b of Buffer.from(s, 'utf8')) bytes.push(b); };
  while (i < text.length && text[i] !== '"') {
    const c = text[i]!;
    if (c !== '\\') { push(c); i++; continue; }
    const n = text[i + 1] ?? '';
    if (n in ESCAPES) { bytes.push(ESCAPES[n]!); i += 2; continue; }
    if (n === 'x') {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(text.slice(i + 2, i + 4))?.[0] ?? '';
      bytes.push(hex ? parseInt(hex, 16) : 120);
      i += 2 + hex.length;
      continue;
    }
    const oct = /^[0-7]{1,3}/.exec(text.slice(i + 1, i + 4))?.[0];
    if (oct) { bytes.push(parseInt(oct, 8) & 0xff); i += 1 + oct.length; continue; }
    push(n);
    i += 2;
  }
  return { value: Buffer.from(bytes).toString('utf8'), end: i };
}

const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);
const commOf = (name: string) => Buffer.from(name, 'utf8').subarray(0, TASK_COMM_LEN - 1).toString('utf8');

/** The name the kernel gives a program after execve (the file's base name, cut to 15 bytes). */
function execComm(filename: string, argv0: string | undefined): string {
  // runc re-executes itself through /proc/self/exe or a memfd (execveat with an empty path).
  return commOf(filename === '' || filename.startsWith('/proc/self/') ? baseName(argv0 ?? '') : baseName(filename));
}

const CLONES = new Set(['clone', 'clone3', 'fork', 'vfork']);
/** strace's names of calls whose kernel tracepoints (FILE_CALLS) are named otherwise. */
const TRACEPOINT_NAMES: Readonly<Record<string, string>> = { stat: 'newstat', lstat: 'newlstat' };

/** What one trace says, in order: calls starting and ending, tasks ending, execve moving a thread. */
type TraceEvent =
  | { readonly kind: 'start'; readonly tid: number; readonly nr: number; readonly name: string; readonly head: string }
  | { readonly kind: 'finish'; readonly tid: number; readonly nr: number; readonly name: string; readonly head: string; readonly line: string }
  | { readonly kind: 'ended'; readonly tid: number }
  | { readonly kind: 'superseded'; readonly tid: number; readonly from: number };

/** The events of one trace; a call split by other tasks' lines is joined again. */
function* traceEvents(lines: Iterable<string>): Generator<TraceEvent> {
  const pending = new Map<number, { nr: number; name: string; head: string }>();
  for (const line of lines) {
    const m = LINE.exec(line);
    if (!m) continue;
    const tid = Number(m[1]);
    const nr = Number(m[2]);
    const body = m[3]!;
    if (body.startsWith('+++ ')) {
      const sup = SUPERSEDED.exec(body);
      if (sup) {
        // The execve of thread `from` ends here, under the process's id.
        const from = Number(sup[1]);
        const p = pending.get(from);
        pending.delete(from);
        if (p) pending.set(tid, p); else pending.delete(tid);
        yield { kind: 'superseded', tid, from };
      } else if (ENDED.test(body)) {
        pending.delete(tid);
        yield { kind: 'ended', tid };
      }
      continue;
    }
    const resumed = RESUMED.exec(body);
    if (resumed) {
      const p = pending.get(tid);
      if (!p) continue;
      pending.delete(tid);
      if (UNFINISHED.test(resumed[2]!)) continue; // resumed, then cut off again: the task died
      yield { kind: 'finish', tid, nr: p.nr, name: p.name, head: p.head + resumed[2]!, line };
      continue;
    }
    const open = body.indexOf('(');
    if (open <= 0) continue;
    const name = body.slice(0, open);
    const cut = UNFINISHED.exec(body);
    if (cut) {
      const head = body.slice(open + 1, cut.index);
      pending.set(tid, { nr, name, head });
      yield { kind: 'start', tid, nr, name, head };
    } else {
      const head = body.slice(open + 1);
      yield { kind: 'start', tid, nr, name, head };
      yield { kind: 'finish', tid, nr, name, head, line };
    }
  }
}

/** The task a successful clone made (its host id), and whether it is a thread. */
function cloneChild(e: TraceEvent): { child: number; thread: boolean } | undefined {
  if (e.kind !== 'finish' || !CLONES.has(e.name)) return undefined;
  const r = parseResult(e.line);
  if (r.value === undefined || r.value <= 0) return undefined;
  return { child: r.hostPid ?? r.value, thread: /\bCLONE_THREAD\b/.test(e.head) };
}

/** A filter installed: 0 returned (with TSYNC a failure returns the id of the thread in the way). */
function installsFilter(name: string, head: string): 'thread' | 'process' | undefined {
  if (name === 'prctl' && /^PR_SET_SECCOMP, SECCOMP_MODE_FILTER\b/.test(head)) return 'thread';
  if (name === 'seccomp' && /^SECCOMP_SET_MODE_FILTER\b/.test(head)) return /\bSECCOMP_FILTER_FLAG_TSYNC\b/.test(head) ? 'process' : 'thread';
  return undefined;
}

interface Creation { readonly parent: number; readonly child: number; readonly thread: boolean; readonly at: number }
interface Task { tgid: number; filtered: boolean; comm: string }

/**
 * Parses the runtime's traces of one recording into a RawTrace. Its cgroup keys stand for the
 * lives of the containers (the id, then `id#2`… for a container started again).
 */
export function parseStraceTraces(files: readonly StraceFile[], options: { files?: readonly string[] } = {}): RawTrace {
  const fileCalls = new Set((options.files ?? []).filter((c) => FILE_CALLS.has(c)));
  const cgroups = new Map<string, string>();
  const forks: ForkEvent[] = [];
  const execs: ExecEvent[] = [];
  const calls = new Map<string, SyscallCount>();
  const failed = new Map<string, SyscallCount>();
  const paths = new Map<string, FileCount>();
  let seq = 0;
  const count = <T extends { count: number }>(m: Map<string, T>, key: string, fresh: () => T) => {
    const cur = m.get(key);
    m.set(key, cur ? { ...cur, count: cur.count + 1 } : fresh());
  };
  for (const { file, cgroup } of lives(files)) {
    cgroups.set(cgroup, file.container);
    // Who made whom, in the order of the lines (an id can be handed out again).
    const creations: Creation[] = [];
    let at = 0;
    for (const e of traceEvents(file.lines())) {
      at++;
      const c = cloneChild(e);
      if (c) creations.push({ parent: e.tid, child: c.child, thread: c.thread, at });
    }
    const byEvent = new Map(creations.map((c) => [c.at, c]));
    const used = new Set<Creation>();
    const tasks = new Map<number, Task>();
    const born = (c: Creation, parent: Task) => {
      used.add(c);
      const t: Task = { tgid: c.thread ? parent.tgid : c.child, filtered: parent.filtered, comm: parent.comm };
      tasks.set(c.child, t);
      if (!c.thread) forks.push({ cgroup, parent: parent.tgid, child: c.child, seq: ++seq });
      return t;
    };
    const taskOf = (tid: number): Task => {
      const known = tasks.get(tid);
      if (known) return known;
      // A task whose first calls come before its creator's clone returns.
      const c = creations.find((x) => x.child === tid && !used.has(x));
      const parent = c ? tasks.get(c.parent) : undefined;
      if (c && parent) return born(c, parent);
      // The first task of a trace is runc itself.
      const t: Task = { tgid: tid, filtered: false, comm: 'runc' };
      tasks.set(tid, t);
      return t;
    };
    at = 0;
    for (const e of traceEvents(file.lines())) {
      at++;
      if (e.kind === 'ended') { tasks.delete(e.tid); continue; }
      if (e.kind === 'superseded') {
        // The thread that exec'd becomes the process's first task (its old one is gone).
        const moved = tasks.get(e.from) ?? taskOf(e.from);
        tasks.delete(e.from);
        tasks.set(e.tid, { tgid: e.tid, filtered: moved.filtered, comm: moved.comm });
        continue;
      }
      const t = taskOf(e.tid);
      const mode = t.filtered ? 2 : 0;
      if (e.kind === 'start') {
        count(calls, `${t.tgid}\0${mode}\0${t.comm}\0${e.nr}`, () => ({ cgroup, pid: t.tgid, mode, comm: t.comm, nr: e.nr, count: 1 }));
        seq++;
        if (e.name === 'execve' || e.name === 'execveat') {
          execs.push({ cgroup, pid: t.tgid, mode, argv: stringArguments(e.head).array.slice(0, ARGV_RECORDED), seq });
        }
        if (fileCalls.has(TRACEPOINT_NAMES[e.name] ?? e.name)) {
          const named = stringArguments(e.head).strings[0];
          if (named) {
            const cut = Buffer.from(named, 'utf8').subarray(0, STR_MAX).toString('utf8');
            count(paths, `${t.tgid}\0${mode}\0${cut}`, () => ({ cgroup, pid: t.tgid, mode, path: cut, count: 1 }));
          }
        }
        continue;
      }
      const r = parseResult(e.line);
      if (r.error) {
        count(failed, `${t.tgid}\0${mode}\0${t.comm}\0${e.nr}`, () => ({ cgroup, pid: t.tgid, mode, comm: t.comm, nr: e.nr, count: 1 }));
        continue;
      }
      const c = byEvent.get(at);
      if (c) {
        if (!used.has(c)) born(c, t);
        continue;
      }
      const install = r.value === 0 ? installsFilter(e.name, e.head) : undefined;
      if (install) {
        t.filtered = true;
        if (install === 'process') for (const other of tasks.values()) if (other.tgid === t.tgid) other.filtered = true;
      } else if ((e.name === 'execve' || e.name === 'execveat') && r.value === 0) {
        const { strings, array } = stringArguments(e.head);
        // execveat's file is its second argument (runc's: an fd with an empty path).
        const comm = execComm(strings[0] ?? '', array[0]);
        // The process's other threads are gone; the thread that exec'd has the process's id.
        for (const [id, other] of tasks) if (other.tgid === t.tgid) tasks.delete(id);
        tasks.set(t.tgid, { tgid: t.tgid, filtered: t.filtered, comm });
      } else if (e.name === 'prctl' && r.value === 0 && /^PR_SET_NAME, /.test(e.head)) {
        const name = stringArguments(e.head).strings[0];
        if (name !== undefined) t.comm = commOf(name);
      }
    }
  }
  const caps: CapCount[] = [];
  return { cgroups, forks, execs, syscalls: [...calls.values()], failures: [...failed.values()], caps, files: [...paths.values()], complete: true };
}

/**
 * The traces in order, each with the key of its container's life: every `runc create` starts one
 * (by the time runc started), and a `runc exec` belongs to the latest one started before it.
 */
function lives(files: readonly StraceFile[]): { file: StraceFile; cgroup: string }[] {
  const out: { file: StraceFile; cgroup: string }[] = [];
  const containers = [...new Set(files.map((f) => f.container))].sort();
  for (const container of containers) {
    const mine = files.filter((f) => f.container === container);
    const creates = mine.filter((f) => f.command === 'create').sort(byStart);
    const key = (i: number) => (i === 0 ? container : `${container}#${i + 1}`);
    creates.forEach((f, i) => out.push({ file: f, cgroup: key(i) }));
    for (const f of mine.filter((x) => x.command === 'exec').sort(byStart)) {
      const life = creates.reduce((last, c, i) => (byStart(c, f) < 0 ? i : last), 0);
      out.push({ file: f, cgroup: key(life) });
    }
  }
  return out;
}
