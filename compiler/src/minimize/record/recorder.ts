/**
 * Runs the recording around a stack run, and says clearly when it cannot. Two recorders:
 *   - eBPF (bpftrace), preferred: exact per task, cheap, records capability checks too.
 *   - strace, the fallback when eBPF is unavailable (no BTF, no bpftrace, no tracefs): the
 *     engine's runtime `hardspec-strace` (scripts/runc-strace, registered by
 *     scripts/setup-strace-runtime.sh) runs runc under `strace -f`, so each container of the
 *     recording run is traced from before the seccomp filter is installed. It needs the engine
 *     on this machine (the traces are written on the engine's host), records no capability
 *     checks, and slows the traced services (every call stops in the tracer).
 * Not automated: seccomp SCMP_ACT_LOG (a profile whose default action is LOG writes one audit
 * record per call to the kernel log; needs `kernel.seccomp.actions_logged` to include `log` and
 * auditd; tried on the development machine, which has no auditd, and not usable there).
 * Without a recorder the search starts from the whole baseline instead (more runs, same result).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import os from 'node:os';
import path from 'node:path';
import { parseStraceFileName, parseStraceTraces, type StraceFile } from './strace.ts';
import { BPFTRACE_ENV, bpftraceProgram, FILE_CALLS, parseTrace, type RawTrace } from './trace.ts';

export type RecorderKind = 'bpftrace' | 'strace';
/** The engine's runtime that runs runc under strace (scripts/runc-strace). */
export const STRACE_RUNTIME = 'hardspec-strace';
/** Where that runtime writes its traces (only while the folder exists). */
export const STRACE_DIR = '/run/hardspec-strace';

export interface RecorderAvailability {
  readonly ok: boolean;
  readonly recorder: RecorderKind | 'none';
  /** Whether capability checks can be recorded too (eBPF on Linux ≥ 6.13). */
  readonly caps: boolean;
  /** Why eBPF (or the recorder asked for) is not used, and what to do. */
  readonly problems: readonly string[];
  /** Other recorders seen on this machine. */
  readonly fallbacks: readonly string[];
}

/** What the engine offers the strace recorder. */
export interface EngineForRecorder {
  /** The engine runs on this machine (its runtime writes the traces here). */
  readonly local: boolean;
  /** Its runtimes (docker info). */
  readonly runtimes: readonly string[];
}

