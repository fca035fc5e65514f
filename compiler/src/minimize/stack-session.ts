/**
 * One compose project kept for a whole minimisation, and the oracle run on it: the verifier's
 * StackRun, engine and interaction runner, fed with artifacts compiled in memory for each
 * candidate into a temporary generated folder.
 *
 * A *run* is one start of the stack (the first, and after an engine error) or of what the
 * candidate needs (servicesToRestart), followed by the functional interactions. Every strategy
 * counts runs the same way because every candidate goes through `runCandidate`.
 *
 * What the oracle sees: only interactions with `purpose: functional`. Security probes are never
 * run (they would only add the probe's own calls), and the probe is not mounted.
 */
import type Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Artifact } from '../emit/artifact.ts';
import { toYaml, type YamlValue } from '../emit/yaml-writer.ts';
import { parseDuration } from '../model/build.ts';
import type { InteractionModel, ServiceModel, StackModel } from '../model/types.ts';
import { BrowserPool } from '../verify/checks/browser.ts';
import { composeArgs, composeCommand, detectCompose, runCommand, type ComposeVariant, type RunResult } from '../verify/compose-cli.ts';
import { DockerVerifierEngine } from '../verify/docker-engine.ts';
import { connectDocker, engineFacts, EnvironmentError, nodeArch, removeLabelled, type EngineFacts } from '../verify/docker.ts';
import { COMPOSE_PROJECT_LABEL, pidStartTime, StackRun, type ServiceState } from '../verify/lifecycle.ts';
import { LABEL, runLabelMap } from '../verify/override.ts';
import { runInteraction, servicesConcerned, specInteractions, type InteractionResult } from '../verify/runner.ts';
import { ensureSecrets, Scrubber } from '../verify/secrets.ts';
import { lastLines } from '../verify/streams.ts';
import { findFreePorts, remapPorts } from './ports.ts';
import { RuncWatchdog, serviceFromConfig, type HungInit } from './runc-watchdog.ts';

export type Verdict = 'pass' | 'fail' | 'error';

/**
 * compose errors that the candidate causes, not the engine: the container's process died while
 * runc started it (a filter that denies what runc needs after installing it, e.g. execve), or a
 * dependency that exited or became unhealthy. The state of the containers then says why.
 */
/** compose errors of the engine or the host, whatever the candidate: retried, never a verdict. */
export const ENGINE_TROUBLE = /port is already allocated|address already in use|Cannot connect to the Docker daemon|no space left on device|context deadline exceeded|i\/o timeout|TLS handshake/i;

export const RUNTIME_START_FAILURE = /cannot start a stopped process|OCI runtime (create|start|exec) failed|starting container process caused|error during container init|exited with code|is unhealthy|dependency failed/i;

export interface RunOutcome {
  readonly verdict: Verdict;
  /** 'stack': the whole stack was started; 'service': only the listed services were recreated. */
  readonly scope: 'stack' | 'service';
  readonly restarted: readonly string[];
  readonly durationMs: number;
  /** Failed interactions (verdict fail): id and first problem. */
  readonly failed: readonly { readonly id: string; readonly problem: string }[];
  /** Services that did not come up, with why (verdict fail). */
  readonly unhealthy: readonly { readonly service: string; readonly reason: string }[];
  /** Oracle error (Docker, compose, time-out of the run itself). */
  readonly error?: string;
  /** Where the time went: starting (or restarting) containers, and each interaction run. */
  readonly startMs?: number;
  readonly interactionMs?: Readonly<Record<string, number>>;
  /** `runc init` processes the candidate wedged, killed by the watchdog (verdict fail). */
  readonly hungInits?: readonly HungInit[];
}

/** A `runc init` alive this long is hung (a healthy one lives for milliseconds); looked for this often. */
export const RUNC_INIT_LIMIT_MS = 20_000;
const RUNC_WATCH_INTERVAL_MS = 2_000;

/**
 * Pure: a run during which the watchdog killed a wedged `runc init` failed, whatever compose
 * said: only the candidate's filter, installed in runc init, makes it hang. Services that did
 * not come up keep their own reasons.
 */
