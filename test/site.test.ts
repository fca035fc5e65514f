// The evidence site, built from test/fixtures/site-demo/ and driven in Debian's Chromium:
//   demo    evidence current, with passed, failed and not-verifiable results and a screenshot;
//           its web.md is the Docker-defaults comparison fixture (counts in its header comment)
//   legacy  evidence stale: it records an older app.md
//   fresh   no evidence at all
// The site is built once (beforeAll) into a temporary folder, served on 127.0.0.1 and crawled.
// Screenshots of each page type, desktop and phone, are kept in test-results/site/.
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findStackDirs, readStack } from '../compiler/src/io/read-specs.ts';
import { compile, type CompiledStack } from '../compiler/src/pipeline.ts';
import { readEvidence, type EvidenceRecord } from '../compiler/src/site/evidence-record.ts';
import { hashesNow } from '../compiler/src/site/site-data.ts';
import { buildSite, serveStatic, type StaticServer } from './site-harness.ts';

const FIXTURE = path.resolve(import.meta.dirname, 'fixtures/site-demo');
const SHOTS = path.resolve(import.meta.dirname, '../test-results/site');
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const PAGE_TYPES = {
  home: '/',
  stack: '/stacks/demo/',
  service: '/stacks/demo/services/web/',
  evidence: '/stacks/demo/evidence/',
  reference: '/reference/',
  'stale-stack': '/stacks/legacy/',
} as const;

let work: string;
let out: string;
let compiled: readonly CompiledStack[];
let demoEvidence: EvidenceRecord;
let server: StaticServer;
let browser: Browser;

/** Compiles the fixture specs as the site does (in memory). */
async function compileFixture(specs: string): Promise<readonly CompiledStack[]> {
  const dirs = await findStackDirs(specs);
  const result = compile(await Promise.all(dirs.map((d) => readStack(d, path.join(work, 'generated'), work))));
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.stacks;
}

/**
 * Re-records demo's spec and artifact hashes from a fresh compile, as a verification of the current
 * specs would: the fixture states "this evidence is current", whatever the emitters now write.
 */
async function recordCurrentHashes(stack: CompiledStack, file: string): Promise<EvidenceRecord> {
  const doc = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  const now = hashesNow(stack.model, stack.artifacts);
  doc.specs = [...now.specs].sort((a, b) => (a.path < b.path ? -1 : 1));
  doc.artifacts = now.artifacts.filter((a) => a.path !== 'manifest.json');
  const text = `${JSON.stringify(doc, null, 2)}\n`;
  await writeFile(file, text);
  const read = readEvidence(text);
  if ('problem' in read) throw new Error(`fixture evidence: ${read.problem}`);
  return read.evidence;
}

