// A broken spec must fail verification with exactly the checks it breaks, each with the log tails
// that explain it, and still tear down cleanly. Two breaks, each in a copy of specs/guestbook:
//
// 1. At run time: db's seccomp filter also denies getpeername. MariaDB calls it only for TCP
//    clients (to learn their address), so the server starts, its healthcheck (unix socket) passes
//    and every in-container check still passes, but PHP's TCP login fails with "[1042] Can't get
//    hostname for your address" and every interaction that reads or writes entries through the web
//    fails. By hand: add getpeername to db.md's seccomp deny list, hardspec compile, hardspec verify.
// 2. At start: db loses its /run/mysqld tmpfs, so mariadbd cannot create its socket on the
//    read-only root and exits; the run stops within seconds (not at a time limit), reports why from
//    db's log, skips the interactions, and prints the evidence with --json.
//    By hand: delete the /run/mysqld tmpfs from db.md, compile, hardspec verify --json.
// 3. Silently: PHP's error log goes to /dev/null (`php-fpm -d error_log=/dev/null`, a command
//    line anyone might copy). Every page still works; only `database-outage-reported` fails,
//    because with the database stopped the 503 page comes but PHP's message never reaches the
//    container log. By hand: give php.md that `command`, compile, hardspec verify.
//
// The copies publish a free port instead of 8080 so they can run beside a guestbook stack that
// someone else has up.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../compiler/src/cli/main.ts';
import { chromiumAvailable, dockerAvailable, editFrontmatter, labelled, nothing, readJson, REPO, verifyInProcess, type CliRun, type EvidenceInteraction } from './fixtures/verify-support/engine.ts';

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function replaceInStrings(value: unknown, from: string, to: string): unknown {
  if (typeof value === 'string') return value.split(from).join(to);
  if (Array.isArray(value)) return value.map((v) => replaceInStrings(v, from, to));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceInStrings(v, from, to)]));
  return value;
}

/** Copies specs/guestbook into a temporary folder, moves it to a free port, breaks db.md (and php.md), compiles it; returns the folder. */
async function brokenCopy(breakDb: (db: Record<string, unknown>) => void, breakPhp?: (php: Record<string, unknown>) => void): Promise<string> {
  const work = mkdtempSync(path.join(tmpdir(), 'hardspec-verify-broken-'));
  const stackDir = path.join(work, 'specs', 'guestbook');
  const port = await freePort();
  cpSync(path.join(REPO, 'specs/guestbook'), stackDir, { recursive: true });
  editFrontmatter(path.join(stackDir, 'db.md'), breakDb);
  if (breakPhp) editFrontmatter(path.join(stackDir, 'php.md'), breakPhp);
  editFrontmatter(path.join(stackDir, 'web.md'), (d) => {
    for (const p of d.ports as { host: number }[]) if (p.host === 8080) p.host = port;
  });
  editFrontmatter(path.join(stackDir, 'stack.md'), (d) => {
    d.interactions = replaceInStrings(d.interactions, '127.0.0.1:8080', `127.0.0.1:${port}`);
  });
  const io = { stdout: { write: () => true }, stderr: { write: (x: string) => { process.stderr.write(x); return true; } }, cwd: work, env: process.env };
  expect(await runMain(['compile', 'specs', '--out', 'generated'], io)).toBe(0);
  return work;
}

/** Every interaction that needs PHP to log in to MariaDB over TCP, and db-log-clean: MariaDB reports the refused call in its log. */
const BROKEN_BY_GETPEERNAME = [
  'site-answers', 'entries-from-database', 'form-post-in-browser', 'form-post-stored', 'data-survives-recreation',
  'sql-injection-stored-literally', 'sql-injection-shown-literally', 'xss-stored', 'xss-shown-escaped', 'security-headers',
  'db-log-clean',
].sort();