export function withHungInits(outcome: RunOutcome, hung: readonly HungInit[]): RunOutcome {
  if (!hung.length) return outcome;
  const reasons = hung.map((h) => ({ service: h.service, reason: `runc init hung for ${Math.round(h.seenMs / 1000)} s after the candidate's filter was installed; killed (pid ${h.pid})` }));
  const named = new Set(reasons.map((r) => r.service));
  const { error: _error, ...rest } = outcome;
  return { ...rest, verdict: 'fail', unhealthy: [...reasons, ...outcome.unhealthy.filter((u) => !named.has(u.service))], hungInits: hung };
}

export interface SessionOptions {
  readonly model: StackModel;
  /** Absolute path of the stack's spec folder. */
  readonly stackDir: string;
  /** Absolute path of generated/<stack>/ (its secrets/ is used). */
  readonly outStackDir: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Compose health checks every this many seconds instead of the spec's interval (faster runs). */
  readonly healthIntervalSeconds?: number;
  readonly say?: (line: string) => void;
  /** Host ports other sessions of this process use (lanes): never picked for this one. */
  readonly avoidPorts?: Iterable<number>;
}

/** Functional interactions in spec order: the oracle. */
export function functionalInteractions(model: StackModel): InteractionModel[] {
  return specInteractions(model).filter((it) => it.purpose === 'functional');
}

/** Pure: the service and every service that depends on it (transitively), in model order. */
export function withDependents(model: StackModel, service: string): string[] {
  const out = new Set([service]);
  for (let grew = true; grew;) {
    grew = false;
    for (const s of model.services) {
      if (!out.has(s.name) && s.dependsOn.some((d) => out.has(d))) { out.add(s.name); grew = true; }
    }
  }
  return model.services.map((s) => s.name).filter((n) => out.has(n));
}

/** Pure: the services that did not come up and that the candidate of `service` cannot have kept down (neither it nor a dependent). */
export function unhealthyElsewhere<U extends { readonly service: string }>(model: StackModel, service: string, unhealthy: readonly U[]): U[] {
  const blamed = new Set(withDependents(model, service));
  return unhealthy.filter((u) => !blamed.has(u.service));
}

/**
 * Pure: the services that a functional persistence check recreates (a new container, so a new
 * address) with the rest of the stack up, and then reads back through every service that depends
 * on them (an http or browser read whose entry reaches them through their dependents). Every run
 * that passes the oracle then shows that those dependents survive a recreation.
 */
export function recreatedByOracle(model: StackModel): Set<string> {
  const out = new Set<string>();
  for (const it of functionalInteractions(model)) {
    if (it.check.kind !== 'persistence' || !it.check.service) continue;
    const through = new Set(servicesConcerned(it.check.read, model));
    if (withDependents(model, it.check.service).every((d) => through.has(d))) out.add(it.check.service);
  }
  return out;
}

/**
 * Pure: what a run restarts besides a fresh start, in model order:
 * - the service under test and what depends on it (a dependent may hold its address: nginx
 *   resolves php's once);
 * - every service with a named volume, recreated with a fresh volume so each run sees the data
 *   the interactions expect (entries written by earlier runs would otherwise pile up: the
 *   guestbook's page then no longer shows its seeded entry), and what depends on it.
 * A service that the oracle itself recreates with its dependents up (recreatedByOracle) restarts
 * alone: each passing run shows again that they survive it, and restarting them would cost their
 * start-up in every run. It gets a fresh volume, where the persistence check keeps its volume:
 * this assumes that the dependents also cope with a new, empty one, as the guestbook's do (the
 * database seeds itself; an engine test shows it). A stack whose dependents set up the data at
 * their own start needs --restart stack.
 */
export function servicesToRestart(model: StackModel, service: string): string[] {
  const alone = recreatedByOracle(model);
  const withItsDependents = (name: string) => (alone.has(name) ? [name] : withDependents(model, name));
  const out = new Set(withItsDependents(service));
  for (const s of model.services) if (s.volumes.some((v) => v.type === 'volume')) for (const n of withItsDependents(s.name)) out.add(n);
  return model.services.map((s) => s.name).filter((n) => out.has(n));
}

/**
 * Pure: the run's compose override: run labels on every service, network and volume (for
 * cleanup of killed runs, as the verifier does), and a short health-check interval so a
 * service is seen healthy within a second or two instead of one spec interval; with `runtime`,
 * every service runs under that OCI runtime (the strace recorder's).
 */
