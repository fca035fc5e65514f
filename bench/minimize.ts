/**
 * `npm run bench:minimize`: on the guestbook, for each service, the container runs and wall time
 * of `--strategy linear` (one item removed per run, whole stack restarted, as by hand), of the
 * default (record, prove, confirm), of `--minimal` (plus group testing and the proof of
 * 1-minimality as one-item-per-run proves it), of `--minimal --parallel N` (the same search with
 * N candidates run side by side, strategy "parallel") and of `--minimal --strict` (the proof
 * against the final set), their ratios, and the allowlist sizes against Docker's default profile.
 *
 *   npm run bench:minimize -- [--services web,php,db] [--strategies default,minimal,parallel,strict,linear]
 *                             [--lanes N] [--seed N] [--report-only]
 *
 * --report-only runs nothing: it prints the table (and ratios) from the reports measured so far.
 *
 * Needs root, the Docker engine, bpftrace and Chromium. Not part of CI: linear alone takes two to three
 * hours per service (291 whole-stack runs of 20 to 41 s). Each measurement is appended to bench/results/minimize-<date>.txt as it ends,
 * and the reports are kept in bench/results/minimize-<date>/<strategy>/.
 */
import { cpus, hostname, release, totalmem } from 'node:os';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMain } from '../compiler/src/cli/main.ts';
import { dockerDefaultUnconditional } from '../compiler/src/emit/seccomp/docker-default.ts';
import { formatDuration } from '../compiler/src/minimize/report.ts';
import { servicesToRestart } from '../compiler/src/minimize/stack-session.ts';
import { compileFromDisk } from '../compiler/src/cli/compile-command.ts';
import { formatDiagnostic } from '../compiler/src/diagnostics/report.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
type Strategy = 'default' | 'minimal' | 'parallel' | 'strict' | 'linear';
const STRATEGIES: readonly Strategy[] = ['default', 'minimal', 'parallel', 'strict', 'linear'];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const services = arg('services', 'web,php,db').split(',');
const strategies = arg('strategies', 'default,minimal,linear').split(',') as Strategy[];
if (strategies.some((x) => !STRATEGIES.includes(x))) throw new Error(`--strategies takes ${STRATEGIES.join(', ')}, not ${strategies.join(',')}`);
const lanes = Number(arg('lanes', '2'));
if (!Number.isInteger(lanes) || lanes < 2 || lanes > 4) throw new Error('--lanes takes 2 to 4 (the candidates the "parallel" strategy runs at once)');
const seed = arg('seed', '1');
const date = arg('date', new Date().toISOString().slice(0, 10));
const reportOnly = process.argv.includes('--report-only');
const resultsDir = path.join(REPO, 'bench/results');
const outFile = path.join(resultsDir, `minimize-${date}.txt`);
const reportsDir = path.join(resultsDir, `minimize-${date}`);
mkdirSync(reportsDir, { recursive: true });

// Every strategy starts from the same over-permissive spec: Docker's default list (without ptrace
// and personality, as the guestbook's first version had), in a copy of the specs.
const specs = mkdtempSync(path.join(tmpdir(), 'hardspec-bench-minimize-'));
cpSync(path.join(REPO, 'specs/guestbook'), path.join(specs, 'guestbook'), { recursive: true });
for (const s of services) {
  const file = path.join(specs, 'guestbook', `${s}.md`);
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^seccomp:\n(?: {2}.*\n)+/m, 'seccomp:\n  baseline: docker-default\n  deny: [ptrace, personality]\n'));
}

const say = (line: string) => { process.stdout.write(`${line}\n`); appendFileSync(outFile, `${line}\n`); };

interface Measured {
  runs: number; wallMs: number; size: number; oneMinimal: boolean; proof?: string; lanes: number; confirmed: string; result: string[];
  resumed?: { runs: number; wallMs: number };
  /** The kernels the measurement ran on (two when a resumed linear began on another machine): wall times compare only on one. */
  kernels: string[];
}
const measured = new Map<string, Measured>();

