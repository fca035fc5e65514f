/**
 * `hardspec verify`: starts a compiled stack on the real engine and proves every interaction,
 * writing evidence. The phases, in order:
 *
 *   1. compile   the stack in memory; generated/<stack>/ must match it byte for byte   (exit 1)
 *   2. preflight engine reachable, compose found, probe built, leftovers of killed runs
 *                removed, published host ports free                                     (exit 2)
 *   3. secrets   generated once, git-ignored, scrubbed from everything written or printed
 *   4. images    base images (pull, else debootstrap), compose build, image ids
 *   5. up        unique project, run labels and the probe mount via a temporary override,
 *                wait until healthy; teardown ALWAYS follows (also on SIGINT/SIGTERM)
 *   6. checks    spec interactions in spec order, then the automatic security checks
 *   7. evidence  latest.json + runs/<time>-<run id>.json (+ screenshots)
 *
 * Exit codes: 0 nothing failed, 1 an interaction failed (or generated/ is stale, or specs have
 * errors), 2 environment errors, 128+n when interrupted by signal n (130 for SIGINT).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { compileFromDisk } from '../cli/compile-command.ts';
import { parseArgs } from '../cli/args.ts';
import { EXIT, useColor, type CliIo } from '../cli/io.ts';
import { formatDiagnostic, formatSummary as formatDiagnosticSummary } from '../diagnostics/report.ts';
import { findStackDirs, UsageError } from '../io/read-specs.ts';
import type { StackModel } from '../model/types.ts';
import { COMPILER_VERSION } from '../version.ts';
import { automaticChecks, healthResults, runAutoCheck } from './auto-checks.ts';
import { BrowserPool } from './checks/browser.ts';
import { composeArgs, composeCommand, describeVariant, detectCompose, runCommand, type ComposeVariant } from './compose-cli.ts';
import { DockerVerifierEngine } from './docker-engine.ts';
import { connectDocker, engineFacts, EnvironmentError, nodeArch, type EngineFacts } from './docker.ts';
import { buildEvidence, evidenceJson, exitCodeFor, summarize, writeEvidence, type RunResult } from './evidence.ts';
import { staleArtifacts } from './generated-check.ts';
import { buildImages, ensureBaseImages, imageRecords, type ImageRecord } from './images.ts';
import { checkPortsFree, Interrupted, pidStartTime, removeLeftovers, StackRun, trapSignals, type SignalSource } from './lifecycle.ts';
import { composeOverride } from './override.ts';
import { buildProbe } from './probe.ts';
import { formatDuration, formatResultLine, formatSummary, type ReportStyle } from './report.ts';
import { runInteraction, skippedResult, specInteractions, type InteractionResult } from './runner.ts';
import { ensureSecrets, Scrubber } from './secrets.ts';
import { checkStrippedImage } from '../strip/check.ts';
import { servicesToStrip, stripImages, writeStripReports } from '../strip/strip-images.ts';

export const VERIFY_HELP = `Usage: hardspec verify [STACK] [--specs DIR] [--out DIR] [--evidence-dir DIR] [--stripped] [--json] [--no-build] [--keep-going]

Starts the compiled stack on the local Docker engine under a fresh compose project, runs every
interaction of its specs and the automatic security checks of every service, writes evidence,
and always tears the stack down again (also on Ctrl-C).

  STACK               a stack name under the specs folder, or a stack folder    [default: the only stack]
  --specs DIR         the folder of stacks                                      [default: specs]
  --out DIR           where the compiled generated/<stack>/ is                  [default: generated]
  --evidence-dir DIR  where evidence goes                          [default: <out>/<stack>/evidence]
  --stripped          run the stripped images (compose.stripped.yaml): strips every service with a
                      strip list first (as hardspec strip) and checks each stripped image
                      [evidence default: <out>/<stack>/evidence/stripped]
  --json              print the evidence JSON on stdout (progress goes to stderr)
  --no-build          do not rebuild images that exist (missing ones are still built)
  --keep-going        run the interactions even when a service did not become healthy
  --help              show this help

Exit codes: 0 everything passed (not-verifiable checks allowed), 1 a check failed, generated/
is stale or the specs have errors, 2 environment errors (no engine, port taken, build failed),
130 interrupted.
`;

export interface VerifyDeps {
  /** Where SIGINT/SIGTERM come from (default: the process). */
  readonly signals?: SignalSource;
}

interface Options {
  readonly stackArg?: string;
  readonly specs: string;
  readonly out: string;
  readonly evidenceDir?: string;
  readonly json: boolean;
  readonly noBuild: boolean;
  readonly keepGoing: boolean;
  readonly stripped: boolean;
}