export function minimizeOverride(model: StackModel, labels: Record<string, string>, healthIntervalSeconds: number, runtime?: string): string {
  const doc: Record<string, YamlValue> = {
    services: Object.fromEntries(model.services.map((s) => [s.name, {
      labels,
      ...(s.healthcheck ? { healthcheck: { interval: `${healthIntervalSeconds}s` } } : {}),
      ...(runtime ? { runtime } : {}),
    }])),
  };
  const networks: Record<string, YamlValue> = Object.fromEntries(model.networks.map((n) => [n.name, n.internal ? { internal: true, labels } : { labels }]));
  if (model.services.some((s) => s.networks.length === 0)) networks.default = { labels };
  if (Object.keys(networks).length) doc.networks = networks;
  if (model.volumes.length) doc.volumes = Object.fromEntries(model.volumes.map((v) => [v.name, { labels }]));
  return `# hardspec minimize: labels and health-check interval for run ${labels[LABEL.run]} only. Temporary.\n${toYaml(doc)}`;
}

/** What open() finds once and every lane of one minimisation shares. */
interface SessionEngine {
  readonly docker: Docker;
  /** The engine runs on this host (its /proc is ours). */
  readonly local: boolean;
  readonly facts: EngineFacts;
  readonly variant: ComposeVariant;
  readonly secrets: Awaited<ReturnType<typeof ensureSecrets>>;
}

export class StackSession {
  /** The stack was started and the last run left it healthy enough to restart one service. */
  private up = false;
  /** The project has (or may have) containers, networks or volumes: a fresh start tears down first. */
  private created = false;
  private readonly browser = new BrowserPool();
  private runs = 0;
  /** Kills `runc init` processes a candidate wedged (engine on this host only). */
  private readonly watchdog: RuncWatchdog | undefined;

  private constructor(
    private readonly o: SessionOptions,
    /** What every lane of one minimisation shares: the engine, compose and the secrets. */
    private readonly engine: SessionEngine,
    /** The stack as this session runs it: published ports (and the URLs to them) moved. */
    readonly model: StackModel,
    readonly ports: ReadonlyMap<number, number>,
    readonly dir: string,
    readonly runId: string,
    readonly project: string,
    private readonly stackRun: StackRun,
    private readonly scrubber: Scrubber,
    /** The run labels of every container, network and volume (override.yaml). */
    private readonly labels: Record<string, string>,
  ) {
    this.watchdog = engine.local && existsSync('/proc/self/cgroup')
      ? new RuncWatchdog({ limitMs: RUNC_INIT_LIMIT_MS, intervalMs: RUNC_WATCH_INTERVAL_MS, serviceOf: (id) => serviceFromConfig(engine.facts.rootDir, id, project) })
      : undefined;
    this.watchdog?.start();
  }

  /** Connects to the engine, prepares secrets and the temporary generated folder. Starts nothing. */
  static async open(o: SessionOptions): Promise<StackSession> {
    const { docker, address } = await connectDocker(o.env);
    const facts = await engineFacts(docker);
    const variant = await detectCompose(o.env);
    if (!variant) throw new EnvironmentError('no compose command: neither "docker compose" (v2) nor "docker-compose" answers; install one (Debian: apt-get install docker-compose)');
    const secrets = await ensureSecrets(o.model, o.outStackDir);
    return StackSession.create(o, { docker, local: address.local, facts, variant, secrets });
  }

  /**
   * Another copy of the stack on the same engine (a lane of --parallel): its own project, ports
   * (none of `avoidPorts`), folder and volumes; the engine, compose and secrets found by open().
   */
  openLane(avoidPorts: Iterable<number>): Promise<StackSession> {
    return StackSession.create({ ...this.o, avoidPorts }, this.engine);
  }

