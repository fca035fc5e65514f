/**
 * The file-list search's pure parts: items from a strip list (package files without
 * documentation, listed files, entries of listed folders, in package-then-path order), candidates
 * as strip lists that keep the spec's policy exemptions, results written back as packages,
 * folders and files; the search itself (group tests in the given order) on a fake oracle; and
 * the removal of the candidate images on a fake engine.
 */
import { describe, expect, it } from 'vitest';
import { CandidateImages, type ImageRemover } from '../compiler/src/minimize/candidate-images.ts';
import { candidateStripInput, expandFolderItems, fileSearchItems, fileSearchTree, recordedFileItems, resultToStripLists } from '../compiler/src/minimize/files.ts';
import { minimize, type MinimizeBackend } from '../compiler/src/minimize/minimize.ts';
import type { RunOutcome } from '../compiler/src/minimize/stack-session.ts';
import type { ServiceModel } from '../compiler/src/model/types.ts';
import { MemoryFs, type FsEntry } from '../compiler/src/strip/fs.ts';
import { planStrip } from '../compiler/src/strip/plan.ts';

const dir = (path: string): FsEntry => ({ path, type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 1 });
const file = (path: string, text = path, mode = 0o644): [FsEntry, Buffer] => [{ path, type: 'file', mode, uid: 0, gid: 0, size: text.length, mtime: 1 }, Buffer.from(text)];

function image(): MemoryFs {
  const fs = new MemoryFs();
  for (const d of ['/', '/usr', '/usr/bin', '/usr/sbin', '/usr/share', '/usr/share/doc', '/usr/share/app', '/etc', '/data', '/data/db', '/var', '/var/lib', '/var/lib/dpkg', '/var/lib/dpkg/info']) fs.add(dir(d));
  const files = [
    file('/usr/sbin/appd', 'd', 0o755), file('/usr/bin/app-tool', 't', 0o755), file('/usr/bin/app-check', 'c', 0o755), file('/usr/share/app/big.dat'),
    file('/usr/share/doc/app-readme'), file('/usr/bin/dash', 'sh', 0o755), file('/etc/app.conf'), file('/etc/passwd'),
    file('/data/ibdata'), file('/data/log'), file('/data/db/t1'),
    file('/var/lib/dpkg/status', 'Package: app\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n\nPackage: dash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n'),
    file('/var/lib/dpkg/info/app.list', '/usr/sbin/appd\n/usr/bin/app-tool\n/usr/bin/app-check\n/usr/share/app/big.dat\n/usr/share/doc/app-readme\n/usr/share/app\n'),
    file('/var/lib/dpkg/info/dash.list', '/usr/bin/dash\n'),
  ];
  for (const [e, c] of files) fs.add(e, c);
  return fs;
}

const service = (packages: string[], files: string[], volumes: { target: string }[] = []) => ({ name: 'app', strip: { target: 'x:stripped', packages, files }, volumes }) as unknown as ServiceModel;

describe('file search items', () => {
  it('lists package files (no docs, no folders), listed files and the entries of listed folders, by package then path', () => {
    const items = fileSearchItems(image(), service(['app'], ['/etc/passwd', '/data', '/etc/app.conf']));
    expect(items.items).toEqual(['/usr/bin/app-check', '/usr/bin/app-tool', '/usr/sbin/appd', '/usr/share/app/big.dat', '/data/db', '/data/ibdata', '/data/log', '/etc/app.conf', '/etc/passwd']);
    expect(items.packageOf.get('/usr/sbin/appd')).toBe('app');
    expect(items.folderOf.get('/data/db')).toBe('/data');
  });

  it('keeps a listed folder under a volume (the service\'s state) out of the search and in every candidate', () => {
    const s = service(['app'], ['/data', '/etc/passwd'], [{ target: '/data' }]);
    const all = fileSearchItems(image(), s);
    expect(all.fixed).toEqual(['/data']);
    expect(all.items.some((i) => i.startsWith('/data'))).toBe(false);
    expect(candidateStripInput(s, ['/etc/passwd'], all.fixed).files).toEqual(['/data', '/etc/passwd']);
    expect(resultToStripLists(s, all, ['/etc/passwd'])).toEqual({ packages: [], files: ['/data', '/etc/passwd'] });
  });

  it('writes a result back as packages and folders kept whole, and single files otherwise', () => {
    const s = service(['app'], ['/etc/passwd', '/data']);
    const all = fileSearchItems(image(), s);
    expect(resultToStripLists(s, all, all.items)).toEqual({ packages: ['app'], files: ['/data', '/etc/passwd'] });
    expect(resultToStripLists(s, all, ['/usr/sbin/appd', '/data/ibdata', '/data/db', '/etc/passwd'])).toEqual({ packages: [], files: ['/data/db', '/data/ibdata', '/etc/passwd', '/usr/sbin/appd'] });
  });

  it('candidates keep the spec\'s policy: a shell from a package stays out even though the candidate lists it', () => {
    const s = service(['app', 'dash'], []);
    const all = fileSearchItems(image(), s);
    expect(all.items).toContain('/usr/bin/dash');
    const plan = planStrip(image(), candidateStripInput(s, all.items));
    expect(plan.kept.map((k) => k.entry.path)).not.toContain('/usr/bin/dash');
    const named = service(['app', 'dash'], ['/usr/bin/dash']);
    expect(planStrip(image(), candidateStripInput(named, fileSearchItems(image(), named).items)).kept.map((k) => k.entry.path)).toContain('/usr/bin/dash');
  });
});