async function newPage(viewport = { width: 1280, height: 900 }): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport, javaScriptEnabled: true });
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  // ERR_ABORTED is the browser cancelling a request when the test moves on to the next page (a
  // lazy screenshot still loading under load), not a failure of the site; 4xx/5xx are caught below.
  page.on('requestfailed', (r) => { if (r.failure()?.errorText !== 'net::ERR_ABORTED') errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`); });
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`); });
  return { page, errors };
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'hardspec-site-'));
  await cp(FIXTURE, work, { recursive: true });
  compiled = await compileFixture(path.join(work, 'specs'));
  demoEvidence = await recordCurrentHashes(compiled.find((s) => s.name === 'demo')!, path.join(work, 'generated/demo/evidence/latest.json'));
  out = path.join(work, 'dist');
  await buildSite({ specs: path.join(work, 'specs'), generated: path.join(work, 'generated'), out });
  server = await serveStatic(out);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  await rm(SHOTS, { recursive: true, force: true });
  await mkdir(SHOTS, { recursive: true });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the built site', () => {
  it('has every page type and no client JavaScript', async () => {
    const files = (await readdir(out, { recursive: true })).map((f) => f.split(path.sep).join('/'));
    for (const p of Object.values(PAGE_TYPES)) expect(files).toContain(`${p.slice(1)}index.html`);
    expect(files).toContain('404.html');
    expect(files.filter((f) => /\.(m?js)$/.test(f))).toEqual([]);
    for (const f of files.filter((x) => x.endsWith('.html'))) {
      expect(await readFile(path.join(out, f), 'utf8'), f).not.toMatch(/<script/i);
    }
  });

  it('loads every page without console errors, and every internal link resolves', async () => {
    const { page, errors } = await newPage();
    const seen = new Set<string>();
    const queue = ['/'];
    const resources = new Set<string>();
    const fragments: { from: string; page: string; id: string }[] = [];
    const ids = new Map<string, Set<string>>();
    while (queue.length) {
      const p = queue.shift()!;
      if (seen.has(p)) continue;
      seen.add(p);
      const response = await page.goto(server.url + p);
      expect(response?.status(), p).toBe(200);
      ids.set(p, new Set(await page.$$eval('[id]', (els) => els.map((e) => e.id))));
      const refs = await page.$$eval('a[href], img[src], link[href]', (els) => els.map((e) => e.getAttribute('href') ?? e.getAttribute('src') ?? ''));
      for (const ref of refs) {
        const u = new URL(ref, server.url + p);
        if (u.origin !== server.url) continue;
        if (u.hash && u.hash !== '#') fragments.push({ from: p, page: u.pathname, id: decodeURIComponent(u.hash.slice(1)) });
        if (u.pathname.endsWith('/') || u.pathname.endsWith('.html')) queue.push(u.pathname);
        else resources.add(u.pathname);
      }
    }
    expect(errors).toEqual([]);
    // Every page the build wrote is reachable from the home page (404.html aside).
    const built = (await readdir(out, { recursive: true })).map((f) => `/${f.split(path.sep).join('/')}`).filter((f) => f.endsWith('/index.html') || f === '/index.html');
    expect([...seen].sort()).toEqual(built.map((f) => f.replace(/index\.html$/, '')).sort());
    for (const r of resources) {
      const res = await fetch(server.url + r, { method: 'HEAD' });
      expect(res.status, r).toBe(200);
    }
    for (const f of fragments) expect(ids.get(f.page)?.has(f.id), `${f.from} → ${f.page}#${f.id}`).toBe(true);
    await page.close();
  });

  it('shows exactly the statuses of the fixture evidence in the interactions table', async () => {
    const { page } = await newPage();
    await page.goto(`${server.url}/stacks/demo/`);
    const rows = await page.$$eval('table.interactions tr[data-interaction]', (trs) => trs.map((tr) => ({
      id: tr.getAttribute('data-interaction'),
      status: tr.getAttribute('data-status'),
      text: tr.querySelector('.status')?.textContent?.trim(),
      group: tr.closest('tbody')?.getAttribute('data-group'),
    })));
    const expected = demoEvidence.interactions.map((i) => ({ id: i.id, status: i.status }));
    expect(rows.map(({ id, status }) => ({ id, status })).sort((a, b) => (a.id! < b.id! ? -1 : 1))).toEqual(expected.sort((a, b) => (a.id < b.id ? -1 : 1)));
    const LABEL = { passed: '✓passed', failed: '✗failed', 'not-verifiable': '?not verifiable', skipped: '–skipped' };
    for (const r of rows) expect(r.text).toBe(LABEL[r.status as keyof typeof LABEL]);
    // Grouped by service: stack.md's interactions first, then each service's, automatic ones with their service.
    expect([...new Set(rows.map((r) => r.group))]).toEqual(['stack', 'web', 'worker']);
    expect(rows.find((r) => r.id === 'web.auto.caps')?.group).toBe('web');
    const statuses = new Set(rows.map((r) => r.status));
    expect(statuses).toEqual(new Set(['passed', 'failed', 'not-verifiable']));

    // The evidence page holds what was observed; the failure carries its problem and log tail.
    await page.goto(`${server.url}/stacks/demo/evidence/#i-web-config`);
    const failed = page.locator('#i-web-config');
    expect(await failed.getAttribute('data-status')).toBe('failed');
    expect(await failed.textContent()).toContain('unknown directive "server_tokens_off"');
    expect(await failed.textContent()).toContain('Why it failed');
    expect(await page.locator('#i-web-selinux-type').textContent()).toContain('this host has no SELinux');

    // The home page counts the same results.
    await page.goto(`${server.url}/`);
    const card = page.locator('[data-stack="demo"]');
    const counts = Object.fromEntries(await Promise.all(['passed', 'failed', 'not-verifiable'].map(async (s) => [s, Number(await card.locator(`[data-count="${s}"]`).textContent())])));
    expect(counts).toEqual({ passed: demoEvidence.summary.passed, failed: demoEvidence.summary.failed, 'not-verifiable': demoEvidence.summary.notVerifiable });
    expect(counts).toEqual({ passed: 7, failed: 1, 'not-verifiable': 1 });
    await page.close();
  });

  it('says plainly when evidence is stale or missing', async () => {
    const { page } = await newPage();
    await page.goto(`${server.url}/`);
    expect(await page.locator('[data-stack="demo"]').getAttribute('data-evidence')).toBe('current');
    expect(await page.locator('[data-stack="legacy"]').getAttribute('data-evidence')).toBe('stale');
    expect(await page.locator('[data-stack="fresh"]').getAttribute('data-evidence')).toBe('missing');

    await page.goto(`${server.url}/stacks/legacy/`);
    const notice = page.locator('[data-evidence="stale"]');
    expect(await notice.locator('h2').textContent()).toContain('Stale evidence');
    expect(await notice.textContent()).toMatch(/spec\s+app\.md\s+changed/);
    const staleRows = await page.$$eval('tr[data-interaction] .status', (els) => els.map((e) => [e.getAttribute('data-stale'), e.textContent?.trim()]));
    expect(staleRows.length).toBe(2);
    for (const [stale, text] of staleRows) {
      expect(stale).toBe('true');
      expect(text).toMatch(/\(stale\)$/);
    }

    await page.goto(`${server.url}/stacks/fresh/`);
    expect(await page.locator('[data-evidence="missing"] h2').textContent()).toBe('Not verified: there is no evidence for this stack');
    await page.close();
  });

  it('compares the fixture service with Docker\'s defaults with the right counts', async () => {
    const { page } = await newPage();
    await page.goto(`${server.url}/stacks/demo/services/web/`);
    const count = async (name: string) => Number(await page.locator(`[data-comparison="web"] [data-count="${name}"]`).textContent());
    // test/fixtures/site-demo/specs/demo/web.md: caps NET_BIND_SERVICE (one of Docker's 14) and
    // NET_ADMIN (not); 20 syscalls, all but mount in Docker 20.10.24's default profile, which allows
    // 292 names on x86_64 ∪ aarch64 to a container with Docker's default capabilities.
    expect({
      capsDocker: await count('caps-docker'), capsKept: await count('caps-kept'), capsRemoved: await count('caps-removed'), capsAdded: await count('caps-added'),
      sysDocker: await count('syscalls-docker'), sysAllowed: await count('syscalls-allowed'), sysKept: await count('syscalls-kept'), sysAdded: await count('syscalls-added'), sysRemoved: await count('syscalls-removed'),
    }).toEqual({ capsDocker: 14, capsKept: 1, capsRemoved: 13, capsAdded: 1, sysDocker: 292, sysAllowed: 20, sysKept: 19, sysAdded: 1, sysRemoved: 273 });
    expect(await page.$$eval('[data-list="syscalls-added"] li', (els) => els.map((e) => e.textContent))).toEqual(['mount']);
    expect(await page.locator('[data-comparison="web"] [data-row="read-only"] [data-value]').getAttribute('data-value')).toBe('true');
    expect(await page.locator('[data-comparison="web"] [data-row="user"] [data-value]').getAttribute('data-value')).toBe('33:33');
    expect(await page.locator('[data-comparison="web"] [data-row="no-new-privileges"] [data-value]').getAttribute('data-value')).toBe('true');
    // The stripped image, from test/fixtures/site-demo/generated/demo/images/web.size.json.
    const stripped = await page.locator('#stripped + table').textContent();
    expect(stripped).toContain('19.7 MB instead of 137.9 MB: 7× smaller');
    expect(stripped).toContain('223 of 7251 kept, from 1 Debian packages');
    expect(stripped).not.toContain('another image or target');
    for (const f of ['images/web.size.json', 'images/web.spdx.json']) {
      const res = await fetch(`${server.url}/stacks/demo/files/${f}`);
      expect(await res.text(), f).toBe(await readFile(path.join(FIXTURE, 'generated/demo', f), 'utf8'));
    }
    await page.goto(`${server.url}/stacks/demo/services/worker/`);
    expect(await page.locator('#stripped + p').textContent()).toContain('No stripped image of worker yet');
    await page.close();
  });

  it('renders the spec\'s prose section by section and none of its markup', async () => {
    const { page } = await newPage();
    await page.goto(`${server.url}/stacks/demo/services/web/`);
    expect(await page.$$eval('#rationale ~ .prose section[data-section]', (els) => els.map((e) => e.getAttribute('data-section')))).toEqual(['', 'Capabilities', 'Seccomp', 'A subsection', 'Untrusted markup']);
    expect(await page.locator('.prose strong', { hasText: 'traffic shaping' }).count()).toBe(1);
    expect(await page.title()).not.toContain('pwned');
    expect(await page.locator('a[href^="javascript:"], [onerror]').count()).toBe(0);
    await page.close();
  });

  it('offers downloads that are the compiled artifacts and the evidence, byte for byte', async () => {
    const demo = compiled.find((s) => s.name === 'demo')!;
    for (const a of demo.artifacts) {
      const res = await fetch(`${server.url}/stacks/demo/files/${a.path}`);
      expect(await res.text(), a.path).toBe(a.content);
    }
    const evidence = await fetch(`${server.url}/stacks/demo/files/evidence/latest.json`);
    expect(await evidence.text()).toBe(await readFile(path.join(work, 'generated/demo/evidence/latest.json'), 'utf8'));
    const shot = await fetch(`${server.url}/stacks/demo/files/evidence/screenshots/form-in-browser.png`);
    expect(Buffer.from(await shot.arrayBuffer()).equals(await readFile(path.join(FIXTURE, 'generated/demo/evidence/screenshots/form-in-browser.png')))).toBe(true);
    // Every artifact shown on the service page is highlighted by Shiki and has its download link.
    const { page } = await newPage();
    await page.goto(`${server.url}/stacks/demo/services/web/`);
    const shown = await page.$$eval('section.artifact', (els) => els.map((e) => ({ download: e.querySelector('a[download]')?.getAttribute('href'), highlighted: !!e.querySelector('pre.astro-code span[style]') })));
    expect(shown.map((s) => s.download)).toEqual(['compose.yaml', 'seccomp/web.json', 'selinux/demo_web.fc', 'selinux/demo_web.if', 'selinux/demo_web.te'].map((p) => `/stacks/demo/files/${p}`));
    expect(shown.every((s) => s.highlighted)).toBe(true);
    await page.close();
  });

  it('is readable on a phone, and a screenshot of each page type is kept', async () => {
    for (const [viewport, suffix] of [[{ width: 1280, height: 900 }, 'desktop'], [{ width: 390, height: 844 }, 'phone']] as const) {
      const { page, errors } = await newPage(viewport);
      for (const [type, p] of Object.entries(PAGE_TYPES)) {
        await page.goto(server.url + p);
        // Wide tables and code scroll inside their own boxes; the page itself never scrolls sideways.
        expect(await page.evaluate(() => document.documentElement.scrollWidth), `${type} at ${viewport.width}px`).toBeLessThanOrEqual(viewport.width);
        await page.screenshot({ path: path.join(SHOTS, `${type}-${suffix}.png`), fullPage: true });
      }
      expect(errors).toEqual([]);
      await page.close();
    }
  });

  it('has no serious or critical accessibility violations (axe-core)', async () => {
    const axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    const { page } = await newPage();
    const found: string[] = [];
    for (const [type, p] of Object.entries(PAGE_TYPES)) {
      await page.goto(server.url + p);
      await page.addScriptTag({ content: axeSource });
      const violations = await page.evaluate(async () => {
        const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
        const result = await axe.run(document, { resultTypes: ['violations'] });
        return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)) }));
      });
      for (const v of violations.filter((x) => x.impact === 'serious' || x.impact === 'critical')) found.push(`${type}: ${v.impact} ${v.id} (${v.help}) at ${v.targets.join(', ')}`);
    }
    expect(found).toEqual([]);
    await page.close();
  });
});
