/** `file`: a file in the running container, read through the archive API, is byte for byte the stack folder's. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256 } from '../../emit/manifest.ts';
import type { FileCheck } from '../../model/types.ts';
import { outcome, type CheckContext, type CheckOutcome } from './types.ts';

export async function runFileCheck(check: FileCheck, ctx: CheckContext): Promise<CheckOutcome> {
  const expected = await readFile(path.join(ctx.stackDir, check.sameAs));
  const problems: string[] = [];
  const observed: Record<string, unknown> = { path: check.path, sameAs: check.sameAs, specSha256: sha256(expected), specBytes: expected.length };
  try {
    const actual = await ctx.engine.readFile(check.service, check.path);
    observed.containerSha256 = sha256(actual);
    observed.containerBytes = actual.length;
    if (!actual.equals(expected)) problems.push(`${check.path} in ${check.service} differs from ${check.sameAs} (${actual.length} vs ${expected.length} bytes)`);
  } catch (e) {
    observed.error = (e as Error).message;
    problems.push(`cannot read ${check.path} in ${check.service}: ${(e as Error).message}`);
  }
  return outcome(problems, ['archive'], observed);
}
