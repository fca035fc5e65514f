/**
 * The verifier's check of a stripped image (`<service>.auto.stripped`), made on the image the
 * engine holds, not on the plan: its filesystem (docker export) holds no shell, package manager,
 * chmod, chown, chgrp or sed and no setuid or setgid file unless strip.files names it, and its
 * configuration carries the full image's entrypoint, command, user, working folder, health check
 * and stop signal.
 */
import type Docker from 'dockerode';
import type { ServiceModel } from '../model/types.ts';
import type { InteractionResult } from '../verify/runner.ts';
import { normalizePath, type ImageFs } from './fs.ts';
import { exportImageFs, inspectFullImage, STRIPPED_FROM_LABEL } from './image.ts';
import { isSetuidOrSetgid } from './closure.ts';
import { forbiddenWhat } from './plan.ts';

/** Config fields that must be the same in the stripped image as in the full one. */
const SAME = ['Entrypoint', 'Cmd', 'User', 'WorkingDir', 'Healthcheck', 'StopSignal', 'Env', 'ExposedPorts', 'Volumes'] as const;

/** Pure: what the stripped filesystem holds that the policy forbids. */
export function strippedFsProblems(fs: ImageFs, named: readonly string[]): { problems: string[]; files: number } {
  const allowed = new Set(named.map(normalizePath));
  const problems: string[] = [];
  let files = 0;
  for (const e of fs.entries()) {
    if (e.type !== 'dir') files++;
    if (allowed.has(e.path)) continue;
    const what = forbiddenWhat(fs, e);
    if (what) problems.push(`${e.path} is ${what}, and strip.files does not name it`);
    if (isSetuidOrSetgid(e)) problems.push(`${e.path} is ${(e.mode & 0o4000) ? 'setuid' : 'setgid'} (mode ${(e.mode & 0o7777).toString(8)}), and strip.files does not name it`);
  }
  return { problems, files };
}

/** Pure: configuration fields that differ between the full and the stripped image. */
export function configProblems(full: Readonly<Record<string, unknown>>, stripped: Readonly<Record<string, unknown>>): string[] {
  const norm = (v: unknown) => JSON.stringify(v === undefined || (Array.isArray(v) && v.length === 0) || (v !== null && typeof v === 'object' && Object.keys(v).length === 0) ? null : v);
  return SAME.filter((k) => norm(full[k]) !== norm(stripped[k])).map((k) => `${k} is ${norm(stripped[k])} in the stripped image, ${norm(full[k])} in the full image`);
}

export async function checkStrippedImage(docker: Docker, s: ServiceModel): Promise<InteractionResult> {
  const started = Date.now();
  const base = {
    id: `${s.name}.auto.stripped`,
    description: `${s.name} runs the stripped image ${s.strip.target}: no shell, package manager, chmod, chown, chgrp or sed and no setuid or setgid file unless strip.files names it; the full image's entrypoint, command, user and health check carried over.`,
    reason: 'A stripped image leaves an attacker who gets code execution no tools to work with; it must still start the same way as the full image.',
    service: s.name, origin: 'automatic' as const, purpose: 'security' as const, kind: 'auto',
  };
  const problems: string[] = [];
  const stripped = await inspectFullImage(docker, s.strip.target);
  const full = await inspectFullImage(docker, s.image.name);
  if (!stripped || !full) {
    return { ...base, status: 'failed', durationMs: Date.now() - started, method: ['docker-inspect'], observed: {}, problems: [`${!stripped ? s.strip.target : s.image.name} is not in the engine`] };
  }
  const labels = (stripped.config.Labels ?? {}) as Record<string, string>;
  if (labels[STRIPPED_FROM_LABEL] !== s.image.name) problems.push(`${s.strip.target} is not labelled as stripped from ${s.image.name} (${STRIPPED_FROM_LABEL}=${labels[STRIPPED_FROM_LABEL] ?? 'absent'})`);
  problems.push(...configProblems(full.config, stripped.config));
  const fs = await exportImageFs(docker, s.strip.target);
  const scan = strippedFsProblems(fs, s.strip.files);
  problems.push(...scan.problems);
  return {
    ...base,
    status: problems.length ? 'failed' : 'passed',
    durationMs: Date.now() - started,
    method: ['docker-inspect', 'archive'],
    observed: { image: s.strip.target, id: stripped.id, bytes: stripped.size, fullBytes: full.size, files: scan.files, entrypoint: stripped.config.Entrypoint ?? null, cmd: stripped.config.Cmd ?? null, user: stripped.config.User ?? '' },
    ...(problems.length ? { problems } : {}),
  };
}
