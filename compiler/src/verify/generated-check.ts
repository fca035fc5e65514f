/**
 * Is generated/<stack>/ what the compiler makes of the specs now? Every artifact compiled in
 * memory must be on disk byte for byte, and the compiler-owned folders must hold nothing else.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { COMPILER_OWNED, type Artifact } from '../emit/artifact.ts';

async function filesBelow(dir: string, rel = ''): Promise<string[]> {
  const entries = await readdir(path.join(dir, rel), { withFileTypes: true }).catch(() => []);
  const out: string[] = [];
  for (const e of entries) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await filesBelow(dir, p)));
    else out.push(p);
  }
  return out;
}

/** Paths (relative to generated/<stack>/) that are missing, differ, or should not be there; empty: up to date. */
export async function staleArtifacts(outStackDir: string, artifacts: readonly Artifact[]): Promise<string[]> {
  const stale: string[] = [];
  for (const a of artifacts) {
    const onDisk = await readFile(path.join(outStackDir, a.path)).catch(() => undefined);
    if (!onDisk) stale.push(`${a.path} (missing)`);
    else if (!onDisk.equals(Buffer.from(a.content, 'utf8'))) stale.push(`${a.path} (differs)`);
  }
  const expected = new Set(artifacts.map((a) => a.path));
  for (const owned of COMPILER_OWNED) {
    for (const f of await filesBelow(outStackDir, owned)) if (!expected.has(f)) stale.push(`${f} (not produced by the specs)`);
  }
  return stale;
}
