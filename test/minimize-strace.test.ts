// The strace recording's pure part: the traces the runtime hardspec-strace writes (runc under
// `strace -f -q -n -s 80 -e signal=none --decode-pids=pidns`) parsed into the eBPF recorder's
// RawTrace, so one attribution serves both. Intent, as the manual practice it replaces:
//   strace -f -o trace -- runc run …; grep the calls made after the seccomp filter is installed
// but per process, with the healthcheck's `runc exec` traced too and the runtime's own calls
// before the filter left out.
import { describe, expect, it } from 'vitest';
import { syscallNamer } from '../compiler/src/minimize/record/record-run.ts';
import { parseResult, parseStraceFileName, parseStraceTraces, stringArguments, type StraceFile } from '../compiler/src/minimize/record/strace.ts';
import { chooseRecorder, straceProblems } from '../compiler/src/minimize/record/recorder.ts';
import { attributeTrace, type AttributionContext } from '../compiler/src/minimize/record/trace.ts';

const WEB = 'a'.repeat(64);

// Shaped like strace 6.1's output of `runc create` under Docker 20.10 on this machine: runc's Go
// threads, runc init re-executed, its clones with CLONE_PARENT, the container's init in its own
// pid namespace (ids printed with the host's id), a thread whose first call is printed before
// the clone that made it returns, the filter installed with prctl (this thread only), then the
// entrypoint, which forks a worker.
const CREATE = [
  '100 [  59] execve("/usr/sbin/runc", ["runc", "--root", "/var/run/docker/runtime-runc/moby", "create"], 0x7ffd /* 35 vars */) = 0',
  '100 [  12] brk(NULL)                  = 0x3a08c000',
  '100 [ 435] clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, child_tid=0x7f, exit_signal=0} <unfinished ...>',
  '101 [ 202] futex(0xc000, FUTEX_WAIT_PRIVATE, 0, NULL <unfinished ...>',
  '100 [ 435] <... clone3 resumed> => {parent_tid=[101]}, 88) = 101',
  '100 [  56] clone(child_stack=NULL, flags=CLONE_VM|CLONE_VFORK|SIGCHLD) = 102',
  '102 [  59] execve("/proc/self/exe", ["runc", "init"], 0xc0000759c0 /* 7 vars */) = 0',
  '102 [ 157] prctl(PR_SET_NAME, "runc:[0:PARENT]") = 0',
  '102 [  56] clone(child_stack=0x7ffc, flags=CLONE_PARENT|SIGCHLD) = 103',
  '103 [ 157] prctl(PR_SET_NAME, "runc:[2:INIT]") = 0',
  '103 [ 165] mount("proc", "/proc", "proc", MS_NOSUID, NULL) = 0',
  '103 [ 435] clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, exit_signal=0} <unfinished ...>',
  '104 [ 202] futex(0xc001, FUTEX_WAKE_PRIVATE, 1) = 0',
  '103 [ 435] <... clone3 resumed> => {parent_tid=[2 /* 104 in strace\'s PID NS */]}, 88) = 2 /* 104 in strace\'s PID NS */',
  '103 [ 157] prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, {len=9, filter=0xc00008ff80}) = 0',
  '104 [ 230] clock_nanosleep(CLOCK_MONOTONIC, 0, {tv_sec=0, tv_nsec=20000}, NULL) = 0',
  '103 [ 257] openat(AT_FDCWD, "/proc/self/fd", O_RDONLY|O_CLOEXEC) = 5',
  '103 [   1] write(5, "x = 1 \\"quoted\\"", 14) = -1 EBADF (Bad file descriptor)',
  '103 [  59] execve("/usr/sbin/nginx", ["nginx", "-g", "daemon off;"], 0xc0000248e0 /* 3 vars */ <unfinished ...>',
  '101 [ 202] <... futex resumed>)       = 0',
  '103 [  59] <... execve resumed>)      = 0',
  '103 [ 257] openat(AT_FDCWD, "/etc/nginx/nginx.conf", O_RDONLY) = 3',
  '103 [   4] stat("/etc/nginx/mime.types", {st_mode=S_IFREG|0644, st_size=5349, ...}) = 0',
  '103 [  56] clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x91) = 7 /* 110 in strace\'s PID NS */',
  '110 [ 232] epoll_wait(8, [], 512, 500) = 0',
  '110 [ 231] exit_group(0)              = ?',
  '110 [ 231] +++ exited with 0 +++',
  '103 [  61] wait4(-1, NULL, 0, NULL)   = 7 /* 110 in strace\'s PID NS */',
].join('\n');

