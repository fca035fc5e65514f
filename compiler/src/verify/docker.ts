/**
 * The Docker engine through dockerode: connecting (and saying which socket was tried), engine
 * facts for the evidence, and the few container operations the verifier needs (exec, archive
 * read, log tail, label queries, removal).
 */
import Docker from 'dockerode';
import type { Readable } from 'node:stream';
import { demuxDockerStream, lastLines, readTar, splitStreams } from './streams.ts';
import type { ExecResult } from './engine.ts';

export const SETUP_HINT = 'start it with: sudo scripts/setup-docker.sh';

/** Where the verifier looks for the engine, and why there. */
export interface EngineAddress {
  /** As shown to people, e.g. "unix:///var/run/docker.sock". */
  readonly display: string;
  /** "DOCKER_HOST" or "the default socket". */
  readonly from: string;
  readonly options: Docker.DockerOptions;
  /** Unix socket (a local engine): container pids can then be looked up in this host's /proc. */
  readonly local: boolean;
}

/** Pure: the engine address from the environment (DOCKER_HOST, else /var/run/docker.sock). */
export function engineAddress(env: Readonly<Record<string, string | undefined>>): EngineAddress {
  const host = env.DOCKER_HOST?.trim();
  if (!host) {
    return { display: 'unix:///var/run/docker.sock', from: 'the default socket', options: { socketPath: '/var/run/docker.sock' }, local: true };
  }
  if (host.startsWith('unix://')) {
    return { display: host, from: 'DOCKER_HOST', options: { socketPath: host.slice('unix://'.length) }, local: true };
  }
  const m = /^tcp:\/\/([^:/]+|\[[^\]]+\]):(\d+)\/?$/.exec(host);
  if (m) {
    return { display: host, from: 'DOCKER_HOST', options: { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]), protocol: 'http' }, local: false };
  }
  return { display: host, from: 'DOCKER_HOST', options: { socketPath: host }, local: true };
}

export class EnvironmentError extends Error {
  readonly exitCode = 2;
}

/** How long one engine API call may take before the engine counts as wedged. */
export const ENGINE_CALL_TIMEOUT_MS = 60_000;

/**
 * An engine API call with a time limit. Docker 20.10 can wedge on a container whose start failed
 * (seen here under a minimiser candidate's seccomp profile): `docker inspect`, `docker ps -a`
 * and `docker rm -f` of it never return, and neither would a run waiting on them. Past the limit
 * this is an EnvironmentError that says so, instead of a hang.
 */