const TRACEFS = '/sys/kernel/tracing';

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin:/usr/sbin:/sbin').split(':')) {
    const p = path.join(dir, cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/**
 * Chooses the recorder: eBPF when root, bpftrace, BTF and tracefs are there (mounting tracefs
 * when root and it is absent), else strace through the runtime hardspec-strace; `prefer` asks
 * for one of them only.
 */
export async function detectRecorder(engine: EngineForRecorder, prefer: RecorderKind | 'auto' = 'auto'): Promise<RecorderAvailability> {
  const ebpf = prefer === 'strace' ? [] : await bpftraceProblems();
  const strace = straceProblems(engine, straceHost());
  const caps = existsSync(path.join(TRACEFS, 'events/capability/cap_capable'));
  const fallbacks: string[] = [];
  if (existsSync('/proc/sys/kernel/seccomp/actions_logged')) {
    const logged = await readFile('/proc/sys/kernel/seccomp/actions_logged', 'utf8').catch(() => '');
    if (logged.includes('log')) fallbacks.push('seccomp SCMP_ACT_LOG (not automated: needs auditd)');
  }
  return chooseRecorder({ ebpf, strace, caps, fallbacks }, prefer);
}

/**
 * Pure: the recorder for what the machine has. `ebpf` and `strace` list why each cannot run
 * (empty: it can); eBPF first, strace as the fallback, unless `prefer` names one.
 */
export function chooseRecorder(found: { ebpf: readonly string[]; strace: readonly string[]; caps: boolean; fallbacks: readonly string[] }, prefer: RecorderKind | 'auto'): RecorderAvailability {
  const { ebpf, strace, caps } = found;
  const fallbacks = [...found.fallbacks];
  if (prefer !== 'strace' && ebpf.length === 0) {
    if (strace.length === 0) fallbacks.unshift(`strace (runtime ${STRACE_RUNTIME})`);
    return { ok: true, recorder: 'bpftrace', caps, problems: [], fallbacks };
  }
  if (prefer !== 'bpftrace' && strace.length === 0) {
    return { ok: true, recorder: 'strace', caps: false, problems: prefer === 'strace' ? [] : ebpf.map((p) => `eBPF: ${p}`), fallbacks };
  }
  const problems = prefer === 'bpftrace' ? [...ebpf] : prefer === 'strace' ? [...strace] : [...ebpf.map((p) => `eBPF: ${p}`), ...strace.map((p) => `strace: ${p}`)];
  return { ok: false, recorder: 'none', caps: false, problems, fallbacks };
}

async function bpftraceProblems(): Promise<string[]> {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('recording with eBPF needs root (run hardspec minimize as root, or give --strategy linear)');
  if (!which('bpftrace')) problems.push('bpftrace is not installed (Debian: apt-get install bpftrace)');
  if (!existsSync('/sys/kernel/btf/vmlinux')) problems.push('the kernel exposes no BTF (/sys/kernel/btf/vmlinux): the recorder reads the task\'s seccomp mode through it');
  if (problems.length === 0 && !existsSync(path.join(TRACEFS, 'events'))) {
    const r = await runQuiet('mount', ['-t', 'tracefs', 'nodev', TRACEFS]);
    if (r !== 0 || !existsSync(path.join(TRACEFS, 'events'))) problems.push(`tracefs is not mounted at ${TRACEFS} and mounting it failed (mount -t tracefs nodev ${TRACEFS})`);
  }
  return problems;
}

/** What this machine has for the strace recorder. */
export interface StraceHost {
  readonly root: boolean;
  /** `strace -V`'s version (e.g. "6.1"), or undefined when strace is not installed. */
  readonly straceVersion: string | undefined;
}

/** The oldest strace that has everything the runtime asks of it (-n: 5.9, --decode-pids=pidns: 5.15). */
export const STRACE_MIN_VERSION = '5.15';

/** Pure: why the strace recorder cannot run here (empty when it can). */
export function straceProblems(engine: EngineForRecorder, host: StraceHost): string[] {
  const problems: string[] = [];
  if (!engine.local) problems.push('the engine is not on this machine: its runtime writes the traces on its own host');
  if (!host.root) problems.push(`reading the runtime's traces (${STRACE_DIR}) needs root`);
  if (host.straceVersion === undefined) problems.push('strace is not installed (Debian: apt-get install strace)');
  else if (compareVersions(host.straceVersion, STRACE_MIN_VERSION) < 0) problems.push(`strace ${host.straceVersion} is too old: the runtime needs ${STRACE_MIN_VERSION} or later (--decode-pids=pidns)`);
  if (!engine.runtimes.includes(STRACE_RUNTIME)) problems.push(`the engine has no runtime ${STRACE_RUNTIME} (register it as root: scripts/setup-strace-runtime.sh)`);
  return problems;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** This machine's strace version, when strace is installed. */
function straceHost(): StraceHost {
  let straceVersion: string | undefined;
  if (which('strace')) {
    try {
      straceVersion = /version (\d+(?:\.\d+)*)/.exec(execFileSync('strace', ['-V'], { encoding: 'utf8', timeout: 10_000 }))?.[1] ?? '0';
    } catch {
      straceVersion = '0';
    }
  }
  return { root: process.getuid?.() === 0, straceVersion };
}

/** The calls of FILE_CALLS this kernel has entry tracepoints for (open and newstat are x86_64 only, for example). */
export function availableFileCalls(tracefs = TRACEFS): string[] {
  return [...FILE_CALLS.keys()].filter((c) => existsSync(path.join(tracefs, 'events/syscalls', `sys_enter_${c}`)));
}

function runQuiet(file: string, args: readonly string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const c = spawn(file, [...args], { stdio: 'ignore' });
    c.once('error', () => resolve(null));
    c.once('close', (code) => resolve(code));
  });
}