describe('the file search on a fake oracle', () => {
  it('removes unneeded items in groups, in the given order, and proves the rest with --minimal', async () => {
    const items = Array.from({ length: 64 }, (_, i) => `/f/${String(i).padStart(2, '0')}`);
    const needed = new Set(['/f/03', '/f/40', '/f/41']);
    const seen: string[][] = [];
    const outcome = (verdict: 'pass' | 'fail'): RunOutcome => ({ verdict, scope: 'service', restarted: [], durationMs: 1, failed: verdict === 'fail' ? [{ id: 'x', problem: 'missing' }] : [], unhealthy: [] });
    const backend: MinimizeBackend = {
      run: async (c) => { seen.push([...c]); return outcome([...needed].every((n) => c.has(n)) ? 'pass' : 'fail'); },
    };
    const r = await minimize(backend, { what: 'files', strategy: 'record', minimal: true, reduce: true, ordered: true, seed: 1, start: items, pool: [], keep: [] });
    expect(r.result).toEqual([...needed].sort());
    expect(r.oneMinimal).toBe(true);
    expect(r.confirmed).toBe(true);
    expect(r.runs).toBeLessThan(items.length / 2);
    const plain = await minimize(backend, { what: 'files', strategy: 'record', minimal: false, reduce: true, ordered: true, seed: 1, start: items, pool: [], keep: [] });
    expect(plain.result).toEqual([...needed].sort());
    expect(plain.oneMinimal).toBe(false);
    const linear = await minimize(backend, { what: 'files', strategy: 'linear', minimal: false, seed: 1, start: items, pool: [], keep: [] });
    expect(linear.result).toEqual([...needed].sort());
    expect(linear.runs).toBe(1 + items.length + 3);
  });
});

