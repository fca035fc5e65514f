// Golden tests for the compiler's output. Each folder test/fixtures/compile-<name>/ holds specs/
// (one or more stacks) and expected/<stack>/…, the files `hardspec compile` generates for them,
// compared byte for byte. UPDATE_GOLDEN=1 regenerates expected/ (through the real writer); review
// the diff. The guestbook is not copied into a fixture: its committed output, generated/guestbook/,
// is compared with a fresh compile of specs/guestbook/ instead, so CI fails when recompiling would
// change it.
import { existsSync, readdirSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../compiler/src/cli/main.ts';
import { COMPILER_OWNED } from '../compiler/src/emit/artifact.ts';
import { findStackDirs, readStack } from '../compiler/src/io/read-specs.ts';
import { writeStacks } from '../compiler/src/io/write-artifacts.ts';
import { compile, type StackInput } from '../compiler/src/pipeline.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures');
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const fixtures = readdirSync(FIXTURES).filter((n) => n.startsWith('compile-')).sort();

/** Reads every stack of `specsDir` as the CLI does, with the output folder `outDir`. */
async function readInputs(specsDir: string, outDir: string, cwd: string): Promise<StackInput[]> {
  const dirs = await findStackDirs(specsDir);
  return Promise.all(dirs.map((d) => readStack(d, outDir, cwd)));
}

/** Compiles and returns every generated file as "<stack>/<path>" → content; fails on any diagnostic. */
function compileToFiles(inputs: readonly StackInput[]): Map<string, string> {
  const result = compile(inputs);
  expect(result.diagnostics, 'the fixture must compile without errors or warnings').toEqual([]);
  const files = new Map<string, string>();
  for (const s of result.stacks) for (const a of s.artifacts) files.set(`${s.name}/${a.path}`, a.content);
  return files;
}

