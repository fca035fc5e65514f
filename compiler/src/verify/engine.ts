/**
 * The small interface between the interaction runner and Docker. Checks see only this, so their
 * logic is unit-tested with a fake engine; `docker.ts` + `lifecycle.ts` implement it on a real
 * engine for one running stack.
 */
import type { ContainerInspectInfo } from 'dockerode';

export interface ExecResult {
  /** null when the command did not finish within its time limit. */
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

export interface PublishedPort {
  readonly service: string;
  readonly hostIp: string;
  readonly hostPort: number;
  /** e.g. "8080/tcp". */
  readonly containerPort: string;
}

/** What the host tells about SELinux and where the engine's processes live. */
export interface HostFacts {
  /** `/sys/fs/selinux` exists on this host. */
  readonly selinuxfs: boolean;
  /** The engine reports `selinux` among its security options. */
  readonly engineSelinux: boolean;
  /** The engine's security options, e.g. ["name=seccomp,profile=default"]. */
  readonly engineSecurityOptions: readonly string[];
  /** Node's name of the engine's architecture (x64, arm64): the probe and syscall numbers follow it. */
  readonly arch: string;
  /** Whether container pids can be read in this host's /proc (a local engine, same pid namespace). */
  readonly localProc: boolean;
}

export interface RecreateResult {
  readonly oldContainer: string;
  readonly newContainer: string;
  readonly healthyAfterMs: number;
}

export interface StartResult {
  readonly container: string;
  readonly healthyAfterMs: number;
}

export interface VerifierEngine {
  readonly host: HostFacts;
  /** Runs argv (exec form, no shell) in the service's current container as its configured user. */
  exec(service: string, argv: readonly string[], timeoutMs: number): Promise<ExecResult>;
  /** Reads one regular file from the service's container through the archive API (no tools needed in the image). */
  readFile(service: string, path: string): Promise<Buffer>;
  /** `docker inspect` of the service's current container. */
  inspect(service: string): Promise<ContainerInspectInfo>;
  /** `docker network inspect` of a network of the stack (by its name in the spec). */
  inspectNetwork(name: string): Promise<{ readonly Name: string; readonly Internal: boolean; readonly Labels?: Record<string, string> | null }>;
  /** The last `lines` lines of the service's output (stdout and stderr, in order); '' when it has no container. */
  logTail(service: string, lines: number): Promise<string>;
  /** Stops and removes the service's container, creates it again in the same project (same volumes), waits until healthy. */
  recreate(service: string, timeoutMs: number): Promise<RecreateResult>;
  /** Stops the service's container (SIGTERM, then SIGKILL after 10 s), keeping it. */
  stop(service: string, timeoutMs: number): Promise<void>;
  /** Starts the service's stopped container again and waits until it is healthy. */
  start(service: string, timeoutMs: number): Promise<StartResult>;
  /** The service's output (stdout and stderr, in order) written at or after `sinceMs` (whole seconds: up to a second earlier). */
  logSince(service: string, sinceMs: number): Promise<string>;
  /** Host ports published by any container of this run. */
  publishedPorts(): Promise<readonly PublishedPort[]>;
  /** A file of the host's /proc/<pid>/ for the service's container init process (e.g. "status", "mountinfo"). */
  readHostProc(service: string, file: string): Promise<string>;
}

/** Thrown by engine operations when what they need is absent (no container for a service, …). */
export class EngineError extends Error {}
