/**
 * The compose command: `docker compose` (v2) when the plugin answers, else `docker-compose` (1.29).
 * Command lines are built by pure functions (unit-tested for both variants); running them always
 * happens with cwd = generated/<stack>/, because docker-compose 1.29 resolves `seccomp=` paths
 * from the working directory rather than from the compose file.
 */
import { spawn } from 'node:child_process';

export interface ComposeVariant {
  readonly kind: 'v2' | 'v1';
  /** e.g. "2.24.5" or "1.29.2". */
  readonly version: string;
}

export interface ComposeProject {
  readonly name: string;
  /** Compose files, in order (the generated one first, then the run's override). */
  readonly files: readonly string[];
}

export interface CommandLine {
  readonly file: string;
  readonly args: readonly string[];
}

/** Pure: the full command line for one compose subcommand of a project. */
export function composeCommand(variant: ComposeVariant, project: ComposeProject, sub: readonly string[]): CommandLine {
  const common = ['--ansi', 'never', '-p', project.name, ...project.files.flatMap((f) => ['-f', f])];
  return variant.kind === 'v2'
    ? { file: 'docker', args: ['compose', ...common, ...sub] }
    : { file: 'docker-compose', args: [...common, ...sub] };
}

/** The subcommands the verifier uses; identical for both variants. */
export const composeArgs = {
  /**
   * --force-rm: docker-compose 1.29's classic builder otherwise leaves the intermediate container
   * of a failed step behind; compose v2 accepts the flag (hidden) for compatibility.
   */
  build: (): string[] => ['build', '--force-rm'],
  up: (): string[] => ['up', '-d', '--no-build'],
  /** Remove one service's container (stop first), keeping named volumes. */
  removeService: (service: string): string[] => ['rm', '-s', '-f', service],
  /** Stop one service's container, keeping it (10 s before SIGKILL, as for down). */
  stopService: (service: string): string[] => ['stop', '-t', '10', service],
  /** Start one service's stopped container. */
  startService: (service: string): string[] => ['start', service],
  /** Create one service again without touching the others. */
  upService: (service: string): string[] => ['up', '-d', '--no-build', '--no-deps', service],
  down: (): string[] => ['down', '-v', '--remove-orphans', '-t', '10'],
};

/** Pure: the command lines that probe for each variant, in the order they are tried. */
export function composeVersionProbes(): readonly { variant: ComposeVariant['kind']; line: CommandLine }[] {
  return [
    { variant: 'v2', line: { file: 'docker', args: ['compose', 'version', '--short'] } },
    { variant: 'v1', line: { file: 'docker-compose', args: ['version', '--short'] } },
  ];
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly aborted: boolean;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Called with each chunk of output (both streams), e.g. to show build progress. */
  readonly onOutput?: (chunk: string) => void;
}

const MAX_CAPTURE = 2 * 1024 * 1024;

/** Runs a command without a shell; never rejects for a non-zero exit (see code). */
export function runCommand(line: CommandLine, options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let aborted = false;
    let settled = false;
    const child = spawn(line.file, [...line.args], {
      cwd: options.cwd,
      env: options.env as NodeJS.ProcessEnv | undefined,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const kill = () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM'); };
    const timer = options.timeoutMs ? setTimeout(() => { timedOut = true; kill(); }, options.timeoutMs) : undefined;
    const onAbort = () => { aborted = true; kill(); };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();
    child.stdout.setEncoding('utf8').on('data', (c: string) => { if (stdout.length < MAX_CAPTURE) stdout += c; options.onOutput?.(c); });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { if (stderr.length < MAX_CAPTURE) stderr += c; options.onOutput?.(c); });
    const finish = (code: number | null, signal: NodeJS.Signals | null, extra = '') => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ code, signal, stdout, stderr: stderr + extra, timedOut, aborted });
    };
    child.once('error', (e) => finish(null, null, `${(e as Error).message}\n`));
    child.once('close', (code, signal) => finish(code, signal));
  });
}

/** Finds the compose command: v2 plugin first, then docker-compose; undefined when neither answers. */
export async function detectCompose(env: Readonly<Record<string, string | undefined>>): Promise<ComposeVariant | undefined> {
  for (const probe of composeVersionProbes()) {
    const r = await runCommand(probe.line, { env, timeoutMs: 15_000 });
    const version = r.stdout.trim().replace(/^v/, '');
    if (r.code === 0 && /^\d+\.\d+/.test(version)) return { kind: probe.variant, version };
  }
  return undefined;
}

export function describeVariant(v: ComposeVariant): string {
  return v.kind === 'v2' ? `docker compose ${v.version}` : `docker-compose ${v.version}`;
}