/** A running bpftrace; stop() ends it with SIGINT (so it prints its maps) and parses the output. */
export class TraceSession implements Recording {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    private readonly outFile: string,
    private readonly stderr: { text: string },
    private readonly exited: Promise<number | null>,
  ) {}

  /** Starts bpftrace and waits until its probes are attached (at most timeoutMs). */
  static async start(options: { caps: boolean; files?: boolean; timeoutMs?: number }): Promise<TraceSession> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hardspec-trace-'));
    const program = path.join(dir, 'record.bt');
    const outFile = path.join(dir, 'trace.out');
    await writeFile(program, bpftraceProgram({ caps: options.caps, ...(options.files ? { files: availableFileCalls() } : {}) }), { mode: 0o600 });
    const child = spawn('bpftrace', ['-o', outFile, program], {
      env: { ...process.env, ...BPFTRACE_ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stderr = { text: '' };
    child.stdout!.on('data', (c: Buffer) => { stderr.text += c.toString('utf8'); });
    child.stderr!.on('data', (c: Buffer) => { stderr.text += c.toString('utf8'); });
    // With -o, bpftrace writes "Attaching N probes..." into the output file: wait for it there.
    let polling = true;
    const ready = (async () => {
      while (polling) {
        const text = await readFile(outFile, 'utf8').catch(() => '');
        if (/Attaching \d+ probes?/.test(text)) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    const exited = new Promise<number | null>((resolve) => {
      child.once('error', (e) => { stderr.text += `${e.message}\n`; resolve(null); });
      child.once('close', (code) => resolve(code));
    });
    const session = new TraceSession(child, dir, outFile, stderr, exited);
    // "Attaching" is printed just before the probes are attached: give the attach a moment.
    const timeoutMs = options.timeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      ready.then(() => 'ready' as const),
      exited.then(() => 'exited' as const),
      new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), timeoutMs); }),
    ]);
    clearTimeout(timer);
    polling = false;
    if (outcome !== 'ready') {
      await session.kill();
      throw new Error(`bpftrace did not start (${outcome}): ${stderr.text.trim().split('\n').slice(-5).join(' | ')}`);
    }
    await new Promise((r) => setTimeout(r, 1500));
    return session;
  }

  get pid(): number | undefined { return this.child.pid; }

  /** Ends the recording and returns what was seen. */
  async stop(_containers?: ReadonlyMap<string, string>, timeoutMs = 60_000): Promise<RawTrace> {
    if (this.child.exitCode === null) this.child.kill('SIGINT');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([this.exited, new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), timeoutMs); })]);
    clearTimeout(timer);
    if (code === 'timeout') {
      await this.kill();
      throw new Error('bpftrace did not exit within a minute of SIGINT');
    }
    const text = await readFile(this.outFile, 'utf8').catch(() => '');
    await rm(this.dir, { recursive: true, force: true });
    const raw = parseTrace(text);
    if (!raw.complete) throw new Error(`bpftrace ended without printing its maps (exit ${code}): ${this.stderr.text.trim().split('\n').slice(-5).join(' | ')}`);
    return raw;
  }

  /** Kills bpftrace (this session's own process only) and removes its files. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A recording in progress: eBPF or strace. stop() ends it and returns what was seen. */
export interface Recording {
  /** `containers`: every container of the run, id → service (the strace recorder reads their traces). */
  stop(containers: ReadonlyMap<string, string>): Promise<RawTrace>;
  /** Ends it without reading (after a failure); leaves nothing of the run behind. */
  kill(containers?: ReadonlyMap<string, string>): Promise<void>;
}

export function startRecording(kind: RecorderKind, options: { caps: boolean; files?: boolean }): Promise<Recording> {
  return kind === 'bpftrace' ? TraceSession.start(options) : StraceSession.start(options);
}

/** How long the tracers may take to end once the containers stopped. */
const STRACE_END_MS = 30_000;

