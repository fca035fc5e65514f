// `hardspec minimize` on the real engine (needs root, Docker, bpftrace and Chromium; skipped
// otherwise). Equivalent by hand, in a copy of the specs:
//   sed -i 's/^  allow: .*/  baseline: docker-default/' specs/guestbook/db.md   # over-permissive
//   hardspec minimize guestbook --service web --what syscalls --write && hardspec verify guestbook
//   hardspec minimize guestbook --service db --what caps --parallel 2 --confirm 2   # → no capabilities
// and, for the committed 1-minimal allowlist of web, a sample of single removals must each fail
// (run on two copies of the stack side by side, as --parallel 2 does).
import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../compiler/src/cli/main.ts';
import { runMinimize } from '../compiler/src/minimize/command.ts';
import { readStack } from '../compiler/src/io/read-specs.ts';
import { DockerBackend } from '../compiler/src/minimize/docker-backend.ts';
import { STRACE_DIR, STRACE_RUNTIME } from '../compiler/src/minimize/record/recorder.ts';
import { validateReport } from '../compiler/src/minimize/report.ts';
import { seededOrder, Tester } from '../compiler/src/minimize/search.ts';
import { RUNC_INIT_LIMIT_MS, StackSession, type RunOutcome } from '../compiler/src/minimize/stack-session.ts';
import { compile } from '../compiler/src/pipeline.ts';
import { chromiumAvailable, dockerAvailable, labelled, nothing, REPO } from './fixtures/verify-support/engine.ts';

const bpftraceAvailable = existsSync('/usr/bin/bpftrace') && process.getuid?.() === 0 && existsSync('/sys/kernel/btf/vmlinux');
const ready = dockerAvailable && chromiumAvailable && bpftraceAvailable && existsSync(path.join(REPO, 'specs/guestbook/stack.md'));

async function cli(args: readonly string[], cwd: string): Promise<{ code: number; out: string }> {
  let out = '';
  const write = (s: string) => { out += s; return true; };
  const code = await runMain(args, { stdout: { write }, stderr: { write }, cwd, env: { ...process.env, NO_COLOR: '1' } });
  return { code, out };
}

/** The db allowlist the strict search of 2026-11-30 found (before the clean-stop interaction existed). */
const DB_2026_11_30 = ['accept4', 'access', 'arch_prctl', 'bind', 'chdir', 'clone', 'close', 'connect', 'dup', 'execve', 'exit', 'fallocate', 'fcntl',
  'fdatasync', 'fstatfs', 'futex', 'getcwd', 'getdents64', 'getpeername', 'getsockopt', 'listen', 'lseek', 'mmap', 'mprotect', 'munmap',
  'newfstatat', 'openat', 'pipe2', 'poll', 'pread64', 'pwrite64', 'read', 'readlink', 'recvfrom', 'restart_syscall', 'rt_sigreturn',
  'sendto', 'setsockopt', 'socket', 'write'];

const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as Record<string, any>;

const committedReport = path.join(REPO, 'generated/guestbook/minimize/web-syscalls.json');
const committedOneMinimal = existsSync(committedReport) && readJson(committedReport).result?.oneMinimal === true ? readJson(committedReport) : undefined;

