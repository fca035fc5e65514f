/** The minimiser's backend on a real engine: candidates compiled in memory and run in a StackSession. */
import { dockerDefaultFor, type SeccompArch } from '../emit/seccomp/docker-default.ts';
import { SYSCALLS_AARCH64, SYSCALLS_X86_64 } from '../emit/seccomp/emit-seccomp.ts';
import type { ServiceModel } from '../model/types.ts';
import { candidateModel, runArtifacts, type What } from './candidate.ts';
import type { MinimizeBackend, RecordOutcome } from './minimize.ts';
import { recordRunOrError } from './record/record-run.ts';
import type { RecorderKind } from './record/recorder.ts';
import type { RunOutcome, StackSession } from './stack-session.ts';

/** Node's architecture name → the syscall table the engine's filter uses. */
export function seccompArch(nodeArch: string): SeccompArch {
  if (nodeArch === 'x64') return 'x86_64';
  if (nodeArch === 'arm64') return 'aarch64';
  throw new Error(`hardspec minimize supports x86_64 and aarch64 engines, not ${nodeArch}`);
}

/** Syscall names of one architecture. */
export function archSyscalls(arch: SeccompArch): ReadonlySet<string> {
  return arch === 'x86_64' ? SYSCALLS_X86_64 : SYSCALLS_AARCH64;
}

/**
 * Pure: the start set and the pool for a syscall search on `arch`. Names of other architectures
 * are left out of both: no run on this engine can observe them (the report lists them).
 */
export function syscallUniverse(service: ServiceModel, arch: SeccompArch): { start: string[]; pool: string[]; otherArch: string[] } {
  const names = archSyscalls(arch);
  const start = service.seccomp.allow.filter((n) => names.has(n));
  const pool = dockerDefaultFor(arch, service.capAdd).filter((n) => names.has(n) && !start.includes(n));
  return { start, pool: [...pool].sort(), otherArch: service.seccomp.allow.filter((n) => !names.has(n)) };
}

export class DockerBackend implements MinimizeBackend {
  readonly record?: (start: ReadonlySet<string>) => Promise<RecordOutcome>;
  /** One lane per session: each runs its own copy of the stack (own project, ports, volumes). */
  readonly lanes: number;

  constructor(
    /** Each session runs the stack with its own ports: candidates are compiled from its model. */
    private readonly sessions: readonly StackSession[],
    private readonly service: string,
    private readonly what: What,
    private readonly signal: AbortSignal,
    recorder: { readonly kind: RecorderKind; readonly caps: boolean } | undefined,
  ) {
    if (sessions.length === 0) throw new Error('DockerBackend needs a session');
    this.lanes = sessions.length;
    if (recorder) this.record = (start) => this.recordOnce(start, recorder.kind, recorder.caps);
  }

  run(candidate: ReadonlySet<string>, options: { fresh: boolean; lane: number }): Promise<RunOutcome> {
    const session = this.sessions[options.lane];
    if (!session) throw new Error(`no lane ${options.lane} (${this.lanes} lane(s))`);
    const m = candidateModel(session.model, this.service, this.what, candidate);
    return session.runCandidate(runArtifacts(m, session.specDirFromOut), this.service, this.signal, { forceStack: options.fresh });
  }

  /** The recording runs on the first lane, alone (the recorder traces one stack). */
  private async recordOnce(start: ReadonlySet<string>, recorder: RecorderKind, caps: boolean): Promise<RecordOutcome> {
    const session = this.sessions[0]!;
    const m = candidateModel(session.model, this.service, this.what, start);
    const { outcome, recordings } = await recordRunOrError(session, m, runArtifacts(m, session.specDirFromOut), this.service, this.signal, { recorder, caps });
    const mine = recordings.find((r) => r.service === this.service);
    if (!mine) return { outcome, items: [], other: [] };
    return this.what === 'syscalls'
      ? { outcome, items: mine.syscalls, other: mine.beforeFilter }
      : { outcome, items: mine.capsGranted, other: mine.capsDenied.map((c) => c.name) };
  }
}
