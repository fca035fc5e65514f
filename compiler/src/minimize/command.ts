/**
 * `hardspec minimize`: the smallest seccomp allowlist or capability set of one service that
 * still passes the stack's functional interactions, found with the verifier as the oracle.
 *
 *   1. compile   the stack in memory (specs with errors stop here)                     (exit 1)
 *   2. preflight engine, compose, recorder (bpftrace), images, leftovers, free ports    (exit 2)
 *   3. search    record → prove → (--minimal) reduce + 1-minimality → confirm ×3 (minimize.ts)
 *   4. report    generated/<stack>/minimize/<service>-<what>.json and a summary
 *   5. spec      --write edits the spec's frontmatter and recompiles; else a diff is printed
 *
 * Exit codes: 0 the set was found and confirmed, 1 not confirmed / flaky / stopped early, 2
 * usage or environment errors, 128+n interrupted by signal n (130 on Ctrl-C).
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from '../cli/args.ts';
import { compileFromDisk } from '../cli/compile-command.ts';
import { EXIT, useColor, type CliIo } from '../cli/io.ts';
import { formatDiagnostic, formatSummary as formatDiagnosticSummary } from '../diagnostics/report.ts';
import { dockerDefaultUnconditional } from '../emit/seccomp/docker-default.ts';
import { findStackDirs, UsageError } from '../io/read-specs.ts';
import { writeStacks } from '../io/write-artifacts.ts';
import { COMPILER_VERSION } from '../version.ts';
import { describeVariant } from '../verify/compose-cli.ts';
import { connectDocker, EnvironmentError, nodeArch } from '../verify/docker.ts';
import { buildImages, ensureBaseImages } from '../verify/images.ts';
import { checkPortsFree, Interrupted, removeLeftovers, trapSignals, type SignalSource } from '../verify/lifecycle.ts';
import { runArtifacts, type What } from './candidate.ts';
import { DockerBackend, seccompArch, syscallUniverse } from './docker-backend.ts';
import { capabilityStart, DEFAULT_KEEP_SYSCALLS, minimize, SEEDING, type Strategy } from './minimize.ts';
import { journalHeader, JournalError, JournalWriter, readJournal, replayOf, specsHash, type Journal } from './journal.ts';
import { progressLine } from './progress.ts';
import { detectRecorder, type RecorderAvailability, type RecorderKind } from './record/recorder.ts';
import { buildReport, formatDuration, formatSummary, validateReport } from './report.ts';
import { ReplayMismatch } from './search.ts';
import { functionalInteractions, StackSession } from './stack-session.ts';
import { applySpecChange, unifiedDiff } from './write-spec.ts';
import type { ServiceModel } from '../model/types.ts';
import { hasStripList } from '../emit/compose/emit-compose.ts';
import type { ImageFs } from '../strip/fs.ts';
import { exportImageFs, inspectFullImage, type FullImage } from '../strip/image.ts';
import { FilesBackend } from './files-backend.ts';
import { expandFolderItems, fileSearchItems, fileSearchTree, resultToStripLists, type FileItems, type FileTree } from './files.ts';

export const MINIMIZE_HELP = `Usage: hardspec minimize STACK --service NAME --what caps|syscalls|files [--strategy record|linear]
                         [--recorder auto|bpftrace|strace] [--minimal [--strict]] [--parallel N] [--seed N]
                         [--confirm N] [--keep LIST] [--restart service|stack] [--resume] [--write]
                         [--specs DIR] [--out DIR] [--json] [--no-build]
       hardspec minimize STACK --service NAME --what caps|syscalls|files --apply REPORT [--write]

Finds the smallest seccomp allowlist (--what syscalls) or capability set (--what caps) of one
service that still passes the stack's functional interactions, using the verifier as the oracle,
and proves it with three confirmation runs. Needs root and the local Docker engine.

  STACK             a stack name under the specs folder, or a stack folder
  --service NAME    the service to minimise
  --what KIND       syscalls, caps, or files (the strip list of a stripped image: group tests
                    over its packages, folders and files, each candidate a stripped image with
                    its ELF closure; --minimal proves each kept item is needed)
  --strategy S      record (default): trace one run, prove the recorded set, add back what is
                    missing by group testing;
                    linear: remove one item per run from the spec's set (the manual method)
  --recorder R      how record traces: bpftrace (eBPF), strace (the engine's runtime
                    hardspec-strace: scripts/setup-strace-runtime.sh registers it; records no
                    capability checks, slows the traced run), or auto: eBPF when the machine
                    has it, else strace, else no recording (the search starts from the
                    whole set)                                                  [default: auto]
  --minimal         also remove what is recorded but not needed and prove 1-minimality as
                    the one-item-per-run method proves it: each kept item made an interaction
                    fail when removed alone from the set of its turn (a superset of the result)
  --strict          with --minimal: prove each single removal against the final set itself,
                    testing again every verdict a later removal made stale (about one run
                    more per kept item; also finds items that only a later removal freed)
  --parallel N      run up to N candidates at once, each on its own copy of the stack (own
                    project, ports and volumes): single removals are tested in rounds against
                    one set, applied in order, so the result depends on the verdicts only.
                    1 to 4; not with --strategy linear or --what files             [default: 1]
  --seed N          order of the items (runs are the same for the same seed)   [default: 1]
  --write           write the result into the spec's frontmatter and recompile
                    (without it, the change is printed as a diff)
  --apply REPORT    no runs: put the result of a finished, confirmed minimisation (its report
                    JSON, e.g. from bench:minimize) into the spec, as --write would (for
                    --what files it reads the full image from the engine)
  --confirm N       confirmation runs of the final set, 1 to 20                [default: 3]
  --keep LIST       items every candidate holds and the search never removes, comma-separated,
                    or none; replaces the default, while the spec's seccomp.keep always holds
                                           [default for syscalls: restart_syscall,rt_sigreturn]
  --restart WHAT    what each run restarts: service (the service under test and the services
                    with named volumes, each with what depends on it, unless a persistence
                    interaction recreates it and reads back through those) or stack
                    (everything, as by hand)       [default: stack for linear, else service]
  --resume          go on with an interrupted --strategy linear search from its journal,
                    <out>/<stack>/minimize/<service>-<what>.journal.jsonl (written run by run,
                    removed when the search ends): its runs are answered again without running
                    and count in the runs and the wall time
  --specs DIR       the folder of stacks                                       [default: specs]
  --out DIR         where generated/<stack>/ is                                [default: generated]
  --json            print the report JSON on stdout (progress goes to stderr)
  --no-build        do not rebuild images that exist (missing ones are still built)
  --help            show this help

The report goes to <out>/<stack>/minimize/<service>-<what>.json.
Exit codes: 0 found and confirmed, 1 not confirmed, flaky or stopped early, 2 usage or environment
errors, 128+n interrupted by signal n (130 on Ctrl-C).
`;

interface Options {
  readonly stack: string;
  readonly service: string;
  readonly what: What;
  readonly strategy: Strategy;
  readonly recorder: RecorderKind | 'auto';
  readonly minimal: boolean;
  readonly strict: boolean;
  readonly seed: number;
  readonly write: boolean;
  readonly confirm: number;
  readonly parallel: number;
  readonly restart?: 'service' | 'stack';
  readonly keep?: readonly string[];
  readonly specs: string;
  readonly out: string;
  readonly json: boolean;
  readonly noBuild: boolean;
  readonly apply?: string;
  readonly resume: boolean;
}

function parseMinimizeArgs(argv: readonly string[]): Options | 'help' {
  const { flags, positionals } = parseArgs(argv, {
    service: { type: 'string' }, what: { type: 'string' }, strategy: { type: 'string' }, recorder: { type: 'string' }, minimal: { type: 'boolean' }, strict: { type: 'boolean' },
    seed: { type: 'string' }, write: { type: 'boolean' }, confirm: { type: 'string' }, parallel: { type: 'string' }, restart: { type: 'string' }, keep: { type: 'string' }, specs: { type: 'string' }, out: { type: 'string' },
    json: { type: 'boolean' }, 'no-build': { type: 'boolean' }, apply: { type: 'string' }, resume: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  });
  if (flags.help) return 'help';
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `expected one STACK, got ${positionals.length}` : 'name the STACK to minimise');
  const service = flags.service as string | undefined;
  if (!service) throw new UsageError('--service NAME is required');
  const what = flags.what as string | undefined;
  if (what !== 'syscalls' && what !== 'caps' && what !== 'files') throw new UsageError('--what must be syscalls, caps or files');
  const strategy = (flags.strategy as string | undefined) ?? 'record';
  if (strategy !== 'record' && strategy !== 'linear') throw new UsageError('--strategy must be record or linear');
  const recorder = (flags.recorder as string | undefined) ?? 'auto';
  if (recorder !== 'auto' && recorder !== 'bpftrace' && recorder !== 'strace') throw new UsageError('--recorder must be auto, bpftrace or strace');
  if (flags.recorder !== undefined && strategy === 'linear') throw new UsageError('--recorder does not apply to --strategy linear: it records nothing');
  const seed = Number((flags.seed as string | undefined) ?? '1');
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError('--seed must be a whole number ≥ 0');
  const confirm = Number((flags.confirm as string | undefined) ?? '3');
  if (!Number.isInteger(confirm) || confirm < 1 || confirm > 20) throw new UsageError('--confirm must be between 1 and 20');
  const parallel = Number((flags.parallel as string | undefined) ?? '1');
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 4) throw new UsageError('--parallel must be between 1 and 4');
  if (parallel > 1 && strategy === 'linear') throw new UsageError('--parallel does not apply to --strategy linear: the manual method runs one candidate at a time');
  if (parallel > 1 && what === 'files') throw new UsageError('--parallel does not apply to --what files yet: each candidate is an image of its own');
  const restart = flags.restart as string | undefined;
  if (restart !== undefined && restart !== 'service' && restart !== 'stack') throw new UsageError('--restart must be service or stack');
  if (flags.strict && !flags.minimal) throw new UsageError('--strict is a level of the --minimal proof: give --minimal too');
  if (flags.resume && strategy !== 'linear') throw new UsageError('--resume applies to --strategy linear only: its runs are a fixed sequence that a journal can replay');
  if (flags.resume && what === 'files') throw new UsageError('--resume does not apply to --what files: each run builds its own image');
  const keep = flags.keep === undefined ? undefined : (flags.keep as string) === 'none' ? [] : (flags.keep as string).split(',').map((x) => x.trim()).filter(Boolean);
  return {
    ...(restart ? { restart } : {}),
    ...(keep ? { keep } : {}),
    ...(flags.apply ? { apply: flags.apply as string } : {}),
    stack: positionals[0]!, service, what, strategy, recorder, minimal: Boolean(flags.minimal), strict: Boolean(flags.strict), seed, write: Boolean(flags.write), confirm, parallel, resume: Boolean(flags.resume),
    specs: (flags.specs as string | undefined) ?? 'specs', out: (flags.out as string | undefined) ?? 'generated', json: Boolean(flags.json), noBuild: Boolean(flags['no-build']),
  };
}

const isStackDir = (p: string) => existsSync(path.join(p, 'stack.md')) && statSync(p).isDirectory();

async function resolveStackDir(cwd: string, o: Options): Promise<string> {
  for (const p of [path.resolve(cwd, o.stack), path.resolve(cwd, o.specs, o.stack)]) if (isStackDir(p)) return p;
  const known = (await findStackDirs(path.resolve(cwd, o.specs)).catch(() => [])).map((d) => path.basename(d));
  throw new UsageError(`no stack ${JSON.stringify(o.stack)}${known.length ? ` (stacks under ${o.specs}: ${known.join(', ')})` : ''}`);
}

export async function runMinimize(argv: readonly string[], io: CliIo, deps: { signals?: SignalSource } = {}): Promise<number> {
  const o = parseMinimizeArgs(argv);
  if (o === 'help') { io.stdout.write(MINIMIZE_HELP); return EXIT.ok; }
  const progress = o.json ? io.stderr : io.stdout;
  const say = (line: string) => { progress.write(`${line}\n`); };
  const startedAt = new Date();

  // 1. compile
  const stackDir = await resolveStackDir(io.cwd, o);
  const compiled = await compileFromDisk(io, path.relative(io.cwd, stackDir) || '.', o.out, false);
  const stack = compiled.stacks[0];
  if (!stack || compiled.diagnostics.some((d) => d.severity === 'error')) {
    for (const d of compiled.diagnostics) io.stderr.write(`${formatDiagnostic(d, { color: useColor(io) })}\n`);
    io.stderr.write(`${formatDiagnosticSummary(compiled.diagnostics)}; fix the specs first\n`);
    return EXIT.failed;
  }
  const model = stack.model;
  const service = model.services.find((s) => s.name === o.service);
  if (!service) throw new UsageError(`the stack ${model.name} has no service ${JSON.stringify(o.service)} (services: ${model.services.map((s) => s.name).join(', ')})`);
  if (o.apply) return applyReport(io, o, model.name, service, say);
  const oracle = functionalInteractions(model);
  if (oracle.length === 0) throw new UsageError(`the stack ${model.name} has no functional interactions: the minimiser would have nothing to keep working`);

  // 2. preflight
  if (o.what === 'files' && !hasStripList(service)) throw new UsageError(`service ${service.name} has no strip list (strip.packages or strip.files): there is no file list to minimise`);
  const outStackDir = path.resolve(io.cwd, o.out, model.name);
  const session = await StackSession.open({ model, stackDir, outStackDir, env: io.env, say });
  const recorder = o.strategy === 'record' ? await detectRecorder({ local: session.local, runtimes: session.facts.runtimes }, o.recorder) : undefined;
  if (recorder && !recorder.ok) {
    if (o.recorder !== 'auto') {
      await session.close();
      throw new EnvironmentError(`--recorder ${o.recorder} cannot record here: ${recorder.problems.join('; ')}`);
    }
    say(`no recorder: ${recorder.problems.join('; ')}`);
    say(o.what === 'files'
      ? 'starting from the whole strip list instead: group tests from packages and folders down to files'
      : `starting from the spec's whole set instead${o.minimal ? '' : ' (give --minimal to shrink it)'}`);
  }
  if (recorder?.ok && recorder.recorder === 'strace') {
    say(`recording with strace (runtime hardspec-strace)${o.recorder === 'auto' ? `, because eBPF is not available: ${recorder.problems.join('; ')}` : ''}; the traced run is slower`);
  }
  if (recorder?.ok && o.what === 'caps' && !recorder.caps) {
    say(recorder.recorder === 'strace'
      ? 'strace sees no capability checks: capabilities are searched without a recording'
      : 'this kernel has no capability:cap_capable tracepoint (Linux ≥ 6.13): capabilities are searched without a recording');
  }
  const arch = seccompArch(nodeArch(session.facts.arch));
  const universe = syscallUniverse(service, arch);
  let files: { fs: ImageFs; full: FullImage; items: FileItems; tree: FileTree; recording: boolean } | undefined;
  const start = o.what === 'syscalls' ? universe.start : o.what === 'caps' ? capabilityStart(service.capAdd) : [];
  const pool = o.what === 'syscalls' ? universe.pool : [];
  // Linear keeps a journal, run by run, that --resume goes on from (files: start is known later).
  const journalFile = path.join(outStackDir, 'minimize', `${service.name}-${o.what}.journal.jsonl`);
  let journal: Journal | undefined;
  const journaled = o.strategy === 'linear' && o.what !== 'files';
  const journalFor = (items: readonly string[]) => journalHeader({ stack: model.name, service: service.name, what: o.what, strategy: o.strategy, seed: o.seed, start: items, keep: searchKeep(o, service), oracle: oracle.map((i) => i.id),
    specs: specsHash(model), restart: o.restart ?? 'stack', hardspec: COMPILER_VERSION, engine: { version: session.facts.version, kernel: session.facts.kernel }, startedAt });
  if (journaled) {
    try {
      if (o.resume) journal = readJournal(journalFile, journalFor(start));
      else if (existsSync(journalFile)) throw new JournalError(`an interrupted linear search left its journal at ${path.relative(io.cwd, journalFile)}: give --resume to go on from it, or delete it to start again`);
    } catch (e) {
      await session.close();
      throw e instanceof JournalError ? new UsageError(e.message) : e;
    }
  }
  const controller = new AbortController();
  const untrap = trapSignals(deps.signals ?? process, controller, say);
  // Adapter: a browser check of a broken candidate can leave a Playwright promise rejecting after
  // the check returned (verify/checks/browser.ts: waitForNavigation when the click throws). One
  // such stray rejection must not end a search of hundreds of runs; other rejections still do.
  const strayBrowserRejection = (reason: unknown) => {
    const message = reason instanceof Error ? reason.message : String(reason);
    if (!/^(page|frame|locator|browserContext)\.\w+:/.test(message)) throw reason;
    say(`(ignored a late browser error of a failed run: ${message.split('\n')[0]})`);
  };
  process.on('unhandledRejection', strayBrowserRejection);
  let exitCode: number = EXIT.ok;
  let cleanupFiles: (() => Promise<void>) | undefined;
  // Lane 0 is `session`; more lanes get their own sessions (own project, ports, volumes).
  const sessions: StackSession[] = [session];
  try {
    const steps = { docker: session.docker, env: io.env, say, signal: controller.signal };
    await session.writeArtifacts(runArtifacts(session.model, session.specDirFromOut));
    await ensureBaseImages(model, steps);
    await buildImages(model, { ...steps, variant: session.variant, project: { name: session.project, files: ['compose.yaml'] }, cwd: session.dir, skipWhenPresent: o.noBuild });
    for (const l of await removeLeftovers(session.docker, model.name, (p) => session.downProject(p))) {
      say(`removed leftovers of an interrupted run ${l.runId} (project ${l.project}): ${l.containers} container(s), ${l.networks} network(s), ${l.volumes} volume(s)`);
    }
    await checkPortsFree(session.model);
    while (sessions.length < o.parallel) {
      const lane = await session.openLane(sessions.flatMap((s) => [...s.ports.values()]));
      sessions.push(lane);
      await checkPortsFree(lane.model);
    }
    if (o.what === 'files') {
      const full = await inspectFullImage(session.docker, service.image.name);
      if (!full) throw new EnvironmentError(`image ${service.image.name} is missing after the build`);
      say(`reading ${service.image.name} to list the strip list's files`);
      const fs = await exportImageFs(session.docker, service.image.name);
      // With a recording the search starts from the files the service named, one item per file;
      // without one, from the whole list, packages and folders first.
      const recording = recorder?.ok === true;
      const items = recording ? expandFolderItems(fs, fileSearchItems(fs, service)) : fileSearchItems(fs, service);
      const tree = fileSearchTree(items);
      files = { fs, full, items, tree, recording };
      start.push(...(recording ? items.items : tree.top));
    }
    say(`minimising ${o.what} of ${model.name}/${service.name}: strategy ${o.strategy}${o.minimal ? (o.strict ? ', --minimal --strict' : ', --minimal') : ''}, seed ${o.seed}; start set ${start.length}; oracle: ${oracle.length} functional interactions; ${sessions.map((x) => `project ${x.project}${x.ports.size ? ` (ports ${[...x.ports].map(([a, b]) => `${a}→${b}`).join(', ')})` : ''}`).join(', ')}${sessions.length > 1 ? ` (${sessions.length} lanes)` : ''} on Docker ${session.facts.version} with ${describeVariant(session.variant)}`);

    // 3. search
    const filesBackend = files ? new FilesBackend(session, session.docker, service, files.fs, files.full, controller.signal, files.tree.expand, files.items.fixed, say, files.recording && recorder?.ok ? { items: files.items, recorder: recorder.recorder as RecorderKind } : undefined) : undefined;
    if (filesBackend) cleanupFiles = () => filesBackend.cleanup();
    const backend = filesBackend
      ?? new DockerBackend(sessions, service.name, o.what, controller.signal, recordingFor(recorder, o.what));
    // The time the interrupted search had taken counts on (elapsed of its last replayed run).
    const credit = journal?.runs.at(-1)?.elapsedMs ?? 0;
    const writer = journaled ? new JournalWriter(journalFile, journal?.header ?? journalFor(start), journal?.runs ?? []) : undefined;
    if (journal) say(`resuming from ${path.relative(io.cwd, journalFile)}: ${journal.runs.length} run(s) of ${formatDuration(credit)} answered again without running`);
    const began = Date.now() - credit;
    const tty = Boolean(progress.isTTY);
    const result = await minimize(backend, {
      ...(journal ? { resume: { runs: replayOf(journal), elapsedMs: credit, from: { startedAt: journal.header.startedAt, engine: journal.header.engine } } } : {}),
      what: o.what, strategy: o.strategy, minimal: o.minimal, strict: o.strict, seed: o.seed, start, pool, confirmRuns: o.confirm, ...(o.restart ? { restart: o.restart } : {}),
      // The file search seeds from the verifier's helpers too: the tools its checks run inside the
      // container (the database client of an sql check) must be in the image for the oracle to work.
      ...(files ? (files.recording ? { ordered: true, seedMakers: [...SEEDING, 'helper' as const] } : { reduce: true, ordered: true, refine: files.tree.refine }) : {}),
      keep: searchKeep(o, service),
      onRun: (log, est) => {
        // A run cut short by Ctrl-C may end as a "fail" of its own making: it is not journaled.
        if (writer && !controller.signal.aborted) writer.append({ run: log.run, phase: log.phase, candidate: log.candidate, verdict: log.verdict, attempt: log.attempt, elapsedMs: Date.now() - began, outcome: log.outcome });
        const what = log.removed.length || log.added.length
          ? `${log.removed.length ? `−${log.removed.length <= 3 ? log.removed.join(',') : log.removed.length}` : ''}${log.added.length ? ` +${log.added.length <= 3 ? log.added.join(',') : log.added.length}` : ''}`
          : `${log.size} items`;
        const verdict = log.verdict === 'error' ? `error (${log.outcome.error ?? 'oracle'}; retrying)` : log.verdict;
        const line = progressLine({ done: est.done, remaining: est.remaining, elapsedMs: Date.now() - began, phase: log.phase, last: `${what}: ${verdict}` }, { unicode: tty });
        progress.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
      },
    });
    if (tty) progress.write('\n');

    // 4. report
    const report = buildReport(result, {
      stack: model.name, service: service.name, spec: service.source.path, hardspecVersion: COMPILER_VERSION, startedAt,
      engine: { version: session.facts.version, kernel: session.facts.kernel, arch: session.facts.arch },
      compose: describeVariant(session.variant),
      recorder: { kind: recorder?.recorder ?? 'none', caps: Boolean(recorder?.caps), problems: recorder?.problems ?? [], fallbacks: recorder?.fallbacks ?? [] },
      otherArch: o.what === 'syscalls' ? universe.otherArch : [],
      dockerDefault: { profileNames: dockerDefaultUnconditional().length, forService: universe.start.length + universe.pool.length },
      oracle: oracle.map((i) => i.id),
    });
    const problems = validateReport(report);
    if (problems.length) throw new Error(`the report does not match report.schema.json (a bug): ${problems.join('; ')}`);
    const reportPath = path.join(outStackDir, 'minimize', `${service.name}-${o.what}.json`);
    await mkdir(path.dirname(reportPath), { recursive: true });
    await writeFile(`${reportPath}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
    await rename(`${reportPath}.tmp`, reportPath);
    say('');
    progress.write(formatSummary(result, { stack: model.name, service: service.name, dockerDefault: { profileNames: dockerDefaultUnconditional().length, forService: universe.start.length + universe.pool.length } }));
    say(`report: ${path.relative(io.cwd, reportPath)}`);
    // A search the oracle stopped (a wedged engine: its last runs were errors, in the search or in
    // the confirmation) can go on once the engine answers again; any other end removes the journal.
    if (writer && result.log.at(-1)?.verdict === 'error') say(`its journal is kept: once the engine answers again, go on with --resume`);
    else writer?.remove();
    if (o.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    exitCode = result.confirmed && !result.stopped ? EXIT.ok : EXIT.failed;

    // 5. spec
    if (result.confirmed && !result.stopped) {
      exitCode = files
        ? await updateSpec(io, o, service, service.source.path, result.result, say, resultToStripLists(service, files.items, result.result.flatMap((n) => files!.tree.expand(n))))
        : await updateSpec(io, o, service, service.source.path, result.result, say);
    }
  } catch (e) {
    if (e instanceof Interrupted) {
      exitCode = e.exitCode;
      if (o.strategy === 'linear' && existsSync(journalFile)) say(`the journal of the runs so far is kept (${path.relative(io.cwd, journalFile)}): go on with --resume`);
    } else if (e instanceof EnvironmentError || e instanceof ReplayMismatch) { io.stderr.write(`hardspec minimize: ${e.message}\n`); exitCode = EXIT.usage; }
    else throw e;
  } finally {
    say(sessions.length > 1 ? `tearing the ${sessions.length} stacks down` : 'tearing the stack down');
    const closed = await Promise.all(sessions.map((x) => x.close()));
    const t = { remaining: closed.reduce((n, c) => n + c.remaining, 0), problems: closed.flatMap((c) => c.problems) };
    if (cleanupFiles) await cleanupFiles();
    untrap();
    process.off('unhandledRejection', strayBrowserRejection);
    if (t.remaining || t.problems.length) io.stderr.write(`hardspec minimize: teardown left ${t.remaining} resource(s): ${t.problems.join('; ')}\n`);
  }
  return exitCode;
}

/** --apply: the result of a report into the spec, after checking the report is for it and confirmed. */
async function applyReport(io: CliIo, o: Options, stack: string, service: ServiceModel, say: (l: string) => void): Promise<number> {
  const specPath = service.source.path;
  const file = path.resolve(io.cwd, o.apply!);
  let report: { stack?: string; service?: string; what?: string; stopped?: string; result?: { items?: string[] }; confirmation?: { confirmed?: boolean; flaky?: boolean } };
  try {
    report = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`--apply ${o.apply}: cannot read the report: ${(e as Error).message}`);
  }
  const problems = validateReport(report);
  if (problems.length) throw new UsageError(`--apply ${o.apply}: not a minimize report: ${problems.slice(0, 3).join('; ')}`);
  const mismatch = [['stack', report.stack, stack], ['service', report.service, o.service], ['what', report.what, o.what]].filter(([, a, b]) => a !== b);
  if (mismatch.length) throw new UsageError(`--apply ${o.apply}: the report is for ${mismatch.map(([k, a]) => `${k} ${a}`).join(', ')}, not ${mismatch.map(([k, , b]) => `${k} ${b}`).join(', ')}`);
  if (report.stopped || !report.confirmation?.confirmed) {
    io.stderr.write(`hardspec minimize: ${o.apply} holds no confirmed result (${report.stopped ?? (report.confirmation?.flaky ? 'flaky confirmation' : 'not confirmed')}): nothing to apply\n`);
    return EXIT.failed;
  }
  say(`applying ${report.result!.items!.length} ${o.what === 'syscalls' ? 'syscalls' : o.what === 'files' ? 'file-list items' : 'capabilities'} from ${path.relative(io.cwd, file) || file}`);
  if (o.what !== 'files') return updateSpec(io, o, service, specPath, report.result!.items!, say);
  // Files: the report's nodes are read against the spec's strip list in the full image, which
  // must be the list the search started from.
  if (!hasStripList(service)) throw new UsageError(`service ${service.name} has no strip list`);
  const { docker } = await connectDocker(io.env);
  if (!(await inspectFullImage(docker, service.image.name))) throw new EnvironmentError(`image ${service.image.name} is missing: build it first`);
  const fs = await exportImageFs(docker, service.image.name);
  const listed = fileSearchItems(fs, service);
  const start = [...((report as { start?: { items?: string[] } }).start?.items ?? [])].sort().join('\n');
  // A search without a recording starts from packages and folders; one with a recording, from
  // single files (folders expanded). Either way it must be the list the spec holds now.
  for (const items of [listed, expandFolderItems(fs, listed)]) {
    const tree = fileSearchTree(items);
    if ([...tree.top].sort().join('\n') !== start && [...items.items].sort().join('\n') !== start) continue;
    return updateSpec(io, o, service, specPath, report.result!.items!, say, resultToStripLists(service, items, report.result!.items!.flatMap((n) => tree.expand(n))));
  }
  io.stderr.write(`hardspec minimize: ${o.apply} started from another strip list than ${specPath} holds now: nothing applied\n`);
  return EXIT.failed;
}

