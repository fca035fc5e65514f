// The runc-init watchdog against a fake /proc (pure parts and the scan); the engine test is in minimize.docker.test.ts.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cgroupContainerId, isRuncInit, RuncWatchdog, serviceFromConfig } from '../compiler/src/minimize/runc-watchdog.ts';
import { withHungInits, type RunOutcome } from '../compiler/src/minimize/stack-session.ts';

const ID_A = 'a'.repeat(64);
const ID_B = 'b'.repeat(64);

describe('what the watchdog recognises', () => {
  it('knows runc init by its arguments, by any path to runc', () => {
    expect(isRuncInit('runc\0init\0')).toBe(true);
    expect(isRuncInit('/usr/sbin/runc\0init\0')).toBe(true);
    expect(isRuncInit('docker-runc\0init\0')).toBe(true);
    expect(isRuncInit('runc\0create\0--bundle\0x\0')).toBe(false);
    expect(isRuncInit('mariadbd\0')).toBe(false);
    expect(isRuncInit('notrunc\0init\0')).toBe(false);
    expect(isRuncInit('')).toBe(false);
  });

  it('finds the container id in cgroup v1, v2 and systemd layouts', () => {
    expect(cgroupContainerId(`12:pids:/docker/${ID_A}\n0::/docker/${ID_A}\n`)).toBe(ID_A);
    expect(cgroupContainerId(`0::/system.slice/docker-${ID_A}.scope\n`)).toBe(ID_A);
    expect(cgroupContainerId('0::/user.slice/user-0.slice/session-1.scope\n')).toBeUndefined();
    expect(cgroupContainerId(`0::/docker/${ID_A}/init\n`)).toBeUndefined();
  });
});