describe.skipIf(!dockerAvailable || !chromiumAvailable)('hardspec verify: a spec broken at run time (real engine)', () => {
  let work: string;
  let run: CliRun;
  let evidence: Record<string, unknown>;
  let interactions: EvidenceInteraction[];

  beforeAll(async () => {
    work = await brokenCopy((d) => {
      // The one check kind the guestbook specs do not use, so the copy exercises it on the engine.
      (d.interactions as unknown[]).push({
        id: 'db-client-runs', description: 'The mariadb client runs in the db container.', reason: 'exec check on a real engine.',
        check: { exec: { command: ['mariadb', '--version'], expect: { exit_code: 0, stdout_contains: ['MariaDB'] } } },
      });
      const seccomp = (d.seccomp ??= {}) as { baseline?: string; allow?: string[]; deny?: string[] };
      if (seccomp.allow?.includes('getpeername')) seccomp.allow = seccomp.allow.filter((x) => x !== 'getpeername');
      if (seccomp.baseline === 'docker-default') seccomp.deny = [...(seccomp.deny ?? []), 'getpeername'];
    });
    run = await verifyInProcess(['guestbook', '--no-build', '--evidence-dir', path.join(work, 'evidence')], process.env, work);
    evidence = readJson(path.join(work, 'evidence/latest.json'));
    interactions = evidence.interactions as EvidenceInteraction[];
  }, 400_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('exits 1', () => {
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(1);
    expect(evidence.result).toBe('failed');
  });

  it('fails exactly the interactions that need the database over TCP', () => {
    const failed = interactions.filter((i) => i.status === 'failed').map((i) => i.id).sort();
    expect(failed).toEqual(BROKEN_BY_GETPEERNAME);
    expect(interactions.filter((i) => i.status !== 'failed' && i.status !== 'passed').every((i) => i.kind === 'selinux')).toBe(true);
  });

  it('gives every failure the log tails that explain it', () => {
    for (const i of interactions.filter((x) => x.status === 'failed')) {
      // Through the web: the web server and what it depends on; in a container: that service;
      // recreating db and checking through the web: both.
      // reading a service's own output (log): that service.
      const concerned = i.kind === 'sql' ? ['db'] : i.kind === 'log' ? [i.service!] : ['db', 'php', 'web'];
      expect(Object.keys(i.logTail ?? {}).sort(), i.id).toEqual(concerned);
    }
    const site = interactions.find((i) => i.id === 'site-answers')!;
    expect(site.logTail!.php).toMatch(/1042\] Can't get hostname for your address/);
    expect(site.problems).toContain('status 503, expected 200');
  });

  it('runs an exec check in the container as its user', () => {
    expect(interactions.find((i) => i.id === 'db-client-runs')).toMatchObject({ kind: 'exec', status: 'passed' });
  });

  it('still sees the hardening itself applied as compiled', () => {
    expect(interactions.filter((i) => i.origin === 'automatic' && i.status !== 'passed').map((i) => i.id)).toEqual([]);
  });

  it('tears down cleanly', () => {
    expect(labelled(`io.hardspec.run=${String(evidence.runId)}`)).toEqual(nothing);
    expect(labelled(`com.docker.compose.project=${String(evidence.project)}`)).toEqual(nothing);
  });
});

describe.skipIf(!dockerAvailable || !chromiumAvailable)('hardspec verify: a PHP whose error log goes nowhere (real engine)', () => {
  let work: string;
  let run: CliRun;
  let interactions: EvidenceInteraction[];

  beforeAll(async () => {
    work = await brokenCopy(() => undefined, (d) => {
      d.command = ['php-fpm8.2', '-F', '--fpm-config', '/etc/php/8.2/fpm/php-fpm.conf', '-d', 'error_log=/dev/null'];
    });
    run = await verifyInProcess(['guestbook', '--no-build', '--evidence-dir', path.join(work, 'evidence')], process.env, work);
    interactions = readJson(path.join(work, 'evidence/latest.json')).interactions as EvidenceInteraction[];
  }, 400_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('fails only the outage interaction, saying which text the log lacks, and brings the database back', () => {
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(1);
    expect(interactions.filter((i) => i.status === 'failed').map((i) => i.id)).toEqual(['database-outage-reported']);
    const outage = interactions.find((i) => i.id === 'database-outage-reported')!;
    expect(outage.problems).toEqual(['the output of php since db was stopped lacks "Unavailable: database connection failed" (waited 5 s)']);
    // The 503 page itself came: only the log is missing.
    expect(outage.observed).toMatchObject({ during: { result: 'passed', status: 503 }, started: { service: 'db' } });
    // Interactions after it ran against a database that is back.
    const after = interactions.slice(interactions.indexOf(outage) + 1).filter((i) => i.origin === 'spec' && i.kind === 'http');
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((i) => i.status === 'passed')).toBe(true);
  });
});

describe.skipIf(!dockerAvailable)('hardspec verify: a spec broken at start (real engine)', () => {
  let work: string;
  let run: CliRun;
  let evidence: Record<string, unknown>;
  let interactions: EvidenceInteraction[];

  beforeAll(async () => {
    work = await brokenCopy((d) => {
      d.tmpfs = (d.tmpfs as { path: string }[]).filter((t) => t.path !== '/run/mysqld');
    });
    run = await verifyInProcess(['guestbook', '--no-build', '--json', '--evidence-dir', path.join(work, 'evidence')], process.env, work);
    evidence = readJson(path.join(work, 'evidence/latest.json'));
    interactions = evidence.interactions as EvidenceInteraction[];
  }, 300_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('exits 1 within seconds, with the reason from db\'s log', () => {
    expect(run.code, run.stderr).toBe(1);
    expect((evidence.timings as { upMs: number }).upMs).toBeLessThan(30_000);
    const db = interactions.find((i) => i.id === 'db.auto.healthy')!;
    expect(db.status).toBe('failed');
    expect(db.logTail!.db).toMatch(/Bind on unix socket: Read-only file system/);
  });

  it('reports the services compose never created, and skips every interaction', () => {
    for (const s of ['php', 'web']) {
      const h = interactions.find((i) => i.id === `${s}.auto.healthy`)!;
      expect(h.status).toBe('failed');
      expect(h.problems).toHaveLength(1);
      // Why: compose stopped because the service it depends on never became healthy.
      expect(h.problems![0]).toMatch(/^compose did not create its container; compose up failed: ERROR: for (php|web) .*unhealthy/);
    }
    const spec = interactions.filter((i) => i.origin === 'spec');
    expect(spec.length).toBeGreaterThan(0);
    expect(spec.every((i) => i.status === 'skipped')).toBe(true);
  });

  it('prints the evidence on stdout with --json, progress on stderr', () => {
    expect(JSON.parse(run.stdout)).toEqual(evidence);
    expect(run.stderr).toMatch(/the stack did not come up/);
  });

  it('tears down cleanly', () => {
    expect(labelled(`io.hardspec.run=${String(evidence.runId)}`)).toEqual(nothing);
    expect(labelled(`com.docker.compose.project=${String(evidence.project)}`)).toEqual(nothing);
  });
});

describe.skipIf(!dockerAvailable)('hardspec verify: an image that fails to build (real engine)', () => {
  let work: string;
  let run: CliRun;
  let before: ReturnType<typeof labelled>;
  const tag = `hardspec/test-broken-build:${process.pid}`;

  beforeAll(async () => {
    work = await brokenCopy((d) => {
      (d.image as { name: string }).name = tag;
    });
    // The team's Dockerfile gains a step that fails, as a typo in a package name would.
    const dockerfile = path.join(work, 'specs/guestbook/db/Dockerfile');
    writeFileSync(dockerfile, `${readFileSync(dockerfile, 'utf8')}\nRUN echo "hardspec test: this step fails on purpose" >&2; exit 3\n`);
    const io = { stdout: { write: () => true }, stderr: { write: () => true }, cwd: work, env: process.env };
    expect(await runMain(['compile', 'specs', '--out', 'generated'], io)).toBe(0);
    before = labelled('io.hardspec.stack=guestbook');
    run = await verifyInProcess(['guestbook', '--evidence-dir', path.join(work, 'evidence')], process.env, work);
  }, 600_000);
  afterAll(() => {
    spawnSync('docker', ['image', 'rm', '-f', tag], { stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
  });

  it('exits 2 and says the build failed, with the build output, and starts nothing', () => {
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/build/i);
    expect(run.stderr).toMatch(/this step fails on purpose/);
    expect(labelled('io.hardspec.stack=guestbook')).toEqual(before);
  });
});
