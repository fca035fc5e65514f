/**
 * Stack secrets for a run: generated once into generated/<stack>/secrets/<name> (folder 0700, file
 * 0444 so the container user can read its bind mount, random base64url, written atomically; the
 * folder is git-ignored), and the Scrubber that keeps every secret out of evidence, logs and
 * console output.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { StackModel } from '../model/types.ts';

export const SECRET_MARK = '[secret]';

export interface SecretFile {
  readonly name: string;
  readonly path: string;
  readonly created: boolean;
}

/** Ensures every `generate` secret exists; returns the files and the values (for the Scrubber only). */
export async function ensureSecrets(stack: StackModel, outStackDir: string): Promise<{ files: SecretFile[]; values: string[] }> {
  const dir = path.join(outStackDir, 'secrets');
  const files: SecretFile[] = [];
  const values: string[] = [];
  for (const s of stack.secrets) {
    const file = path.join(dir, s.name);
    let created = false;
    if (!(await isNonEmptyFile(file))) {
      if (s.generateBytes <= 0) {
        throw Object.assign(new Error(`the secret ${s.name} has no file ${file} and is not generated: create it (mode 0444)`), { exitCode: 2 });
      }
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o700);
      const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      const handle = await open(tmp, 'wx', 0o600);
      try {
        await handle.writeFile(randomBytes(s.generateBytes).toString('base64url'));
        await handle.sync();
      } finally {
        await handle.close();
      }
      await chmod(tmp, 0o444);
      try {
        await rename(tmp, file);
      } catch (e) {
        await rm(tmp, { force: true });
        throw e;
      }
      created = true;
    }
    files.push({ name: s.name, path: file, created });
    values.push((await readFile(file, 'utf8')).replace(/[\r\n]+$/, ''));
  }
  return { files, values };
}

async function isNonEmptyFile(p: string): Promise<boolean> {
  const st = await stat(p).catch(() => undefined);
  return Boolean(st?.isFile() && st.size > 0);
}

/**
 * Replaces every secret value, and the forms in which it commonly leaks, with "[secret]":
 * the value itself, URL- and JSON-escaped, base64, and MariaDB/MySQL's native password hash
 * (`*` + SHA1(SHA1(value)), what SHOW GRANTS prints).
 */
export class Scrubber {
  private readonly needles: readonly string[];

  constructor(values: readonly string[]) {
    const set = new Set<string>();
    for (const v of values) {
      if (v.length < 4) continue; // too short to scrub without mangling ordinary text
      set.add(v);
      set.add(encodeURIComponent(v));
      set.add(JSON.stringify(v).slice(1, -1));
      set.add(Buffer.from(v).toString('base64').replace(/=+$/, ''));
      const native = createHash('sha1').update(createHash('sha1').update(v).digest()).digest('hex');
      set.add(`*${native.toUpperCase()}`);
      set.add(`*${native}`);
    }
    this.needles = [...set].sort((a, b) => b.length - a.length);
  }

  get active(): boolean {
    return this.needles.length > 0;
  }

  scrub(text: string): string {
    let out = text;
    for (const n of this.needles) if (out.includes(n)) out = out.split(n).join(SECRET_MARK);
    return out;
  }

  /** True when the text holds a secret in any form the Scrubber knows. */
  leaks(text: string): boolean {
    return this.needles.some((n) => text.includes(n));
  }

  /** A deep copy with every string (keys included) scrubbed. */
  scrubDeep<T>(value: T): T {
    if (typeof value === 'string') return this.scrub(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.scrubDeep(v)) as T;
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [this.scrub(k), this.scrubDeep(v)])) as T;
    }
    return value;
  }
}
