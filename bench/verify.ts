/**
 * bench/verify.ts — wall time of `hardspec verify` on a stack (default: guestbook), cold and warm.
 *
 *   npx tsx bench/verify.ts [STACK] [--warm-only] [--runs N]
 *
 * Cold: the stack's own service images (the `image.name` of each spec, nothing else) are
 * removed first, so the run builds them; refused when any container still uses one of them.
 * Warm: images present, the default `verify` (compose build with cached layers). Prints the
 * phases of each run and every interaction's time as a table; the target for a warm run is < 60 s.
 * Evidence goes to a temporary folder, never into the committed tree.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileFromDisk } from '../compiler/src/cli/compile-command.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const WARM_TARGET_MS = 60_000;

interface Evidence {
  result: string;
  exitCode: number;
  timings: { buildMs: number; upMs: number; interactionsMs: number; teardownMs: number; totalMs: number };
  interactions: { id: string; status: string; durationMs: number }[];
}

interface Measured { label: string; wallMs: number; evidence: Evidence }

function args(): { stack: string; warmOnly: boolean; runs: number } {
  const a = process.argv.slice(2);
  const runsAt = a.indexOf('--runs');
  return {
    stack: a.find((x, i) => !x.startsWith('--') && a[i - 1] !== '--runs') ?? 'guestbook',
    warmOnly: a.includes('--warm-only'),
    runs: runsAt >= 0 ? Math.max(1, Number(a[runsAt + 1]) || 1) : 1,
  };
}

function docker(argv: string[]): { code: number | null; out: string } {
  const r = spawnSync('docker', argv, { encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

/** Runs the CLI as a person would; progress goes to this terminal's stderr, evidence JSON comes back on stdout. */
function verifyOnce(stack: string, label: string): Promise<Measured> {
  const evidenceDir = mkdtempSync(path.join(tmpdir(), 'hardspec-bench-verify-'));
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO, 'bin/hardspec.js'), 'verify', stack, '--json', '--evidence-dir', evidenceDir], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c; });
    child.once('close', (code) => {
      const wallMs = Date.now() - started;
      rmSync(evidenceDir, { recursive: true, force: true });
      try {
        const evidence = JSON.parse(out) as Evidence;
        if (code !== 0) process.stderr.write(`bench: the ${label} run exited ${code} (${evidence.result})\n`);
        resolve({ label, wallMs, evidence });
      } catch {
        reject(new Error(`the ${label} run exited ${code} without evidence`));
      }
    });
  });
}

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const pad = (t: string, n: number) => (t.length >= n ? t : t + ' '.repeat(n - t.length));
const padL = (t: string, n: number) => (t.length >= n ? t : ' '.repeat(n - t.length) + t);

function table(runs: readonly Measured[]): string {
  const w = 12;
  const head = `${pad('phase', 40)}${runs.map((r) => padL(r.label, w)).join('')}`;
  const row = (name: string, f: (m: Measured) => string) => `${pad(name, 40)}${runs.map((r) => padL(f(r), w)).join('')}`;
  const lines = [
    head,
    row('build (base + compose build)', (m) => s(m.evidence.timings.buildMs)),
    row('up (until every service healthy)', (m) => s(m.evidence.timings.upMs)),
    row('interactions + automatic checks', (m) => s(m.evidence.timings.interactionsMs)),
    row('teardown', (m) => s(m.evidence.timings.teardownMs)),
    row('total (wall, incl. compile+preflight)', (m) => s(m.wallMs)),
    row('result', (m) => `${m.evidence.result}`),
    '',
    `${pad('interaction', 40)}${runs.map((r) => padL(r.label, w)).join('')}`,
  ];
  const ids = runs[0]?.evidence.interactions.map((i) => i.id) ?? [];
  for (const id of ids) {
    lines.push(row(id, (m) => {
      const i = m.evidence.interactions.find((x) => x.id === id);
      return i ? `${i.durationMs} ms${i.status === 'passed' ? '' : ` ${i.status === 'not-verifiable' ? '?' : '✗'}`}` : '-';
    }));
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  const o = args();
  if (docker(['info']).code !== 0) { process.stderr.write('bench: the Docker engine does not answer (sudo scripts/setup-docker.sh)\n'); return 2; }
  const compiled = await compileFromDisk({ stdout: process.stdout, stderr: process.stderr, cwd: REPO, env: process.env }, `specs/${o.stack}`, 'generated', true);
  const model = compiled.stacks[0]?.model;
  if (!model) { process.stderr.write(`bench: specs/${o.stack} does not compile\n`); return 2; }
  const images = [...new Set(model.services.map((x) => x.image.name))].sort();
  const runs: Measured[] = [];

  if (!o.warmOnly) {
    for (const image of images) {
      const users = docker(['ps', '-a', '--filter', `ancestor=${image}`, '--format', '{{.Names}}']).out;
      if (users) { process.stderr.write(`bench: ${image} is used by container(s) ${users.split('\n').join(', ')}; not removing it (use --warm-only)\n`); return 2; }
    }
    for (const image of images) {
      const r = docker(['image', 'rm', image]);
      process.stderr.write(`bench: removed ${image}${r.code === 0 ? '' : ` (not present: ${r.out.split('\n')[0]})`}\n`);
    }
    runs.push(await verifyOnce(o.stack, 'cold'));
  }
  for (let i = 0; i < o.runs; i++) runs.push(await verifyOnce(o.stack, o.runs > 1 ? `warm ${i + 1}` : 'warm'));

  process.stdout.write(`\nhardspec verify ${o.stack}: ${images.join(', ')}\n\n${table(runs)}\n\n`);
  const warm = runs.filter((r) => r.label.startsWith('warm'));
  const worst = Math.max(...warm.map((r) => r.wallMs));
  process.stdout.write(`warm run: ${s(worst)} (target < ${s(WARM_TARGET_MS)}): ${worst < WARM_TARGET_MS ? 'ok' : 'over target'}\n`);
  return runs.every((r) => r.evidence.exitCode === 0) ? 0 : 1;
}

process.exitCode = await main();
