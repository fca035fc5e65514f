/**
 * manifest.json: for each artifact, the spec files it came from with their sha256, the artifact's
 * own sha256, and the compiler version. JSON artifacts cannot carry a header comment; this is
 * their provenance. The verifier compares these hashes to tell stale evidence from current.
 */
import { createHash } from 'node:crypto';
import type { StackModel } from '../model/types.ts';
import { COMPILER_VERSION } from '../version.ts';
import type { Artifact } from './artifact.ts';

export const sha256 = (s: string | Uint8Array) => createHash('sha256').update(s).digest('hex');

/** Sorts by path, by code point (the same on every locale). */
const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** The stack's spec files with their sha256, sorted by path (manifest.json's `specs`). */
export function specFiles(stack: Pick<StackModel, 'source' | 'services'>): { path: string; sha256: string }[] {
  return [stack.source, ...stack.services.map((s) => s.source)]
    .map((s) => ({ path: s.relPath, sha256: s.sha256 }))
    .sort(byPath);
}

export function emitManifest(stack: StackModel, artifacts: readonly Artifact[]): Artifact {
  const manifest = {
    generator: { name: 'hardspec', version: COMPILER_VERSION },
    stack: stack.name,
    specs: specFiles(stack),
    artifacts: [...artifacts]
      .sort(byPath)
      .map((a) => ({
        path: a.path,
        sha256: sha256(a.content),
        sources: a.sources.map((s) => s.relPath).sort(),
      })),
  };
  return { path: 'manifest.json', content: `${JSON.stringify(manifest, null, 2)}\n`, sources: [] };
}