describe('the file search tree: packages and folders first, single files last', () => {
  it('refines kept nodes down the folder tree and expands every node to its files', () => {
    const s = service(['app'], ['/etc/passwd', '/data']);
    const all = fileSearchItems(image(), s);
    const tree = fileSearchTree(all);
    expect(tree.top).toEqual(['pkg:app|', 'dir:/data|', '/etc/passwd']);
    expect(tree.expand('pkg:app|')).toEqual(['/usr/bin/app-check', '/usr/bin/app-tool', '/usr/sbin/appd', '/usr/share/app/big.dat']);
    const l1 = tree.refine(tree.top)!;
    expect(l1).toEqual(['pkg:app|/usr/bin', '/usr/sbin/appd', '/usr/share/app/big.dat', '/data/db', '/data/ibdata', '/data/log', '/etc/passwd']);
    expect(tree.refine(l1)).toEqual(['/usr/bin/app-check', '/usr/bin/app-tool', '/usr/sbin/appd', '/usr/share/app/big.dat', '/data/db', '/data/ibdata', '/data/log', '/etc/passwd']);
    expect(tree.refine(tree.refine(l1)!)).toBeUndefined();
  });

  it('finds the needed files of a large package in far fewer runs than one per file', async () => {
    // 1 package of 400 files in 20 folders, 3 of them needed, plus 2 listed files (1 needed).
    const files = Array.from({ length: 400 }, (_, i) => `/usr/share/p/d${String(i % 20).padStart(2, '0')}/f${String(i).padStart(3, '0')}`);
    const packageOf = new Map(files.map((f) => [f, 'p']));
    const all = { items: [...files.sort(), '/etc/a', '/etc/b'], packageOf, folderOf: new Map<string, string>(), fixed: [] };
    const tree = fileSearchTree(all);
    const needed = new Set([files[7]!, files[123]!, files[311]!, '/etc/a']);
    const outcome = (verdict: 'pass' | 'fail'): RunOutcome => ({ verdict, scope: 'service', restarted: [], durationMs: 1, failed: [], unhealthy: [] });
    const backend: MinimizeBackend = {
      run: async (c) => { const have = new Set([...c].flatMap((n) => tree.expand(n))); return outcome([...needed].every((n) => have.has(n)) ? 'pass' : 'fail'); },
    };
    const r = await minimize(backend, { what: 'files', strategy: 'record', minimal: true, reduce: true, ordered: true, refine: tree.refine, seed: 1, start: [...tree.top], pool: [], keep: [] });
    expect(r.result.flatMap((n) => tree.expand(n)).sort()).toEqual([...needed].sort());
    expect(r.oneMinimal).toBe(true);
    expect(r.runs).toBeLessThan(402 / 8); // 49 here, of which 3 confirm and 1 prove the start
  });
});

describe('candidate images', () => {
  /** An engine holding `images`; those in `inUse` answer 409 unless forced, as Docker does for a container's image. */
  function fakeEngine(images: string[], inUse: Set<string> = new Set(), broken: Set<string> = new Set()) {
    const present = new Set(images);
    const calls: string[] = [];
    const engine: ImageRemover = {
      remove: async (image, { force }) => {
        calls.push(`${image}${force ? ' -f' : ''}`);
        const fail = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode });
        if (broken.has(image)) throw fail(500, `driver failed removing ${image}\nmore`);
        if (!present.has(image)) throw fail(404, `No such image: ${image}`);
        if (inUse.has(image) && !force) throw fail(409, `conflict: image ${image} is being used by a container`);
        present.delete(image);
      },
    };
    return { engine, present, calls };
  }

  it('removes the images of earlier runs after each run, keeping the running one and retrying one still in use', async () => {
    // docker load (candidate a) → run → docker load (b) → run → docker rmi a → … → docker rmi -f x:stripped-candidate
    const inUse = new Set(['a']);
    const e = fakeEngine(['a', 'b', 'c'], inUse);
    const said: string[] = [];
    const images = new CandidateImages(e.engine, (l) => said.push(l));
    images.add('a');
    await images.sweep('a');
    images.add('b');
    await images.sweep('b'); // b's run ended before replacing a's container: a stays for later
    expect([...e.present]).toEqual(['a', 'b', 'c']);
    inUse.delete('a');
    images.add('c');
    await images.sweep('c');
    expect([...e.present]).toEqual(['c']);
    expect(e.calls).toEqual(['a', 'a', 'b']);
    expect(said).toEqual([]);
  });

  it('removes the tag and every image left at the end, forced; says what it could not remove and never throws', async () => {
    const e = fakeEngine(['x:stripped-candidate', 'b', 'c'], new Set(['c']), new Set(['b']));
    const said: string[] = [];
    const images = new CandidateImages(e.engine, (l) => said.push(l));
    images.add('b');
    images.add('c');
    await images.sweep('c');
    expect(said).toEqual(['could not remove the candidate image b (tried again later): driver failed removing b']);
    await images.removeAll('x:stripped-candidate');
    expect(e.calls.slice(-3)).toEqual(['x:stripped-candidate -f', 'b -f', 'c -f']);
    expect([...e.present]).toEqual(['b']);
    expect(said[1]).toBe('could not remove 1 candidate image(s) (remove them with docker rmi): b: driver failed removing b');
  });
});

