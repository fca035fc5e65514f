// The diagnostics corpus. Each folder test/fixtures/invalid-<name>/ (and warn-<name>/ for specs
// that are valid but get a warning) holds one small stack under specs/ and expected.errors.txt:
// the exact text `hardspec check specs` prints, run from that folder, without colour. The offending
// spec says its intent in a comment at its top. UPDATE_GOLDEN=1 rewrites the expected files; review
// the diff. A few inputs git cannot hold nicely (a newline in a file name, a file over the size
// limit) are made here, in a temporary folder, with their expected text inline.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../compiler/src/cli/main.ts';
import { CATALOGUE } from '../compiler/src/diagnostics/catalogue.ts';
import { MAX_SPEC_BYTES } from '../compiler/src/parse/spec-file.ts';

const FIXTURES = path.join(import.meta.dirname, 'fixtures');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

const fixtures = readdirSync(FIXTURES).filter((n) => /^(invalid|warn)-/.test(n)).sort();
const invalid = fixtures.filter((n) => n.startsWith('invalid-'));

interface Run { code: number; text: string; stdout: string }

/** Runs the CLI in-process; `text` is stdout and stderr interleaved as a terminal shows them. */
async function cli(argv: string[], cwd: string): Promise<Run> {
  let text = '';
  let stdout = '';
  const code = await runMain(argv, {
    stdout: { write: (s: string) => { stdout += s; text += s; return true; }, isTTY: false },
    stderr: { write: (s: string) => { text += s; return true; }, isTTY: false },
    cwd,
    env: {},
  });
  return { code, text, stdout };
}

interface JsonDiagnostic { file: string; line: number; column: number; severity: string; code: string; message: string; hint: string }

