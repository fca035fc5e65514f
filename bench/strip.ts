/**
 * `npm run bench:strip`: for each guestbook service,
 *   - full and stripped image sizes (as Docker reports them) with the spec's strip list, the ratio,
 *     and the issue's targets (at least 5× smaller; web under 50 MB, db under 60 MB);
 *   - the file-list search (`minimize --what files`): container runs and wall time, against
 *     removing one entry per run (one run per entry of the expanded file list, plus the first
 *     run and the confirmations), and the sizes with the list it finds.
 * Appends to bench/results/strip-<date>.txt; the search reports go to bench/results/strip-<date>/.
 *
 *   npm run bench:strip -- [--services web,php,db] [--no-search] [--date YYYY-MM-DD]
 *
 * Needs root, the Docker engine and Chromium; works on a copy of specs/guestbook.
 */
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, release, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMain } from '../compiler/src/cli/main.ts';
import { formatDuration } from '../compiler/src/minimize/report.ts';
import { mb } from '../compiler/src/strip/format-size.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const arg = (name: string) => { const i = process.argv.indexOf(`--${name}`); return i >= 0 ? process.argv[i + 1] : undefined; };
const date = arg('date') ?? new Date().toISOString().slice(0, 10);
const services = (arg('services') ?? 'web,php,db').split(',');
const search = !process.argv.includes('--no-search');
const resultsDir = path.join(REPO, 'bench/results');
const reportsDir = path.join(resultsDir, `strip-${date}`);
mkdirSync(reportsDir, { recursive: true });
const outFile = path.join(resultsDir, `strip-${date}.txt`);
const say = (line: string) => { process.stdout.write(`${line}\n`); appendFileSync(outFile, `${line}\n`); };

const work = mkdtempSync(path.join(tmpdir(), 'hardspec-bench-strip-'));
cpSync(path.join(REPO, 'specs/guestbook'), path.join(work, 'specs/guestbook'), { recursive: true });
async function cli(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const write = (s: string) => { out += s; return true; };
  const code = await runMain(args, { stdout: { write }, stderr: { write }, cwd: work, env: { ...process.env, NO_COLOR: '1' } });
  return { code, out };
}
const must = async (args: string[]) => { const r = await cli(args); if (r.code !== 0) throw new Error(`hardspec ${args.join(' ')} exited ${r.code}:\n${r.out.slice(-3000)}`); return r; };
const size = (s: string) => JSON.parse(readFileSync(path.join(work, 'generated/guestbook/images', `${s}.size.json`), 'utf8'));
const TARGET_MB: Record<string, number> = { web: 50, db: 60 };
function verdicts(s: string, full: number, stripped: number): string {
  const ratio = full / stripped;
  const limit = TARGET_MB[s];
  return [`5×: ${ratio >= 5 ? 'met' : 'NOT met'}`, ...(limit ? [`< ${limit} MB: ${stripped < limit * 1e6 ? 'met' : 'NOT met'}`] : [])].join(', ');
}

try {
  await must(['compile', 'specs', '--out', 'generated']);
  say(`# hardspec bench:strip — ${new Date().toISOString()}`);
  say(`# machine: ${hostname()}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}`);
  const t0 = Date.now();
  await must(['strip', 'guestbook', '--out', 'generated']);
  say(`# hardspec strip guestbook (every service with a strip list; full images built first when missing): ${formatDuration(Date.now() - t0)}`);
  say('# with the spec\'s strip lists:');
  const before = new Map<string, { fullBytes: number; bytes: number; entries: number }>();
  for (const s of services) {
    const r = size(s);
    before.set(s, { fullBytes: r.full.bytes, bytes: r.stripped.bytes, entries: r.stripped.files });
    say(`  ${s.padEnd(4)} full ${mb(r.full.bytes).padStart(9)}  stripped ${mb(r.stripped.bytes).padStart(9)}  ${(r.full.bytes / r.stripped.bytes).toFixed(2)}×  files ${r.stripped.files} of ${r.full.files}  (${verdicts(s, r.full.bytes, r.stripped.bytes)})`);
  }
  if (search) {
    say('# the file-list search (minimize --what files, seed 1), against one run per entry of the expanded file list:');
    for (const s of services) {
      const started = Date.now();
      const r = await cli(['minimize', 'guestbook', '--service', s, '--what', 'files', '--out', 'generated', '--no-build']);
      const wall = Date.now() - started;
      const reportFile = path.join(work, 'generated/guestbook/minimize', `${s}-files.json`);
      let report: { runs: { total: number; errors: number; byPhase: { phase: string; runs: number }[] }; recorder: { kind: string }; recorded?: { size: number; outsideList?: string[] }; wallMs: number; start: { size: number }; result: { size: number; addedAfterRecording: string[] }; confirmation: { passed: number; runs: number; confirmed: boolean }; stopped?: string };
      try {
        report = JSON.parse(readFileSync(reportFile, 'utf8'));
      } catch {
        say(`  ${s}: no report (exit ${r.code}):\n${r.out.slice(-1500)}`);
        continue;
      }
      writeFileSync(path.join(reportsDir, `${s}-files.json`), readFileSync(reportFile));
      writeFileSync(path.join(reportsDir, `${s}-files.log`), r.out);
      const entries = before.get(s)!.entries;
      const onePerEntry = 1 + entries + 3;
      say(`  ${s.padEnd(4)} runs ${report.runs.total} (${report.runs.errors} oracle errors retried), wall ${formatDuration(report.wallMs)} (command ${formatDuration(wall)}); one per entry: ${onePerEntry} runs (${entries} entries) → ${(onePerEntry / report.runs.total).toFixed(1)}× fewer (target 10×: ${onePerEntry / report.runs.total >= 10 ? 'met' : 'NOT met'}); confirmed ${report.confirmation.passed}/${report.confirmation.runs}${report.stopped ? `; stopped: ${report.stopped}` : ''}`);
      say(`       how: ${report.recorder.kind === 'bpftrace' ? `recorded (eBPF) ${report.recorded?.size ?? 0} of ${report.start.size} files of the list (${report.recorded?.outsideList?.length ?? 0} other paths), ${report.result.addedAfterRecording.length} added back` : 'no recorder: group tests from packages and folders down to files'}; runs by phase: ${report.runs.byPhase.map((p) => `${p.phase} ${p.runs}`).join(', ')}`);
      if (!report.confirmation.confirmed || report.stopped) continue;
      await must(['minimize', 'guestbook', '--service', s, '--what', 'files', '--out', 'generated', '--apply', reportFile, '--write']);
      await must(['strip', 'guestbook', '--out', 'generated', '--service', s, '--no-build']);
      const after = size(s);
      say(`       with the list found: stripped ${mb(after.stripped.bytes)}, ${(after.full.bytes / after.stripped.bytes).toFixed(2)}×, files ${after.stripped.files} (${verdicts(s, after.full.bytes, after.stripped.bytes)})`);
    }
  } else {
    say('# the file-list search: not run (--no-search)');
  }
  say(`# reports: ${path.relative(REPO, reportsDir)}/`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