describe('a recording as search items', () => {
  const rec = (name: string, makers: ('service' | 'helper' | 'healthcheck' | 'probe' | 'runtime')[] = ['service'], count = 1) => ({ name, count, failed: 0, makers });

  it('expands folder items to their files, keeping the folder as their origin', () => {
    const fs = image();
    fs.add(dir('/etc/app.d'));
    for (const [e, c] of [file('/etc/app.d/a.conf'), file('/etc/app.d/b.conf')]) fs.add(e, c);
    const all = fileSearchItems(fs, service(['app'], ['/etc']));
    expect(all.items).toContain('/etc/app.d');
    const fine = expandFolderItems(fs, all);
    expect(fine.items).not.toContain('/etc/app.d');
    expect(fine.items).toEqual(expect.arrayContaining(['/etc/app.d/a.conf', '/etc/app.d/b.conf', '/etc/passwd']));
    expect(fine.folderOf.get('/etc/app.d/a.conf')).toBe('/etc');
    // Every file of /etc kept: the result folds back into the folder.
    expect(resultToStripLists(service(['app'], ['/etc']), fine, fine.items.filter((i) => i.startsWith('/etc/')))).toMatchObject({ files: ['/etc'] });
  });

  it('names the item a path is, the one it resolves to, and every item a cut path is a prefix of; the rest is reported', () => {
    const fs = image();
    fs.add({ path: '/usr/bin/app', type: 'symlink', mode: 0o777, uid: 0, gid: 0, size: 0, mtime: 1, linkname: '../sbin/appd' });
    const all = fileSearchItems(fs, service(['app'], ['/etc/app.conf', '/usr/bin/app']));
    const long = `/usr/share/app/${'x'.repeat(64)}`.slice(0, 79); // bpftrace cut it at 79 bytes
    fs.add(...file(`/usr/share/app/${'x'.repeat(70)}.dat`));
    const all2 = fileSearchItems(fs, service(['app'], ['/etc/app.conf', '/usr/bin/app', `/usr/share/app/${'x'.repeat(70)}.dat`]));
    const { items, other } = recordedFileItems(fs, all2, [
      rec('/usr/bin/app', ['service'], 2), rec('/etc/app.conf', ['healthcheck']), rec('/etc/./app.conf', ['service']),
      rec(long), rec('/usr/share'), rec('relative.conf'), rec(''), rec('/etc/missing'), rec('/etc/passwd'),
    ]);
    expect(all.items).toContain('/usr/bin/app');
    expect(items.map((i) => [i.name, i.count, i.makers.join(',')])).toEqual([
      ['/etc/app.conf', 2, 'healthcheck,service'],
      ['/usr/bin/app', 2, 'service'],
      ['/usr/sbin/appd', 2, 'service'],
      [`/usr/share/app/${'x'.repeat(70)}.dat`, 1, 'service'],
    ]);
    expect(other).toEqual(['/etc/missing', '/etc/passwd', '/usr/share', 'relative.conf']);
  });

  it('starts the search from the recording: record, prove, confirm; helpers seed it when asked', async () => {
    const items = Array.from({ length: 200 }, (_, i) => `/f/${String(i).padStart(3, '0')}`);
    const needed = new Set(['/f/003', '/f/040', '/f/041', '/f/150']);
    const outcome = (verdict: 'pass' | 'fail'): RunOutcome => ({ verdict, scope: 'service', restarted: [], durationMs: 1, failed: verdict === 'fail' ? [{ id: 'x', problem: 'missing' }] : [], unhealthy: [] });
    const backend: MinimizeBackend = {
      run: async (c) => outcome([...needed].every((n) => c.has(n)) ? 'pass' : 'fail'),
      // The service opened three of them; the verifier's database client is /f/150.
      record: async () => ({ outcome: outcome('pass'), items: [rec('/f/003'), rec('/f/040'), rec('/f/041'), rec('/f/150', ['helper'])], other: [] }),
    };
    const r = await minimize(backend, { what: 'files', strategy: 'record', minimal: false, ordered: true, seed: 1, start: items, pool: [], keep: [], seedMakers: ['runtime', 'service', 'healthcheck', 'helper'] });
    expect(r.result).toEqual([...needed].sort());
    expect(r.runs).toBe(1 + 1 + 3);
    expect(r.confirmed).toBe(true);
    // Without the helper's files the first candidate fails, and group tests find what is missing.
    const r2 = await minimize(backend, { what: 'files', strategy: 'record', minimal: false, ordered: true, seed: 1, start: items, pool: [], keep: [] });
    expect(r2.result).toEqual([...needed].sort());
    expect(r2.addedAfterRecording).toEqual(['/f/150']);
    expect(r2.runs).toBeLessThan(20);
  });
});
