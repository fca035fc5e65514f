// The evidence site's data layer (compiler/src/site/), without a browser: freshness of evidence,
// reading evidence files, grouping interactions, the Docker-defaults comparison, compose excerpts.
// Inputs are test/fixtures/site-demo/ (see test/site.test.ts for what each stack there is for).
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findStackDirs, readStack } from '../compiler/src/io/read-specs.ts';
import { compile, type CompiledStack } from '../compiler/src/pipeline.ts';
import { composeExcerpt } from '../compiler/src/site/compose-excerpt.ts';
import { compareWithDockerDefaults, dockerDefaultSyscalls } from '../compiler/src/site/docker-comparison.ts';
import { evidenceChanges } from '../compiler/src/site/evidence-freshness.ts';
import { readEvidence, type EvidenceRecord } from '../compiler/src/site/evidence-record.ts';
import { loadSiteData } from '../compiler/src/site/load-site-data.ts';
import { buildSiteStack, hashesNow } from '../compiler/src/site/site-data.ts';
import { buildEvidence, evidenceJson } from '../compiler/src/verify/evidence.ts';
import { Scrubber } from '../compiler/src/verify/secrets.ts';

const FIXTURE = path.resolve(import.meta.dirname, 'fixtures/site-demo');
let stacks: readonly CompiledStack[];
let demoEvidenceText: string;

const stack = (name: string) => stacks.find((s) => s.name === name)!;
const service = (stackName: string, name: string) => stack(stackName).model.services.find((s) => s.name === name)!;

/** demo's fixture evidence with the hashes of the current compile: current by construction. */
function currentDemoEvidence(): EvidenceRecord {
  const doc = JSON.parse(demoEvidenceText) as Record<string, unknown>;
  const now = hashesNow(stack('demo').model, stack('demo').artifacts);
  return { ...doc, specs: now.specs, artifacts: now.artifacts.filter((a) => a.path !== 'manifest.json') } as unknown as EvidenceRecord;
}

beforeAll(async () => {
  const dirs = await findStackDirs(path.join(FIXTURE, 'specs'));
  const result = compile(await Promise.all(dirs.map((d) => readStack(d, path.join(FIXTURE, 'generated'), FIXTURE))));
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  stacks = result.stacks;
  demoEvidenceText = await readFile(path.join(FIXTURE, 'generated/demo/evidence/latest.json'), 'utf8');
});

describe('evidenceChanges', () => {
  const now = { specs: [{ path: 'stack.md', sha256: 'a' }, { path: 'web.md', sha256: 'b' }], artifacts: [{ path: 'compose.yaml', sha256: 'c' }, { path: 'manifest.json', sha256: 'm' }] };

  it('finds nothing when every recorded hash is the current one (manifest.json may be left out)', () => {
    expect(evidenceChanges('demo', { specs: now.specs, artifacts: [{ path: 'compose.yaml', sha256: 'c' }] }, now)).toEqual([]);
  });

  it('names each spec or artifact that changed, is new or is gone', () => {
    const recorded = { specs: [{ path: 'stack.md', sha256: 'a' }, { path: 'web.md', sha256: 'OLD' }, { path: 'db.md', sha256: 'd' }], artifacts: [{ path: 'manifest.json', sha256: 'OLD' }] };
    expect(evidenceChanges('demo', recorded, now)).toEqual([
      { what: 'spec', path: 'db.md', change: 'gone' },
      { what: 'spec', path: 'web.md', change: 'changed' },
      { what: 'artifact', path: 'compose.yaml', change: 'new' },
      { what: 'artifact', path: 'manifest.json', change: 'changed' },
    ]);
  });

  it('compares paths recorded with their folder by their path inside the stack', () => {
    const recorded = { specs: [{ path: 'specs/demo/stack.md', sha256: 'a' }, { path: 'demo/web.md', sha256: 'b' }], artifacts: [{ path: 'generated/demo/compose.yaml', sha256: 'c' }] };
    expect(evidenceChanges('demo', recorded, now)).toEqual([]);
  });
});

