// Stripped images on the real engine. By hand:
//   hardspec compile && hardspec strip guestbook && hardspec verify guestbook --stripped
//
// 1. `hardspec strip` builds a FROM-scratch image per service from its strip list, with the full
//    image's entrypoint, command and user; the image has no shell (running /bin/sh in it fails),
//    its SBOM and size report are written, and stripping again gives the same image id.
// 2. `hardspec verify --stripped` passes every interaction on the stripped stack, and each
//    stripped image's own check.
// 3. A strip list missing a needed library (php without pdo_mysql.so of php8.2-mysql, which PHP
//    loads at start; dropped whether the list names the package or the file) fails verify with
//    the interactions that need the database, and PHP's log says which library.
// 4. A strip list naming a file the image does not have stops `hardspec strip` before anything is
//    built.
// Everything is compiled into temporary folders, so the committed generated/ is not touched.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../compiler/src/cli/main.ts';
import { validateSpdxShape } from '../compiler/src/strip/spdx.ts';
import { chromiumAvailable, dockerAvailable, editFrontmatter, readJson, REPO, verifyInProcess, type EvidenceInteraction } from './fixtures/verify-support/engine.ts';

async function cli(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runMain(args, { stdout: { write: (s: string) => { stdout += s; return true; } }, stderr: { write: (s: string) => { stderr += s; return true; } }, cwd, env: { ...process.env, NO_COLOR: '1' } });
  return { code, stdout, stderr };
}

const docker = (...args: string[]) => spawnSync('docker', args, { encoding: 'utf8', timeout: 120_000 });
const inspect = (image: string) => JSON.parse(docker('image', 'inspect', image).stdout)[0] as { Id: string; Size: number; Config: Record<string, unknown> };
const SERVICES = ['db', 'php', 'web'];

/** A copy of specs/guestbook (on its own free port when asked), compiled into <work>/generated. */
async function copyOfGuestbook(edit: (stackDir: string) => void = () => {}): Promise<string> {
  const work = mkdtempSync(path.join(tmpdir(), 'hardspec-strip-'));
  cpSync(path.join(REPO, 'specs/guestbook'), path.join(work, 'specs/guestbook'), { recursive: true });
  edit(path.join(work, 'specs/guestbook'));
  const r = await cli(['compile', 'specs', '--out', 'generated'], work);
  expect(r.code, r.stderr).toBe(0);
  return work;
}

describe.skipIf(!dockerAvailable || !chromiumAvailable)('hardspec strip and verify --stripped (real engine)', () => {
  let work: string;
  let strip: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    work = await copyOfGuestbook();
    strip = await cli(['strip', 'guestbook', '--out', 'generated', '--json'], work);
  }, 900_000);
  afterAll(() => { if (work) rmSync(work, { recursive: true, force: true }); });

  it('builds one stripped image per service, smaller than the full one, with its SBOM and size report', () => {
    expect(strip.code, strip.stderr).toBe(0);
    const summary = JSON.parse(strip.stdout) as { service: string; image: string; bytes: number; fullBytes: number }[];
    expect(summary.map((s) => s.service)).toEqual(SERVICES);
    for (const s of summary) {
      expect(s.image).toBe(`hardspec/guestbook-${s.service}:dev-stripped`);
      expect(s.bytes).toBeLessThan(s.fullBytes);
      const size = readJson(path.join(work, 'generated/guestbook/images', `${s.service}.size.json`)) as { stripped: { id: string; files: number }; removed: { reason: string; files: number }[]; kept: { path: string; reason: string }[] };
      expect(size.stripped.id).toBe(inspect(s.image).Id);
      expect(size.removed.reduce((n, g) => n + g.files, 0)).toBeGreaterThan(size.stripped.files);
      const sbom = readJson(path.join(work, 'generated/guestbook/images', `${s.service}.spdx.json`));
      expect(validateSpdxShape(sbom)).toEqual([]);
      expect(sbom.spdxVersion).toBe('SPDX-2.3');
    }
  });

  it('keeps the full image\'s entrypoint, command, user and health check, and has no shell to run', () => {
    for (const s of SERVICES) {
      const full = inspect(`hardspec/guestbook-${s}:dev`).Config;
      const stripped = inspect(`hardspec/guestbook-${s}:dev-stripped`).Config;
      for (const k of ['Entrypoint', 'Cmd', 'User', 'Healthcheck', 'WorkingDir', 'StopSignal']) expect(stripped[k], `${s} ${k}`).toEqual(full[k]);
      expect((stripped.Labels as Record<string, string>)['io.hardspec.stripped-from']).toBe(`hardspec/guestbook-${s}:dev`);
      const sh = docker('run', '--rm', '--network', 'none', '--entrypoint', '/bin/sh', `hardspec/guestbook-${s}:dev-stripped`, '-c', 'true');
      expect(sh.status, `${s}: /bin/sh ran in the stripped image`).not.toBe(0);
      expect(sh.stderr).toMatch(/no such file or directory/i);
      const full_ = docker('run', '--rm', '--network', 'none', '--entrypoint', '/bin/sh', `hardspec/guestbook-${s}:dev`, '-c', 'true');
      expect(full_.status, `${s}: the full image has a shell (the control)`).toBe(0);
    }
  });

  it('gives the same image id when stripping the same image again', async () => {
    const before = inspect('hardspec/guestbook-web:dev-stripped').Id;
    const again = await cli(['strip', 'guestbook', '--out', 'generated', '--service', 'web', '--no-build'], work);
    expect(again.code, again.stderr).toBe(0);
    expect(inspect('hardspec/guestbook-web:dev-stripped').Id).toBe(before);
  }, 300_000);

  it('verify --stripped passes every interaction and every stripped-image check', async () => {
    const evidenceDir = path.join(work, 'evidence');
    const run = await verifyInProcess(['guestbook', '--specs', 'specs', '--out', 'generated', '--stripped', '--no-build', '--evidence-dir', evidenceDir], process.env, work);
    const evidence = readJson(path.join(evidenceDir, 'latest.json'));
    const interactions = evidence.interactions as EvidenceInteraction[];
    const failed = interactions.filter((i) => i.status === 'failed').map((i) => `${i.id}: ${i.problems?.join('; ')}`);
    expect(failed).toEqual([]);
    expect(run.code, run.stderr).toBe(0);
    expect(interactions.filter((i) => i.id.endsWith('.auto.stripped')).map((i) => [i.id, i.status])).toEqual(SERVICES.map((s) => [`${s}.auto.stripped`, 'passed']));
    expect((evidence.images as { image: string }[]).map((i) => i.image).sort()).toEqual(SERVICES.map((s) => `hardspec/guestbook-${s}:dev-stripped`));
    expect(interactions.filter((i) => i.origin === 'spec' && i.status === 'passed').length).toBeGreaterThan(20);
  }, 900_000);
});