/**
 * The strace recording: the runtime hardspec-strace traces the containers that ask for it while
 * STRACE_DIR exists; this makes the folder (root's alone), and at the end waits for the tracers
 * to finish, reads the traces of the run's containers line by line, removes them, and the folder
 * when no other recording uses it.
 */
export class StraceSession implements Recording {
  private constructor(private readonly files: boolean) {}

  static async start(options: { files?: boolean }): Promise<StraceSession> {
    await mkdir(STRACE_DIR, { recursive: true, mode: 0o700 });
    const st = await lstat(STRACE_DIR);
    if (!st.isDirectory() || st.uid !== 0) throw new Error(`${STRACE_DIR} is not a folder owned by root: remove it and record again`);
    // The traces hold what the services read and wrote (cut at 80 bytes a call): root's alone.
    if ((st.mode & 0o777) !== 0o700) await chmod(STRACE_DIR, 0o700);
    return new StraceSession(Boolean(options.files));
  }

  async stop(containers: ReadonlyMap<string, string>): Promise<RawTrace> {
    try {
      await waitForTracers(containers, STRACE_END_MS);
      const files: StraceFile[] = (await this.ownFiles(containers)).map((name) => ({
        ...parseStraceFileName(name)!,
        lines: () => readLinesSync(path.join(STRACE_DIR, name)),
      }));
      const traced = new Set(files.filter((f) => f.command === 'create').map((f) => f.container));
      const missing = [...containers].filter(([id]) => !traced.has(id)).map(([, service]) => service);
      if (missing.length) {
        throw new Error(`the runtime ${STRACE_RUNTIME} wrote no trace of ${[...new Set(missing)].sort().join(', ')} (is strace ≥ 5.15 on the engine's PATH, and ptrace allowed? scripts/setup-strace-runtime.sh checks both)`);
      }
      return parseStraceTraces(files, this.files ? { files: [...FILE_CALLS.keys()] } : {});
    } finally {
      await this.kill(containers);
    }
  }

  async kill(containers: ReadonlyMap<string, string> = new Map()): Promise<void> {
    for (const name of await this.ownFiles(containers)) await rm(path.join(STRACE_DIR, name), { force: true });
    // Closes the runtime's gate, unless another recording's traces are there.
    await rmdir(STRACE_DIR).catch(() => undefined);
  }

  private async ownFiles(containers: ReadonlyMap<string, string>): Promise<string[]> {
    const names = await readdir(STRACE_DIR).catch(() => [] as string[]);
    return names.filter((n) => { const m = parseStraceFileName(n); return m !== undefined && containers.has(m.container); }).sort();
  }
}

/** A file's lines, read 1 MiB at a time (a trace can be larger than a string may be). */
export function* readLinesSync(file: string): Generator<string> {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    const decoder = new StringDecoder('utf8');
    let rest = '';
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const parts = (rest + decoder.write(buf.subarray(0, n))).split('\n');
      rest = parts.pop()!;
      yield* parts;
    }
    rest += decoder.end();
    if (rest) yield rest;
  } finally {
    closeSync(fd);
  }
}

/** Waits until no strace process writes a trace of these containers (they end with their tracees). */
async function waitForTracers(containers: ReadonlyMap<string, string>, limitMs: number): Promise<void> {
  const until = Date.now() + limitMs;
  for (;;) {
    const live = await liveTracers(containers);
    if (live === 0) return;
    if (Date.now() > until) throw new Error(`${live} strace process(es) still trace the run's containers ${Math.round(limitMs / 1000)} s after they stopped`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function liveTracers(containers: ReadonlyMap<string, string>): Promise<number> {
  let live = 0;
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue;
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (!argv[0]?.endsWith('strace')) continue;
    const out = argv[argv.indexOf('-o') + 1] ?? '';
    const m = out.startsWith(`${STRACE_DIR}/`) ? parseStraceFileName(path.basename(out)) : undefined;
    if (m && containers.has(m.container)) live++;
  }
  return live;
}