export async function engineCall<T>(what: string, call: Promise<T>, timeoutMs = ENGINE_CALL_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new EnvironmentError(`the Docker engine did not answer ${what} within ${Math.round(timeoutMs / 1000)} s; it may be wedged on a container whose start failed (restart it: kill $(cat /run/hardspec-dockerd.pid); scripts/setup-docker.sh), then run again`)), timeoutMs);
  });
  try {
    return await Promise.race([call, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Connects and pings the engine (with a time limit); an unreachable engine is an EnvironmentError. */
export async function connectDocker(env: Readonly<Record<string, string | undefined>>, timeoutMs = 5000): Promise<{ docker: Docker; address: EngineAddress }> {
  const address = engineAddress(env);
  const docker = new Docker({ ...address.options, timeout: timeoutMs });
  try {
    await docker.ping();
  } catch (e) {
    const why = (e as Error).message.split('\n')[0];
    throw new EnvironmentError(`cannot reach the Docker engine at ${address.display} (${address.from}): ${why}\n  ${SETUP_HINT}`);
  }
  // Later calls (builds, waits) may take long: no blanket timeout on them.
  return { docker: new Docker(address.options), address };
}

export interface EngineFacts {
  readonly version: string;
  readonly apiVersion: string;
  readonly os: string;
  readonly kernel: string;
  readonly arch: string;
  readonly cgroupDriver: string;
  readonly cgroupVersion: string;
  readonly securityOptions: readonly string[];
  /** The engine's data root (`/var/lib/docker`): where each container's configuration is kept. */
  readonly rootDir: string;
  /** The engine's OCI runtimes by name (runc, and any registered: hardspec-strace…), sorted. */
  readonly runtimes: readonly string[];
}

/** Docker's architecture names → Node's. */
export function nodeArch(dockerArch: string): string {
  return ({ x86_64: 'x64', amd64: 'x64', aarch64: 'arm64', arm64: 'arm64' } as Record<string, string>)[dockerArch] ?? dockerArch;
}

export async function engineFacts(docker: Docker): Promise<EngineFacts> {
  const [info, version] = await Promise.all([docker.info() as Promise<Record<string, unknown>>, docker.version()]);
  return {
    version: String(version.Version ?? ''),
    apiVersion: String(version.ApiVersion ?? ''),
    os: String(info.OperatingSystem ?? ''),
    kernel: String(info.KernelVersion ?? ''),
    arch: String(info.Architecture ?? ''),
    cgroupDriver: String(info.CgroupDriver ?? ''),
    cgroupVersion: String(info.CgroupVersion ?? ''),
    securityOptions: ((info.SecurityOptions as string[] | undefined) ?? []).slice().sort(),
    rootDir: String(info.DockerRootDir ?? '/var/lib/docker'),
    runtimes: Object.keys((info.Runtimes as Record<string, unknown> | undefined) ?? {}).sort(),
  };
}

const MAX_OUTPUT = 4 * 1024 * 1024;

async function collect(stream: Readable, limit = MAX_OUTPUT, signal?: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  return await new Promise<Buffer>((resolve, reject) => {
    const onAbort = () => { stream.destroy(); reject(signal?.reason ?? new Error('aborted')); };
    if (signal?.aborted) { onAbort(); return; }
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (c: Buffer) => {
      if (size < limit) chunks.push(c);
      size += c.length;
    });
    const done = (err?: Error) => {
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks));
    };
    stream.once('end', () => done());
    stream.once('close', () => done());
    stream.once('error', done);
  });
}

/** docker exec in exec form (no shell); stdout/stderr demultiplexed; bounded by timeoutMs. */
export async function execIn(docker: Docker, containerId: string, argv: readonly string[], timeoutMs: number): Promise<ExecResult> {
  const exec = await docker.getContainer(containerId).exec({ Cmd: [...argv], AttachStdout: true, AttachStderr: true, AttachStdin: false, Tty: false });
  const stream = (await exec.start({ hijack: true, stdin: false })) as unknown as Readable;
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new Error('timeout')), timeoutMs);
  let raw: Buffer;
  try {
    raw = await collect(stream, MAX_OUTPUT, timeout.signal);
  } catch {
    return { exitCode: null, stdout: '', stderr: '', timedOut: true };
  } finally {
    clearTimeout(timer);
  }
  const { stdout, stderr } = splitStreams(demuxDockerStream(raw));
  // The stream ends slightly before the engine records the exit code: ask until it has one.
  for (let i = 0; i < 50; i++) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null && info.ExitCode !== undefined) return { exitCode: info.ExitCode, stdout, stderr, timedOut: false };
    await new Promise((r) => setTimeout(r, 20));
  }
  return { exitCode: null, stdout, stderr, timedOut: false };
}

/** One regular file from a container via the archive API (works in images without any tools). */
export async function readContainerFile(docker: Docker, containerId: string, path: string): Promise<Buffer> {
  const stream = (await docker.getContainer(containerId).getArchive({ path })) as unknown as Readable;
  const entries = readTar(await collect(stream, 64 * 1024 * 1024));
  const entry = entries[0];
  if (!entry) throw new Error(`the archive of ${path} is empty`);
  if (entry.type === '2') throw new Error(`${path} is a symbolic link to ${entry.linkName}`);
  if (entry.type === '5') throw new Error(`${path} is a directory`);
  if (entry.type !== '0' && entry.type !== '\0') throw new Error(`${path} is not a regular file (tar type ${entry.type})`);
  return entry.data;
}

/** The last lines of a container's stdout+stderr, in order. */
export async function containerLogTail(docker: Docker, containerId: string, lines: number): Promise<string> {
  const raw = await docker.getContainer(containerId).logs({ stdout: true, stderr: true, tail: lines, follow: false });
  return lastLines(logText(raw), lines);
}

/**
 * The container's output (stdout and stderr) written at or after `sinceMs`. The engine takes
 * `since` in whole seconds, so the lines come with their timestamps and the earlier ones of that
 * second are dropped here (the engine and this process share the host clock).
 */