function parseVerifyArgs(argv: readonly string[]): Options | 'help' {
  const { flags, positionals } = parseArgs(argv, {
    specs: { type: 'string' }, out: { type: 'string' }, 'evidence-dir': { type: 'string' },
    json: { type: 'boolean' }, 'no-build': { type: 'boolean' }, 'keep-going': { type: 'boolean' }, stripped: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  });
  if (flags.help) return 'help';
  if (positionals.length > 1) throw new UsageError(`expected at most one STACK, got ${positionals.length}`);
  return {
    ...(positionals[0] ? { stackArg: positionals[0] } : {}),
    specs: (flags.specs as string | undefined) ?? 'specs',
    out: (flags.out as string | undefined) ?? 'generated',
    ...(flags['evidence-dir'] ? { evidenceDir: flags['evidence-dir'] as string } : {}),
    json: Boolean(flags.json), noBuild: Boolean(flags['no-build']), keepGoing: Boolean(flags['keep-going']), stripped: Boolean(flags.stripped),
  };
}

const isStackDir = (p: string) => existsSync(path.join(p, 'stack.md')) && statSync(p).isDirectory();

/** STACK → the stack folder: a folder holding stack.md, or <specs>/<STACK>, or the only stack under <specs>. */
export async function resolveStackDir(cwd: string, o: Pick<Options, 'stackArg' | 'specs'>): Promise<string> {
  if (o.stackArg) {
    const direct = path.resolve(cwd, o.stackArg);
    if (isStackDir(direct)) return direct;
    const named = path.resolve(cwd, o.specs, o.stackArg);
    if (isStackDir(named)) return named;
    throw new UsageError(`no stack ${JSON.stringify(o.stackArg)}: neither a folder with stack.md nor ${path.join(o.specs, o.stackArg)}/stack.md`);
  }
  const dirs = await findStackDirs(path.resolve(cwd, o.specs));
  if (dirs.length === 1) return dirs[0]!;
  if (dirs.length === 0) throw new UsageError(`no stack found under ${o.specs}`);
  throw new UsageError(`${o.specs} holds ${dirs.length} stacks (${dirs.map((d) => path.basename(d)).join(', ')}): name one`);
}

/** Phase 1: the stack compiled in memory, and generated/<stack>/ checked against it. */
export async function compileAndCompare(io: CliIo, o: Pick<Options, 'stackArg' | 'specs' | 'out' | 'evidenceDir'> & { readonly stripped?: boolean }): Promise<number | {
  model: StackModel; stackDir: string; outStackDir: string; evidenceDir: string; manifest: { specs: { path: string; sha256: string }[]; artifacts: { path: string; sha256: string }[] };
}> {
  const stackDir = await resolveStackDir(io.cwd, o);
  const compiled = await compileFromDisk(io, path.relative(io.cwd, stackDir) || '.', o.out, false);
  const stack = compiled.stacks[0];
  if (compiled.diagnostics.some((d) => d.severity === 'error') || !stack) {
    for (const d of compiled.diagnostics) io.stderr.write(`${formatDiagnostic(d, { color: useColor(io) })}\n`);
    io.stderr.write(`${formatDiagnosticSummary(compiled.diagnostics)}; fix the specs, compile, then verify\n`);
    return EXIT.failed;
  }
  const outStackDir = path.resolve(io.cwd, o.out, stack.name);
  const stale = await staleArtifacts(outStackDir, stack.artifacts);
  if (stale.length) {
    io.stderr.write(`hardspec verify: generated/ is stale: run hardspec compile\n${stale.map((x) => `  ${path.join(path.relative(io.cwd, outStackDir) || '.', x)}`).join('\n')}\n`);
    return EXIT.failed;
  }
  return {
    model: stack.model, stackDir, outStackDir,
    evidenceDir: path.resolve(io.cwd, o.evidenceDir ?? path.join(o.out, stack.name, 'evidence', ...(o.stripped ? ['stripped'] : []))),
    manifest: JSON.parse(stack.artifacts.find((a) => a.path === 'manifest.json')!.content),
  };
}

