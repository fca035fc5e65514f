/**
 * The record run: bpftrace started before any container of the run is created, the whole stack
 * started and the functional interactions run once, then the trace attributed to services.
 */
import type Docker from 'dockerode';
import syscallTables from '../../emit/seccomp/syscall-tables.json' with { type: 'json' };
import { CAPABILITIES } from '../../model/capabilities.ts';
import type { StackModel } from '../../model/types.ts';
import { COMPOSE_PROJECT_LABEL, COMPOSE_SERVICE_LABEL } from '../../verify/lifecycle.ts';
import { PROBE_MOUNT_PATH } from '../../verify/probe.ts';
import type { Artifact } from '../../emit/artifact.ts';
import type { RunOutcome, StackSession } from '../stack-session.ts';
import { startRecording, STRACE_RUNTIME, type Recording, type RecorderKind } from './recorder.ts';
import { attributeTrace, type ServiceRecording } from './trace.ts';

const NAMES_BY_ARCH: Record<string, ReadonlyMap<number, string>> = {
  x64: new Map(Object.entries(syscallTables.x86_64).map(([n, nr]) => [nr as number, n])),
  arm64: new Map(Object.entries(syscallTables.aarch64).map(([n, nr]) => [nr as number, n])),
};

/** Syscall number → name on the host's architecture (the engine is local when recording). */
export function syscallNamer(arch: string = process.arch): (nr: number) => string | undefined {
  const table = NAMES_BY_ARCH[arch];
  if (!table) throw new Error(`no syscall table for the architecture ${arch}`);
  return (nr) => table.get(nr);
}

/** Follows container creation in the project (docker events), so removed containers stay known. */
export class ContainerWatch {
  private readonly seen = new Map<string, string>();
  private stream: NodeJS.ReadableStream & { destroy?: () => void } | undefined;

  constructor(private readonly docker: Docker, private readonly project: string) {}

  async start(): Promise<void> {
    const filters = { type: ['container'], event: ['create'], label: [`${COMPOSE_PROJECT_LABEL}=${this.project}`] };
    this.stream = (await this.docker.getEvents({ filters } as never)) as unknown as NodeJS.ReadableStream & { destroy?: () => void };
    let buffer = '';
    this.stream.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (!line) continue;
        try {
          const ev = JSON.parse(line) as { Actor?: { ID?: string; Attributes?: Record<string, string> } };
          const id = ev.Actor?.ID;
          const service = ev.Actor?.Attributes?.[COMPOSE_SERVICE_LABEL];
          if (id && service) this.seen.set(id, service);
        } catch { /* a partial line; the next chunk completes it */ }
      }
    });
    this.stream.on('error', () => undefined);
  }

  /** Containers seen, plus those listed now (in case an event was missed). */
  async containers(): Promise<Map<string, string>> {
    const list = await this.docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${COMPOSE_PROJECT_LABEL}=${this.project}`] }) });
    for (const c of list) {
      const s = c.Labels[COMPOSE_SERVICE_LABEL];
      if (s) this.seen.set(c.Id, s);
    }
    return new Map(this.seen);
  }

  stop(): void {
    this.stream?.destroy?.();
    this.stream = undefined;
  }
}

export interface RecordResult {
  readonly outcome: RunOutcome;
  readonly recordings: readonly ServiceRecording[];
}

/**
 * Runs the whole stack once under the recorder. With strace, every service of the run uses the
 * runtime hardspec-strace (the stack is started fresh for it, and again after it without).
 */
export async function recordRun(session: StackSession, model: StackModel, artifacts: readonly Artifact[], service: string, signal: AbortSignal, options: { recorder: RecorderKind; caps: boolean; files?: boolean }): Promise<RecordResult> {
  let trace: Recording | undefined;
  let containers = new Map<string, string>();
  const watch = new ContainerWatch(session.docker, session.project);
  if (options.recorder === 'strace') await session.useRuntime(STRACE_RUNTIME);
  try {
    const outcome = await session.runCandidate(artifacts, service, signal, {
      forceStack: true,
      beforeStart: async () => {
        await watch.start();
        trace = await startRecording(options.recorder, { caps: options.caps, ...(options.files ? { files: true } : {}) });
      },
    });
    if (!trace) throw new Error(`the recorder did not start: ${outcome.error ?? outcome.verdict}`);
    // The shut-down is part of the service's life (and of the persistence interaction).
    await session.stopAll();
    containers = await watch.containers();
    // A container compose created but never started (its dependency did not come up) has no
    // trace; the strace recorder asks one of every other.
    const raw = await trace.stop(await startedOnly(session.docker, containers));
    trace = undefined;
    const recordings = attributeTrace(raw, {
      services: containers,
      healthchecks: new Map(model.services.filter((s) => s.healthcheck).map((s) => [s.name, s.healthcheck!.command])),
      probePath: PROBE_MOUNT_PATH,
      syscallName: syscallNamer(),
      capName: (n) => CAPABILITIES[n],
    });
    return { outcome, recordings };
  } finally {
    if (trace) {
      await trace.kill(containers.size ? containers : await watch.containers().catch(() => new Map<string, string>()));
    }
    watch.stop();
    if (options.recorder === 'strace') await session.useRuntime(undefined);
  }
}

/** The containers that were started at least once (the engine gives a zero time to the others). */
async function startedOnly(docker: Docker, containers: ReadonlyMap<string, string>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [id, service] of containers) {
    const info = await docker.getContainer(id).inspect().catch(() => undefined);
    const started = info?.State?.StartedAt;
    if (!info || (started && !started.startsWith('0001-01-01'))) out.set(id, service);
  }
  return out;
}

/**
 * recordRun, with a failure of the recorder itself (not of the candidate) turned into an oracle
 * error, retried like any other; an interrupt still escapes.
 */
export async function recordRunOrError(...args: Parameters<typeof recordRun>): Promise<RecordResult> {
  try {
    return await recordRun(...args);
  } catch (e) {
    if (args[4].aborted) throw e;
    return { outcome: { verdict: 'error', scope: 'stack', restarted: [], durationMs: 0, failed: [], unhealthy: [], error: `recording: ${(e as Error).message}` }, recordings: [] };
  }
}
