/**
 * The stripper's plan, archive and checks on small hand-made image filesystems (no Docker): what
 * is kept and why, the policy (no shell, package manager, chmod/chown/sed, set-id bits), the
 * problems that stop a build, and the Docker archive's determinism and carried configuration.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { configProblems, strippedFsProblems } from '../compiler/src/strip/check.ts';
import { MemoryFs, type FsEntry } from '../compiler/src/strip/fs.ts';
import { layerEntries, strippedArchive, STRIPPED_FROM_LABEL, type FullImage } from '../compiler/src/strip/image.ts';
import { mountPointsOf, planStrip } from '../compiler/src/strip/plan.ts';
import { readImageTar } from '../compiler/src/strip/tar.ts';

const dir = (path: string, mode = 0o755): FsEntry => ({ path, type: 'dir', mode, uid: 0, gid: 0, size: 0, mtime: 1 });
const file = (path: string, text: string, mode = 0o644, uid = 0): [FsEntry, Buffer] => [{ path, type: 'file', mode, uid, gid: uid, size: Buffer.byteLength(text), mtime: 1 }, Buffer.from(text)];
const link = (path: string, linkname: string): FsEntry => ({ path, type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, mtime: 1, linkname });

/** A merged-/usr Debian-like image with a package database. */
function image(): MemoryFs {
  const fs = new MemoryFs();
  for (const d of ['/', '/usr', '/usr/bin', '/usr/sbin', '/usr/lib', '/usr/share', '/usr/share/doc', '/usr/share/doc/app', '/etc', '/etc/app', '/var', '/var/lib', '/var/lib/dpkg', '/var/lib/dpkg/info', '/srv', '/srv/data', '/srv/data/sub']) fs.add(dir(d));
  fs.add(link('/bin', 'usr/bin'));
  fs.add(link('/lib', 'usr/lib'));
  const files: [FsEntry, Buffer][] = [
    file('/usr/sbin/appd', '#!app\n', 0o755),
    file('/usr/bin/app-admin', 'admin\n', 0o4755),
    file('/usr/share/doc/app/changelog', 'lots of text\n'),
    file('/etc/app/app.conf', 'x=1\n'),
    file('/usr/bin/dash', 'ELF? no\n', 0o755),
    file('/usr/bin/sed', 'sed\n', 0o755),
    file('/usr/bin/passwd', 'pw\n', 0o4755),
    file('/usr/lib/libbig.so', 'big library '.repeat(100)),
    file('/srv/data/a', 'a\n', 0o640, 100),
    file('/srv/data/sub/b', 'b\n', 0o640, 100),
    file('/etc/passwd', 'root:x:0:0::/:/nologin\n'),
    file('/var/lib/dpkg/status', [
      'Package: app\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.2-3\n',
      'Package: dash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 0.5\n',
      'Package: sed\nStatus: install ok installed\nArchitecture: amd64\nVersion: 4.9\n',
      'Package: gone\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 1\n',
    ].join('\n')),
    file('/var/lib/dpkg/info/app.list', '/.\n/lib\n/usr\n/usr/sbin\n/usr/sbin/appd\n/usr/bin/app-admin\n/usr/bin/sh\n/usr/share/doc/app\n/usr/share/doc/app/changelog\n/etc/app/app.conf\n'),
    file('/var/lib/dpkg/info/dash:amd64.list', '/usr/bin/dash\n'),
    file('/var/lib/dpkg/info/sed.list', '/usr/bin/sed\n'),
  ];
  for (const [e, c] of files) fs.add(e, c);
  fs.add(link('/usr/bin/sh', 'dash'));
  fs.add({ path: '/usr/bin/app-admin2', type: 'hardlink', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 1, linkname: '/usr/bin/app-admin' });
  return fs;
}

