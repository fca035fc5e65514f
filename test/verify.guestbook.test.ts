// `hardspec verify specs/guestbook` on the real engine, against the committed generated/guestbook/:
// every interaction and automatic check passes, SELinux is reported not-verifiable (this host has
// none), the evidence validates against its schema, the browser's screenshot exists, no secret
// appears anywhere in evidence or output, and the run leaves nothing behind on the engine.
// Equivalent by hand: hardspec compile && hardspec verify guestbook --evidence-dir /tmp/ev
import { Ajv } from 'ajv';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, dockerAvailable, labelled, nothing, readJson, REPO, verifyInProcess, type CliRun, type EvidenceInteraction } from './fixtures/verify-support/engine.ts';

const haveSpecs = existsSync(path.join(REPO, 'specs/guestbook/stack.md'));
const schema = readJson(path.join(REPO, 'compiler/src/verify/evidence.schema.json'));

describe.skipIf(!dockerAvailable || !haveSpecs || !chromiumAvailable)('hardspec verify guestbook (real engine)', () => {
  const evidenceDir = mkdtempSync(path.join(tmpdir(), 'hardspec-verify-guestbook-'));
  let run: CliRun;
  let evidence: Record<string, unknown>;
  let interactions: EvidenceInteraction[];

  beforeAll(async () => {
    run = await verifyInProcess(['guestbook', '--evidence-dir', evidenceDir]);
    evidence = readJson(path.join(evidenceDir, 'latest.json'));
    interactions = evidence.interactions as EvidenceInteraction[];
  }, 400_000);
  afterAll(() => rmSync(evidenceDir, { recursive: true, force: true }));

  it('exits 0', () => {
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(evidence.result).toBe('passed');
  });

  it('passes every interaction except SELinux, which is not verifiable here', () => {
    const notPassed = interactions.filter((i) => i.status !== 'passed');
    expect(notPassed.filter((i) => i.kind !== 'selinux').map((i) => `${i.id}: ${i.problems?.join('; ')}`)).toEqual([]);
    for (const i of interactions.filter((x) => x.kind === 'selinux')) expect(i.status).toBe('not-verifiable');
    expect(interactions.some((i) => i.kind === 'selinux')).toBe(true);
  });

  it('ran every spec interaction and the automatic checks of every service', () => {
    const spec = interactions.filter((i) => i.origin === 'spec').map((i) => i.id);
    expect(spec).toEqual(expect.arrayContaining(['site-answers', 'form-post-in-browser', 'data-survives-recreation', 'database-not-published']));
    for (const s of ['web', 'php', 'db']) {
      for (const c of ['healthy', 'caps', 'security-opt', 'read-only', 'tmpfs', 'mounts', 'proc-status', 'proc-mounts', 'probe-read-only', 'probe-seccomp', 'probe-status']) {
        expect(interactions.map((i) => i.id)).toContain(`${s}.auto.${c}`);
      }
    }
  });

  it('writes evidence that validates against the schema, also as a run file', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    expect(validate(evidence), JSON.stringify(validate.errors, null, 2)).toBe(true);
    const runs = readdirSync(path.join(evidenceDir, 'runs'));
    expect(runs).toEqual([`${String(evidence.startedAt).replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '')}-${String(evidence.runId)}.json`]);
    expect(readFileSync(path.join(evidenceDir, 'runs', runs[0]!), 'utf8')).toBe(readFileSync(path.join(evidenceDir, 'latest.json'), 'utf8'));
  });

  it('keeps a screenshot of the browser interaction', () => {
    const shots = interactions.filter((i) => i.kind === 'browser').map((i) => i.screenshot);
    expect(shots.length).toBeGreaterThan(0);
    for (const s of shots) {
      const png = readFileSync(path.join(evidenceDir, s!));
      expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    }
  });

  it('never shows the secret', () => {
    const secret = readFileSync(path.join(REPO, 'generated/guestbook/secrets/db-password'), 'utf8').trim();
    expect(secret.length).toBeGreaterThan(20);
    const texts = [run.stdout, run.stderr, ...['latest.json', ...readdirSync(path.join(evidenceDir, 'runs')).map((r) => `runs/${r}`)].map((f) => readFileSync(path.join(evidenceDir, f), 'utf8'))];
    for (const t of texts) expect(t.includes(secret)).toBe(false);
    // The least-privilege check reads SHOW GRANTS, which prints the password's hash: scrubbed too.
    const grants = interactions.find((i) => i.id === 'db-app-user-least-privilege');
    if (grants) expect(JSON.stringify(grants)).not.toMatch(/PASSWORD '\*[0-9A-F]{40}'/);
  });

  it('leaves no container, network or volume of the run behind', () => {
    expect(labelled(`io.hardspec.run=${String(evidence.runId)}`)).toEqual(nothing);
    expect(labelled(`com.docker.compose.project=${String(evidence.project)}`)).toEqual(nothing);
    expect(evidence.teardown).toEqual({ remaining: 0, problems: [] });
  });
});