function readMeasured(file: string): Measured | undefined {
  try {
    const report = JSON.parse(readFileSync(file, 'utf8'));
    return {
      runs: report.runs.total, wallMs: report.wallMs, size: report.result.size, oneMinimal: report.result.oneMinimal,
      // Reports made before the proof levels were proven against the final set; linear proves as tested.
      ...(report.result.proof ? { proof: report.result.proof } : report.minimal ? { proof: 'final-set' } : {}),
      lanes: report.runs.lanes ?? 1,
      ...(report.runs.resumed ? { resumed: report.runs.resumed } : {}),
      kernels: [...new Set([report.runs.resumed?.from?.engine?.kernel, report.engine?.kernel].filter((k): k is string => typeof k === 'string'))].sort(),
      confirmed: `${report.confirmation.passed}/${report.confirmation.runs}`, result: report.result.items,
    };
  } catch {
    return undefined;
  }
}

async function measure(service: string, strategy: Strategy): Promise<Measured | undefined> {
  const out = path.join(reportsDir, strategy);
  const reportFile = path.join(out, 'guestbook/minimize', `${service}-syscalls.json`);
  // An interrupted linear measurement (Ctrl-C, the end of a session, a wedged engine) goes on from
  // its journal; the report then says how many runs were replayed and the time they had taken.
  const journal = path.join(out, 'guestbook/minimize', `${service}-syscalls.journal.jsonl`);
  const resume = strategy === 'linear' && existsSync(journal);
  // Else a measurement whose report exists (from an earlier bench) is reused.
  const earlier = resume ? undefined : readMeasured(reportFile);
  // A report of another proof level (minimal/ from before --strict existed) is measured again.
  const done = earlier && (strategy === 'minimal' ? earlier.proof === 'as-tested' : strategy === 'strict' ? earlier.proof === 'final-set' : strategy === 'parallel' ? earlier.lanes === lanes : true) ? earlier : undefined;
  if (earlier && !done) say(`  ${service.padEnd(4)} ${strategy.padEnd(8)} the report found was ${strategy === 'parallel' ? `made on ${earlier.lanes} lane(s)` : `proven ${earlier.proof}`}: measuring again`);
  if (done) {
    say(`  ${service.padEnd(4)} ${strategy.padEnd(8)} runs ${String(done.runs).padStart(4)}  wall ${formatDuration(done.wallMs).padStart(7)}  size ${String(done.size).padStart(3)}  1-minimal ${done.oneMinimal ? `proven (${done.proof})` : 'no'}  confirmed ${done.confirmed}  (measured earlier)`);
    return done;
  }
  if (reportOnly) {
    say(`  ${service.padEnd(4)} ${strategy.padEnd(8)} not measured`);
    return undefined;
  }
  if (resume) say(`  ${service.padEnd(4)} ${strategy.padEnd(8)} resuming from ${path.relative(REPO, journal)} (${readFileSync(journal, 'utf8').trim().split('\n').length - 1} runs journaled)`);
  const args = ['minimize', 'guestbook', '--specs', specs, '--service', service, '--what', 'syscalls', '--seed', seed, '--out', out,
    ...(strategy === 'linear' ? ['--strategy', 'linear', ...(resume ? ['--resume'] : [])] : []),
    ...(strategy === 'minimal' ? ['--minimal'] : strategy === 'parallel' ? ['--minimal', '--parallel', String(lanes)] : strategy === 'strict' ? ['--minimal', '--strict'] : [])];
  // The log is written as it comes, so a measurement that never ends (a wedged engine) still
  // shows its last run.
  const logFile = path.join(out, `${service}.log`);
  mkdirSync(out, { recursive: true });
  if (!resume) writeFileSync(logFile, '');
  const write = (s: string) => { appendFileSync(logFile, s); return true; };
  const started = Date.now();
  const code = await runMain(args, { stdout: { write }, stderr: { write }, cwd: REPO, env: { ...process.env, NO_COLOR: '1' } });
  const wall = Date.now() - started;
  // Ctrl-C reaches the running minimize (which tears its stack down): stop the whole bench then.
  if (code === 130 || code === 143) { say(`  interrupted (exit ${code}): stopping the bench`); rmSync(specs, { recursive: true, force: true }); process.exit(code); }
  const m = readMeasured(reportFile);
  if (!m) {
    say(`  ${service} ${strategy}: no report (exit ${code}); see ${path.relative(REPO, path.join(out, `${service}.log`))}`);
    return undefined;
  }
  say(`  ${service.padEnd(4)} ${strategy.padEnd(8)} runs ${String(m.runs).padStart(4)}  wall ${formatDuration(m.wallMs).padStart(7)} (command ${formatDuration(wall)})  size ${String(m.size).padStart(3)}  1-minimal ${m.oneMinimal ? `proven (${m.proof})` : 'no'}  confirmed ${m.confirmed}  exit ${code}${m.resumed ? `  (resumed: ${m.resumed.runs} runs and ${formatDuration(m.resumed.wallMs)} of it from the journal)` : ''}`);
  return m;
}

