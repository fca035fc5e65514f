/**
 * The only code that writes compiler output. All or nothing: every stack is written into a
 * temporary folder beside its destination first; only when every file is written are the
 * compiler-owned entries of generated/<stack>/ swapped in (old ones moved aside, then removed).
 * Anything else in generated/<stack>/ (evidence/, minimize/, images/, secrets/) is never touched.
 */
import { mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { COMPILER_OWNED } from '../emit/artifact.ts';
import type { CompiledStack } from '../pipeline.ts';

export async function writeStacks(outDir: string, stacks: readonly CompiledStack[]): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const staging = await mkdtemp(path.join(outDir, '.hardspec-staging-'));
  try {
    for (const stack of stacks) {
      for (const a of stack.artifacts) {
        if (a.path.includes('..') || path.isAbsolute(a.path)) throw new Error(`refusing to write outside the output folder: ${a.path}`);
        const target = path.join(staging, stack.name, a.path);
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, a.content, { mode: 0o644 });
      }
    }
    const written: string[] = [];
    for (const stack of stacks) {
      await swapOwned(path.join(staging, stack.name), path.join(outDir, stack.name));
      written.push(path.join(outDir, stack.name));
    }
    return written;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function swapOwned(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  const backup = path.join(path.dirname(from), `.old-${path.basename(to)}`);
  await mkdir(backup, { recursive: true });
  const moved: string[] = [];
  try {
    for (const entry of COMPILER_OWNED) {
      if (await exists(path.join(to, entry))) {
        await rename(path.join(to, entry), path.join(backup, entry));
        moved.push(entry);
      }
    }
    for (const entry of COMPILER_OWNED) {
      if (await exists(path.join(from, entry))) await rename(path.join(from, entry), path.join(to, entry));
    }
  } catch (e) {
    // Put the previous output back so a failed write leaves the folder as it was.
    for (const entry of COMPILER_OWNED) await rm(path.join(to, entry), { recursive: true, force: true });
    for (const entry of moved) await rename(path.join(backup, entry), path.join(to, entry));
    throw e;
  }
}

async function exists(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined)) !== undefined;
}