  private static async create(o: SessionOptions, engine: SessionEngine): Promise<StackSession> {
    const { docker, variant, secrets } = engine;
    const ports = await findFreePorts(o.model, Math.random, o.avoidPorts ?? []);
    const model = remapPorts(o.model, ports);
    const runId = randomBytes(4).toString('hex');
    const project = `hardspec-min-${o.model.name}-${runId}`;
    const dir = await mkdtemp(path.join(os.tmpdir(), `hardspec-minimize-${runId}-`));
    await chmod(dir, 0o700);
    if (secrets.files.length) {
      await mkdir(path.join(dir, 'secrets'), { recursive: true, mode: 0o700 });
      for (const f of secrets.files) {
        const to = path.join(dir, 'secrets', f.name);
        await copyFile(f.path, to);
        await chmod(to, 0o444);
      }
    }
    const labels = runLabelMap({ runId, stack: o.model.name, pid: process.pid, ...(pidStartTime(process.pid) ? { pidStart: pidStartTime(process.pid)! } : {}) });
    const stackRun = new StackRun({
      docker, variant, project: { name: project, files: ['compose.yaml', 'override.yaml'] }, runId, cwd: dir, env: o.env, model,
    });
    const session = new StackSession(o, engine, model, ports, dir, runId, project, stackRun, new Scrubber(secrets.values), labels);
    await session.useRuntime(undefined);
    return session;
  }

  /**
   * Runs every service under the engine's runtime `runtime` from the next start on (undefined:
   * the engine's default again). The next run starts the whole stack fresh.
   */
  async useRuntime(runtime: string | undefined): Promise<void> {
    this.up = false;
    await writeFile(path.join(this.dir, 'override.yaml'), minimizeOverride(this.model, this.labels, this.o.healthIntervalSeconds ?? 1, runtime), { mode: 0o600 });
  }

  get docker(): Docker { return this.engine.docker; }
  /** The engine runs on this host. */
  get local(): boolean { return this.engine.local; }
  get facts(): EngineFacts { return this.engine.facts; }
  get variant(): ComposeVariant { return this.engine.variant; }

  get runCount(): number { return this.runs; }

  /** The path from this session's generated folder to the stack folder (for the compiler's build contexts). */
  get specDirFromOut(): string {
    return path.relative(this.dir, this.o.stackDir).split(path.sep).join('/');
  }

  /** Writes the artifacts a run needs (compose.yaml and seccomp/*.json) into the temporary folder. */
  async writeArtifacts(artifacts: readonly Artifact[]): Promise<void> {
    for (const a of artifacts) {
      if (a.path !== 'compose.yaml' && !a.path.startsWith('seccomp/')) continue;
      const to = path.join(this.dir, a.path);
      await mkdir(path.dirname(to), { recursive: true });
      await writeFile(to, a.content, { mode: 0o644 });
    }
  }

  /**
   * One run: the candidate's artifacts, then the whole stack (first run, or after an error) or
   * only what servicesToRestart names recreated, then the functional interactions.
   * `beforeStart` runs just before containers are created (the recorder starts there).
   */
  async runCandidate(artifacts: readonly Artifact[], service: string, signal: AbortSignal, hooks: { beforeStart?: () => Promise<void>; forceStack?: boolean } = {}): Promise<RunOutcome> {
    // A kill between runs (a health check's exec in the last one): nobody's verdict, but what it
    // left behind is not known, so this run starts from a clean stack.
    const between = (await this.watchdog?.take()) ?? [];
    if (between.length) {
      this.up = false;
      this.o.say?.(`killed a hung runc init between runs (${between.map((h) => h.service).join(', ')}); starting the stack again`);
    }
    try {
      const outcome = await this.runCandidateOnce(artifacts, service, signal, hooks);
      const hung = (await this.watchdog?.take()) ?? [];
      if (!hung.length) return outcome;
      this.up = false; // what the kill left behind is not known: start from clean
      // Only the service under test runs the candidate's filter: a hang elsewhere is no verdict.
      const others = hung.filter((h) => h.service !== service);
      if (others.length && others.length === hung.length) {
        return this.errorOutcome(outcome.scope, outcome.restarted, Date.now() - outcome.durationMs, `runc init of ${[...new Set(others.map((h) => h.service))].join(', ')} (not the service under test) hung and was killed`);
      }
      return withHungInits(outcome, hung.filter((h) => h.service === service));
    } catch (e) {
      // The engine stayed wedged although the watchdog killed what hung: say so with the error.
      const hung = (await this.watchdog?.take()) ?? [];
      if (hung.length && e instanceof Error) e.message += ` (hardspec had killed a hung runc init of ${hung.map((h) => h.service).join(', ')})`;
      throw e;
    }
  }