// `runc exec` of the healthcheck: runc init joins the container, installs the filter for every
// thread (TSYNC), then runs wget.
const EXEC = [
  '200 [  59] execve("/usr/sbin/runc", ["runc", "exec", "--process", "/tmp/p.json"], 0x7ffd /* 35 vars */) = 0',
  '200 [  56] clone(child_stack=0x7ffc, flags=CLONE_PARENT|SIGCHLD) = 201',
  '201 [ 435] clone3({flags=CLONE_VM|CLONE_THREAD, exit_signal=0}, 88) = 202',
  '201 [ 317] seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, NULL) = -1 EFAULT (Bad address)',
  '202 [ 202] futex(0xc002, FUTEX_WAIT_PRIVATE, 0, NULL) = 0',
  '201 [ 317] seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, {len=40, filter=0xc0}) = 0',
  '202 [  24] sched_yield()              = 0',
  '201 [  59] execve("/usr/bin/wget", ["wget", "--no-config", "--no-hsts", "-q", "http://127.0.0.1:8080/"], 0xc0 /* 3 vars */) = 0',
  '201 [  41] socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3',
].join('\n');

const files: StraceFile[] = [
  // Given out of order: exec traces come after the container's create trace whatever the order.
  { container: WEB, command: 'exec', started: '1764500000200000000', pid: 200, lines: () => EXEC.split('\n') },
  { container: WEB, command: 'create', started: '1764500000100000000', pid: 100, lines: () => CREATE.split('\n') },
];
/** A trace whose runc started at second `at` (1764500000 + at). */
const trace = (container: string, command: 'create' | 'exec', pid: number, lines: readonly string[], at = pid): StraceFile => ({ container, command, started: `${1764500000 + at}000000000`, pid, lines: () => lines });

const ctx: AttributionContext = {
  services: new Map([[WEB, 'web']]),
  healthchecks: new Map([['web', ['wget', '--no-config', '--no-hsts', '-q', 'http://127.0.0.1:8080/']]]),
  probePath: '/.hardspec-probe',
  syscallName: syscallNamer('x64'),
  capName: () => undefined,
};

describe('strace traces → RawTrace', () => {
  const raw = parseStraceTraces(files, { files: ['openat', 'execve', 'newstat'] });
  const [web] = attributeTrace(raw, ctx);
  const made = (name: string) => web!.syscalls.find((s) => s.name === name);

  it('keys everything by container, and finds processes (not threads) with their host ids', () => {
    expect([...raw.cgroups]).toEqual([[WEB, WEB]]);
    expect(raw.forks.map((f) => [f.parent, f.child])).toEqual([[100, 102], [102, 103], [103, 110], [200, 201]]);
    expect(raw.complete).toBe(true);
    expect(raw.caps).toEqual([]);
  });

  it('cuts at the filter: what runc did before it needs no allowlist entry', () => {
    expect(web!.beforeFilter).toEqual(expect.arrayContaining(['brk', 'clone', 'clone3', 'mount', 'prctl', 'seccomp']));
    expect(made('mount')).toBeUndefined();
    expect(made('brk')).toBeUndefined();
  });

  it('puts the filter on the installing thread only with prctl, on every thread with TSYNC', () => {
    // 104 is a thread of runc init (103) that never got the prctl filter.
    expect(made('clock_nanosleep')).toBeUndefined();
    // 202 is a thread of the exec's runc init (201), filtered with TSYNC.
    expect(made('sched_yield')).toMatchObject({ makers: ['runtime'] });
    // Its futex came before the filter.
    expect(made('futex')).toBeUndefined();
  });

  it('attributes calls after the cut to the runtime, the service and its healthcheck', () => {
    expect(made('openat')).toMatchObject({ makers: ['runtime', 'service'] });
    expect(made('execve')).toMatchObject({ makers: ['runtime'] });
    expect(made('epoll_wait')).toMatchObject({ makers: ['service'] }); // the forked worker
    expect(made('exit_group')).toMatchObject({ makers: ['service'] });
    expect(made('wait4')).toMatchObject({ makers: ['service'] });
    expect(made('socket')).toMatchObject({ makers: ['healthcheck'] });
  });

  it('counts failed calls, also when a quoted argument holds " = "', () => {
    expect(made('write')).toMatchObject({ count: 1, failed: 1, makers: ['runtime'] });
    expect(raw.failures.map((f) => f.nr)).toEqual(expect.arrayContaining([1, 317]));
  });

  it('records the paths named under the filter, and the exec arguments', () => {
    // stat is the tracepoint newstat: asked for by that name.
    expect(web!.files.map((f) => f.name)).toEqual(['/etc/nginx/mime.types', '/etc/nginx/nginx.conf', '/proc/self/fd', '/usr/bin/wget', '/usr/sbin/nginx']);
    expect(raw.execs.filter((e) => e.mode === 2).map((e) => e.argv[0])).toEqual(['nginx', 'wget']);
  });

  it('names processes as the kernel does, so the runtime is told apart by its name', () => {
    const names = new Set(raw.syscalls.filter((s) => s.mode === 2).map((s) => s.comm));
    expect(names).toEqual(new Set(['runc:[2:INIT]', 'nginx', 'runc', 'wget']));
  });

  it('is the same for the same traces', () => {
    expect(parseStraceTraces([...files].reverse(), { files: ['openat', 'execve', 'newstat'] })).toEqual(raw);
  });
});

