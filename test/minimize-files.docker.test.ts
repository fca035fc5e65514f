// `hardspec minimize --what files` on the real engine: web's strip list, padded with files nginx
// and wget never need (wget's translations, its info page, its wgetrc, which the healthcheck's
// --no-config skips), is reduced to a list whose stripped image passes the functional interactions: one
// run of the full image records the files nginx and the healthcheck name (eBPF), the recorded
// files are run alone, and confirmed once. The padding is gone; the spec is rewritten with --write, and
// `hardspec strip` builds the image of the result.
// By hand: hardspec minimize guestbook --service web --what files --write
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMain } from '../compiler/src/cli/main.ts';
import { chromiumAvailable, dockerAvailable, editFrontmatter, REPO } from './fixtures/verify-support/engine.ts';

async function cli(args: string[], cwd: string) {
  let out = '';
  const write = (s: string) => { out += s; return true; };
  const code = await runMain(args, { stdout: { write }, stderr: { write }, cwd, env: { ...process.env, NO_COLOR: '1' } });
  return { code, out };
}

const PADDING = ['/usr/share/locale/de/LC_MESSAGES/wget.mo', '/usr/share/locale/fr/LC_MESSAGES/wget.mo', '/usr/share/info/wget.info.gz', '/etc/wgetrc'];

describe.skipIf(!dockerAvailable || !chromiumAvailable)('hardspec minimize --what files (real engine)', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'hardspec-minimize-files-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('drops what no interaction needs, keeps a working image, and writes the list into the spec', { timeout: 1_200_000 }, async () => {
    cpSync(path.join(REPO, 'specs/guestbook'), path.join(work, 'specs/guestbook'), { recursive: true });
    editFrontmatter(path.join(work, 'specs/guestbook/web.md'), (d) => {
      const strip = d.strip as { packages: string[]; files: string[]; target?: string };
      // wget as single files (its package has 170 translations), plus padding nothing needs.
      strip.packages = ['nginx'];
      strip.files = [...strip.files, '/usr/bin/wget', ...PADDING];
      strip.target = 'hardspec/guestbook-web:test-files-stripped';
    });
    expect((await cli(['compile', 'specs', '--out', 'generated'], work)).code).toBe(0);
    const r = await cli(['minimize', 'guestbook', '--service', 'web', '--what', 'files', '--confirm', '1', '--write', '--no-build'], work);
    expect(r.code, r.out).toBe(0);
    const report = JSON.parse(readFileSync(path.join(work, 'generated/guestbook/minimize/web-files.json'), 'utf8'));
    expect(report.what).toBe('files');
    expect(report.confirmation.confirmed).toBe(true);
    // The recording named nginx's configuration, the stylesheet and the healthcheck's wget, and
    // nothing of the padding; record + the recorded set + 1 confirmation (each builds an image;
    // three confirmations are asserted by the syscalls test), unless the recorded set failed and
    // group tests had to add files back.
    expect(report.recorder.kind).toBe('bpftrace');
    expect(report.recorded.seed).toEqual(expect.arrayContaining(['/etc/nginx/nginx.conf', '/srv/guestbook/static/style.css', '/usr/bin/wget', '/usr/sbin/nginx']));
    for (const p of PADDING) expect(report.recorded.seed, p).not.toContain(p);
    expect(report.runs.total - report.runs.errors, r.out).toBeLessThanOrEqual(report.result.addedAfterRecording.length ? 20 : 3);
    const spec = readFileSync(path.join(work, 'specs/guestbook/web.md'), 'utf8');
    for (const p of PADDING) expect(spec, p).not.toContain(p);
    expect(spec).toMatch(/\/usr\/bin\/wget|nginx/);

    // The written spec strips to an image that holds what the recording named and none of the
    // padding, by the SBOM strip writes (the interactions ran on the result's list in the
    // confirmation; verify --stripped on the committed lists is strip.docker.test.ts's).
    const strip = await cli(['strip', 'guestbook', '--out', 'generated', '--service', 'web', '--no-build'], work);
    expect(strip.code, strip.out).toBe(0);
    const sbom = JSON.parse(readFileSync(path.join(work, 'generated/guestbook/images/web.spdx.json'), 'utf8')) as { files: { fileName: string }[] };
    const inImage = new Set(sbom.files.map((f) => f.fileName.replace(/^\./, '')));
    for (const p of ['/etc/nginx/nginx.conf', '/srv/guestbook/static/style.css', '/usr/bin/wget', '/usr/sbin/nginx']) expect(inImage.has(p), p).toBe(true);
    for (const p of PADDING) expect(inImage.has(p), p).toBe(false);
  });
});
