// npm run bench:site — builds the evidence site (astro build, as `npm run site` does) for the
// guestbook and for a synthetic set of 1,000 services (100 stacks of 10, each with current evidence),
// and prints the build times and the bytes each page ships (its HTML plus the style sheets,
// scripts and images it loads), by page type. Targets: the 1,000-service site builds in under
// 60 s; no page ships more than 50 KB of JavaScript.
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findStackDirs, readStack } from '../compiler/src/io/read-specs.ts';
import { compile } from '../compiler/src/pipeline.ts';
import { hashesNow } from '../compiler/src/site/site-data.ts';
import { summarize } from '../compiler/src/verify/evidence.ts';
import type { InteractionResult } from '../compiler/src/verify/runner.ts';
import { buildSite } from '../test/site-harness.ts';
import { SERVICES_PER_STACK, serviceSpec, stackSpec } from './synthetic.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const STACKS = 100;
const JS_LIMIT = 50 * 1000;

/** Evidence as `hardspec verify` would write it for the specs as they are now: every result current. */
function evidenceFor(stack: ReturnType<typeof compile>['stacks'][number], s: number): string {
  const results: InteractionResult[] = [];
  for (const svc of stack.model.services) {
    for (const [k, it] of svc.interactions.entries()) {
      const status = (s + k) % 17 === 0 ? 'failed' : 'passed';
      results.push({
        id: it.id, description: it.description, reason: it.reason, service: svc.name, origin: 'spec', purpose: it.purpose, kind: it.check.kind,
        status, durationMs: 40 + k, method: [it.check.kind === 'http' ? 'http' : 'probe'], observed: { ok: status === 'passed' },
        ...(status === 'failed' ? { problems: ['synthetic failure'], logTail: { [svc.name]: 'line 1\nline 2\nline 3' } } : {}),
      });
    }
    results.push({
      id: `${svc.name}.auto.caps`, description: 'Every capability is dropped but the spec\'s.', reason: 'Capabilities are root\'s powers.', service: svc.name,
      origin: 'automatic', purpose: 'security', kind: 'auto', status: 'passed', durationMs: 9, method: ['docker-inspect'], observed: { capAdd: svc.capAdd },
    });
  }
  const now = hashesNow(stack.model, stack.artifacts);
  const doc = {
    format: 'hardspec-evidence', formatVersion: 1, stack: stack.name, runId: 'b0b0b0b0', project: `hardspec-${stack.name}-b0b0b0b0`,
    startedAt: '2026-11-29T12:00:00.000Z', finishedAt: '2026-11-29T12:01:00.000Z', result: 'passed', exitCode: 0, hardspec: { version: '0.1.0' },
    engine: { version: '20.10.24', apiVersion: '1.41', os: 'Debian GNU/Linux 12', kernel: '6.1.0', arch: 'x86_64', cgroupDriver: 'systemd', cgroupVersion: '2', securityOptions: [] },
    compose: { variant: 'v1', command: 'docker-compose', version: '1.29.2' }, host: { kernel: '6.1.0', arch: 'x86_64', selinux: false },
    images: [], specs: now.specs, artifacts: now.artifacts.filter((a) => a.path !== 'manifest.json'),
    timings: { buildMs: 1, upMs: 1, interactionsMs: 1, teardownMs: 1, totalMs: 4 }, summary: summarize(results), teardown: { remaining: 0, problems: [] },
    interactions: results.map((r) => ({ ...r, service: r.service ?? null })),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

async function writeSynthetic(dir: string): Promise<void> {
  const specs = path.join(dir, 'specs');
  for (let s = 0; s < STACKS; s++) {
    await mkdir(path.join(specs, `s${s}`), { recursive: true });
    await writeFile(path.join(specs, `s${s}`, 'stack.md'), stackSpec(s));
    for (let i = 0; i < SERVICES_PER_STACK; i++) await writeFile(path.join(specs, `s${s}`, `svc${i}.md`), serviceSpec(s, i));
  }
  const generated = path.join(dir, 'generated');
  const dirs = await findStackDirs(specs);
  const result = compile(await Promise.all(dirs.map((d) => readStack(d, generated, dir))));
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`synthetic specs have errors: ${errors[0]!.file}: ${errors[0]!.message}`);
  for (const stack of result.stacks) {
    const evidenceDir = path.join(generated, stack.name, 'evidence');
    await mkdir(evidenceDir, { recursive: true });
    await writeFile(path.join(evidenceDir, 'latest.json'), evidenceFor(stack, Number(stack.name.slice(1))));
  }
}

// ── Measuring what a page ships ─────────────────────────────────────────────────────────────

interface PageWeight { readonly page: string; readonly type: string; readonly html: number; readonly css: number; readonly js: number; readonly images: number }

function pageType(p: string): string {
  if (p === '/') return 'home';
  if (p === '/reference/') return 'reference';
  if (p === '/404.html') return '404';
  if (/^\/stacks\/[^/]+\/services\/[^/]+\/$/.test(p)) return 'service';
  if (/^\/stacks\/[^/]+\/evidence\/$/.test(p)) return 'evidence';
  if (/^\/stacks\/[^/]+\/$/.test(p)) return 'stack';
  return 'other';
}

async function pageWeights(dist: string): Promise<PageWeight[]> {
  const size = async (url: string) => (await stat(path.join(dist, decodeURIComponent(url.split('#')[0]!))).catch(() => undefined))?.size ?? 0;
  const pages = (await readdir(dist, { recursive: true })).map((f) => f.split(path.sep).join('/')).filter((f) => f.endsWith('.html'));
  const weights: PageWeight[] = [];
  for (const f of pages) {
    const html = await readFile(path.join(dist, f), 'utf8');
    const refs = (re: RegExp) => [...html.matchAll(re)].map((m) => m[1]!).filter((u) => u.startsWith('/'));
    const sum = async (urls: string[]) => (await Promise.all([...new Set(urls)].map(size))).reduce((a, b) => a + b, 0);
    const page = `/${f}`.replace(/index\.html$/, '');
    weights.push({
      page, type: pageType(page), html: Buffer.byteLength(html),
      css: await sum(refs(/<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"/g).concat(refs(/<link[^>]+href="([^"]+)"[^>]+rel="stylesheet"/g))),
      js: await sum(refs(/<script[^>]+src="([^"]+)"/g).concat(refs(/<link[^>]+rel="modulepreload"[^>]+href="([^"]+)"/g))) + [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].reduce((a, m) => a + Buffer.byteLength(m[1]!), 0),
      images: await sum(refs(/<img[^>]+src="([^"]+)"/g)),
    });
  }
  return weights;
}

const kb = (n: number) => `${(n / 1000).toFixed(1)} KB`;

function report(name: string, ms: number, weights: readonly PageWeight[], services: number): void {
  console.log(`\n${name}: ${services} services, ${weights.length} pages, built in ${(ms / 1000).toFixed(1)} s`);
  console.log('page type    pages   median total   largest total (page)                                 max JS');
  const types = [...new Set(weights.map((w) => w.type))].sort();
  for (const t of types) {
    const ws = weights.filter((w) => w.type === t).map((w) => ({ ...w, total: w.html + w.css + w.js + w.images })).sort((a, b) => a.total - b.total);
    const largest = ws[ws.length - 1]!;
    console.log(`${t.padEnd(11)} ${String(ws.length).padStart(6)}   ${kb(ws[Math.floor(ws.length / 2)]!.total).padStart(12)}   ${`${kb(largest.total)} (${largest.page})`.padEnd(52)} ${kb(Math.max(...ws.map((w) => w.js)))}`);
  }
}

const work = await mkdtemp(path.join(tmpdir(), 'hardspec-bench-site-'));
try {
  console.log(`hardspec bench:site — ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${process.arch}, astro build`);
  const guestbookOut = path.join(work, 'guestbook-dist');
  const guestbookMs = await buildSite({ specs: path.join(ROOT, 'specs'), generated: path.join(ROOT, 'generated'), out: guestbookOut });
  const guestbook = await pageWeights(guestbookOut);
  report('guestbook', guestbookMs, guestbook, guestbook.filter((w) => w.type === 'service').length);

  const synthetic = path.join(work, 'synthetic');
  const t0 = performance.now();
  await writeSynthetic(synthetic);
  const prepMs = performance.now() - t0;
  const syntheticOut = path.join(work, 'synthetic-dist');
  const syntheticMs = await buildSite({ specs: path.join(synthetic, 'specs'), generated: path.join(synthetic, 'generated'), out: syntheticOut });
  const weights = await pageWeights(syntheticOut);
  report(`synthetic (specs and evidence written in ${(prepMs / 1000).toFixed(1)} s, not counted)`, syntheticMs, weights, weights.filter((w) => w.type === 'service').length);

  const maxJs = Math.max(...guestbook.concat(weights).map((w) => w.js));
  console.log(`\ntarget: the 1,000-service site builds in under 60 s — ${syntheticMs < 60_000 ? 'met' : 'NOT met'} (${(syntheticMs / 1000).toFixed(1)} s)`);
  console.log(`target: no page ships more than 50 KB of JavaScript — ${maxJs <= JS_LIMIT ? 'met' : 'NOT met'} (largest: ${kb(maxJs)})`);
  if (syntheticMs >= 60_000 || maxJs > JS_LIMIT) process.exitCode = 1;
} finally {
  await rm(work, { recursive: true, force: true });
}
