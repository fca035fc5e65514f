/**
 * The strace recording, pure part: turns the traces the runtime hardspec-strace writes
 * (scripts/runc-strace: `strace -f -qq -n -s 256 -e signal=none --decode-pids=pidns` around
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
 *     (`= 6 /* 29960 in strace's PID NS *\/`): the container has its own pid namespace.
 *   - execve/execveat give EXECVE events (at entry, with the first ARGV_RECORDED arguments)
 *     and the command name the kernel gives the new program; prctl(PR_SET_NAME) renames.
 *   - Paths named to FILE_CALLS (the first string argument), cut at STR_MAX like the eBPF
 *     recorder's, so a cut path stands for every file it is a prefix of.
 *   - No capability checks: strace cannot see them (`caps` stays empty).
 */
import { ARGV_RECORDED, FILE_CALLS, STR_MAX, type CapCount, type ExecEvent, type FileCount, type ForkEvent, type RawTrace, type SyscallCount } from './trace.ts';

/** One trace file of the runtime: `<container id>.<create|exec>.<runc pid>.trace`. */
export interface StraceFile {
  readonly container: string;
  readonly command: 'create' | 'exec';
  /** runc's process id (orders the exec traces of one container). */
  readonly pid: number;
  readonly text: string;
}

const FILE_NAME = /^([0-9a-f]{64})\.(create|exec)\.(\d+)\.trace$/;

/** Reads a trace file's name; undefined for any other file. */
export function parseStraceFileName(name: string): { container: string; command: 'create' | 'exec'; pid: number } | undefined {
  const m = FILE_NAME.exec(name);
  return m ? { container: m[1]!, command: m[2] as 'create' | 'exec', pid: Number(m[3]) } : undefined;
}

const LINE = /^(\d+) +\[ *(\d+)\] (.*)$/;
const RESUMED = /^<\.\.\. ([\w?]+) resumed>(.*)$/;
const UNFINISHED = ' <unfinished ...>';
const TASK_COMM_LEN = 16;

