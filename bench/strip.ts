/**
 * `npm run bench:strip`: for each guestbook service, the full and stripped image sizes (as Docker
 * reports them), the ratio, files kept and removed, the time `hardspec strip` takes, and the
 * issue's targets (each stripped image at least 5× smaller than its full image, web under 50 MB,
 * db under 60 MB). Appends to bench/results/strip-<date>.txt.
 *
 *   npm run bench:strip -- [--date YYYY-MM-DD]
 *
 * Needs root and the Docker engine; the full images are built first when missing. The file-list
 * search (`minimize --what files`) and its comparison with one run per file-list entry are not
 * built yet: the figures for them are printed as "not measured".
 */
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, hostname, release, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMain } from '../compiler/src/cli/main.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const at = process.argv.indexOf('--date');
const date = at >= 0 && process.argv[at + 1] ? process.argv[at + 1]! : new Date().toISOString().slice(0, 10);
mkdirSync(path.join(REPO, 'bench/results'), { recursive: true });
const outFile = path.join(REPO, 'bench/results', `strip-${date}.txt`);
const say = (line: string) => { process.stdout.write(`${line}\n`); appendFileSync(outFile, `${line}\n`); };

const work = mkdtempSync(path.join(tmpdir(), 'hardspec-bench-strip-'));
const io = (sink: string[]) => ({ stdout: { write: (s: string) => { sink.push(s); return true; } }, stderr: { write: (s: string) => { sink.push(s); return true; } }, cwd: REPO, env: { ...process.env, NO_COLOR: '1' } });
try {
  const log: string[] = [];
  if (await runMain(['compile', 'specs', '--out', work], io(log)) !== 0) throw new Error(`compile failed:\n${log.join('')}`);
  // Full images present (built by compose when missing), then timed stripping of all services.
  if (await runMain(['strip', 'guestbook', '--out', work], io(log)) !== 0) throw new Error(`strip failed:\n${log.join('')}`);
  const started = Date.now();
  const timed: string[] = [];
  if (await runMain(['strip', 'guestbook', '--out', work, '--no-build'], io(timed)) !== 0) throw new Error(`strip failed:\n${timed.join('')}`);
  const wallMs = Date.now() - started;

  say(`# hardspec bench:strip — ${new Date().toISOString()}`);
  say(`# machine: ${hostname()}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}`);
  say(`# hardspec strip guestbook (3 services, images present): ${(wallMs / 1000).toFixed(1)} s`);
  say('# service  full MB  stripped MB  ratio  files kept / full  target');
  const targets: Record<string, number> = { web: 50e6, db: 60e6 };
  for (const s of ['web', 'php', 'db']) {
    const r = JSON.parse(readFileSync(path.join(work, 'guestbook/images', `${s}.size.json`), 'utf8'));
    const ratio = r.full.bytes / r.stripped.bytes;
    const limit = targets[s];
    const verdicts = [`5× ${ratio >= 5 ? 'met' : 'NOT met'}`, ...(limit ? [`< ${limit / 1e6} MB ${r.stripped.bytes < limit ? 'met' : 'NOT met'}`] : [])];
    say(`  ${s.padEnd(7)} ${(r.full.bytes / 1e6).toFixed(1).padStart(7)}  ${(r.stripped.bytes / 1e6).toFixed(1).padStart(11)}  ${ratio.toFixed(2).padStart(5)}×  ${String(r.stripped.files).padStart(5)} / ${String(r.full.files).padEnd(6)} ${verdicts.join(', ')}`);
  }
  say('# file-list search (minimize --what files) vs one run per file-list entry: not measured (not built yet)');
} finally {
  rmSync(work, { recursive: true, force: true });
}