  private async runCandidateOnce(artifacts: readonly Artifact[], service: string, signal: AbortSignal, hooks: { beforeStart?: () => Promise<void>; forceStack?: boolean }): Promise<RunOutcome> {
    this.runs++;
    const started = Date.now();
    const model = this.model;
    try {
      await this.writeArtifacts(artifacts);
      let states: ServiceState[];
      let restarted: string[];
      // Only what the run needs is restarted when the rest of the stack is up and healthy;
      // otherwise the whole stack starts from clean.
      const needed = servicesToRestart(model, service);
      const others = model.services.filter((s) => !needed.includes(s.name));
      const othersHealthy = this.up && !hooks.forceStack
        && (await Promise.all(others.map((s) => this.stackRun.state(s, 0)))).every((st) => st.ok);
      const scope: RunOutcome['scope'] = othersHealthy ? 'service' : 'stack';
      if (scope === 'stack') {
        if (this.created) await this.stackRun.teardown();
        this.up = false;
        this.created = true;
        await hooks.beforeStart?.();
        const up = await this.stackRun.up(signal);
        this.up = true;
        states = up.states;
        restarted = model.services.map((s) => s.name);
        if (!up.ok && (states.every((s) => s.ok) || ENGINE_TROUBLE.test(up.composeOutput))) return this.errorOutcome(scope, restarted, started, `compose up failed: ${lastLines(up.composeOutput, 5)}`);
      } else {
        restarted = needed;
        await this.removeServices(restarted);
        await hooks.beforeStart?.();
        const r = await this.stackRun.compose(['up', '-d', '--no-build', '--no-deps', ...restarted], { timeoutMs: 180_000, signal });
        if (r.code !== 0 && (ENGINE_TROUBLE.test(r.stderr) || !RUNTIME_START_FAILURE.test(r.stderr))) return this.errorOutcome(scope, restarted, started, `compose up ${restarted.join(' ')} exited ${r.code}: ${lastLines(r.stderr, 5)}`);
        const models = restarted.map((n) => model.services.find((s) => s.name === n)!);
        // A container compose created but could not start (its process died while runc started
        // it) never gets a health status: a failure now, not at the end of the health budget.
        const now = await Promise.all(models.map((m) => this.stackRun.state(m, 0)));
        const neverStarted = now.filter((st) => st.status === 'created' || st.status === 'missing');
        states = neverStarted.length
          ? now.map((st) => (neverStarted.includes(st) ? { ...st, ok: false, reason: `the container was not started (${st.status}): ${lastLines(r.stderr, 2) || 'no output'}` } : st))
          : (await Promise.all(models.map((m) => this.stackRun.waitHealthy([m], healthBudget(m), signal)))).flat();
      }
      const startMs = Date.now() - started;
      const unhealthy = states.filter((s) => !s.ok).map((s) => ({ service: s.service, reason: s.reason ?? 'not healthy' }));
      if (unhealthy.length) {
        // Only the service under test runs the candidate: a service that neither is it nor
        // depends on it and did not come up says nothing about the candidate (a slow start on a
        // loaded machine): an oracle error, retried, not a "needed" verdict.
        const elsewhere = unhealthyElsewhere(model, service, unhealthy);
        if (elsewhere.length) return this.errorOutcome(scope, restarted, started, `${elsewhere.map((u) => `${u.service}: ${u.reason}`).join('; ')} (neither the service under test nor a service that depends on it)`);
        return { verdict: 'fail', scope, restarted, durationMs: Date.now() - started, failed: [], unhealthy, startMs };
      }
      const results = await this.runInteractions(signal, started);
      const failed = results.filter((r) => r.status === 'failed').map((r) => ({ id: r.id, problem: this.scrubber.scrub(r.problems?.[0] ?? 'failed') }));
      const interactionMs = Object.fromEntries(results.map((r) => [r.id, r.durationMs]));
      return { verdict: failed.length ? 'fail' : 'pass', scope, restarted, durationMs: Date.now() - started, failed, unhealthy: [], startMs, interactionMs };
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      // A wedged engine (an API call past its time limit) is no oracle error to retry: stop.
      if (e instanceof EnvironmentError) throw e;
      return this.errorOutcome('stack', [], started, (e as Error).message);
    }
  }

  private errorOutcome(scope: RunOutcome['scope'], restarted: readonly string[], started: number, error: string): RunOutcome {
    // The next run starts the whole stack again from clean.
    this.up = false;
    return { verdict: 'error', scope, restarted, durationMs: Date.now() - started, failed: [], unhealthy: [], error: this.scrubber.scrub(error) };
  }