describe('readEvidence', () => {
  it('accepts the fixture evidence', () => {
    expect(readEvidence(demoEvidenceText)).toHaveProperty('evidence.runId', '3f9c1a2b');
  });

  it('reads what the verifier writes (buildEvidence), results and hashes as recorded', () => {
    const fixture = JSON.parse(demoEvidenceText) as EvidenceRecord;
    const doc = buildEvidence({
      stack: 'demo', runId: 'c0ffee00', project: 'hardspec-demo-c0ffee00', startedAt: new Date(0), finishedAt: new Date(1000), result: 'failed', exitCode: 1,
      hardspecVersion: '0.1.0', engine: fixture.engine, compose: fixture.compose, host: fixture.host, images: fixture.images, specs: fixture.specs, artifacts: fixture.artifacts,
      timings: fixture.timings, teardown: fixture.teardown,
      interactions: fixture.interactions.map((i) => ({ ...i, service: i.service ?? undefined })),
    }, new Scrubber([]));
    const read = readEvidence(evidenceJson(doc));
    if ('problem' in read) throw new Error(read.problem);
    expect(read.evidence.interactions.map((i) => [i.id, i.status])).toEqual(fixture.interactions.map((i) => [i.id, i.status]));
    expect(read.evidence.specs).toEqual(fixture.specs);
  });

  it('says what is wrong with a file it cannot use', () => {
    expect(readEvidence('{"format": ')).toEqual({ problem: expect.stringMatching(/^it is not valid JSON/) });
    const doc = JSON.parse(demoEvidenceText);
    delete doc.interactions[0].status;
    expect(readEvidence(JSON.stringify(doc))).toEqual({ problem: "it does not match the evidence format: /interactions/0 must have required property 'status'" });
    const lying = JSON.parse(demoEvidenceText);
    lying.summary.failed = 0;
    expect(readEvidence(JSON.stringify(lying))).toEqual({ problem: 'its summary does not match its interaction results' });
  });
});

describe('buildSiteStack', () => {
  it('joins spec interactions with their results, grouped stack-wide first, then by service', () => {
    const evidence = currentDemoEvidence();
    const site = buildSiteStack(stack('demo'), { evidence: { kind: 'read', path: 'latest.json', evidence, text: '' }, screenshots: new Map() });
    expect(site.evidence.kind).toBe('current');
    expect(site.groups.map((g) => [g.service, g.rows.map((r) => `${r.id}:${r.result?.status}`)])).toEqual([
      ['', ['home-answers:passed', 'form-in-browser:passed', 'admin-port-closed:passed']],
      ['web', ['web-root-read-only:passed', 'web-config:failed', 'web-selinux-type:not-verifiable', 'web.auto.caps:passed']],
      ['worker', ['worker-keyctl-refused:passed', 'worker.auto.read-only:passed']],
    ]);
    expect(site.counts).toEqual({ passed: 7, failed: 1, 'not-verifiable': 1, skipped: 0 });
    expect(site.services.find((s) => s.model.name === 'web')!.artifacts.map((a) => a.path)).toEqual(['seccomp/web.json', 'selinux/demo_web.fc', 'selinux/demo_web.if', 'selinux/demo_web.te']);
  });

  it('keeps a result whose interaction the specs no longer declare, marked as such, and calls the evidence stale', () => {
    const evidence = currentDemoEvidence();
    const old = { ...evidence, specs: evidence.specs.map((s) => (s.path === 'web.md' ? { ...s, sha256: '0'.repeat(64) } : s)), interactions: [...evidence.interactions, { ...evidence.interactions[3]!, id: 'web-removed-check' }] };
    const site = buildSiteStack(stack('demo'), { evidence: { kind: 'read', path: 'latest.json', evidence: old, text: '' }, screenshots: new Map() });
    expect(site.evidence).toMatchObject({ kind: 'stale', changes: [{ what: 'spec', path: 'web.md', change: 'changed' }] });
    expect(site.groups[1]!.rows.at(-1)).toMatchObject({ id: 'web-removed-check', inSpec: false });
  });

  it('refuses the evidence of another stack', () => {
    const evidence = { ...currentDemoEvidence(), stack: 'legacy' };
    const site = buildSiteStack(stack('demo'), { evidence: { kind: 'read', path: 'latest.json', evidence, text: '' }, screenshots: new Map() });
    expect(site.evidence).toEqual({ kind: 'unreadable', path: 'latest.json', problem: 'it is the evidence of the stack "legacy", not of "demo"' });
    expect(site.counts).toEqual({ passed: 0, failed: 0, 'not-verifiable': 0, skipped: 0 });
  });
});