describe('planStrip', () => {
  it('keeps the package files without documentation, listed folders whole, and says why', () => {
    const plan = planStrip(image(), { service: 'app', packages: ['app'], files: ['/srv/data', '/etc/passwd'] });
    expect(plan.problems).toEqual([]);
    const kept = new Map(plan.kept.map((k) => [k.entry.path, k.reason]));
    expect(kept.get('/usr/sbin/appd')).toBe('file of package app');
    expect(kept.get('/etc/app/app.conf')).toBe('file of package app');
    expect(kept.get('/srv/data/sub/b')).toMatch(/listed directory \/srv\/data/);
    expect(kept.get('/etc/passwd')).toBe('listed in strip.files');
    expect(kept.has('/usr/share/doc/app/changelog')).toBe(false);
    // /lib is a directory of the package, a symlink to usr/lib here: not a reason to keep /usr/lib whole.
    expect(kept.has('/usr/lib/libbig.so')).toBe(false);
    expect(kept.has('/usr/sbin')).toBe(true); // parent folder
    const docs = plan.removed.find((g) => g.reason === 'documentation of app');
    expect(docs?.paths).toEqual(['/usr/share/doc/app', '/usr/share/doc/app/changelog']);
    expect(plan.removed.find((g) => g.reason.startsWith('package sed'))?.paths).toEqual(['/usr/bin/sed']);
    expect(plan.packages.map((p) => [p.name, p.version, p.listed])).toEqual([['app', '1.2-3', true]]);
    expect(plan.fullFiles).toBe(image().entries().length - 1);
  });

  it('drops shells, package managers and chmod/chown/sed, with symlinks to them, unless strip.files names them', () => {
    const plan = planStrip(image(), { service: 'app', packages: ['app', 'dash', 'sed'], files: [] });
    const kept = new Set(plan.kept.map((k) => k.entry.path));
    expect(kept.has('/usr/bin/dash')).toBe(false);
    expect(kept.has('/usr/bin/sh')).toBe(false);
    expect(kept.has('/usr/bin/sed')).toBe(false);
    expect(plan.policy.filter((p) => p.action === 'dropped').map((p) => [p.path, p.why])).toEqual([
      ['/usr/bin/dash', 'a shell, not named in strip.files'],
      ['/usr/bin/sed', 'a tool that changes files or their permissions, not named in strip.files'],
      ['/usr/bin/sh', 'a shell, not named in strip.files'],
    ]);
    const named = planStrip(image(), { service: 'app', packages: ['app', 'dash'], files: ['/usr/bin/dash', '/usr/bin/sh'] });
    expect(new Set(named.kept.map((k) => k.entry.path))).toContain('/usr/bin/sh');
    expect(named.policy.filter((p) => p.action === 'dropped')).toEqual([]);
  });

  it('clears set-id bits unless strip.files names the file', () => {
    const plan = planStrip(image(), { service: 'app', packages: ['app'], files: ['/usr/bin/passwd'] });
    const mode = new Map(plan.kept.map((k) => [k.entry.path, k.mode]));
    expect(mode.get('/usr/bin/app-admin')).toBe(0o755);
    expect(mode.get('/usr/bin/passwd')).toBe(0o4755);
    expect(plan.policy.find((p) => p.path === '/usr/bin/app-admin')?.action).toBe('setid-cleared');
  });

  it('reports a package that is not installed and a listed file that is not there, and keeps going to list them all', () => {
    const plan = planStrip(image(), { service: 'app', packages: ['app', 'gone', 'nope'], files: ['/etc/missing.conf'] });
    expect(plan.problems.map((p) => p.kind)).toEqual(['file-missing', 'package-missing', 'package-missing']);
    expect(plan.problems[0]!.message).toBe('app: strip.files lists /etc/missing.conf, which is not in the image');
    expect(plan.problems[1]!.message).toContain('gone');
    const noDb = new MemoryFs();
    noDb.add(dir('/'));
    expect(planStrip(noDb, { service: 'x', packages: ['app'], files: [] }).problems.map((p) => p.kind)).toEqual(['no-package-database']);
  });

  it('is the same whatever the order of the lists', () => {
    const a = planStrip(image(), { service: 'app', packages: ['app', 'sed'], files: ['/srv/data', '/etc/passwd'] });
    const b = planStrip(image(), { service: 'app', packages: ['sed', 'app'], files: ['/etc/passwd', '/srv/data'] });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });

  it('keeps the service\'s tmpfs and volume mount points as the full image has them, empty (a restart needs them)', () => {
    const fs = image();
    fs.add(dir('/tmp', 0o1777));
    fs.add(file('/tmp/leftover', 'x')[0], Buffer.from('x'));
    const plan = planStrip(fs, { service: 'app', packages: ['app'], files: [], mountPoints: mountPointsOf({ tmpfs: [{ path: '/tmp' }], volumes: [{ target: '/srv/data' }] }) });
    const tmp = plan.kept.find((k) => k.entry.path === '/tmp');
    expect(tmp).toMatchObject({ reason: 'mount point of a tmpfs or volume', mode: 0o1777 });
    expect(plan.kept.find((k) => k.entry.path === '/srv/data')).toMatchObject({ reason: 'mount point of a tmpfs or volume' });
    expect(plan.kept.some((k) => k.entry.path === '/tmp/leftover' || k.entry.path === '/srv/data/sub')).toBe(false);
    // Not in the image: nothing to keep (the engine makes the folder).
    expect(planStrip(image(), { service: 'app', packages: ['app'], files: [], mountPoints: ['/run/app'] }).kept.some((k) => k.entry.path === '/run/app')).toBe(false);
  });
});