/** Every file and folder below `dir` with its bytes (folders as ''), for "nothing changed" checks. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!existsSync(dir)) return out;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(e.parentPath, e.name);
    out.set(path.relative(dir, full), e.isDirectory() ? '' : await readFile(full, 'latin1'));
  }
  return out;
}

const codesIn = (text: string) => [...text.matchAll(/^\S.*?:\d+:\d+: (?:error|warning) (HS\d{4}):/gm)].map((m) => m[1]!);

describe('diagnostics corpus (test/fixtures/invalid-*, warn-*)', () => {
  it('has the fixtures (an empty set fails instead of passing)', () => {
    expect(invalid.length).toBeGreaterThanOrEqual(40);
    expect(fixtures.length).toBeGreaterThan(invalid.length);
  });

  describe.each(fixtures)('%s', (name) => {
    const dir = path.join(FIXTURES, name);
    const expectedFile = path.join(dir, 'expected.errors.txt');
    const isInvalid = name.startsWith('invalid-');

    it('`hardspec check` prints expected.errors.txt, exit 1 (invalid) or 0 (warnings only)', async () => {
      const r = await cli(['check', 'specs'], dir);
      if (UPDATE) writeFileSync(expectedFile, r.text);
      expect(r.text).toBe(readFileSync(expectedFile, 'utf8'));
      expect(r.code).toBe(isInvalid ? 1 : 0);
      expect(codesIn(r.text).length).toBeGreaterThan(0);
      if (!isInvalid) expect(r.text).not.toMatch(/: error HS/);
    });

    it('--json gives the same diagnostics, each with file, line, column and code, sorted', async () => {
      const r = await cli(['check', 'specs', '--json'], dir);
      expect(r.code).toBe(isInvalid ? 1 : 0);
      const json = JSON.parse(r.stdout) as { ok: boolean; diagnostics: JsonDiagnostic[] };
      expect(json.ok).toBe(!isInvalid);
      const text = readFileSync(expectedFile, 'utf8');
      expect(json.diagnostics.map((d) => d.code)).toEqual(codesIn(text));
      for (const d of json.diagnostics) {
        expect(d.file).toMatch(/^specs(\/|$)/);
        expect(Number.isInteger(d.line) && d.line >= 1).toBe(true);
        expect(Number.isInteger(d.column) && d.column >= 1).toBe(true);
        expect(CATALOGUE.has(d.code as never)).toBe(true);
        expect(d.message.length).toBeGreaterThan(0);
      }
      const key = (d: JsonDiagnostic) => [d.file, d.line, d.column, d.code] as const;
      const sorted = [...json.diagnostics].sort((a, b) => {
        const [x, y] = [key(a), key(b)];
        return x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] - y[1] || x[2] - y[2] || (x[3] < y[3] ? -1 : x[3] > y[3] ? 1 : 0);
      });
      expect(json.diagnostics).toEqual(sorted);
    });

    if (isInvalid) it('`hardspec compile` writes nothing: no new output folder, an old one unchanged', async () => {
      const tmp = await mkdtemp(path.join(tmpdir(), 'hardspec-diag-'));
      try {
        const fresh = path.join(tmp, 'fresh');
        expect((await cli(['compile', 'specs', '--out', fresh], dir)).code).toBe(1);
        expect(existsSync(fresh)).toBe(false);

        const old = path.join(tmp, 'old');
        await mkdir(path.join(old, 'demo', 'seccomp'), { recursive: true });
        await writeFile(path.join(old, 'demo', 'compose.yaml'), '# previous output\n');
        await writeFile(path.join(old, 'demo', 'seccomp', 'web.json'), '{}\n');
        const before = await snapshot(old);
        expect((await cli(['compile', 'specs', '--out', old], dir)).code).toBe(1);
        expect(await snapshot(old)).toEqual(before);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    });
  });
});

// Expected text of the inputs made at run time (below); the coverage test reads these too.
const RUNTIME_EXPECTED = {
  oversized: [
    'specs/demo/web.md:1:1: error HS1002: the file is larger than the limit of 262144 bytes (256 KiB)',
    '  hint: split the reasoning into shorter sections or check that this is the right file',
    '1 error, 0 warnings; nothing was written',
    '',
  ].join('\n'),
  newlineFile: [
    'specs/demo/web\\n.md:1:1: error HS1014: the file name "web\\n.md" holds unsafe characters',
    '  hint: rename the file to lowercase letters, digits and dashes, ending in .md',
    '1 error, 0 warnings; nothing was written',
    '',
  ].join('\n'),
  newlineFolder: [
    'specs/demo\\nrm -rf:1:1: error HS1014: the stack folder name "demo\\nrm -rf" holds unsafe characters',
    '  hint: rename the folder to lowercase letters, digits and dashes',
    '1 error, 0 warnings; nothing was written',
    '',
  ].join('\n'),
};

// Inputs made at run time. Each writes a stack into a temporary folder and states its expected text.
describe('diagnostics for inputs made at run time', () => {
  let tmp: string;
  beforeAll(async () => { tmp = await mkdtemp(path.join(tmpdir(), 'hardspec-diag-rt-')); });
  afterAll(async () => { await rm(tmp, { recursive: true, force: true }); });

  const stackMd = '---\nhardspec: 1\nkind: stack\n---\n# Demo\n';
  const webMd = '---\nhardspec: 1\nkind: service\nimage:\n  name: example/web:1\nuser: "33:33"\n---\n# Web\n';

  /** Makes <tmp>/<name>/specs/<stack>/ with the given files; returns the case folder. */
  async function makeCase(name: string, stack: string, files: Record<string, string | Uint8Array>): Promise<string> {
    const dir = path.join(tmp, name);
    await mkdir(path.join(dir, 'specs', stack), { recursive: true });
    for (const [file, content] of Object.entries(files)) await writeFile(path.join(dir, 'specs', stack, file), content);
    return dir;
  }

  async function expectCheck(dir: string, expected: string): Promise<void> {
    const r = await cli(['check', 'specs'], dir);
    expect(r.text).toBe(expected);
    expect(r.code).toBe(1);
    // And compile writes nothing.
    expect((await cli(['compile', 'specs', '--out', 'out'], dir)).code).toBe(1);
    expect(existsSync(path.join(dir, 'out'))).toBe(false);
  }

  it(`a spec over the size limit (${MAX_SPEC_BYTES} bytes = 256 KiB) is refused (HS1002)`, async () => {
    expect(MAX_SPEC_BYTES).toBe(256 * 1024);
    const body = '\nThis reasoning goes on and on.\n';
    const big = webMd + body.repeat(Math.ceil(MAX_SPEC_BYTES / body.length));
    const dir = await makeCase('oversized', 'demo', { 'stack.md': stackMd, 'web.md': big.slice(0, MAX_SPEC_BYTES + 1) });
    await expectCheck(dir, RUNTIME_EXPECTED.oversized);
  });

  it('a spec of exactly the size limit is accepted', async () => {
    const pad = '\nFiller.'.repeat(MAX_SPEC_BYTES);
    const exact = (webMd + pad).slice(0, MAX_SPEC_BYTES);
    expect(Buffer.byteLength(exact)).toBe(MAX_SPEC_BYTES);
    const dir = await makeCase('exact-limit', 'demo', { 'stack.md': stackMd, 'web.md': exact });
    const r = await cli(['check', 'specs'], dir);
    expect(r.text).toBe('demo: 1 service(s) valid\n');
    expect(r.code).toBe(0);
  });

  it('a newline in a spec file name is refused, and shown escaped on one line (HS1014)', async () => {
    const dir = await makeCase('newline-file', 'demo', { 'stack.md': stackMd, 'web\n.md': webMd });
    await expectCheck(dir, RUNTIME_EXPECTED.newlineFile);
  });

  it('a newline in a stack folder name is refused, and shown escaped on one line (HS1014)', async () => {
    const dir = await makeCase('newline-folder', 'demo\nrm -rf', { 'stack.md': stackMd, 'web.md': webMd });
    await expectCheck(dir, RUNTIME_EXPECTED.newlineFolder);
  });

  it('a terminal escape sequence in a file name is not sent to the terminal (HS1014)', async () => {
    const dir = await makeCase('escape-file', 'demo', { 'stack.md': stackMd, 'web\u001b[2J.md': webMd });
    const r = await cli(['check', 'specs'], dir);
    expect(r.text).not.toContain('\u001b');
    expect(r.text).toContain('specs/demo/web\\u001b[2J.md:1:1: error HS1014:');
  });
});

describe('diagnostic catalogue coverage', () => {
  it('every code in the catalogue (except HS4xxx: internal checks of generated output) has a fixture', () => {
    const seen = new Set([
      ...fixtures.flatMap((n) => codesIn(readFileSync(path.join(FIXTURES, n, 'expected.errors.txt'), 'utf8'))),
      ...Object.values(RUNTIME_EXPECTED).flatMap(codesIn),
    ]);
    const wanted = [...CATALOGUE.keys()].filter((c) => !c.startsWith('HS4'));
    const missing = wanted.filter((c) => !seen.has(c));
    expect(missing, `codes without a fixture: ${missing.join(', ')}`).toEqual([]);
  });

  it('every fixture folder holds specs/ and expected.errors.txt, and nothing unexpected', async () => {
    for (const name of fixtures) {
      const entries = (await readdir(path.join(FIXTURES, name))).sort();
      expect(entries, name).toEqual(['expected.errors.txt', 'specs']);
      expect((await stat(path.join(FIXTURES, name, 'specs'))).isDirectory(), name).toBe(true);
    }
  });
});