describe('strace output pieces', () => {
  it('reads results, errors and the host id of a clone in another pid namespace', () => {
    expect(parseResult('1 [ 56] clone(...) = 7 /* 110 in strace\'s PID NS */')).toEqual({ value: 7, error: false, hostPid: 110 });
    expect(parseResult('1 [ 2] open("a = b") = -1 ENOENT (No such file or directory)')).toEqual({ value: -1, error: true, hostPid: undefined });
    expect(parseResult('1 [ 231] exit_group(0) = ?')).toEqual({ value: undefined, error: false, hostPid: undefined });
    expect(parseResult('1 [ 7] poll([{fd=3, events=POLLIN}], 1, -1) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)')).toEqual({ value: undefined, error: true, hostPid: undefined });
    expect(parseResult('1 [ 230] clock_nanosleep(CLOCK_REALTIME, 0, {tv_sec=2, tv_nsec=0}, {}) = ? ERESTART_RESTARTBLOCK (Interrupted by signal)').error).toBe(true);
    expect(parseResult('1 [ 9] mmap(NULL, 8192) = 0x7fe5cfc74000').value).toBeGreaterThan(0);
  });

  it('decodes C string literals: escapes, octal bytes, UTF-8, and a cut literal as far as printed', () => {
    expect(stringArguments('"/bin/sh", ["sh", "-c", "echo \\"hi\\"\\n"], 0x1 /* 3 vars */')).toEqual({ strings: ['/bin/sh'], array: ['sh', '-c', 'echo "hi"\n'] });
    expect(stringArguments('AT_FDCWD, "/caf\\303\\251", O_RDONLY').strings).toEqual(['/café']);
    expect(stringArguments('6, "", ["runc", "init"], 0x35 /* 8 vars */, AT_EMPTY_PATH')).toEqual({ strings: [''], array: ['runc', 'init'] });
    expect(stringArguments('"/very/long"..., O_RDONLY').strings).toEqual(['/very/long']);
  });

  it('reads only the runtime\'s own trace file names', () => {
    expect(parseStraceFileName(`${WEB}.create.1764500000123456789.4711.trace`)).toEqual({ container: WEB, command: 'create', started: '1764500000123456789', pid: 4711 });
    expect(parseStraceFileName(`${WEB}.start.1764500000123456789.4711.trace`)).toBeUndefined();
    expect(parseStraceFileName(`${WEB}.exec.4711.trace`)).toBeUndefined();
    expect(parseStraceFileName(`../${WEB}.exec.1.1.trace`)).toBeUndefined();
    expect(parseStraceFileName('x.exec.1.1.trace')).toBeUndefined();
  });
});