describe.skipIf(!ready)('hardspec minimize guestbook (real engine)', () => {
  // A copy of the specs, so --write never touches the repository's.
  const work = mkdtempSync(path.join(tmpdir(), 'hardspec-minimize-test-'));
  const specs = path.join(work, 'specs');
  beforeAll(() => {
    cpSync(path.join(REPO, 'specs/guestbook'), path.join(specs, 'guestbook'), { recursive: true });
    // Deliberately over-permissive: Docker's default list for every service (about 290 names),
    // less ptrace and personality, which the specs' own security interactions must see refused.
    for (const s of ['db', 'php', 'web']) {
      const file = path.join(specs, `guestbook/${s}.md`);
      writeFileSync(file, readFileSync(file, 'utf8').replace(/^seccomp:\n(?: {2}.*\n)+/m, 'seccomp:\n  baseline: docker-default\n  deny: [ptrace, personality]\n'));
    }
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('minimises an over-permissive web server allowlist in at most 5 runs, writes it, and verify passes', { timeout: 600_000 }, async () => {
    const r = await cli(['minimize', 'guestbook', '--service', 'web', '--what', 'syscalls', '--write'], work);
    expect(r.code, r.out).toBe(0);
    const report = readJson(path.join(work, 'generated/guestbook/minimize/web-syscalls.json'));
    expect(validateReport(report)).toEqual([]);
    expect(report.runs.total).toBeLessThanOrEqual(5);
    expect(report.confirmation).toMatchObject({ runs: 3, passed: 3, confirmed: true, flaky: false });
    expect(report.result.addedAfterRecording).toEqual([]);
    expect(report.result.size).toBeLessThan(100);
    expect(report.start.size).toBeGreaterThan(250);
    // The runtime's set-up calls before the filter never reach the allowlist.
    expect(report.result.items).not.toContain('pivot_root');
    expect(report.result.items).not.toContain('mount');
    const spec = readFileSync(path.join(specs, 'guestbook/web.md'), 'utf8');
    expect(spec).toContain('baseline: none');
    expect(spec).toContain('# Web server: nginx');
    // The written spec compiled, and the stack verifies with it (every interaction, not only the functional ones).
    const v = await cli(['verify', 'guestbook', '--no-build', '--evidence-dir', path.join(work, 'evidence')], work);
    expect(v.code, v.out).toBe(0);
  });

  // db only: web and php need no capability either (their specs say so, verify proves it, and
  // their committed reports generated/guestbook/minimize/{web,php}-caps.json were made with this
  // command), but each search costs about three minutes here, and CI must stay under 30. db is the
  // one that manual hardening usually leaves with CHOWN, SETUID and SETGID, and --parallel 2 sends
  // its two confirmation runs to two copies of the stack at once.
  it('capabilities: db needs none of Docker\'s 14 defaults (on two lanes)', { timeout: 600_000 }, async () => {
    const r = await cli(['minimize', 'guestbook', '--service', 'db', '--what', 'caps', '--parallel', '2', '--confirm', '2'], work);
    expect(r.code, r.out).toBe(0);
    const report = readJson(path.join(work, 'generated/guestbook/minimize/db-caps.json'));
    expect(validateReport(report)).toEqual([]);
    expect(report.start.size).toBe(14);
    expect(report.result.items).toEqual([]);
    expect(report.confirmation).toMatchObject({ runs: 2, passed: 2, confirmed: true });
    expect(report.runs.lanes).toBe(2);
    // The two confirmation runs overlapped: one after the other, the phase would have taken at
    // least the sum of their durations.
    const confirmRuns = (report.log as { phase: string; durationMs: number }[]).filter((l) => l.phase === 'confirm');
    const confirmWall = (report.runs.byPhase as { phase: string; wallMs: number }[]).find((p) => p.phase === 'confirm')!.wallMs;
    expect(confirmRuns).toHaveLength(2);
    expect(confirmWall).toBeLessThan(confirmRuns[0]!.durationMs + confirmRuns[1]!.durationMs);
    expect(r.out).toMatch(/\(2 lanes\)/);
    expect(r.out).toMatch(/tearing the 2 stacks down/);
    expect(r.out).not.toMatch(/teardown left/);
  });

  // By hand: start a linear search, press Ctrl-C after its second run, then run it again with
  // --resume. Two of web's 14 capabilities are searched (the others kept), so it stays short.
  it('linear, interrupted after two runs, goes on with --resume: the two are not run again, and the journal is removed at the end', { timeout: 600_000 }, async () => {
    const args = ['guestbook', '--service', 'web', '--what', 'caps', '--strategy', 'linear', '--restart', 'service', '--confirm', '1', '--no-build',
      '--keep', 'CHOWN,DAC_OVERRIDE,FSETID,FOWNER,MKNOD,NET_RAW,SETGID,SETUID,SETFCAP,SETPCAP,NET_BIND_SERVICE,SYS_CHROOT'];
    const journalFile = path.join(work, 'generated/guestbook/minimize/web-caps.journal.jsonl');
    const reportFile = path.join(work, 'generated/guestbook/minimize/web-caps.json');
    rmSync(reportFile, { force: true });
    const signals = new EventEmitter();
    let out = '';
    const io = (onWrite: (s: string) => void = () => {}) => {
      const write = (s: string) => { out += s; onWrite(s); return true; };
      return { stdout: { write }, stderr: { write }, cwd: work, env: { ...process.env, NO_COLOR: '1' } };
    };
    let sent = false;
    const first = await runMinimize(args, io((s) => { if (!sent && /\brun 2\/~/.test(s)) { sent = true; signals.emit('SIGINT', 'SIGINT'); } }), { signals });
    expect(first, out).toBe(130);
    expect(out).toMatch(/the journal of the runs so far is kept .*: go on with --resume/);
    expect(existsSync(reportFile)).toBe(false);
    const lines = readFileSync(journalFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ format: 'hardspec-minimize-journal', service: 'web', what: 'caps', strategy: 'linear', seed: 1 });
    const journaled = lines.slice(1);
    expect(journaled.map((r) => r.run)).toEqual([1, 2]);
    expect(journaled.every((r) => r.phase === 'linear' && r.verdict === 'pass')).toBe(true);

    // Without --resume the journal is not overwritten: the user is told how to go on.
    out = '';
    expect(await runMinimize(args, io(), { signals: new EventEmitter() }).catch((e: Error) => e.message)).toMatch(/give --resume to go on from it, or delete it to start again/);
    expect(readFileSync(journalFile, 'utf8').trim().split('\n')).toHaveLength(3);

    out = '';
    const second = await runMinimize([...args, '--resume'], io(), { signals: new EventEmitter() });
    expect(second, out).toBe(0);
    expect(out).toMatch(/resuming from .*web-caps\.journal\.jsonl: 2 run\(s\) of \d/);
    const report = readJson(reportFile);
    expect(validateReport(report)).toEqual([]);
    // The start set, the second of the two capabilities, and one confirmation: 4 runs, 2 replayed.
    expect(report.runs.total).toBe(4);
    expect(report.runs.resumed.runs).toBe(2);
    expect(report.runs.resumed.from).toMatchObject({ startedAt: lines[0].startedAt, engine: lines[0].engine });
    expect(report.wallMs).toBeGreaterThanOrEqual(report.runs.resumed.wallMs);
    // The replayed runs are the journal's own (their measured durations), not runs made again.
    expect(report.log.slice(0, 2).map((l: { durationMs: number }) => l.durationMs)).toEqual(journaled.map((r) => r.outcome.durationMs));
    expect(report.result.items).not.toContain('KILL');
    expect(report.result.items).not.toContain('AUDIT_WRITE');
    expect(report.confirmation).toMatchObject({ runs: 1, passed: 1, confirmed: true });
    expect(existsSync(journalFile)).toBe(false);
  });

  it('a db run on a stack that is up recreates db alone and reads only its own output; a runc init that its candidate wedged is killed: the run fails as the candidate\'s, and the engine answers again', { timeout: 400_000 }, async () => {
    const input = await readStack(path.join(specs, 'guestbook'), path.join(work, 'generated'), work);
    const model = compile([input]).stacks[0]!.model;
    const session = await StackSession.open({ model, stackDir: path.join(specs, 'guestbook'), outStackDir: path.join(work, 'generated/guestbook'), env: process.env });
    const backend = new DockerBackend([session], 'db', 'syscalls', new AbortController().signal, undefined);
    try {
      // The spec's own list: the whole stack starts and passes.
      const specList = new Set(model.services.find((s) => s.name === 'db')!.seccomp.allow);
      const first = await backend.run(specList, { fresh: true, lane: 0 });
      expect(first, JSON.stringify(first)).toMatchObject({ verdict: 'pass', scope: 'stack', restarted: ['db', 'php', 'web'] });
      const byService = (m: Map<string, string>) => Object.fromEntries([...m].map(([id, svc]) => [svc, id]));
      const before = byService(await session.containers());
      expect([before.db, before.php, before.web].every(Boolean), JSON.stringify(before)).toBe(true);
      // nginx writes the request line to its log: web's output now holds "[alert]", which
      // web-log-clean forbids. That is this earlier run's doing, not the next candidate's.
      const port = session.ports.get(8080)!;
      expect((await fetch(`http://127.0.0.1:${port}/[alert]-left-by-an-earlier-run`)).status).toBe(404);
      // The spec's list again: only db is recreated (the persistence interaction proves php and
      // web survive that), and the run passes: its log checks read only what this run wrote.
      const second = await backend.run(specList, { fresh: false, lane: 0 });
      expect(second, JSON.stringify(second)).toMatchObject({ verdict: 'pass', scope: 'service', restarted: ['db'] });
      const kept = byService(await session.containers());
      expect([kept.php, kept.web]).toEqual([before.php, before.web]);
      expect(kept.db).not.toBe(before.db);
      // A candidate of the db search of 2026-11-30 (its 40-call result, without execve). runc
      // installs the filter in its init process before it executes mariadbd: without execve that
      // fails, without exit_group runc init cannot exit, and without tgkill Go cannot even abort:
      // its panic path spins. Docker 20.10 then holds the container's lock.
      const wedging = new Set(DB_2026_11_30.filter((x) => x !== 'execve'));
      const started = Date.now();
      const out = await backend.run(wedging, { fresh: false, lane: 0 });
      expect(out).toMatchObject({ scope: 'service', restarted: ['db'] });
      const after = byService(await session.containers());
      expect([after.php, after.web]).toEqual([before.php, before.web]);
      expect(after.db).not.toBe(kept.db);
      expect(out.verdict, JSON.stringify(out)).toBe('fail');
      expect(out.error).toBeUndefined();
      expect(out.hungInits?.length).toBeGreaterThan(0);
      expect(out.hungInits!.every((h) => h.service === 'db' && h.seenMs >= RUNC_INIT_LIMIT_MS)).toBe(true);
      expect(out.unhealthy.find((u) => u.service === 'db')?.reason).toMatch(/^runc init hung for \d+ s after the candidate's filter was installed; killed/);
      expect(Date.now() - started).toBeLessThan(240_000);
      // The engine answers about every container of the run again (inspect waited for ever before).
      for (const id of (await session.containers()).keys()) expect((await session.docker.getContainer(id).inspect()).Id).toBe(id);
    } finally {
      await session.close();
    }
    expect(labelled(`io.hardspec.run=${session.runId}`)).toEqual(nothing);
  });

  // Runs only when a 1-minimal report is committed; without one it shows as skipped, never as passed.
  // Two lanes (as --parallel 2): two copies of the stack run candidates side by side.
  it.skipIf(!committedOneMinimal)('the committed 1-minimal web allowlist: each sampled single removal fails an interaction, on two lanes at once', { timeout: 600_000 }, async () => {
    const report = committedOneMinimal!;
    // The copy (web as the first test wrote it, php and db with Docker's list); web gets the committed list.
    const input = await readStack(path.join(specs, 'guestbook'), path.join(work, 'generated'), work);
    const model = compile([input]).stacks[0]!.model;
    const first = await StackSession.open({ model, stackDir: path.join(specs, 'guestbook'), outStackDir: path.join(work, 'generated/guestbook'), env: process.env });
    const sessions = [first, await first.openLane([...first.ports.values()])];
    const backend = new DockerBackend(sessions, 'web', 'syscalls', new AbortController().signal, undefined);
    // A different sample per seed; the seed is printed so a failure can be replayed.
    const seed = Number(process.env.HARDSPEC_MINIMIZE_SAMPLE_SEED ?? '1');
    console.info(`1-minimality sample seed: ${seed} (HARDSPEC_MINIMIZE_SAMPLE_SEED)`);
    const spans: { lane: number; from: number; to: number }[] = [];
    const runs: string[] = [];
    const fresh = [true, true];
    const tester = new Tester<RunOutcome>(async (c, lane) => {
      const from = Date.now();
      const out = await backend.run(c, { fresh: fresh[lane]!, lane });
      fresh[lane] = out.verdict === 'error';
      spans.push({ lane, from, to: Date.now() });
      const why = [...out.failed.map((f) => `${f.id}: ${f.problem}`), ...out.unhealthy.map((u) => `${u.service} unhealthy: ${u.reason}`), ...(out.error ? [out.error] : [])];
      runs.push(`lane ${lane}, ${c.size} names: ${out.verdict}${why.length ? ` (${why.join('; ')})` : ''}`);
      return { verdict: out.verdict, detail: out };
    }, { lanes: 2, retries: 1 });
    try {
      const allow = report.result.items as string[];
      expect(new Set(sessions[0]!.ports.values()).has([...sessions[1]!.ports.values()][0]!)).toBe(false);
      const sample = seededOrder(allow, seed).slice(0, 3);
      const candidates = [new Set(allow), ...sample.map((x) => new Set(allow.filter((y) => y !== x)))];
      const verdicts = await tester.passesAll(candidates);
      expect(verdicts, `the list passes, and removing any of ${sample.join(', ')} makes an interaction fail; runs:\n${runs.join('\n')}`).toEqual([true, false, false, false]);
      // Both lanes ran, and at the same time.
      const [a, b] = [spans.filter((x) => x.lane === 0), spans.filter((x) => x.lane === 1)];
      expect(a.length && b.length).toBeTruthy();
      expect(a.some((x) => b.some((y) => x.from < y.to && y.from < x.to))).toBe(true);
    } finally {
      await Promise.all(sessions.map((x) => x.close()));
    }
    for (const x of sessions) expect(labelled(`io.hardspec.run=${x.runId}`)).toEqual(nothing);
  });
});

// The recorder's fallback when eBPF is unavailable: strace, through the engine's runtime
// hardspec-strace (scripts/setup-strace-runtime.sh registers it; the test set-up runs it). This
// machine has eBPF, so the test asks for strace. By hand:
//   hardspec minimize guestbook --service web --what syscalls --recorder strace
const straceRuntime = (() => {
  try {
    return dockerAvailable && execFileSync('docker', ['info', '--format', '{{json .Runtimes}}'], { encoding: 'utf8' }).includes(`"${STRACE_RUNTIME}"`);
  } catch {
    return false;
  }
})();

describe.skipIf(!(dockerAvailable && chromiumAvailable && process.getuid?.() === 0) || !straceRuntime || !committedOneMinimal)('hardspec minimize --recorder strace (real engine)', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'hardspec-minimize-strace-'));
  beforeAll(() => {
    cpSync(path.join(REPO, 'specs/guestbook'), path.join(work, 'specs/guestbook'), { recursive: true });
    const file = path.join(work, 'specs/guestbook/web.md');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^seccomp:\n(?: {2}.*\n)+/m, 'seccomp:\n  baseline: docker-default\n  deny: [ptrace, personality]\n'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('records web from its container\'s creation: every call of the committed 1-minimal list is seen, the recorded set works, nothing is left behind', { timeout: 900_000 }, async () => {
    // One confirmation run: three are asserted by the first test; this one is about the recording.
    const r = await cli(['minimize', 'guestbook', '--service', 'web', '--what', 'syscalls', '--recorder', 'strace', '--confirm', '1'], work);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/recording with strace \(runtime hardspec-strace\)/);
    const report = readJson(path.join(work, 'generated/guestbook/minimize/web-syscalls.json'));
    expect(validateReport(report)).toEqual([]);
    expect(report.recorder).toMatchObject({ kind: 'strace', caps: false });
    expect(report.runs.total).toBeLessThanOrEqual(5);
    expect(report.confirmation).toMatchObject({ runs: 1, passed: 1, confirmed: true, flaky: false });
    // Each name of the committed list but the kept ones (--keep: restart_syscall, rt_sigreturn,
    // held by every candidate and never seeded) made an interaction fail when removed alone: a
    // faithful recording of the same interactions holds every one of them.
    const kept = committedOneMinimal!.result.kept as string[];
    const needed = (committedOneMinimal!.result.items as string[]).filter((n) => !kept.includes(n));
    const seed = report.recorded.seed as string[];
    expect(needed.length).toBeGreaterThan(40);
    expect(needed.filter((n) => !seed.includes(n)), `recorded: ${seed.join(' ')}`).toEqual([]);
    expect(report.result.addedAfterRecording).toEqual([]);
    // The cut: runc's set-up before the filter is seen, and stays out of the allowlist.
    expect(report.recorded.beforeFilter).toEqual(expect.arrayContaining(['mount', 'pivot_root']));
    expect(report.result.items).not.toContain('pivot_root');
    // Only the recording's containers were traced (the later runs' would have left traces), and
    // its traces were read and removed with their folder (the runtime's gate); no tracer is left.
    expect(existsSync(STRACE_DIR) ? readdirSync(STRACE_DIR) : 'removed').toBe('removed');
    expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('strace -DDD'))).toEqual([]);
  });
});