describe('loadSiteData', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'hardspec-site-data-'));
    await cp(FIXTURE, work, { recursive: true });
    await writeFile(path.join(work, 'generated/legacy/evidence/latest.json'), '{"format": "hardspec-evidence"');
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('reads every stack through the compiler and each stack\'s evidence and screenshots', async () => {
    const data = await loadSiteData({ specsDir: 'specs', generatedDir: 'generated', cwd: work });
    const byName = Object.fromEntries(data.stacks.map((s) => [s.name, s]));
    expect(Object.keys(byName)).toEqual(['demo', 'fresh', 'legacy']);
    expect(byName.fresh!.evidence).toEqual({ kind: 'missing', path: 'generated/fresh/evidence/latest.json' });
    expect(byName.legacy!.evidence).toMatchObject({ kind: 'unreadable', problem: expect.stringMatching(/^it is not valid JSON/) });
    expect([...byName.demo!.screenshots.keys()]).toEqual(['screenshots/form-in-browser.png']);
    expect(byName.demo!.model.services.map((s) => s.source.path)).toEqual(['specs/demo/web.md', 'specs/demo/worker.md']);
  });

  it('reads a stripped image\'s size report and SBOM, and says when it is not one', async () => {
    const report = {
      format: 'hardspec-strip', version: 1, stack: 'demo', service: 'web', hardspecVersion: '0.1.0',
      full: { image: 'example/web:1', id: 'sha256:x', bytes: 100e6, files: 5000, fileBytes: 90e6 },
      stripped: { image: 'example/web:1-stripped', id: 'sha256:y', bytes: 10e6, files: 120, fileBytes: 9e6 },
      ratio: 10, packages: [{ name: 'nginx', version: '1', listed: true, filesKept: 3 }],
      policy: [{ path: '/bin/sh', action: 'dropped', why: 'a shell' }, { path: '/usr/bin/x', action: 'setid-cleared', why: 'setuid' }], kept: [], removed: [],
    };
    await mkdir(path.join(work, 'generated/demo/images'), { recursive: true });
    await writeFile(path.join(work, 'generated/demo/images/web.size.json'), JSON.stringify(report));
    await writeFile(path.join(work, 'generated/demo/images/web.spdx.json'), '{"spdxVersion": "SPDX-2.3"}');
    await writeFile(path.join(work, 'generated/demo/images/worker.size.json'), '{"format": "other"}');
    const data = await loadSiteData({ specsDir: 'specs', generatedDir: 'generated', cwd: work });
    const demo = data.stacks.find((s) => s.name === 'demo')!;
    const web = demo.services.find((s) => s.model.name === 'web')!.stripped!;
    expect(web).toMatchObject({ image: 'example/web:1-stripped', bytes: 10e6, fullBytes: 100e6, ratio: 10, files: 120, dropped: 1, setIdCleared: 1, packages: 1, sbomPath: 'images/web.spdx.json' });
    expect(demo.services.find((s) => s.model.name === 'worker')!.stripped).toEqual({ sizePath: 'images/worker.size.json', problem: 'it is not a hardspec strip report (format hardspec-strip, version 1)' });
    await rm(path.join(work, 'generated/demo/images'), { recursive: true, force: true });
  });

  it('stops with the diagnostics when the specs do not compile', async () => {
    await writeFile(path.join(work, 'specs/fresh/app.md'), '---\nhardspec: 1\nkind: service\n---\n');
    await expect(loadSiteData({ specsDir: 'specs', generatedDir: 'generated', cwd: work })).rejects.toThrow(/the specs do not compile[\s\S]*specs\/fresh\/app\.md:\d+:\d+: error HS2002/);
  });
});

describe('compareWithDockerDefaults', () => {
  it('counts capabilities and system calls against Docker\'s defaults (the site-demo web.md fixture)', () => {
    const c = compareWithDockerDefaults(service('demo', 'web'));
    expect(c.capabilities).toMatchObject({ kept: ['NET_BIND_SERVICE'], added: ['NET_ADMIN'] });
    expect(c.capabilities.removed).toHaveLength(13);
    expect(c.syscalls).toMatchObject({ added: ['mount'], enosys: ['clone3'] });
    expect(c.syscalls.kept).toHaveLength(19);
    expect(c.syscalls.removed).toHaveLength(dockerDefaultSyscalls().length - 19);
    expect(c).toMatchObject({ readOnlyRoot: true, user: { uid: 33, gid: 33 }, noNewPrivileges: true, limits: [{ name: 'memory', value: '64m' }, { name: 'pids', value: '16' }] });
  });

  it('shows Docker\'s default less what the spec denies and what needs a capability the service lacks', () => {
    // worker.md: baseline docker-default, deny [ptrace], no capabilities: chroot needs SYS_CHROOT.
    expect(compareWithDockerDefaults(service('demo', 'worker')).syscalls).toMatchObject({ added: [], removed: ['chroot', 'ptrace'] });
  });
});

describe('composeExcerpt', () => {
  it('cuts one service\'s block out of compose.yaml, byte for byte', () => {
    const compose = stack('demo').artifacts.find((a) => a.path === 'compose.yaml')!.content;
    const web = composeExcerpt(compose, 'web')!;
    expect(web.startsWith('services:\n  web:\n    image: "example/web:1"\n')).toBe(true);
    expect(web).not.toContain('worker');
    expect(compose).toContain(web.slice('services:\n'.length));
    const worker = composeExcerpt(compose, 'worker')!;
    expect(worker).not.toMatch(/^networks:/m);
    expect(composeExcerpt(compose, 'nope')).toBeUndefined();
  });
});
