// hardspec verify when the environment is not as it should be:
//  - no engine at DOCKER_HOST                → exit 2, the socket it tried is named, and how to start Docker
//  - the published port is taken             → exit 2 naming 127.0.0.1:8080, nothing started
//  - a run killed with SIGKILL leaves its stack → the next run removes it and says so
//  - SIGINT while the stack is up            → teardown, exit 130, nothing left
// Equivalent by hand: DOCKER_HOST=unix:///nonexistent.sock hardspec verify; nc -l 127.0.0.1 8080 &
// hardspec verify; hardspec verify & sleep 40; kill -9 $!; hardspec verify & sleep 40; kill -INT $!
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dockerAvailable, labelled, nothing, readJson, removeLabelled, REPO, verifyChild, verifyInProcess, waitForOutput } from './fixtures/verify-support/engine.ts';

const haveSpecs = existsSync(path.join(REPO, 'specs/guestbook/stack.md'));
const temps: string[] = [];
const tempDir = () => { const d = mkdtempSync(path.join(tmpdir(), 'hardspec-verify-env-')); temps.push(d); return d; };
afterAll(() => { for (const d of temps) rmSync(d, { recursive: true, force: true }); });

describe.skipIf(!haveSpecs)('hardspec verify: environment errors', () => {
  it('exits 2 naming the socket when the engine is unreachable', async () => {
    const r = await verifyInProcess(['guestbook', '--evidence-dir', tempDir()], { ...process.env, DOCKER_HOST: 'unix:///nonexistent.sock' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unix:///nonexistent.sock');
    expect(r.stderr).toContain('DOCKER_HOST');
    expect(r.stderr).toContain('sudo scripts/setup-docker.sh');
  });

  it.skipIf(!dockerAvailable)('exits 2 naming the port when 127.0.0.1:8080 is taken, and starts nothing', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => {
      server.once('error', () => resolve()); // already taken by someone else: just as good
      server.listen({ host: '127.0.0.1', port: 8080 }, () => resolve());
    });
    const before = labelled('io.hardspec.stack=guestbook');
    try {
      const r = await verifyInProcess(['guestbook', '--evidence-dir', tempDir()]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/port 127\.0\.0\.1:8080 \(published by web\) is already in use/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(labelled('io.hardspec.stack=guestbook')).toEqual(before);
  });
});

describe.skipIf(!dockerAvailable || !haveSpecs)('hardspec verify: killed and interrupted runs', () => {
  // Whatever happens to the assertions, leave nothing of these runs behind.
  const runs: string[] = [];
  const children: ReturnType<typeof verifyChild>[] = [];
  afterAll(async () => {
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) { c.child.kill('SIGKILL'); await c.exit; }
    for (const r of runs) removeLabelled(`io.hardspec.run=${r}`);
  });

  it('cleans up after a killed run, and tears down on SIGINT with exit 130', async () => {
    // 1. A run killed with SIGKILL once its stack is up: it cannot tear down.
    const killed = verifyChild(['guestbook', '--no-build', '--evidence-dir', tempDir()]);
    children.push(killed);
    const [, killedRun] = await waitForOutput(killed, /verifying guestbook: run ([0-9a-f]{8})/, 120_000);
    await waitForOutput(killed, /the stack is up/, 240_000);
    killed.child.kill('SIGKILL');
    await killed.exit;
    runs.push(killedRun!);
    const left = labelled(`io.hardspec.run=${killedRun!}`);
    expect(left.containers.length).toBeGreaterThan(0);
    expect(left.networks.length).toBeGreaterThan(0);

    // 2. The next run removes those leftovers first, then is interrupted once its stack is up.
    const evidenceDir = tempDir();
    const next = verifyChild(['guestbook', '--no-build', '--evidence-dir', evidenceDir]);
    children.push(next);
    const counts = `${left.containers.length} container\\(s\\), ${left.networks.length} network\\(s\\), ${left.volumes.length} volume\\(s\\)`;
    await waitForOutput(next, new RegExp(`removed leftovers of an interrupted run ${killedRun!} \\(pid \\d+ is gone; project hardspec-guestbook-${killedRun!}\\): ${counts}`), 120_000);
    expect(labelled(`io.hardspec.run=${killedRun!}`)).toEqual(nothing);
    const [, nextRun] = await waitForOutput(next, /verifying guestbook: run ([0-9a-f]{8})/, 60_000);
    runs.push(nextRun!);
    await waitForOutput(next, /the stack is up/, 240_000);
    expect(labelled(`io.hardspec.run=${nextRun!}`).containers.length).toBe(left.containers.length);
    next.child.kill('SIGINT');
    const exit = await next.exit;
    expect(exit.code, next.output()).toBe(130);
    expect(next.output()).toMatch(/SIGINT: stopping and tearing the stack down/);
    expect(labelled(`io.hardspec.run=${nextRun!}`)).toEqual(nothing);
    expect(labelled(`com.docker.compose.project=hardspec-guestbook-${nextRun!}`)).toEqual(nothing);
    const evidence = readJson(path.join(evidenceDir, 'latest.json'));
    expect(evidence).toMatchObject({ result: 'interrupted', exitCode: 130, teardown: { remaining: 0, problems: [] } });
  }, 600_000);
});