/** Phases 2–3: engine, compose, probe, secrets, leftovers of killed runs, free ports. Throws EnvironmentError. */
async function preflight(io: CliIo, model: StackModel, outStackDir: string, say: (line: string) => void) {
  const { docker, address } = await connectDocker(io.env);
  const facts = await engineFacts(docker);
  const variant = await detectCompose(io.env);
  if (!variant) throw new EnvironmentError('no compose command: neither "docker compose" (v2) nor "docker-compose" answers; install one (Debian: apt-get install docker-compose)');
  let probePath: string;
  try {
    probePath = await buildProbe({ arch: nodeArch(facts.arch) });
  } catch (e) {
    throw new EnvironmentError((e as Error).message.replace(/^hardspec: /, ''));
  }
  // Secrets before leftovers: compose reads the secret files when it loads the project.
  const secrets = await ensureSecrets(model, outStackDir);
  const scrubber = new Scrubber(secrets.values);
  for (const f of secrets.files.filter((x) => x.created)) say(`generated the secret ${f.name} in ${path.relative(io.cwd, f.path)}`);
  const down = (project: string) => runCommand(composeCommand(variant, { name: project, files: ['compose.yaml'] }, composeArgs.down()), { cwd: outStackDir, env: io.env, timeoutMs: 120_000 });
  for (const l of await removeLeftovers(docker, model.name, down)) {
    await removeRunTempDirs(l.runId);
    say(`removed leftovers of an interrupted run ${l.runId} (pid ${l.pid} is gone; project ${l.project}): ${l.containers} container(s), ${l.networks} network(s), ${l.volumes} volume(s)${l.failed.length ? `; could not remove: ${l.failed.join('; ')}` : ''}`);
  }
  await checkPortsFree(model);
  return { docker, address, facts, variant, probePath, scrubber };
}

