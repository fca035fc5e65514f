/**
 * Runs the eBPF recording (bpftrace) around a stack run, and says clearly when it cannot.
 *
 * Fallbacks, when eBPF is unavailable (detected here, not implemented as recorders yet):
 *   - strace: `strace -f -qq -e trace=all` wrapped around the entrypoint needs the image to hold
 *     strace and the entrypoint to be replaced; it sees no runtime calls after the cut and
 *     slows the service ~10×, which can break healthchecks with short time limits.
 *   - seccomp SCMP_ACT_LOG: a profile whose default action is LOG makes the kernel write one
 *     audit record per distinct call (type=SECCOMP, syscall=N) to the kernel log; needs
 *     `kernel.seccomp.actions_logged` to include `log` and access to dmesg/audit; the cut is exact
 *     (only filtered calls are logged).
 * Without a recorder the search starts from the whole baseline instead (more runs, same result).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BPFTRACE_ENV, bpftraceProgram, FILE_CALLS, parseTrace, type RawTrace } from './trace.ts';

export interface RecorderAvailability {
  readonly ok: boolean;
  readonly recorder: 'bpftrace' | 'none';
  /** Whether capability checks can be recorded too (Linux ≥ 6.13 tracepoint). */
  readonly caps: boolean;
  /** Why not, and what to do; also the fallbacks seen on this machine. */
  readonly problems: readonly string[];
  readonly fallbacks: readonly string[];
}

const TRACEFS = '/sys/kernel/tracing';

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin:/usr/sbin:/sbin').split(':')) {
    const p = path.join(dir, cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Checks root, bpftrace, BTF and tracefs (mounting tracefs when root and it is absent). */
export async function detectRecorder(): Promise<RecorderAvailability> {
  const problems: string[] = [];
  const fallbacks: string[] = [];
  if (which('strace')) fallbacks.push('strace (not automated: needs strace inside the image)');
  if (existsSync('/proc/sys/kernel/seccomp/actions_logged')) {
    const logged = await readFile('/proc/sys/kernel/seccomp/actions_logged', 'utf8').catch(() => '');
    if (logged.includes('log')) fallbacks.push('seccomp SCMP_ACT_LOG (not automated: needs the kernel log)');
  }
  if (process.getuid?.() !== 0) problems.push('recording with eBPF needs root (run hardspec minimize as root, or give --strategy linear)');
  if (!which('bpftrace')) problems.push('bpftrace is not installed (Debian: apt-get install bpftrace)');
  if (!existsSync('/sys/kernel/btf/vmlinux')) problems.push('the kernel exposes no BTF (/sys/kernel/btf/vmlinux): the recorder reads the task\'s seccomp mode through it');
  if (problems.length === 0 && !existsSync(path.join(TRACEFS, 'events'))) {
    const r = await runQuiet('mount', ['-t', 'tracefs', 'nodev', TRACEFS]);
    if (r !== 0 || !existsSync(path.join(TRACEFS, 'events'))) problems.push(`tracefs is not mounted at ${TRACEFS} and mounting it failed (mount -t tracefs nodev ${TRACEFS})`);
  }
  const caps = existsSync(path.join(TRACEFS, 'events/capability/cap_capable'));
  return { ok: problems.length === 0, recorder: problems.length ? 'none' : 'bpftrace', caps, problems, fallbacks };
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
export class TraceSession {
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
  async stop(timeoutMs = 60_000): Promise<RawTrace> {
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