async function updateSpec(io: CliIo, o: Options, service: ServiceModel, specPath: string, items: readonly string[], say: (l: string) => void, strip?: { packages: string[]; files: string[] }): Promise<number> {
  const file = path.resolve(io.cwd, specPath);
  const before = await readFile(file, 'utf8');
  // The spec's own seccomp.keep stays where it is; `allow` gets the rest.
  const specKeep = new Set(o.what === 'syscalls' ? service.seccomp.keep : []);
  const changed = applySpecChange(before, strip ? { what: 'files', ...strip } : o.what === 'syscalls' ? { what: 'syscalls', allow: items.filter((x) => !specKeep.has(x)) } : { what: 'caps', add: items });
  if ('error' in changed) { io.stderr.write(`hardspec minimize: cannot update ${specPath}: ${changed.error}\n`); return EXIT.failed; }
  const diff = unifiedDiff(before, changed.text, specPath);
  if (!diff) { say(`${specPath} already holds this set`); return EXIT.ok; }
  if (!o.write) {
    say(`the change to ${specPath} (give --write to apply it):`);
    io.stdout.write(diff);
    return EXIT.ok;
  }
  await writeFile(`${file}.hardspec-tmp`, changed.text);
  await rename(`${file}.hardspec-tmp`, file);
  say(`updated ${specPath}; recompiling`);
  const result = await compileFromDisk(io, o.specs, o.out, false);
  if (result.diagnostics.some((d) => d.severity === 'error')) {
    for (const d of result.diagnostics) io.stderr.write(`${formatDiagnostic(d, { color: useColor(io) })}\n`);
    return EXIT.failed;
  }
  await writeStacks(path.resolve(io.cwd, o.out), result.stacks);
  say(`recompiled into ${o.out}/`);
  return EXIT.ok;
}

/**
 * Pure: what every candidate holds and the search never removes: --keep (or, for syscalls, the
 * calls a returning signal handler needs), plus the spec's own `seccomp.keep`.
 */
export function searchKeep(o: Pick<Options, 'keep' | 'what'>, service: Pick<ServiceModel, 'seccomp'>): string[] {
  const base = o.keep ?? (o.what === 'syscalls' ? DEFAULT_KEEP_SYSCALLS : []);
  return [...new Set([...base, ...(o.what === 'syscalls' ? service.seccomp.keep : [])])];
}

/** The recording a syscall or capability search makes: none for capabilities without a record of their checks. */
function recordingFor(recorder: RecorderAvailability | undefined, what: What): { kind: RecorderKind; caps: boolean } | undefined {
  if (!recorder?.ok || recorder.recorder === 'none') return undefined;
  if (what === 'caps' && !recorder.caps) return undefined;
  return { kind: recorder.recorder, caps: recorder.caps };
}