export async function runVerify(argv: readonly string[], io: CliIo, deps: VerifyDeps = {}): Promise<number> {
  const o = parseVerifyArgs(argv);
  if (o === 'help') { io.stdout.write(VERIFY_HELP); return EXIT.ok; }
  const progress = o.json ? io.stderr : io.stdout;
  const style: ReportStyle = { unicode: Boolean(progress.isTTY), color: useColor(io, o.json ? 'stderr' : 'stdout') };
  let scrubber = new Scrubber([]);
  const say = (line: string) => { progress.write(`${scrubber.scrub(line)}\n`); };
  const started = new Date();

  const prepared = await compileAndCompare(io, o);
  if (typeof prepared === 'number') return prepared;
  const { model, stackDir, outStackDir, evidenceDir, manifest } = prepared;
  const env = await preflight(io, model, outStackDir, say);
  const { docker, address, facts, variant } = env;
  scrubber = env.scrubber;

  // Phases 4–6, under a unique project; teardown always follows.
  const runId = randomBytes(4).toString('hex');
  const project = `hardspec-${model.name}-${runId}`;
  say(`verifying ${model.name}: run ${runId} (project ${project}) on Docker ${facts.version} (${address.display}) with ${describeVariant(variant)}`);
  const controller = new AbortController();
  const untrap = trapSignals(deps.signals ?? process, controller, say);
  const tmp = await mkdtemp(path.join(os.tmpdir(), `hardspec-verify-${runId}-`));
  const overridePath = path.join(tmp, 'override.yaml');
  await writeFile(overridePath, composeOverride(model, { runId, stack: model.name, pid: process.pid, pidStart: pidStartTime(process.pid) }, env.probePath), { mode: 0o600 });
  const stripServices = o.stripped ? servicesToStrip(model) : [];
  if (o.stripped && stripServices.length === 0) throw new UsageError(`--stripped: no service of ${model.name} has a strip list (strip.packages or strip.files)`);
  const composeProject = { name: project, files: [o.stripped ? 'compose.stripped.yaml' : 'compose.yaml', overridePath] };
  const run = new StackRun({ docker, variant, project: composeProject, runId, cwd: outStackDir, env: io.env, model });
  const browser = new BrowserPool();
  const results: InteractionResult[] = [];
  const timings = { buildMs: 0, upMs: 0, interactionsMs: 0, teardownMs: 0, totalMs: 0 };
  let images: ImageRecord[] = [];
  let result: RunResult = 'passed';
  let error: string | undefined;
  let exitCode: number = EXIT.ok;
  let teardown = { remaining: 0, problems: [] as string[] };
  const report = (r: InteractionResult) => { results.push(r); say(formatResultLine(r, style)); };
  try {
    const signal = controller.signal;
    const steps = { docker, env: io.env, say, signal };

    // 4. images
    const buildStart = Date.now();
    await ensureBaseImages(model, steps);
    await buildImages(model, { ...steps, variant, project: { ...composeProject, files: ['compose.yaml', overridePath] }, cwd: outStackDir, skipWhenPresent: o.noBuild });
    images = await imageRecords(model, docker);
    if (o.stripped) {
      const stripped = await stripImages(docker, model, stripServices, say);
      await writeStripReports(outStackDir, stripped);
      images = images.map((r) => { const x = stripped.find((t) => t.service === r.service); return x ? { service: r.service, image: x.target, id: x.strippedId } : r; });
    }
    timings.buildMs = Date.now() - buildStart;

    // 5. up
    say('starting the stack (compose up) and waiting until every service is healthy');
    const up = await run.up(signal);
    timings.upMs = up.durationMs;
    for (const r of healthResults(up.states, model, up.durationMs)) {
      if (r.status !== 'failed') { report(r); continue; }
      const log = await run.logTail(r.service!);
      report({ ...r, logTail: log ? { [r.service!]: log } : { 'compose up': up.composeOutput } });
    }
    if (!up.ok && up.states.every((x) => x.ok)) say(`compose up failed:\n${up.composeOutput}`);
    say(up.ok ? `the stack is up (${formatDuration(up.durationMs)})` : `the stack did not come up${o.keepGoing ? '; --keep-going: running the checks anyway' : ''}`);

    // 6. interactions in spec order, then the automatic checks
    const interactionsStart = Date.now();
    if (up.ok || o.keepGoing) {
      const engine = new DockerVerifierEngine(docker, run, model, runId, {
        selinuxfs: existsSync('/sys/fs/selinux'),
        engineSelinux: facts.securityOptions.some((x) => /selinux/.test(x)),
        engineSecurityOptions: facts.securityOptions,
        arch: nodeArch(facts.arch),
        localProc: address.local,
      });
      const rc = { engine, model, runToken: runId, stackDir, evidenceDir, scrubber, browser, signal };
      for (const it of specInteractions(model)) report(await runInteraction(it, rc));
      const seccompProfiles = Object.fromEntries(await Promise.all(model.services.map(async (s) => [s.name, await readFile(path.join(outStackDir, 'seccomp', `${s.name}.json`), 'utf8')] as const)));
      const auto = automaticChecks({ engine, model, project, runToken: runId, mounts: { stackDir, secretsDir: path.join(outStackDir, 'secrets') }, seccompProfiles, signal });
      for (const c of auto) report(await runAutoCheck(c, signal));
      for (const s of stripServices) report(await checkStrippedImage(docker, s));
    } else {
      for (const it of specInteractions(model)) report(skippedResult(it, 'not run: the stack did not come up (see the .auto.healthy results)'));
    }
    timings.interactionsMs = Date.now() - interactionsStart;
    exitCode = exitCodeFor(summarize(results));
    result = exitCode === 0 ? 'passed' : 'failed';
  } catch (e) {
    if (e instanceof Interrupted) {
      result = 'interrupted';
      exitCode = e.exitCode;
      error = e.message;
    } else {
      result = 'error';
      exitCode = (e as { exitCode?: number }).exitCode ?? EXIT.usage;
      error = e instanceof EnvironmentError ? e.message : `internal error: ${(e as Error).stack ?? (e as Error).message}`;
      io.stderr.write(`hardspec verify: ${scrubber.scrub(error)}\n`);
    }
  } finally {
    await browser.close();
    say('tearing the stack down');
    const t = await run.teardown();
    teardown = { remaining: t.remaining, problems: t.problems };
    timings.teardownMs = t.durationMs;
    await rm(tmp, { recursive: true, force: true });
    untrap();
    if (t.remaining || t.problems.length) io.stderr.write(`hardspec verify: teardown left ${t.remaining} resource(s) of run ${runId}: ${t.problems.join('; ')}\n`);
  }

  // 7. evidence
  const finished = new Date();
  timings.totalMs = finished.getTime() - started.getTime();
  const doc = buildEvidence({
    stack: model.name, runId, project, startedAt: started, finishedAt: finished, result, exitCode, ...(error ? { error } : {}),
    hardspecVersion: COMPILER_VERSION, engine: engineSection(facts),
    compose: composeSection(variant), host: { kernel: os.release(), arch: process.arch, selinux: existsSync('/sys/fs/selinux') },
    images, specs: manifest.specs, artifacts: manifest.artifacts, timings, teardown, interactions: results,
  }, scrubber);
  const written = await writeEvidence(evidenceDir, doc, started, runId);
  say(formatSummary(summarize(results), timings.totalMs));
  say(`evidence: ${path.relative(io.cwd, written.latest) || written.latest}`);
  if (o.json) io.stdout.write(evidenceJson(doc));
  return exitCode;
}

/** The override folders of a killed run (mkdtemp names start with hardspec-verify-<run id>-). */
async function removeRunTempDirs(runId: string): Promise<void> {
  const prefix = `hardspec-verify-${runId}-`;
  for (const name of await readdir(os.tmpdir()).catch(() => [] as string[])) {
    if (name.startsWith(prefix)) await rm(path.join(os.tmpdir(), name), { recursive: true, force: true });
  }
}

function engineSection(f: EngineFacts) {
  return { version: f.version, apiVersion: f.apiVersion, os: f.os, kernel: f.kernel, arch: f.arch, cgroupDriver: f.cgroupDriver, cgroupVersion: f.cgroupVersion, securityOptions: f.securityOptions };
}

function composeSection(v: ComposeVariant) {
  return { variant: v.kind, command: v.kind === 'v2' ? 'docker compose' : 'docker-compose', version: v.version };
}

