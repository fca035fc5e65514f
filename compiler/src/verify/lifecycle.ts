/**
 * A run's stack on the engine: leftovers of killed runs cleaned first, host ports checked free,
 * `compose up` under a unique project, waiting until every service is healthy (failing early on a
 * crash loop), recreating one service, and the teardown that always runs: `down -v
 * --remove-orphans`, then anything still labelled with the run id or project is removed.
 */
import type Docker from 'dockerode';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import type { ServiceModel, StackModel } from '../model/types.ts';
import { parseDuration } from '../model/build.ts';
import { composeArgs, composeCommand, runCommand, type ComposeProject, type ComposeVariant, type RunResult } from './compose-cli.ts';
import { containerLogTail, countResources, engineCall, EnvironmentError, listLabelled, removeLabelled } from './docker.ts';
import { LABEL } from './override.ts';
import { lastLines } from './streams.ts';

export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';
export const COMPOSE_SERVICE_LABEL = 'com.docker.compose.service';
export const COMPOSE_NETWORK_LABEL = 'com.docker.compose.network';

// ── Processes ─────────────────────────────────────────────────────────────────────────────────

/** Pure: field 22 of a /proc/<pid>/stat text (start time in clock ticks since boot). */
export function statStartTime(stat: string): string | undefined {
  // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or undefined. */
export function pidStartTime(pid: number): string | undefined {
  try {
    return statStartTime(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Whether the verifier process named by a run's labels still exists (and is the same process). */
export function runOwnerAlive(labels: Readonly<Record<string, string>>): boolean {
  const pid = Number(labels[LABEL.pid]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const start = labels[LABEL.pidStart];
  return start === undefined || pidStartTime(pid) === undefined || pidStartTime(pid) === start;
}

// ── Preflight ─────────────────────────────────────────────────────────────────────────────────

export interface LeftoverReport {
  readonly runId: string;
  readonly project: string;
  readonly pid: string;
  readonly containers: number;
  readonly networks: number;
  readonly volumes: number;
  readonly failed: readonly string[];
}

/**
 * Removes containers, networks and volumes labelled io.hardspec.stack=<stack> whose verifier
 * process is gone (a killed run): `compose down -v` for their project, then whatever still
 * carries the run's label. Runs whose verifier is alive are left alone.
 */
export async function removeLeftovers(docker: Docker, stack: string, down: (project: string) => Promise<unknown>): Promise<LeftoverReport[]> {
  const found = await listLabelled(docker, [`${LABEL.stack}=${stack}`]);
  const runs = new Map<string, { labels: Record<string, string>; project: string }>();
  for (const r of [...found.containers, ...found.networks, ...found.volumes]) {
    const id = r.labels[LABEL.run];
    if (id && !runs.has(id)) runs.set(id, { labels: r.labels, project: r.labels[COMPOSE_PROJECT_LABEL] ?? '' });
  }
  const reports: LeftoverReport[] = [];
  for (const [runId, { labels, project }] of [...runs].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (runOwnerAlive(labels)) continue;
    const mine = await listLabelled(docker, [`${LABEL.run}=${runId}`]);
    if (project) await down(project).catch(() => undefined);
    const a = await removeLabelled(docker, [`${LABEL.run}=${runId}`]);
    const b = project ? await removeLabelled(docker, [`${COMPOSE_PROJECT_LABEL}=${project}`]) : { failed: [] };
    reports.push({
      runId, project, pid: labels[LABEL.pid] ?? '?',
      containers: mine.containers.length, networks: mine.networks.length, volumes: mine.volumes.length,
      failed: [...a.failed, ...b.failed],
    });
  }
  return reports;
}

/** Pure: the host addresses and ports the stack publishes, unique, sorted. */
export function publishedHostPorts(stack: StackModel): { hostIp: string; port: number; protocol: 'tcp' | 'udp'; service: string }[] {
  const seen = new Map<string, { hostIp: string; port: number; protocol: 'tcp' | 'udp'; service: string }>();
  for (const s of stack.services) for (const p of s.ports) seen.set(`${p.hostIp}:${p.host}/${p.protocol}`, { hostIp: p.hostIp, port: p.host, protocol: p.protocol, service: s.name });
  return [...seen.values()].sort((a, b) => a.port - b.port || (a.hostIp < b.hostIp ? -1 : 1));
}

/** Tries to listen on every published TCP port; an EnvironmentError names the first one taken. */
export async function checkPortsFree(stack: StackModel): Promise<void> {
  for (const p of publishedHostPorts(stack)) {
    if (p.protocol !== 'tcp') continue;
    const problem = await new Promise<string | undefined>((resolve) => {
      const server = net.createServer();
      server.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      server.listen({ host: p.hostIp, port: p.port, exclusive: true }, () => server.close(() => resolve(undefined)));
    });
    if (problem) {
      const what = problem === 'EADDRINUSE' ? 'is already in use' : `cannot be bound (${problem})`;
      throw new EnvironmentError(`port ${p.hostIp}:${p.port} (published by ${p.service}) ${what}; stop whatever listens there (e.g. ss -ltnp 'sport = :${p.port}') and verify again`);
    }
  }
}

// ── The running stack ─────────────────────────────────────────────────────────────────────────

export interface ServiceState {
  readonly service: string;
  readonly ok: boolean;
  readonly container?: string;
  /** Docker's State.Status (running, exited, restarting…) or "missing". */
  readonly status: string;
  /** State.Health.Status, when the service has a healthcheck. */
  readonly health?: string;
  readonly restartCount: number;
  readonly exitCode?: number;
  readonly waitedMs: number;
  /** Still starting: neither ready nor failed. */
  readonly pending?: boolean;
  readonly reason?: string;
}

/** Failed for good: exited, crash-looping or unhealthy (not merely still starting, nor not yet created). */
export function isBroken(s: ServiceState): boolean {
  return !s.ok && !s.pending && s.status !== 'missing';
}

/** Upper bound for a service to turn healthy or unhealthy: start period + (interval + timeout) × (retries + 1). */
export function healthBudgetMs(s: ServiceModel): number {
  const h = s.healthcheck;
  if (!h) return 10_000;
  // Docker's defaults: interval 30s, timeout 30s, retries 3, start period 0.
  const interval = parseDuration(h.interval ?? '30s');
  const timeout = parseDuration(h.timeout ?? '30s');
  return parseDuration(h.startPeriod ?? '0s') + (interval + timeout) * ((h.retries ?? 3) + 1);
}

export interface StackRunOptions {
  readonly docker: Docker;
  readonly variant: ComposeVariant;
  readonly project: ComposeProject;
  readonly runId: string;
  /** generated/<stack>/: compose runs here. */
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly model: StackModel;
}

const POLL_MS = 500;

/** How long `up` lets compose finish on its own after a service broke (for its error message). */
const COMPOSE_GRACE_MS = 10_000;

export class StackRun {
  constructor(private readonly o: StackRunOptions) {}

  get project(): string { return this.o.project.name; }

  compose(sub: readonly string[], extra: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<RunResult> {
    return runCommand(composeCommand(this.o.variant, this.o.project, sub), { cwd: this.o.cwd, env: this.o.env, ...extra });
  }

  /** The service's current container id (running preferred), or undefined. */
  async containerOf(service: string): Promise<string | undefined> {
    const list = await engineCall(`the container list of ${service}`, this.o.docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${COMPOSE_PROJECT_LABEL}=${this.project}`, `${COMPOSE_SERVICE_LABEL}=${service}`] }) }));
    const running = list.find((c) => c.State === 'running');
    return (running ?? list[0])?.Id;
  }

  async state(service: ServiceModel, waitedMs: number): Promise<ServiceState> {
    const id = await this.containerOf(service.name);
    if (!id) return { service: service.name, ok: false, status: 'missing', restartCount: 0, waitedMs, reason: 'compose did not create its container' };
    let info;
    try {
      info = await engineCall(`docker inspect of ${service.name}'s container`, this.o.docker.getContainer(id).inspect());
    } catch (e) {
      // Listed a moment ago, gone now: compose replaced or removed it meanwhile.
      if ((e as { statusCode?: number }).statusCode === 404) return { service: service.name, ok: false, status: 'missing', restartCount: 0, waitedMs, reason: 'its container vanished while starting' };
      throw e;
    }
    const st = info.State;
    const health = st.Health?.Status;
    const base = { service: service.name, container: id, status: st.Status, restartCount: info.RestartCount ?? 0, waitedMs, ...(health ? { health } : {}) };
    if (st.Status === 'exited' || st.Status === 'dead') return { ...base, ok: false, exitCode: st.ExitCode, reason: `the container exited with code ${st.ExitCode}` };
    if ((info.RestartCount ?? 0) > 0 || st.Status === 'restarting') return { ...base, ok: false, reason: `the container crashed and was restarted (${info.RestartCount} restart(s) so far)` };
    if (health === 'unhealthy') return { ...base, ok: false, reason: `the healthcheck failed: ${lastLines((st.Health?.Log ?? []).map((l) => l.Output.trim()).filter(Boolean).join('\n'), 3) || 'no output'}` };
    if (service.healthcheck ? health === 'healthy' : st.Status === 'running') return { ...base, ok: true };
    return { ...base, ok: false, pending: true, reason: service.healthcheck ? `not healthy yet (${health ?? 'no health status'})` : `not running yet (${st.Status})` };
  }

  /**
   * `compose up -d`, watching the containers meanwhile: a crash loop or an unhealthy service
   * stops the wait at once instead of at the time limit. Then waits until every service is
   * healthy (or running, without a healthcheck). Never throws for a service that fails: its
   * state says why. Each state's waitedMs is when that service was first seen ready.
   */
  async up(signal: AbortSignal): Promise<{ ok: boolean; states: ServiceState[]; composeOutput: string; durationMs: number }> {
    const started = Date.now();
    const budget = this.o.model.services.reduce((n, s) => n + healthBudgetMs(s), 60_000);
    const stopCompose = new AbortController();
    const onAbort = () => stopCompose.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const upRun = this.compose(composeArgs.up(), { timeoutMs: budget, signal: stopCompose.signal });
    let upResult: RunResult | undefined;
    void upRun.then((r) => { upResult = r; });
    const readyAt = new Map<string, number>();
    let states: ServiceState[] = [];
    try {
      for (;;) {
        if (signal.aborted) throw signal.reason;
        const waited = Date.now() - started;
        states = await Promise.all(this.o.model.services.map((s) => this.state(s, waited)));
        for (const st of states) if (st.ok && !readyAt.has(st.service)) readyAt.set(st.service, waited);
        const done = upResult as RunResult | undefined;
        if (done?.code === 0 && states.every((x) => x.ok)) break;
        if (states.some(isBroken)) break; // crashed or unhealthy: waiting longer changes nothing
        if (done && done.code !== 0) break; // compose gave up (e.g. a dependency never became healthy)
        if (waited > budget) break;
        await sleep(POLL_MS, signal);
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (!upResult && !signal.aborted) {
        // A service broke before compose said so: compose usually stops within seconds with the
        // reason ("ERROR: for web … is unhealthy"), which the report needs. Then it is stopped.
        await Promise.race([upRun, new Promise((resolve) => setTimeout(resolve, COMPOSE_GRACE_MS))]);
      }
      if (!upResult) stopCompose.abort();
    }
    const r = await upRun;
    const durationMs = Date.now() - started;
    // Why compose stopped, for services it left missing or unstarted (e.g. "port is already allocated").
    const lines = r.stderr.split('\n').map((l) => l.trim()).filter(Boolean);
    const composeError = r.code === 0 ? undefined : (lines.filter((l) => /^ERROR\b/.test(l)).pop() ?? lines.pop() ?? `exit ${r.code}`).replace(/\s+/g, ' ');
    const final = states.map((st) => {
      let reason = st.reason;
      if (st.pending && durationMs > budget) reason = `${reason}; gave up after ${Math.round(budget / 1000)} s`;
      if (!st.ok && composeError && (st.pending || st.status === 'missing')) reason = `${reason}; compose up failed: ${composeError}`;
      return { ...st, waitedMs: readyAt.get(st.service) ?? durationMs, ...(reason ? { reason } : {}) };
    });
    return { ok: r.code === 0 && final.every((x) => x.ok), states: final, composeOutput: lastLines(r.stdout + r.stderr, 40), durationMs };
  }

  /** Waits until the given services are healthy (or one fails), at most timeoutMs. */
  async waitHealthy(services: readonly ServiceModel[], timeoutMs: number, signal?: AbortSignal): Promise<ServiceState[]> {
    const started = Date.now();
    for (;;) {
      const waited = Date.now() - started;
      const states = await Promise.all(services.map((s) => this.state(s, waited)));
      if (states.every((x) => x.ok) || states.some(isBroken)) return states;
      if (waited > timeoutMs) return states.map((x) => (x.ok ? x : { ...x, reason: `${x.reason ?? 'not ready'}; gave up after ${Math.round(timeoutMs / 1000)} s` }));
      await sleep(POLL_MS, signal);
    }
  }

  async logTail(service: string, lines = 40): Promise<string> {
    const id = await this.containerOf(service);
    return id ? containerLogTail(this.o.docker, id, lines).catch((e: Error) => `(log unavailable: ${e.message})`) : '';
  }

  /**
   * Stops everything of this run and removes it: `compose down -v --remove-orphans`, then any
   * container, network or volume still labelled with the run id or the project. Never throws;
   * returns what is left (should be nothing) and problems met on the way.
   */
  async teardown(): Promise<{ remaining: number; problems: string[]; durationMs: number }> {
    const started = Date.now();
    const problems: string[] = [];
    const down = await this.compose(composeArgs.down(), { timeoutMs: 120_000 });
    if (down.code !== 0) problems.push(`compose down exited ${down.code}: ${lastLines(down.stderr, 5)}`);
    for (const label of [`${LABEL.run}=${this.o.runId}`, `${COMPOSE_PROJECT_LABEL}=${this.project}`]) {
      try {
        problems.push(...(await removeLabelled(this.o.docker, [label])).failed);
      } catch (e) {
        problems.push(`removing resources labelled ${label}: ${(e as Error).message}`);
      }
    }
    let remaining = 0;
    try {
      remaining = countResources(await listLabelled(this.o.docker, [`${LABEL.run}=${this.o.runId}`])) + countResources(await listLabelled(this.o.docker, [`${COMPOSE_PROJECT_LABEL}=${this.project}`]));
    } catch (e) {
      problems.push(`listing what is left: ${(e as Error).message}`);
    }
    return { remaining, problems, durationMs: Date.now() - started };
  }
}

/** Resolves after ms; rejects at once with the signal's reason when it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(signal.reason); return; }
    const onAbort = () => { clearTimeout(timer); reject(signal?.reason); };
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

// ── Signals ───────────────────────────────────────────────────────────────────────────────────

export class Interrupted extends Error {
  constructor(readonly signalName: NodeJS.Signals) {
    super(`interrupted by ${signalName}`);
  }

  get exitCode(): number {
    return this.signalName === 'SIGINT' ? 130 : this.signalName === 'SIGTERM' ? 143 : 129;
  }
}

export interface SignalSource {
  on(event: NodeJS.Signals, listener: (s: NodeJS.Signals) => void): unknown;
  off(event: NodeJS.Signals, listener: (s: NodeJS.Signals) => void): unknown;
}

/**
 * While installed, SIGINT/SIGTERM/SIGHUP abort `controller` with an Interrupted reason instead of
 * killing the process, so the run unwinds through its teardown. Returns the uninstaller.
 */
export function trapSignals(source: SignalSource, controller: AbortController, say: (line: string) => void, leave: (code: number) => void = (code) => process.exit(code)): () => void {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  let count = 0;
  const handler = (s: NodeJS.Signals) => {
    count++;
    if (count === 2) { say(`${s} again: still tearing down (a wedged engine can take minutes); a third signal leaves at once`); return; }
    if (count >= 3) {
      // Without waiting on the engine: what is left carries hardspec's labels, and the next run
      // of verify or minimize removes it (removeLeftovers), or `docker rm -f` by label does.
      say(`${s} a third time: leaving now, without waiting for the tear-down; the next hardspec run removes what is left (containers, networks and volumes labelled io.hardspec.run)`);
      leave(s === 'SIGTERM' ? 143 : s === 'SIGHUP' ? 129 : 130);
      return;
    }
    say(`${s}: stopping and tearing the stack down`);
    controller.abort(new Interrupted(s));
  };
  for (const s of signals) source.on(s, handler);
  return () => { for (const s of signals) source.off(s, handler); };
}