/** A call's result: the number strace printed (for clones, the child's id in strace's namespace). */
export function parseResult(line: string): { value: number | undefined; error: boolean; hostPid: number | undefined } {
  const at = line.lastIndexOf(' = ');
  if (at < 0) return { value: undefined, error: false, hostPid: undefined };
  const text = line.slice(at + 3);
  const m = /^(0x[0-9a-f]+|-?\d+|\?)(?: \/\* (\d+) in strace's PID NS \*\/)?/.exec(text);
  if (!m || m[1] === '?') return { value: undefined, error: false, hostPid: undefined };
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

/** Decodes the C string literal starting at `start` (a quote); returns it and its closing quote's index. */
function cString(text: string, start: number): { value: string; end: number } {
  const bytes: number[] = [];
  let i = start + 1;
  const push = (s: string) => { for (const b of Buffer.from(s, 'utf8')) bytes.push(b); };
  while (i < text.length && text[i] !== '"') {
    const c = text[i]!;
    if (c !== '\\') { push(c); i++; continue; }
    const n = text[i + 1] ?? '';
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, v: 11, f: 12, a: 7, b: 8, '\\': 92, '"': 34, "'": 39 };
    if (n in simple) { bytes.push(simple[n]!); i += 2; continue; }
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

/** The name the kernel gives a program after execve (the file's base name, cut to 15 bytes). */
function execComm(filename: string, argv0: string | undefined): string {
  // runc re-executes itself through /proc/self/exe or a memfd (execveat with an empty path).
  const name = filename === '' || filename.startsWith('/proc/self/') ? baseName(argv0 ?? '') : baseName(filename);
  return Buffer.from(name, 'utf8').subarray(0, TASK_COMM_LEN - 1).toString('utf8');
}

const CLONES = new Set(['clone', 'clone3', 'fork', 'vfork']);

/** A call as strace printed it: `start` when it began, `finish` with its result line when it ended. */
interface CallEvent { readonly kind: 'start' | 'finish'; readonly tid: number; readonly nr: number; readonly name: string; readonly head: string; readonly line: string }

/** The calls of one trace in order; a call split by other threads' lines is joined again. */
function* callEvents(text: string): Generator<CallEvent> {
  const pending = new Map<number, { nr: number; name: string; head: string }>();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const tid = Number(m[1]);
    const nr = Number(m[2]);
    const body = m[3]!;
    const resumed = RESUMED.exec(body);
    if (resumed) {
      const p = pending.get(tid);
      if (!p) continue;
      pending.delete(tid);
      if (resumed[2]!.endsWith(UNFINISHED)) continue; // resumed, then cut off again: the task died
      yield { kind: 'finish', tid, nr: p.nr, name: p.name, head: p.head + resumed[2]!, line };
      continue;
    }
    const open = body.indexOf('(');
    if (open <= 0) continue;
    const name = body.slice(0, open);
    if (body.endsWith(UNFINISHED)) {
      const head = body.slice(open + 1, -UNFINISHED.length);
      pending.set(tid, { nr, name, head });
      yield { kind: 'start', tid, nr, name, head, line };
    } else {
      const head = body.slice(open + 1);
      yield { kind: 'start', tid, nr, name, head, line };
      yield { kind: 'finish', tid, nr, name, head, line };
    }
  }
}

/** The child a successful clone made (its host id), and whether it is a thread. */
function cloneChild(e: CallEvent): { child: number; thread: boolean } | undefined {
  if (!CLONES.has(e.name)) return undefined;
  const r = parseResult(e.line);
  if (r.value === undefined || r.value <= 0) return undefined;
  return { child: r.hostPid ?? r.value, thread: /\bCLONE_THREAD\b/.test(e.head) };
}

function installsFilter(e: CallEvent): boolean {
  return (e.name === 'seccomp' && /^SECCOMP_SET_MODE_FILTER\b/.test(e.head)) || (e.name === 'prctl' && /^PR_SET_SECCOMP, SECCOMP_MODE_FILTER\b/.test(e.head));
}

interface Task { tgid: number; filtered: boolean; comm: string }

/**
 * Parses the runtime's traces of one recording into a RawTrace (cgroup keys are the container
 * ids). Each container's `create` trace comes first, then its `exec` traces by runc's pid.
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
  const order = [...files].sort((a, b) => (a.command === b.command ? a.pid - b.pid : a.command === 'create' ? -1 : 1));
  for (const file of order) {
    const cgroup = file.container;
    cgroups.set(cgroup, file.container);
    // A new task can print its first calls before its creator's clone returns: who made whom
    // is read first, so a task starts with its creator's state (process, filter, name).
    const creators = new Map<number, { parent: number; thread: boolean }>();
    for (const e of callEvents(file.text)) {
      const c = e.kind === 'finish' ? cloneChild(e) : undefined;
      if (c && !creators.has(c.child)) creators.set(c.child, { parent: e.tid, thread: c.thread });
    }
    const tasks = new Map<number, Task>();
    const forked = new Set<number>();
    const taskOf = (tid: number): Task => {
      const known = tasks.get(tid);
      if (known) return known;
      const creator = creators.get(tid);
      const parent = creator ? tasks.get(creator.parent) : undefined;
      // The first task of a trace is runc itself.
      const t: Task = parent && creator
        ? { tgid: creator.thread ? parent.tgid : tid, filtered: parent.filtered, comm: parent.comm }
        : { tgid: tid, filtered: false, comm: 'runc' };
      tasks.set(tid, t);
      if (parent && creator && !creator.thread && !forked.has(tid)) {
        forked.add(tid);
        forks.push({ cgroup, parent: parent.tgid, child: tid, seq: ++seq });
      }
      return t;
    };
    const mode = (t: Task) => (t.filtered ? 2 : 0);
    for (const e of callEvents(file.text)) {
      const t = taskOf(e.tid);
      if (e.kind === 'start') {
        const m = mode(t);
        count(calls, `${t.tgid}\0${m}\0${t.comm}\0${e.nr}`, () => ({ cgroup, pid: t.tgid, mode: m, comm: t.comm, nr: e.nr, count: 1 }));
        seq++;
        if (e.name === 'execve' || e.name === 'execveat') {
          execs.push({ cgroup, pid: t.tgid, mode: m, argv: stringArguments(e.head).array.slice(0, ARGV_RECORDED), seq });
        }
        if (fileCalls.has(e.name)) {
          const named = stringArguments(e.head).strings[0];
          if (named) {
            const cut = Buffer.from(named, 'utf8').subarray(0, STR_MAX).toString('utf8');
            count(paths, `${t.tgid}\0${m}\0${cut}`, () => ({ cgroup, pid: t.tgid, mode: m, path: cut, count: 1 }));
          }
        }
        continue;
      }
      const r = parseResult(e.line);
      if (r.error) {
        // Failures are keyed like the calls: by the state the call started in (a failed call changes nothing).
        const m = mode(t);
        count(failed, `${t.tgid}\0${m}\0${t.comm}\0${e.nr}`, () => ({ cgroup, pid: t.tgid, mode: m, comm: t.comm, nr: e.nr, count: 1 }));
        continue;
      }
      if (r.value === undefined) continue;
      const child = cloneChild(e);
      if (child) {
        taskOf(child.child);
      } else if (installsFilter(e)) {
        t.filtered = true;
        if (e.name === 'seccomp' && /\bSECCOMP_FILTER_FLAG_TSYNC\b/.test(e.head)) {
          for (const other of tasks.values()) if (other.tgid === t.tgid) other.filtered = true;
        }
      } else if (e.name === 'execve' || e.name === 'execveat') {
        const { strings, array } = stringArguments(e.head);
        // execveat names the file by its second argument (runc's is an fd with an empty path).
        const comm = execComm(strings[0] ?? '', array[0]);
        // The process's other threads are gone; the thread that exec'd takes the process id.
        for (const [id, other] of tasks) if (other.tgid === t.tgid && id !== e.tid) tasks.delete(id);
        tasks.delete(e.tid);
        tasks.set(t.tgid, { tgid: t.tgid, filtered: t.filtered, comm });
      } else if (e.name === 'prctl' && /^PR_SET_NAME, /.test(e.head)) {
        const name = stringArguments(e.head).strings[0];
        if (name !== undefined) t.comm = Buffer.from(name, 'utf8').subarray(0, TASK_COMM_LEN - 1).toString('utf8');
      }
    }
  }
  const caps: CapCount[] = [];
  return { cgroups, forks, execs, syscalls: [...calls.values()], failures: [...failed.values()], caps, files: [...paths.values()], complete: true };
}