  /** Removes the services' containers and the named volumes only they mount (fresh state). */
  private async removeServices(services: readonly string[]): Promise<void> {
    // Killed, not stopped: their state is thrown away, and a graceful stop (nginx's SIGQUIT waits
    // for keep-alive connections) would cost up to the 10 s stop time-out per run.
    const kill = await this.stackRun.compose(['kill', ...services], { timeoutMs: 60_000 });
    const rm = await this.stackRun.compose(['rm', '-f', ...services], { timeoutMs: 120_000 });
    if (rm.code !== 0) throw new Error(`compose rm ${services.join(' ')} exited ${rm.code}: ${lastLines(rm.stderr || kill.stderr, 5)}`);
    const model = this.model;
    const kept = model.services.filter((s) => !services.includes(s.name));
    const volumes = new Set(model.services.filter((s) => services.includes(s.name)).flatMap((s) => s.volumes.filter((v) => v.type === 'volume').map((v) => v.source)));
    for (const k of kept) for (const v of k.volumes) volumes.delete(v.source);
    for (const v of volumes) {
      await removeLabelled(this.docker, [`${COMPOSE_PROJECT_LABEL}=${this.project}`, `com.docker.compose.volume=${v}`]);
    }
  }

  /**
   * The oracle. Its `log` checks read only what was written since the run started (`since`): a
   * container kept from an earlier run (php and web in a db search) holds what that run's
   * candidate made it log, and would otherwise fail every later run.
   */
  private async runInteractions(signal: AbortSignal, since: number): Promise<InteractionResult[]> {
    const model = this.model;
    const engine = new DockerVerifierEngine(this.docker, this.stackRun, model, this.runId, {
      selinuxfs: existsSync('/sys/fs/selinux'),
      engineSelinux: this.facts.securityOptions.some((x) => /selinux/.test(x)),
      engineSecurityOptions: this.facts.securityOptions,
      arch: nodeArch(this.facts.arch),
      localProc: this.engine.local,
    });
    const evidenceDir = path.join(this.dir, 'evidence');
    const runToken = `${this.runId}r${this.runs}`;
    // The verdict needs no log tails: one read, no waiting for the logs to settle.
    const rc = { engine, model, runToken, stackDir: this.o.stackDir, evidenceDir, scrubber: this.scrubber, browser: this.browser, signal, logSettle: { quietMs: 0, maxMs: 0 }, logsSinceMs: since };
    const out: InteractionResult[] = [];
    for (const it of functionalInteractions(model)) {
      const r = await runInteraction(it, rc);
      out.push(r);
      if (r.status === 'failed') break; // one failure decides the verdict: save the rest of the run
    }
    return out;
  }

  /** `compose down -v` of another project of this stack (leftovers of a killed run). */
  downProject(project: string): Promise<RunResult> {
    return runCommand(composeCommand(this.variant, { name: project, files: ['compose.yaml'] }, composeArgs.down()), { cwd: this.dir, env: this.o.env, timeoutMs: 120_000 });
  }

  /** Stops every service gracefully (compose stop), so a recording also sees the shut-down. */
  async stopAll(): Promise<void> {
    this.up = false;
    await this.stackRun.compose(['stop', '-t', '10'], { timeoutMs: 120_000 });
  }

  /** The container ids of every service, now (for attributing a recording). */
  async containers(): Promise<Map<string, string>> {
    const list = await this.docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${COMPOSE_PROJECT_LABEL}=${this.project}`] }) });
    return new Map(list.map((c) => [c.Id, c.Labels['com.docker.compose.service'] ?? '']));
  }

  /** Tears the stack down and removes the temporary folder. Never throws. */
  async close(): Promise<{ remaining: number; problems: string[] }> {
    await this.browser.close();
    const t = await this.stackRun.teardown();
    await this.watchdog?.stop();
    this.up = false;
    this.created = false;
    await rm(this.dir, { recursive: true, force: true });
    return { remaining: t.remaining, problems: t.problems };
  }
}

function healthBudget(s: ServiceModel): number {
  // With the short interval of the override: the start period, then a few tries of the check.
  const h = s.healthcheck;
  if (!h) return 15_000;
  return parseDuration(h.startPeriod ?? '0s') + 5 * (1000 + parseDuration(h.timeout ?? '30s')) + 15_000;
}
