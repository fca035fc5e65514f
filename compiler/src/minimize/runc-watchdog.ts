/**
 * A watchdog for `runc init` processes that a candidate seccomp profile wedged.
 *
 * runc installs a container's seccomp filter in its own init process, just before it executes the
 * container's command (or, for `docker exec`, the exec'd one). Between the two, runc's Go runtime
 * goes on making system calls on every thread; a candidate that denies one of them can leave
 * `runc init` spinning or waiting forever. Docker 20.10 then holds the container's lock, every API
 * call about the container waits (compose gives up after 60 s, `docker inspect` never answers),
 * and a search would stop on a wedged engine. Seen on the guestbook's db during `--minimal`.
 *
 * A healthy `runc init` lives for milliseconds once its filter is installed. The watchdog scans the
 * host's /proc every few seconds for `runc init` processes with a seccomp filter (Seccomp: 2) in the
 * cgroup of one of this run's containers, kills those seen for longer than the limit (SIGKILL: the process is the runtime's, not the service's) and
 * keeps what it did, so the run is told apart: the candidate failed, it made the runtime hang.
 * It works only when the engine runs on this host (its /proc is ours); elsewhere it is not started.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { statStartTime } from '../verify/lifecycle.ts';

/** What the watchdog killed. */
export interface HungInit {
  readonly pid: number;
  readonly containerId: string;
  /** The compose service of the container. */
  readonly service: string;
  /** How long the process had been seen when it was killed. */
  readonly seenMs: number;
}

export interface WatchdogOptions {
  /** Where the host's proc file system is mounted. */
  readonly procRoot?: string;
  /** A `runc init` seen for this long is hung. */
  readonly limitMs: number;
  readonly intervalMs: number;
  /** The service of one of this run's containers, or undefined for a container that is not ours. */
  readonly serviceOf: (containerId: string) => Promise<string | undefined>;
  readonly kill?: (pid: number) => void;
  readonly now?: () => number;
}

/** The start time of /proc/PID (field 22 of stat, clock ticks since boot), '' when it is gone. */
async function startTime(dir: string): Promise<string> {
  const stat = await readFile(path.join(dir, 'stat'), 'utf8').catch(() => '');
  return stat ? (statStartTime(stat) ?? '') : '';
}

/** Pure: whether a NUL-separated command line is runc's init (argv: `runc init`, by any path to runc). */
export function isRuncInit(cmdline: string): boolean {
  const argv = cmdline.split('\0');
  return /(^|\/)(docker-)?runc$/.test(argv[0] ?? '') && argv[1] === 'init';
}

/**
 * The compose service of a container of `project`, read from the engine's own configuration file
 * of the container (`<data root>/containers/<id>/config.v2.json`), not through the engine: while
 * runc init hangs, Docker 20.10 may not answer about that container. Undefined for another
 * project's container, or when the file cannot be read.
 */
export async function serviceFromConfig(rootDir: string, containerId: string, project: string): Promise<string | undefined> {
  try {
    const config = JSON.parse(await readFile(path.join(rootDir, 'containers', containerId, 'config.v2.json'), 'utf8')) as { Config?: { Labels?: Record<string, string> } };
    const labels = config.Config?.Labels ?? {};
    return labels['com.docker.compose.project'] === project ? labels['com.docker.compose.service'] : undefined;
  } catch {
    return undefined;
  }
}

/** Pure: the container id in a /proc/PID/cgroup text (cgroupfs `/docker/ID`, systemd `docker-ID.scope`). */
export function cgroupContainerId(cgroup: string): string | undefined {
  return /(?:^|[/-])([0-9a-f]{64})(?:\.scope)?$/m.exec(cgroup)?.[1];
}

export class RuncWatchdog {
  private readonly firstSeen = new Map<string, number>();
  private readonly killed: HungInit[] = [];
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private readonly procRoot: string;
  private readonly now: () => number;
  private readonly kill: (pid: number) => void;

  constructor(private readonly o: WatchdogOptions) {
    this.procRoot = o.procRoot ?? '/proc';
    this.now = o.now ?? Date.now;
    this.kill = o.kill ?? ((pid) => process.kill(pid, 'SIGKILL'));
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (!this.scanning) this.scanning = this.scan().catch(() => undefined).finally(() => { this.scanning = undefined; });
    }, this.o.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.scanning;
  }

  /** What was killed since the last call, once a scan in progress has ended. */
  async take(): Promise<HungInit[]> {
    await this.scanning;
    return this.killed.splice(0);
  }

  /** One pass over /proc: notes `runc init` processes, kills those seen for longer than the limit. */
  async scan(): Promise<void> {
    const now = this.now();
    const seen = new Set<string>();
    for (const entry of await readdir(this.procRoot)) {
      if (!/^\d+$/.test(entry)) continue;
      const dir = path.join(this.procRoot, entry);
      const cmdline = await readFile(path.join(dir, 'cmdline'), 'utf8').catch(() => '');
      if (!isRuncInit(cmdline)) continue;
      const containerId = cgroupContainerId(await readFile(path.join(dir, 'cgroup'), 'utf8').catch(() => ''));
      if (!containerId) continue;
      // Only once the filter is installed (Seccomp: 2): before that, runc init may wait on its exec
      // FIFO for as long as a busy engine takes to send `runc start`, and that is no hang.
      if (!/^Seccomp:\s*2\s*$/m.test(await readFile(path.join(dir, 'status'), 'utf8').catch(() => ''))) continue;
      // The pid and its start time: a reused pid is another process.
      const key = `${entry}:${await startTime(dir)}`;
      seen.add(key);
      const first = this.firstSeen.get(key) ?? now;
      this.firstSeen.set(key, first);
      if (now - first < this.o.limitMs) continue;
      const service = await this.o.serviceOf(containerId);
      if (service === undefined) continue;
      // Still the same process after the await?
      if (`${entry}:${await startTime(dir)}` !== key) continue;
      try {
        this.kill(Number(entry));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ESRCH') continue; // gone meanwhile
        throw e;
      }
      this.killed.push({ pid: Number(entry), containerId, service, seenMs: now - first });
      this.firstSeen.delete(key);
      seen.delete(key);
    }
    for (const key of [...this.firstSeen.keys()]) if (!seen.has(key)) this.firstSeen.delete(key);
  }
}