describe('strace recorder preflight', () => {
  const host = { root: true, straceVersion: '6.1' };
  it('says what is missing: a remote engine, root, strace or a new enough one, the runtime', () => {
    expect(straceProblems({ local: true, runtimes: ['hardspec-strace', 'runc'] }, host)).toEqual([]);
    const all = straceProblems({ local: false, runtimes: ['runc'] }, { root: false, straceVersion: undefined }).join('\n');
    expect(all).toMatch(/not on this machine/);
    expect(all).toMatch(/needs root/);
    expect(all).toMatch(/strace is not installed/);
    expect(all).toMatch(/no runtime hardspec-strace .*setup-strace-runtime\.sh/);
    expect(straceProblems({ local: true, runtimes: ['hardspec-strace'] }, { root: true, straceVersion: '5.10' })).toEqual(['strace 5.10 is too old: the runtime needs 5.15 or later (--decode-pids=pidns)']);
    expect(straceProblems({ local: true, runtimes: ['hardspec-strace'] }, { root: true, straceVersion: '5.15' })).toEqual([]);
  });
});

describe('strace traces: tasks the kernel moves or hands out again', () => {
  it('an execve from a thread other than the first ends under the process id, with the thread\'s filter', () => {
    // strace 6.1 on this machine: a thread installs a filter without TSYNC, then runs /bin/echo.
    const raw = parseStraceTraces([trace(WEB, 'create', 7133, [
      '7133  [  59] execve("./te2", ["./te2"], 0x7ffe19725e80 /* 35 vars */) = 0',
      '7133  [ 435] clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS, child_tid=0x7f10, exit_signal=0} => {parent_tid=[7134]}, 88) = 7134',
      '7133  [  34] pause( <unfinished ...>',
      '7134  [ 157] prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) = 0',
      '7134  [ 317] seccomp(SECCOMP_SET_MODE_FILTER, 0, {len=1, filter=0x55d35222d040}) = 0',
      '7134  [  59] execve("/bin/echo", ["/bin/echo", "hi"], 0x7ffd8af8afc8 /* 35 vars */ <unfinished ...>',
      '7133  [  34] <... pause resumed>)       = ?',
      '7133  [  59] +++ superseded by execve in pid 7134 +++',
      '7133  [  59] <... execve resumed>)      = 0',
      '7133  [  12] brk(NULL)                  = 0x5643906f9000',
      '7133  [   1] write(1, "hi\\n", 3)          = 3',
      '7133  [ 231] exit_group(0)              = ?',
      '7133  [ 231] +++ exited with 0 +++',
    ])]);
    const after = raw.syscalls.filter((c) => c.mode === 2);
    expect(after.map((c) => `${c.pid} ${c.comm} ${c.nr}`).sort()).toEqual(['7133 echo 1', '7133 echo 12', '7133 echo 231', '7133 te2 59']);
    expect(raw.syscalls.find((c) => c.nr === 34)).toMatchObject({ mode: 0 }); // pause: the first thread, never filtered
    expect(raw.execs.map((e) => [e.pid, e.mode, e.argv[0]])).toEqual([[7133, 0, './te2'], [7133, 2, '/bin/echo']]);
  });

  it('the same when nothing came between: strace ends the execve line with `<pid changed to N ...>`', () => {
    // strace 6.1 on this machine: the first thread exits, the other runs /bin/true.
    const raw = parseStraceTraces([trace(WEB, 'create', 17043, [
      '17043 [ 435] clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, exit_signal=0} => {parent_tid=[17044]}, 88) = 17044',
      '17044 [ 317] seccomp(SECCOMP_SET_MODE_FILTER, 0, {len=1, filter=0x55}) = 0',
      '17043 [  60] exit(0)                    = ?',
      '17044 [  59] execve("/bin/true", ["true", "y"], 0x7fff /* 35 vars */ <pid changed to 17043 ...>',
      '17043 [  59] +++ superseded by execve in pid 17044 +++',
      '17043 [  59] <... execve resumed>)      = 0',
      '17043 [  12] brk(NULL)                  = 0x5643906f9000',
    ])]);
    expect(raw.syscalls.find((c) => c.nr === 12)).toMatchObject({ pid: 17043, mode: 2, comm: 'true' });
  });

  it('an id handed out again after its task ended starts a new task (its creator\'s state, a fork)', () => {
    const raw = parseStraceTraces([trace(WEB, 'create', 100, [
      '100 [ 435] clone3({flags=CLONE_VM|CLONE_THREAD, exit_signal=0}, 88) = 101',
      '101 [ 202] futex(0xc0, FUTEX_WAKE_PRIVATE, 1) = 0',
      '101 [  60] exit(0)                    = ?',
      '101 [  60] +++ exited with 0 +++',
      '100 [  56] clone(child_stack=0x7ffc, flags=CLONE_PARENT|SIGCHLD) = 102',
      '102 [ 157] prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, {len=9, filter=0xc0}) = 0',
      '102 [  59] execve("/usr/sbin/nginx", ["nginx"], 0xc0 /* 3 vars */) = 0',
      // nginx forks a worker that gets id 101 again (printed before the clone returns).
      '102 [  56] clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD, child_tidptr=0x9 <unfinished ...>',
      '101 [  41] socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3',
      '102 [  56] <... clone resumed>)       = 101',
      '102 [  61] wait4(-1, NULL, 0, NULL)   = 101',
    ])]);
    expect(raw.forks.map((f) => [f.parent, f.child])).toEqual([[100, 102], [102, 101]]);
    expect(raw.syscalls.find((c) => c.nr === 41)).toMatchObject({ pid: 101, mode: 2, comm: 'nginx' });
    expect(raw.syscalls.find((c) => c.nr === 202)).toMatchObject({ pid: 100, mode: 0, comm: 'runc' });
  });

  it('a TSYNC install that failed (it returns the id of the thread in the way) installs nothing', () => {
    const raw = parseStraceTraces([trace(WEB, 'create', 100, [
      '100 [ 317] seccomp(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, {len=40, filter=0xc0}) = 104',
      '100 [  39] getpid()                   = 1',
    ])]);
    expect(raw.syscalls.every((c) => c.mode === 0)).toBe(true);
  });

  it('each create of a container is a life of its own; an exec belongs to the latest life before it', () => {
    const life = (pid: number, program: string) => [
      `${pid} [ 157] prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, {len=9, filter=0xc0}) = 0`,
      `${pid} [  59] execve("/usr/sbin/${program}", ["${program}"], 0xc0 /* 3 vars */) = 0`,
    ];
    // Ordered by the time runc started, not by its pid (ids wrap): 300 ran first here.
    const raw = parseStraceTraces([
      trace(WEB, 'create', 100, life(100, 'nginx'), 30),
      trace(WEB, 'exec', 250, life(250, 'wget'), 20),
      trace(WEB, 'create', 300, life(300, 'nginx'), 10),
    ]);
    expect([...raw.cgroups]).toEqual([[WEB, WEB], [`${WEB}#2`, WEB]]);
    const [web] = attributeTrace(raw, ctx);
    // The exec (started at 20) belongs to the life started at 10 (runc 300), not to the later one.
    expect(raw.execs.map((e) => [e.cgroup === WEB ? 1 : 2, e.pid, e.argv[0]])).toEqual([[1, 300, 'nginx'], [2, 100, 'nginx'], [1, 250, 'wget']]);
    expect(web!.containers).toEqual([WEB]);
  });
});