describe('the stripped image archive', () => {
  const full: FullImage = {
    name: 'example/app:1', id: 'sha256:' + 'a'.repeat(64), size: 1000, created: '2026-11-29T20:00:00.123456789Z', architecture: 'amd64', os: 'linux',
    config: { User: '100:101', Entrypoint: ['/usr/sbin/appd'], Cmd: ['--serve', '$HOME "quoted"\nnewline'], Env: ['PATH=/usr/bin'], WorkingDir: '/srv', Labels: { a: 'b' }, Healthcheck: { Test: ['CMD', '/usr/sbin/appd', '--ping'], Interval: 10e9 }, StopSignal: 'SIGQUIT', Hostname: 'ignored' },
  };

  it('is deterministic, carries the configuration as JSON (no Dockerfile quoting), and holds exactly the plan', async () => {
    const fs = image();
    const plan = planStrip(fs, { service: 'app', packages: ['app'], files: ['/srv/data'] });
    const a = strippedArchive(fs, plan, full, 'example/app:1-stripped');
    const b = strippedArchive(image(), planStrip(image(), { service: 'app', packages: ['app'], files: ['/srv/data'] }), full, 'example/app:1-stripped');
    expect(a.archive.equals(b.archive)).toBe(true);
    expect(a.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    const cfg = a.config.config as Record<string, unknown>;
    expect(cfg.Cmd).toEqual(full.config.Cmd);
    expect(cfg.Entrypoint).toEqual(['/usr/sbin/appd']);
    expect(cfg.User).toBe('100:101');
    expect(cfg.Hostname).toBeUndefined();
    expect((cfg.Labels as Record<string, string>)[STRIPPED_FROM_LABEL]).toBe('example/app:1');
    const outer = await readImageTar(Readable.from([a.archive]));
    const manifest = JSON.parse(outer.content('/manifest.json')!.toString());
    expect(manifest[0].RepoTags).toEqual(['example/app:1-stripped']);
    const layer = await readImageTar(Readable.from([outer.content(`/${manifest[0].Layers[0]}`)!]));
    const paths = layer.entries().map((e) => e.path).filter((p) => p !== '/');
    expect(paths).toEqual(plan.kept.map((k) => k.entry.path).filter((p) => p !== '/'));
    expect(layer.entry('/srv/data/a')).toMatchObject({ uid: 100, gid: 100, mode: 0o640 });
    expect(layer.entry('/usr/bin/app-admin')?.mode).toBe(0o755);
  });

  it('writes a hard link whose target is not kept as the file itself', () => {
    const fs = image();
    // The closure keeps hard-link targets; a plan that does not (a hand-made one) still gives a valid layer.
    const full = planStrip(fs, { service: 'app', packages: [], files: ['/usr/bin/app-admin2'] });
    expect(full.kept.map((k) => k.entry.path)).toContain('/usr/bin/app-admin');
    const plan = { ...full, kept: full.kept.filter((k) => k.entry.path !== '/usr/bin/app-admin') };
    const entries = layerEntries(fs, plan);
    const e = entries.find((x) => x.entry.path === '/usr/bin/app-admin2');
    expect(e?.entry.type).toBe('file');
    expect(e?.content?.toString()).toBe('admin\n');
  });
});

describe('checks of a stripped image', () => {
  it('finds shells, package managers, chmod/chown/sed and set-id files not named by the spec', () => {
    const fs = image();
    const { problems } = strippedFsProblems(fs, ['/usr/bin/passwd']);
    expect(problems).toEqual([
      '/usr/bin/app-admin is setuid (mode 4755), and strip.files does not name it',
      '/usr/bin/dash is a shell, and strip.files does not name it',
      '/usr/bin/sed is a tool that changes files or their permissions, and strip.files does not name it',
      '/usr/bin/sh is a shell, and strip.files does not name it',
    ]);
  });

  it('compares the carried configuration', () => {
    expect(configProblems({ Cmd: ['a'], User: '1', Env: [] }, { Cmd: ['a'], User: '1' })).toEqual([]);
    expect(configProblems({ Entrypoint: ['/x'], User: '1' }, { User: '0' })).toEqual(['Entrypoint is null in the stripped image, ["/x"] in the full image', 'User is "0" in the stripped image, "1" in the full image']);
  });
});

it('the guestbook strip lists name no shell and no package manager', () => {
  for (const s of ['web', 'php', 'db']) {
    const text = readFileSync(new URL(`../specs/guestbook/${s}.md`, import.meta.url), 'utf8');
    expect(text).not.toMatch(/^\s+- \/(usr\/)?bin\/(sh|bash|dash|dpkg|apt)\s*$/m);
  }
});
