/**
 * `hardspec minimize --apply REPORT`: a finished minimisation's result into the spec, without runs.
 * Uses the committed 1-minimal web report on a copy of specs/guestbook whose web allowlist is
 * put back to Docker's default list.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../compiler/src/cli/main.ts';

const REPO = path.resolve(import.meta.dirname, '..');
const REPORT = path.join(REPO, 'generated/guestbook/minimize/web-syscalls.json');

async function cli(args: string[], cwd: string) {
  let stdout = '';
  let stderr = '';
  const code = await runMain(args, { stdout: { write: (s: string) => { stdout += s; return true; } }, stderr: { write: (s: string) => { stderr += s; return true; } }, cwd, env: {} });
  return { code, stdout, stderr };
}

describe('minimize --apply', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'hardspec-apply-'));
    cpSync(path.join(REPO, 'specs/guestbook'), path.join(work, 'specs/guestbook'), { recursive: true });
    const web = path.join(work, 'specs/guestbook/web.md');
    writeFileSync(web, readFileSync(web, 'utf8').replace(/^seccomp:\n(?: {2}.*\n)+/m, 'seccomp:\n  baseline: docker-default  # Docker\'s list for now\n  deny: [ptrace]\n'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('prints the change as a diff without --write, and writes and recompiles with it', async () => {
    const report = JSON.parse(readFileSync(REPORT, 'utf8'));
    const dry = await cli(['minimize', 'guestbook', '--service', 'web', '--what', 'syscalls', '--apply', REPORT], work);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('-  baseline: docker-default  # Docker\'s list for now');
    expect(dry.stdout).toContain('+  baseline: none');
    const wet = await cli(['minimize', 'guestbook', '--service', 'web', '--what', 'syscalls', '--apply', REPORT, '--write'], work);
    expect(wet.code, wet.stderr).toBe(0);
    const profile = JSON.parse(readFileSync(path.join(work, 'generated/guestbook/seccomp/web.json'), 'utf8'));
    const allowed = profile.syscalls.filter((s: { action: string }) => s.action === 'SCMP_ACT_ALLOW').flatMap((s: { names: string[] }) => s.names).sort();
    expect(allowed).toEqual([...report.result.items].sort());
    expect(readFileSync(path.join(work, 'specs/guestbook/web.md'), 'utf8')).toContain('## Seccomp'); // the body is kept
    const again = await cli(['minimize', 'guestbook', '--service', 'web', '--what', 'syscalls', '--apply', REPORT], work);
    expect(again.stdout).toContain('already holds this set');
  });

  it('refuses a report of another service, one that is not a report, and one without a confirmed result', async () => {
    const other = await cli(['minimize', 'guestbook', '--service', 'php', '--what', 'syscalls', '--apply', REPORT], work);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('the report is for service web, not service php');
    const junk = path.join(work, 'junk.json');
    writeFileSync(junk, '{"format": "something else"}');
    const notReport = await cli(['minimize', 'guestbook', '--service', 'web', '--what', 'syscalls', '--apply', junk], work);
    expect(notReport.code).toBe(2);
    expect(notReport.stderr).toContain('not a minimize report');
    const stopped = JSON.parse(readFileSync(REPORT, 'utf8'));
    stopped.stopped = 'the oracle failed 3 times in a row';
    stopped.confirmation = { runs: 0, passed: 0, confirmed: false, flaky: false, results: [] };
    const stoppedFile = path.join(work, 'stopped.json');
    writeFileSync(stoppedFile, JSON.stringify(stopped));
    const r = await cli(['minimize', 'guestbook', '--service', 'web', '--what', 'syscalls', '--apply', stoppedFile], work);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('holds no confirmed result (the oracle failed 3 times in a row)');
  });

  it("leaves the spec's seccomp.keep where it is: allow gets the rest of the result, and the profile allows both", async () => {
    const report = JSON.parse(readFileSync(REPORT, 'utf8'));
    const kept = ['writev', 'wait4'];
    const withKeep = { ...report, result: { ...report.result, items: [...new Set([...report.result.items, ...kept])].sort() } };
    const file = path.join(work, 'keep.json');
    writeFileSync(file, JSON.stringify(withKeep));
    const web = path.join(work, 'specs/guestbook/web.md');
    writeFileSync(web, readFileSync(web, 'utf8').replace(/^seccomp:\n(?: {2}.*\n)+/m, 'seccomp:\n  baseline: docker-default\n  keep: [wait4, writev]  # reaping and vectored writes: no interaction shows them\n'));
    const r = await cli(['minimize', 'guestbook', '--service', 'web', '--what', 'syscalls', '--apply', file, '--write'], work);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(web, 'utf8');
    expect(text).toContain('  keep: [wait4, writev]  # reaping and vectored writes: no interaction shows them\n');
    const allowLine = /^ {2}allow:([^]*?)^(?! {4})/m.exec(text)![1]!;
    expect(allowLine).not.toMatch(/\bwait4\b/);
    expect(allowLine).not.toMatch(/\bwritev\b/);
    const profile = JSON.parse(readFileSync(path.join(work, 'generated/guestbook/seccomp/web.json'), 'utf8'));
    const allowed = profile.syscalls.filter((s: { action: string }) => s.action === 'SCMP_ACT_ALLOW').flatMap((s: { names: string[] }) => s.names).sort();
    expect(allowed).toEqual(withKeep.result.items);
  });
});
