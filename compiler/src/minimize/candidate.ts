/**
 * A candidate as artifacts: the stack's model with one service's allowlist or capability set
 * replaced, emitted by the compiler's own emitters (in memory). Pure.
 */
import type { Artifact } from '../emit/artifact.ts';
import { resolveSeccomp } from '../emit/seccomp/emit-seccomp.ts';
import type { ServiceModel, StackModel } from '../model/types.ts';
import { emitStack } from '../pipeline.ts';

export type What = 'syscalls' | 'caps' | 'files';

function replaceService(model: StackModel, name: string, f: (s: ServiceModel) => ServiceModel): StackModel {
  if (!model.services.some((s) => s.name === name)) throw new Error(`no service ${name} in the stack ${model.name}`);
  return { ...model, services: model.services.map((s) => (s.name === name ? f(s) : s)) };
}

/** The service with exactly `allow` as its allowlist (baseline none), other enosys names kept. */
export function withSyscalls(model: StackModel, service: string, allow: Iterable<string>): StackModel {
  return replaceService(model, service, (s) => ({
    ...s,
    seccomp: resolveSeccomp({ baseline: 'none', allow: [...allow], enosys: s.seccomp.enosys }, s.capAdd),
  }));
}

/**
 * The service with exactly `caps` added back after dropping ALL. Its seccomp allowlist is
 * resolved again from the spec's own declaration, because Docker's default profile depends on
 * the capabilities (CAP_SYS_ADMIN allows mount, …).
 */
export function withCaps(model: StackModel, service: string, caps: Iterable<string>): StackModel {
  const capAdd = [...new Set(caps)].sort();
  return replaceService(model, service, (s) => ({
    ...s,
    capAdd,
    seccomp: s.seccomp.baseline === 'docker-default'
      ? resolveSeccomp({ baseline: 'docker-default', allow: s.seccomp.declaredAllow, deny: s.seccomp.declaredDeny, enosys: s.seccomp.enosys }, capAdd)
      : s.seccomp,
  }));
}

/** The candidate's model for `what`. */
export function candidateModel(model: StackModel, service: string, what: What, items: Iterable<string>): StackModel {
  if (what === 'files') throw new Error('file candidates are images, not models (files-backend.ts)');
  return what === 'syscalls' ? withSyscalls(model, service, items) : withCaps(model, service, items);
}

/** compose.yaml and the seccomp profiles of a model, as the compiler emits them. */
export function runArtifacts(model: StackModel, specDirFromOut: string): Artifact[] {
  return emitStack(model, specDirFromOut).filter((a) => a.path === 'compose.yaml' || a.path.startsWith('seccomp/'));
}