describe('whose container it is', () => {
  it('reads the compose labels from the engine\'s configuration file, never through the engine', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'hardspec-docker-root-'));
    try {
      mkdirSync(path.join(root, 'containers', ID_A), { recursive: true });
      writeFileSync(path.join(root, 'containers', ID_A, 'config.v2.json'), JSON.stringify({ Config: { Labels: { 'com.docker.compose.project': 'hardspec-min-guestbook-1234', 'com.docker.compose.service': 'db' } } }));
      expect(await serviceFromConfig(root, ID_A, 'hardspec-min-guestbook-1234')).toBe('db');
      expect(await serviceFromConfig(root, ID_A, 'hardspec-min-guestbook-9999')).toBeUndefined();
      expect(await serviceFromConfig(root, ID_B, 'hardspec-min-guestbook-1234')).toBeUndefined();
      writeFileSync(path.join(root, 'containers', ID_A, 'config.v2.json'), '{not json');
      expect(await serviceFromConfig(root, ID_A, 'hardspec-min-guestbook-1234')).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('a scan of /proc', () => {
  let root = '';
  afterEach(() => { if (root) rmSync(root, { recursive: true, force: true }); });

  interface Entry { cmdline: string; cgroup: string; start?: string; seccomp?: number }

  function writeEntry(dir: string, pid: string, e: Entry): void {
    mkdirSync(path.join(dir, pid));
    writeFileSync(path.join(dir, pid, 'cmdline'), e.cmdline);
    writeFileSync(path.join(dir, pid, 'cgroup'), e.cgroup);
    writeFileSync(path.join(dir, pid, 'status'), `Name:\trunc:[2:INIT]\nNoNewPrivs:\t1\nSeccomp:\t${e.seccomp ?? 2}\nSeccomp_filters:\t1\n`);
    // Field 22 (start time) is the 20th after the command name.
    writeFileSync(path.join(dir, pid, 'stat'), `${pid} (runc:[2:INIT]) S ${'1 '.repeat(18)}${e.start ?? '100'} 0 0\n`);
  }

  function proc(entries: Record<number, Entry>): string {
    root = mkdtempSync(path.join(os.tmpdir(), 'hardspec-proc-'));
    for (const [pid, e] of Object.entries(entries)) writeEntry(root, pid, e);
    mkdirSync(path.join(root, 'self'));
    return root;
  }

  function watchdog(procRoot: string, clock: { t: number }, killed: number[]) {
    return new RuncWatchdog({
      procRoot, limitMs: 20_000, intervalMs: 1000, now: () => clock.t, kill: (pid) => { killed.push(pid); },
      serviceOf: async (id) => (id === ID_A ? 'db' : undefined),
    });
  }

  it('kills a runc init of one of the run\'s containers seen for longer than the limit, once', async () => {
    const root = proc({
      10: { cmdline: 'runc\0init\0', cgroup: `0::/docker/${ID_A}\n` },
      11: { cmdline: 'runc\0init\0', cgroup: `0::/docker/${ID_B}\n` }, // not this run's
      12: { cmdline: 'mariadbd\0', cgroup: `0::/docker/${ID_A}\n` },
      13: { cmdline: 'runc\0init\0', cgroup: '0::/user.slice\n' },
    });
    const clock = { t: 0 };
    const killed: number[] = [];
    const w = watchdog(root, clock, killed);
    await w.scan();
    clock.t = 19_999;
    await w.scan();
    expect(killed).toEqual([]);
    clock.t = 20_000;
    await w.scan();
    expect(killed).toEqual([10]);
    expect(await w.take()).toEqual([{ pid: 10, containerId: ID_A, service: 'db', seenMs: 20_000 }]);
    expect(await w.take()).toEqual([]);
    // Killed processes take a moment to go: the next scan starts its clock again.
    clock.t = 22_000;
    await w.scan();
    expect(killed).toEqual([10]);
  });

  it('never counts a runc init whose filter is not installed yet (it may wait on its exec FIFO)', async () => {
    const root = proc({ 10: { cmdline: 'runc\0init\0', cgroup: `0::/docker/${ID_A}\n`, seccomp: 0 } });
    const clock = { t: 0 };
    const killed: number[] = [];
    const w = watchdog(root, clock, killed);
    for (clock.t = 0; clock.t <= 60_000; clock.t += 10_000) await w.scan();
    expect(killed).toEqual([]);
    // Installed now: its clock starts here.
    writeFileSync(path.join(root, '10', 'status'), 'Seccomp:\t2\n');
    await w.scan();
    clock.t = 90_000;
    await w.scan();
    expect(killed).toEqual([10]);
  });

  it('starts the clock again for a runc init whose pid was reused or that went away', async () => {
    const root = proc({ 10: { cmdline: 'runc\0init\0', cgroup: `0::/docker/${ID_A}\n`, start: '100' } });
    const clock = { t: 0 };
    const killed: number[] = [];
    const w = watchdog(root, clock, killed);
    await w.scan();
    // Same pid, another start time: another process, first seen now.
    writeFileSync(path.join(root, '10', 'stat'), `10 (runc:[2:INIT]) S ${'1 '.repeat(18)}900 0 0\n`);
    clock.t = 15_000;
    await w.scan();
    clock.t = 30_000;
    await w.scan();
    expect(killed).toEqual([]);
    // Gone for one scan: forgotten.
    rmSync(path.join(root, '10'), { recursive: true });
    clock.t = 34_000;
    await w.scan();
    writeEntry(root, '10', { cmdline: 'runc\0init\0', cgroup: `0::/docker/${ID_A}\n`, start: '900' });
    clock.t = 36_000;
    await w.scan();
    clock.t = 55_000;
    await w.scan();
    expect(killed).toEqual([]);
    clock.t = 56_000;
    await w.scan();
    expect(killed).toEqual([10]);
    expect((await w.take())[0]!.seenMs).toBe(20_000);
  });
});

describe('a run the watchdog stepped into', () => {
  const base: RunOutcome = { verdict: 'error', scope: 'service', restarted: ['db', 'php', 'web'], durationMs: 70_000, failed: [], unhealthy: [], error: 'compose up db php web exited 1: Read timed out. (read timeout=60)' };

  it('is a failure of the candidate, not an error of the oracle to retry', () => {
    const out = withHungInits(base, [{ pid: 4242, containerId: ID_A, service: 'db', seenMs: 21_000 }]);
    expect(out.verdict).toBe('fail');
    expect(out.error).toBeUndefined();
    expect(out.unhealthy).toEqual([{ service: 'db', reason: "runc init hung for 21 s after the candidate's filter was installed; killed (pid 4242)" }]);
    expect(out.hungInits).toHaveLength(1);
  });

  it('keeps the reasons of other services and leaves a run without kills as it was', () => {
    const out = withHungInits({ ...base, verdict: 'fail', unhealthy: [{ service: 'db', reason: 'exited' }, { service: 'php', reason: 'dependency failed' }] }, [{ pid: 1, containerId: ID_A, service: 'db', seenMs: 20_000 }]);
    expect(out.unhealthy.map((u) => u.service)).toEqual(['db', 'php']);
    expect(out.unhealthy[0]!.reason).toMatch(/runc init hung/);
    expect(withHungInits(base, [])).toBe(base);
  });
});
