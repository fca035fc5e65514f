/**
 * Images for a run: every service's base image present (pulled with a short time limit, or, with
 * no registry reachable, built locally by scripts/build-base-image.sh with debootstrap), then the
 * service images built with compose (skipped under --no-build when they all exist), and their ids
 * recorded for the evidence.
 */
import type Docker from 'dockerode';
import { fileURLToPath } from 'node:url';
import type { StackModel } from '../model/types.ts';
import { composeArgs, composeCommand, runCommand, type ComposeProject, type ComposeVariant } from './compose-cli.ts';
import { EnvironmentError, imageId } from './docker.ts';
import { lastLines } from './streams.ts';

export const BASE_IMAGE_SCRIPT = fileURLToPath(new URL('../../../scripts/build-base-image.sh', import.meta.url));
const PULL_TIMEOUT_MS = 20_000;

export interface ImageRecord {
  readonly service: string;
  readonly image: string;
  readonly id: string;
}

export interface ImageSteps {
  readonly docker: Docker;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly say: (line: string) => void;
  readonly signal: AbortSignal;
}

/** Pulls `name`; resolves with undefined on success or the reason it failed (including the time limit). */
async function pull(docker: Docker, name: string, timeoutMs: number, signal: AbortSignal): Promise<string | undefined> {
  const ac = new AbortController();
  const stop = () => ac.abort();
  signal.addEventListener('abort', stop, { once: true });
  const timer = setTimeout(stop, timeoutMs);
  try {
    const stream = (await docker.pull(name, { abortSignal: ac.signal })) as NodeJS.ReadableStream & { destroy?: () => void };
    return await new Promise<string | undefined>((resolve) => {
      const onAbort = () => { stream.destroy?.(); resolve(`no answer within ${timeoutMs / 1000} s`); };
      ac.signal.addEventListener('abort', onAbort, { once: true });
      docker.modem.followProgress(stream, (err: Error | null, out: { error?: string }[]) => {
        ac.signal.removeEventListener('abort', onAbort);
        resolve(err?.message ?? out.find((o) => o.error)?.error);
      });
    });
  } catch (e) {
    return ac.signal.aborted ? `no answer within ${timeoutMs / 1000} s` : (e as Error).message.split('\n')[0];
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', stop);
  }
}

/** Makes sure every base image named by the stack exists locally. */
export async function ensureBaseImages(stack: StackModel, steps: ImageSteps): Promise<void> {
  const bases = [...new Set(stack.services.map((s) => s.image.base).filter((b): b is string => Boolean(b)))].sort();
  for (const base of bases) {
    if (await imageId(steps.docker, base)) continue;
    steps.say(`base image ${base} is missing; trying to pull it (at most ${PULL_TIMEOUT_MS / 1000} s)`);
    const failure = await pull(steps.docker, base, PULL_TIMEOUT_MS, steps.signal);
    if (steps.signal.aborted) throw steps.signal.reason;
    if (failure === undefined && (await imageId(steps.docker, base))) continue;
    steps.say(`no registry reachable; building ${base} locally with debootstrap (about a minute)`);
    if (process.getuid?.() !== 0) {
      throw new EnvironmentError(`building ${base} with debootstrap needs root: run sudo ${BASE_IMAGE_SCRIPT} ${base}, then verify again`);
    }
    const r = await runCommand({ file: BASE_IMAGE_SCRIPT, args: [base] }, { env: steps.env, signal: steps.signal });
    if (r.aborted) throw steps.signal.reason;
    if (r.code !== 0 || !(await imageId(steps.docker, base))) {
      throw new EnvironmentError(`could not build the base image ${base} (scripts/build-base-image.sh exited ${r.code}):\n${lastLines(r.stdout + r.stderr, 20)}`);
    }
  }
}

/** Builds the service images with compose unless `skipWhenPresent` and every image exists. */
export async function buildImages(stack: StackModel, steps: ImageSteps & {
  readonly variant: ComposeVariant;
  readonly project: ComposeProject;
  readonly cwd: string;
  readonly skipWhenPresent: boolean;
}): Promise<{ built: boolean; durationMs: number }> {
  const started = Date.now();
  const missing: string[] = [];
  for (const s of stack.services) if (!(await imageId(steps.docker, s.image.name))) missing.push(s.image.name);
  if (steps.skipWhenPresent && missing.length === 0) return { built: false, durationMs: 0 };
  const unbuildable = stack.services.filter((s) => !s.image.build && missing.includes(s.image.name));
  if (unbuildable.length) {
    throw new EnvironmentError(`image ${unbuildable.map((s) => s.image.name).join(', ')} is missing and the spec has no build section; pull or build it first`);
  }
  steps.say(missing.length ? `building images (${missing.length} missing: ${missing.join(', ')})` : 'building images (compose build; cached layers are reused)');
  const r = await runCommand(composeCommand(steps.variant, steps.project, composeArgs.build()), { cwd: steps.cwd, env: steps.env, signal: steps.signal });
  if (r.aborted) throw steps.signal.reason;
  if (r.code !== 0) throw new EnvironmentError(`compose build failed (exit ${r.code}):\n${lastLines(r.stdout + r.stderr, 40)}`);
  return { built: true, durationMs: Date.now() - started };
}

export async function imageRecords(stack: StackModel, docker: Docker): Promise<ImageRecord[]> {
  const out: ImageRecord[] = [];
  for (const s of stack.services) {
    const id = await imageId(docker, s.image.name);
    if (!id) throw new EnvironmentError(`image ${s.image.name} of service ${s.name} is missing after the build`);
    out.push({ service: s.name, image: s.image.name, id });
  }
  return out;
}
