/**
 * Finds stacks on disk and reads their spec files. A folder holding stack.md is one stack; any
 * other folder is a folder of stacks (each sub-folder with `.md` files is one). Only the `.md`
 * files directly inside a stack folder are specs: the team's Dockerfiles and code live below.
 */
import { open, readdir, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import { MAX_SPEC_BYTES, type SourceFile } from '../parse/spec-file.ts';
import type { StackInput } from '../pipeline.ts';

export class UsageError extends Error {}

export const toPosix = (p: string) => p.split(path.sep).join('/');

/** Path for people: relative to cwd when inside it, with forward slashes. */
export function displayPath(cwd: string, p: string): string {
  const rel = path.relative(cwd, p);
  return toPosix(rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p);
}

export async function findStackDirs(specsDir: string): Promise<string[]> {
  const st = await stat(specsDir).catch(() => undefined);
  if (!st?.isDirectory()) throw new UsageError(`${specsDir} is not a folder`);
  if (await isFile(path.join(specsDir, 'stack.md'))) return [specsDir];
  const entries = await readdir(specsDir, { withFileTypes: true });
  const dirs: string[] = [];
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    const inner = await readdir(path.join(specsDir, e.name), { withFileTypes: true });
    if (inner.some((f) => f.isFile() && f.name.endsWith('.md'))) dirs.push(path.join(specsDir, e.name));
  }
  return dirs;
}

/** Reads one stack folder's spec files (at most MAX_SPEC_BYTES + 1 bytes each). */
export async function readStack(stackDir: string, outDir: string, cwd: string): Promise<StackInput> {
  const name = path.basename(path.resolve(stackDir));
  const entries = await readdir(stackDir, { withFileTypes: true });
  const files: SourceFile[] = [];
  for (const e of entries) {
    if (!e.name.endsWith('.md') || e.isDirectory()) continue;
    const full = path.join(stackDir, e.name);
    try {
      files.push({ path: displayPath(cwd, full), bytes: await readLimited(full) });
    } catch (e) {
      files.push({ path: displayPath(cwd, full), bytes: new Uint8Array(), readError: await describeReadError(full, e) });
    }
  }
  const outStack = path.join(outDir, name);
  return {
    name,
    dir: displayPath(cwd, stackDir),
    specDirFromOut: toPosix(path.relative(path.resolve(outStack), path.resolve(stackDir))),
    files,
  };
}

async function readLimited(file: string): Promise<Uint8Array> {
  let handle;
  try {
    handle = await open(file, 'r');
    const buffer = Buffer.alloc(MAX_SPEC_BYTES + 1);
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, total, buffer.length - total, total);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total === buffer.length) break;
    }
    return new Uint8Array(buffer.subarray(0, total));
  } finally {
    await handle?.close();
  }
}

/** Why a spec could not be read, in words (errno codes alone mean little to most people). */
async function describeReadError(file: string, e: unknown): Promise<string> {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') {
    const target = await readlink(file).catch(() => undefined);
    return target === undefined ? 'it no longer exists' : `it is a symbolic link to ${JSON.stringify(target)}, which does not exist`;
  }
  const reasons: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    ELOOP: 'it is a loop of symbolic links',
    EISDIR: 'it is a folder, not a file',
  };
  return (code && reasons[code]) ?? code ?? String(e);
}

async function isFile(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isFile() ?? false;
}