export async function containerLogSince(docker: Docker, containerId: string, sinceMs: number): Promise<string> {
  const raw = await engineCall(`the log of container ${containerId.slice(0, 12)}`, docker.getContainer(containerId).logs({ stdout: true, stderr: true, timestamps: true, since: Math.floor(sinceMs / 1000), follow: false }));
  return linesSince(logText(raw), sinceMs);
}

/** `<RFC 3339 stamp> <text>`: a line of a log read with `timestamps`. */
const STAMPED_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d) (.*)$/s;

/**
 * Pure: the lines of a timestamped log (`<RFC 3339 with nanoseconds> <text>`, as the engine writes
 * them with `timestamps`) stamped at or after `sinceMs`, without their stamps. A line without a
 * stamp (the rest of a long line the engine split) goes with the line before it.
 */
export function linesSince(text: string, sinceMs: number): string {
  const out: string[] = [];
  let keep = false;
  for (const line of text.split('\n')) {
    const m = STAMPED_LINE.exec(line);
    if (m) {
      const ms = Date.parse(`${m[1]}${(m[2] ?? '').slice(0, 4)}${m[3]}`);
      keep = !(ms < sinceMs);
      if (keep) out.push(m[4]!);
    } else if (keep && line !== '') {
      out.push(line);
    }
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

/** A non-following logs answer (multiplexed stdout and stderr) as text, in order. */
function logText(raw: unknown): string {
  return Buffer.concat(demuxDockerStream(Buffer.from(raw as Buffer)).map((f) => f.data)).toString('utf8');
}

export interface LabelledResources {
  readonly containers: readonly { id: string; name: string; labels: Record<string, string>; state: string }[];
  readonly networks: readonly { id: string; name: string; labels: Record<string, string> }[];
  readonly volumes: readonly { name: string; labels: Record<string, string> }[];
}

/** Containers (running or not), networks and volumes carrying every one of the given labels ("k=v" or "k"). */
export async function listLabelled(docker: Docker, labels: readonly string[]): Promise<LabelledResources> {
  const filters = JSON.stringify({ label: labels });
  const [containers, networks, volumes] = await engineCall(`a list of containers, networks and volumes labelled ${labels.join(', ')}`, Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
    docker.listVolumes({ filters }),
  ]));
  return {
    containers: containers.map((c) => ({ id: c.Id, name: (c.Names[0] ?? c.Id).replace(/^\//, ''), labels: c.Labels ?? {}, state: c.State })),
    networks: networks.map((n) => ({ id: n.Id, name: n.Name, labels: n.Labels ?? {} })),
    volumes: (volumes.Volumes ?? []).map((v) => ({ name: v.Name, labels: (v.Labels as Record<string, string> | null) ?? {} })),
  };
}

export function countResources(r: LabelledResources): number {
  return r.containers.length + r.networks.length + r.volumes.length;
}

/**
 * Removes everything carrying the labels: containers first (forced, with anonymous volumes), then
 * networks, then volumes. Best effort per item; returns what could not be removed.
 */
export async function removeLabelled(docker: Docker, labels: readonly string[]): Promise<{ removed: number; failed: string[] }> {
  const found = await listLabelled(docker, labels);
  const failed: string[] = [];
  let removed = 0;
  const attempt = async (what: string, f: () => Promise<unknown>) => {
    try { await f(); removed++; } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return;
      failed.push(`${what}: ${(e as Error).message.split('\n')[0]}`);
    }
  };
  await Promise.all(found.containers.map((c) => attempt(`container ${c.name}`, () => docker.getContainer(c.id).remove({ force: true, v: true }))));
  await Promise.all(found.networks.map((n) => attempt(`network ${n.name}`, () => docker.getNetwork(n.id).remove())));
  await Promise.all(found.volumes.map((v) => attempt(`volume ${v.name}`, () => docker.getVolume(v.name).remove({ force: true }))));
  return { removed, failed };
}

/** The id of an image by name, or undefined when the engine does not have it. */
export async function imageId(docker: Docker, name: string): Promise<string | undefined> {
  try {
    return (await docker.getImage(name).inspect()).Id;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return undefined;
    throw e;
  }
}
