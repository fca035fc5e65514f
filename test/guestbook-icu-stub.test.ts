// The guestbook's php image replaces ICU's data library with a stub (specs/guestbook/php/icu-stubdata.c):
// built here exactly as its Dockerfile builds it, then read back. By hand:
//   cc -O2 -s -ffreestanding -shared -nostdlib -Wl,-soname,libicudata.so.72 -DICU_MAJOR=72 -o libicudata.so.72.1 icu-stubdata.c
//   readelf -d libicudata.so.72.1     # SONAME libicudata.so.72, no NEEDED
//   nm -D -S libicudata.so.72.1       # icudt72_dat, 0x38 bytes, read-only data
// That php-fpm runs on it is proven by the stack's verification (every interaction, full and stripped).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseElf } from '../compiler/src/strip/elf.ts';
import { REPO } from './fixtures/verify-support/engine.ts';

const dir = path.join(REPO, 'specs/guestbook/php');
const work = mkdtempSync(path.join(tmpdir(), 'hardspec-icu-stub-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The Dockerfile's `RUN cc …` command, continuation lines joined, as an argument list. */
function dockerfileCc(): string[] {
  const text = readFileSync(path.join(dir, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ');
  const line = text.split('\n').find((l) => /^RUN cc /.test(l));
  if (!line) throw new Error('no "RUN cc" line in specs/guestbook/php/Dockerfile');
  return line.slice('RUN '.length).trim().split(/\s+/);
}

describe('the ICU stub data library of the php image', () => {
  it('builds as the Dockerfile builds it: the soname, no dependency, the one entry point with an empty table of contents', () => {
    const [cc, ...args] = dockerfileCc();
    const major = /-DICU_MAJOR=(\d+)/.exec(args.join(' '))?.[1];
    expect(major).toBeDefined();
    // The Dockerfile installs it over the same version's library, and fails on another.
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toContain(`-name libicudata.so.${major}.1 -type f`);
    const out = path.join(work, `libicudata.so.${major}.1`);
    execFileSync(cc!, args.map((a) => a.replace(/^\/src\/icu-stubdata\.c$/, path.join(dir, 'icu-stubdata.c')).replace(/^\/src\//, `${work}/`)), { stdio: 'pipe' });
    const elf = parseElf(readFileSync(out));
    expect(elf?.type).toBe('dyn');
    expect(elf?.soname).toBe(`libicudata.so.${major}`);
    expect(elf?.needed).toEqual([]);
    const symbols = execFileSync('nm', ['-D', '--defined-only', '-S', out], { encoding: 'utf8' }).trim().split('\n').map((l) => l.split(/\s+/));
    expect(symbols).toEqual([[expect.any(String), '0000000000000038', 'R', `icudt${major}_dat`]]);
    // ICU's data header: size 32, magic da 27, a 20-byte info for "ToCP" version 1, then 0 entries.
    const bin = path.join(work, 'rodata.bin');
    execFileSync('objcopy', ['-O', 'binary', '--only-section=.rodata', out, bin]);
    const b = readFileSync(bin);
    expect(b.readUInt16LE(0)).toBe(32);
    expect([b[2], b[3]]).toEqual([0xda, 0x27]);
    expect(b.readUInt16LE(4)).toBe(20);
    expect(b.subarray(12, 16).toString('latin1')).toBe('ToCP');
    expect(b[16]).toBe(1);
    expect(b.readUInt32LE(32)).toBe(0);
  });
});