describe.skipIf(!dockerAvailable || !chromiumAvailable)('stripped images with a broken strip list (real engine)', () => {
  const target = 'hardspec/guestbook-php:test-missing-library-stripped';
  let work: string | undefined;
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
    docker('image', 'rm', '-f', target, 'hardspec/guestbook-web:test-missing-file-stripped');
  });

  it("a php without php8.2-mysql's pdo_mysql.so fails exactly the interactions that need the database, and the log names pdo_mysql", async () => {
    const port = 18080 + Math.floor(Math.random() * 1000);
    work = await copyOfGuestbook((dir) => {
      editFrontmatter(path.join(dir, 'php.md'), (d) => {
        const strip = d.strip as { packages: string[]; files: string[]; target?: string };
        const before = strip.packages.length + strip.files.length;
        strip.packages = strip.packages.filter((p) => p !== 'php8.2-mysql');
        strip.files = strip.files.filter((f) => !f.endsWith('/pdo_mysql.so'));
        expect(strip.packages.length + strip.files.length).toBe(before - 1);
        strip.target = target;
      });
      editFrontmatter(path.join(dir, 'web.md'), (d) => { for (const p of d.ports as { host: number }[]) if (p.host === 8080) p.host = port; });
      const stack = path.join(dir, 'stack.md');
      editFrontmatter(stack, (d) => { d.interactions = JSON.parse(JSON.stringify(d.interactions).split('127.0.0.1:8080').join(`127.0.0.1:${port}`)); });
    });
    const evidenceDir = path.join(work, 'evidence');
    const run = await verifyInProcess(['guestbook', '--specs', 'specs', '--out', 'generated', '--stripped', '--no-build', '--evidence-dir', evidenceDir], process.env, work);
    expect(run.code).toBe(1);
    const interactions = (readJson(path.join(evidenceDir, 'latest.json')).interactions as EvidenceInteraction[]);
    const failed = interactions.filter((i) => i.status === 'failed').map((i) => i.id);
    expect(failed).toContain('entries-from-database');
    expect(failed).toContain('form-post-stored');
    expect(failed.every((id) => !id.includes('.auto.'))).toBe(true);
    const tail = interactions.find((i) => i.id === 'entries-from-database')!.logTail ?? {};
    expect(tail.php ?? '').toMatch(/pdo_mysql/);
    expect(interactions.find((i) => i.id === 'php.auto.stripped')?.status).toBe('passed');
    expect(size(work, 'php').removed.some((g) => g.reason.startsWith('package php8.2-mysql') && g.paths.includes('/usr/lib/php/20220829/pdo_mysql.so'))).toBe(true);
  }, 900_000);

  it('a strip list naming a file the image does not have stops strip before anything is built', async () => {
    const w = await copyOfGuestbook((dir) => editFrontmatter(path.join(dir, 'web.md'), (d) => {
      const strip = d.strip as { files: string[]; target?: string };
      strip.files.push('/etc/nginx/not-there.conf');
      strip.target = 'hardspec/guestbook-web:test-missing-file-stripped';
    }));
    try {
      const r = await cli(['strip', 'guestbook', '--out', 'generated', '--service', 'web', '--no-build'], w);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('web: strip.files lists /etc/nginx/not-there.conf, which is not in the image');
      expect(r.stderr).toContain('nothing was built or written');
      expect(docker('image', 'inspect', 'hardspec/guestbook-web:test-missing-file-stripped').status).not.toBe(0);
      expect(existsSync(path.join(w, 'generated/guestbook/images'))).toBe(false);
    } finally {
      rmSync(w, { recursive: true, force: true });
    }
  }, 300_000);
});

function size(work: string, service: string): { removed: { reason: string; paths: string[] }[] } {
  return JSON.parse(readFileSync(path.join(work, 'generated/guestbook/images', `${service}.size.json`), 'utf8'));
}