say(`# hardspec bench:minimize — ${new Date().toISOString()}`);
say(`# machine: ${hostname()}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}`);
say(`# Docker's default profile: ${dockerDefaultUnconditional().length} names in its unconditional group; seed ${seed}`);
say(`# services ${services.join(', ')}; strategies ${strategies.join(', ')}; start: docker-default without ptrace, personality`);
// What a run of the other strategies restarts, as the minimiser decides it for these specs.
const compiled = await compileFromDisk({ stdout: process.stdout, stderr: process.stderr, cwd: REPO, env: process.env }, path.join(specs, 'guestbook'), path.join(specs, 'generated'), true);
const model = compiled.stacks[0]?.model;
if (!model || compiled.diagnostics.some((d) => d.severity === 'error')) {
  throw new Error(`the bench's copy of specs/guestbook does not compile:\n${compiled.diagnostics.map((d) => formatDiagnostic(d)).join('\n')}`);
}
const restarts = services.map((s) => `${s}: ${servicesToRestart(model, s).join(', ')}`).join('; ');
say(`# linear restarts the whole stack per run (as by hand); the others restart what a run needs (${restarts}); parallel runs ${lanes} candidates at once`);
for (const strategy of strategies) {
  for (const service of services) {
    const m = await measure(service, strategy);
    if (m) measured.set(`${service}/${strategy}`, m);
  }
}
say('');
say('# ratios (linear ÷ other): runs, wall time; allowlist sizes');
for (const service of services) {
  const lin = measured.get(`${service}/linear`);
  const ratio = (a?: number, b?: number) => (a && b ? `${(a / b).toFixed(1)}×` : 'n/a');
  const others = STRATEGIES.filter((x) => x !== 'linear' && measured.has(`${service}/${x}`)).map((x) => [x, measured.get(`${service}/${x}`)!] as const);
  // A wall-time ratio across machines says more about the machines than the strategies: it is
  // printed, marked, with each side's kernel; the runs ratio holds on any machine.
  const sameMachine = (m: Measured) => !lin || (lin.kernels.length === 1 && m.kernels.length === 1 && lin.kernels[0] === m.kernels[0]);
  say(`  ${service.padEnd(4)} ${others.map(([x, m]) => `${x}: runs ${ratio(lin?.runs, m.runs)}, wall ${ratio(lin?.wallMs, m.wallMs)}${sameMachine(m) ? '' : ` (not comparable: linear ran on ${lin!.kernels.join(' + ')}, ${x} on ${m.kernels.join(' + ')})`}`).join('; ') || 'nothing but linear measured'}`);
  const perRun = lin ? [['linear', lin] as const, ...others] : others;
  say(`       wall per run: ${perRun.map(([x, m]) => `${x} ${(m.wallMs / m.runs / 1000).toFixed(1)} s`).join(', ')}`);
  say(`       sizes: linear ${lin?.size ?? 'n/a'}${others.map(([x, m]) => `, ${x} ${m.size}${lin && x !== 'default' ? ` (${x} − linear ${m.size - lin.size >= 0 ? '+' : ''}${m.size - lin.size})` : ''}`).join('')}`);
  const min = measured.get(`${service}/minimal`) ?? measured.get(`${service}/parallel`);
  if (lin && min) {
    const onlyMin = min.result.filter((x) => !lin.result.includes(x));
    const onlyLin = lin.result.filter((x) => !min.result.includes(x));
    say(`       only in minimal: ${onlyMin.join(' ') || '-'}; only in linear: ${onlyLin.join(' ') || '-'}`);
  }
}
say(`# results: ${path.relative(REPO, outFile)}; reports: ${path.relative(REPO, reportsDir)}/`);
rmSync(specs, { recursive: true, force: true });