describe('choosing the recorder', () => {
  const none = { caps: true, fallbacks: [] as string[] };
  it('takes eBPF when it can, and names strace as the fallback seen', () => {
    expect(chooseRecorder({ ...none, ebpf: [], strace: [] }, 'auto')).toMatchObject({ ok: true, recorder: 'bpftrace', caps: true, fallbacks: ['strace (runtime hardspec-strace)'] });
  });
  it('falls back to strace when eBPF is unavailable, and says why', () => {
    expect(chooseRecorder({ ...none, ebpf: ['no BTF'], strace: [] }, 'auto')).toEqual({ ok: true, recorder: 'strace', caps: false, problems: ['eBPF: no BTF'], fallbacks: [] });
  });
  it('takes strace when asked for, even with eBPF there', () => {
    expect(chooseRecorder({ ...none, ebpf: [], strace: [] }, 'strace')).toMatchObject({ ok: true, recorder: 'strace', problems: [] });
  });
  it('records nothing when neither can run, with both reasons; only the asked one\'s when asked', () => {
    expect(chooseRecorder({ ...none, ebpf: ['no BTF'], strace: ['no runtime'] }, 'auto')).toMatchObject({ ok: false, recorder: 'none', problems: ['eBPF: no BTF', 'strace: no runtime'] });
    expect(chooseRecorder({ ...none, ebpf: [], strace: ['no runtime'] }, 'strace')).toMatchObject({ ok: false, recorder: 'none', problems: ['no runtime'] });
    expect(chooseRecorder({ ...none, ebpf: ['no BTF'], strace: [] }, 'bpftrace')).toMatchObject({ ok: false, recorder: 'none', problems: ['no BTF'] });
  });
});