/** Every file below `dir`, as relative path → content (only the compiler-owned entries if asked). */
async function readTree(dir: string, ownedOnly = false): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const rel = path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/');
    const [, entry] = rel.split('/');
    if (ownedOnly && !(COMPILER_OWNED as readonly string[]).includes(entry ?? '')) continue;
    files.set(rel, await readFile(path.join(dir, rel), 'utf8'));
  }
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** A deterministic shuffle (a fixed-seed LCG), so a failure can be reproduced. */
function shuffled<T>(list: readonly T[], seed: number): T[] {
  const out = [...list];
  let x = seed;
  for (let i = out.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const j = x % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('golden compile fixtures (test/fixtures/compile-*)', () => {
  it('has the fixtures (an empty set fails instead of passing)', () => {
    expect(fixtures).toEqual(expect.arrayContaining(['compile-minimal', 'compile-full', 'compile-crlf-bom']));
  });

  describe.each(fixtures)('%s', (name) => {
    const dir = path.join(FIXTURES, name);
    const expectedDir = path.join(dir, 'expected');

    it('compiles to expected/ byte for byte', async () => {
      const inputs = await readInputs(path.join(dir, 'specs'), expectedDir, dir);
      if (UPDATE) {
        await rm(expectedDir, { recursive: true, force: true });
        await writeStacks(expectedDir, compile(inputs).stacks);
      }
      const actual = compileToFiles(inputs);
      const expected = await readTree(expectedDir);
      expect([...actual.keys()].sort()).toEqual([...expected.keys()]);
      for (const [file, content] of expected) expect(actual.get(file), file).toBe(content);
    });

    it('compiling twice, and with the input files and stacks in another order, gives identical bytes', async () => {
      const inputs = await readInputs(path.join(dir, 'specs'), expectedDir, dir);
      const first = compileToFiles(inputs);
      expect(compileToFiles(await readInputs(path.join(dir, 'specs'), expectedDir, dir))).toEqual(first);
      for (const seed of [1, 2, 3]) {
        const reordered = shuffled(inputs, seed).map((s) => ({ ...s, files: shuffled(s.files, seed) }));
        expect(compileToFiles(reordered)).toEqual(first);
      }
      const reversed = [...inputs].reverse().map((s) => ({ ...s, files: [...s.files].reverse() }));
      expect(compileToFiles(reversed)).toEqual(first);
    });
  });

  it('stacks compiled together give the same bytes as compiled alone, in any order', async () => {
    const read = (n: string) => readInputs(path.join(FIXTURES, n, 'specs'), path.join(FIXTURES, n, 'expected'), path.join(FIXTURES, n));
    const [full, minimal] = [await read('compile-full'), await read('compile-minimal')];
    const alone = new Map([...compileToFiles(full), ...compileToFiles(minimal)]);
    expect(compileToFiles([...full, ...minimal])).toEqual(alone);
    expect(compileToFiles([...minimal, ...full])).toEqual(alone);
  });
});

describe('CRLF line endings and a UTF-8 BOM (compile-crlf-bom, the twin of compile-minimal)', () => {
  const twin = path.join(FIXTURES, 'compile-crlf-bom');
  const plain = path.join(FIXTURES, 'compile-minimal');

  it('the twin really has CRLF and a BOM (git did not normalise it) and is otherwise the same text', async () => {
    for (const file of ['stack.md', 'web.md']) {
      const twinBytes = await readFile(path.join(twin, 'specs/demo', file));
      const plainBytes = await readFile(path.join(plain, 'specs/demo', file));
      expect(twinBytes.includes('\r\n'), file).toBe(true);
      const normalised = twinBytes.toString('utf8').replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
      expect(normalised, file).toBe(plainBytes.toString('utf8'));
    }
    expect([...(await readFile(path.join(twin, 'specs/demo/web.md'))).subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  });

  it('compiles to the same artifacts as its plain twin; only the spec hashes in manifest.json differ', async () => {
    const a = compileToFiles(await readInputs(path.join(twin, 'specs'), path.join(twin, 'expected'), twin));
    const b = compileToFiles(await readInputs(path.join(plain, 'specs'), path.join(plain, 'expected'), plain));
    expect([...a.keys()]).toEqual([...b.keys()]);
    for (const [file, content] of a) {
      if (file === 'demo/manifest.json') continue;
      expect(content, file).toBe(b.get(file));
    }
    type Manifest = { specs: { path: string; sha256: string }[] };
    const [ma, mb] = [JSON.parse(a.get('demo/manifest.json')!) as Manifest, JSON.parse(b.get('demo/manifest.json')!) as Manifest];
    for (const [x, y] of ma.specs.map((s, i) => [s, mb.specs[i]!] as const)) {
      expect(x.path).toBe(y.path);
      expect(x.sha256, `${x.path}: the hash is of the bytes as written`).not.toBe(y.sha256);
    }
    const blank = (m: Manifest) => ({ ...m, specs: m.specs.map((s) => ({ ...s, sha256: '' })) });
    expect(blank(ma)).toEqual(blank(mb));
  });
});

describe('the committed generated/ folder', () => {
  it('equals a fresh compile of specs/ (run `hardspec compile` and commit when this fails)', async () => {
    const generated = path.join(ROOT, 'generated');
    const fresh = compileToFiles(await readInputs(path.join(ROOT, 'specs'), generated, ROOT));
    expect(fresh.size).toBeGreaterThan(0);
    const committed = await readTree(generated, true);
    expect([...committed.keys()]).toEqual([...fresh.keys()].sort());
    for (const [file, content] of fresh) expect(committed.get(file), `generated/${file}`).toBe(content);
  });
});

describe('the writer', () => {
  let tmp: string;
  beforeAll(async () => { tmp = await mkdtemp(path.join(tmpdir(), 'hardspec-writer-')); });
  afterAll(async () => { await rm(tmp, { recursive: true, force: true }); });

  async function cli(argv: string[], cwd: string): Promise<number> {
    const sink = { write: () => true, isTTY: false };
    return runMain(argv, { stdout: sink, stderr: sink, cwd, env: {} });
  }

  const worker = `---
hardspec: 1
kind: service
image:
  name: example/worker:1
user: "1000:1000"
selinux:
  type: demo_worker_t
strip:
  files: [/usr/bin/worker]
---
# Worker
`;

  it('keeps entries it does not own (evidence/, secrets/), removes stale owned files, leaves no staging folders', async () => {
    await cp(path.join(FIXTURES, 'compile-minimal', 'specs'), path.join(tmp, 'specs'), { recursive: true });
    await writeFile(path.join(tmp, 'specs/demo/worker.md'), worker);
    expect(await cli(['compile', 'specs', '--out', 'generated'], tmp)).toBe(0);
    const out = path.join(tmp, 'generated/demo');
    const withWorker = await readTree(out);
    for (const f of ['seccomp/worker.json', 'strip/worker.json', 'strip/worker.strip-cmd', 'selinux/demo_worker.te', 'compose.stripped.yaml']) {
      expect(withWorker.has(f), f).toBe(true);
    }

    // Files the compiler does not own: evidence of a verification run, a generated secret.
    await mkdir(path.join(out, 'evidence'), { recursive: true });
    await mkdir(path.join(out, 'secrets'), { recursive: true });
    await writeFile(path.join(out, 'evidence/x.json'), '{"kept": true}\n');
    await writeFile(path.join(out, 'secrets/y'), 'not-a-real-secret\n');

    await rm(path.join(tmp, 'specs/demo/worker.md'));
    expect(await cli(['compile', 'specs', '--out', 'generated'], tmp)).toBe(0);
    const after = await readTree(out);
    expect(after.get('evidence/x.json')).toBe('{"kept": true}\n');
    expect(after.get('secrets/y')).toBe('not-a-real-secret\n');
    expect([...after.keys()].filter((f) => f.includes('worker'))).toEqual([]);
    // What is left of the owned entries is exactly a fresh compile of the remaining spec.
    const expected = await readTree(path.join(FIXTURES, 'compile-minimal', 'expected', 'demo'));
    const owned = new Map([...after].filter(([f]) => !f.startsWith('evidence/') && !f.startsWith('secrets/')));
    expect([...owned.keys()]).toEqual([...expected.keys()]);
    expect((await readdir(path.join(tmp, 'generated'))).sort()).toEqual(['demo']);
  });

  it('compiling the same specs twice through the CLI leaves identical bytes', async () => {
    const specs = path.join(FIXTURES, 'compile-full');
    const [a, b] = [path.join(tmp, 'twice-a'), path.join(tmp, 'twice-b')];
    expect(await cli(['compile', 'specs', '--out', a], specs)).toBe(0);
    expect(await cli(['compile', 'specs', '--out', a], specs)).toBe(0);
    expect(await cli(['compile', 'specs', '--out', b], specs)).toBe(0);
    expect(await readTree(a)).toEqual(await readTree(b));
    expect(existsSync(path.join(a, 'shop', 'compose.yaml'))).toBe(true);
  });
});
