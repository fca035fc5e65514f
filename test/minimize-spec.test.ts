// The minimiser's outputs without Docker: the spec edit of --write (body, key order and comments
// kept), the diff printed without it, the report and its JSON Schema, the candidate models, the
// moved ports, the progress line.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { candidateModel, runArtifacts } from '../compiler/src/minimize/candidate.ts';
import { resolveSeccomp } from '../compiler/src/emit/seccomp/emit-seccomp.ts';
import { syscallUniverse } from '../compiler/src/minimize/docker-backend.ts';
import { searchKeep } from '../compiler/src/minimize/command.ts';
import { minimize, type MinimizeBackend } from '../compiler/src/minimize/minimize.ts';
import { findFreePorts, remapPorts, remapUrl } from '../compiler/src/minimize/ports.ts';
import { progressLine } from '../compiler/src/minimize/progress.ts';
import { buildReport, formatSummary, validateReport } from '../compiler/src/minimize/report.ts';
import { functionalInteractions, minimizeOverride, recreatedByOracle, servicesToRestart, unhealthyElsewhere, withDependents } from '../compiler/src/minimize/stack-session.ts';
import { applySpecChange, unifiedDiff } from '../compiler/src/minimize/write-spec.ts';
import { readStack } from '../compiler/src/io/read-specs.ts';
import { summarizeReport } from '../compiler/src/site/minimize-record.ts';
import type { ServiceModel } from '../compiler/src/model/types.ts';
import { compile } from '../compiler/src/pipeline.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

async function guestbook() {
  const input = await readStack(path.join(ROOT, 'specs/guestbook'), path.join(ROOT, 'generated'), ROOT);
  const r = compile([input]);
  expect(r.stacks).toHaveLength(1);
  return r.stacks[0]!.model;
}

describe('applySpecChange (--write)', () => {
  const spec = [
    '---',
    'hardspec: 1',
    'kind: service',
    '# the filter: see below',
    'seccomp:',
    '  baseline: docker-default   # for now',
    '  deny: [ptrace, personality]',
    'capabilities:',
    '  add: [CHOWN, SETUID]',
    'user: "33:33"',
    '---',
    '# Web',
    '',
    'Body text: --- stays.',
    '',
  ].join('\n');

  it('sets baseline none and the allowlist, keeping everything else byte for byte', () => {
    const r = applySpecChange(spec, { what: 'syscalls', allow: ['read', 'write'] });
    expect('text' in r).toBe(true);
    const text = (r as { text: string }).text;
    expect(text).toContain('  baseline: none   # for now\n  allow: [read, write]\n  deny: [ptrace, personality]\n');
    expect(text.replace('  baseline: none   # for now\n  allow: [read, write]\n', '  baseline: docker-default   # for now\n')).toBe(spec);
  });

  it('replaces an existing allowlist and wraps long ones', () => {
    const first = (applySpecChange(spec, { what: 'syscalls', allow: ['read'] }) as { text: string }).text;
    const many = Array.from({ length: 40 }, (_, i) => `call_number_${i}`);
    const second = (applySpecChange(first, { what: 'syscalls', allow: many }) as { text: string }).text;
    expect(second).not.toContain('allow: [read]');
    expect(second.split('\n').every((l) => l.length <= 100)).toBe(true);
    expect(second).toContain('# the filter: see below');
  });

  it('sets capabilities.add, and adds the block when it is missing', () => {
    expect((applySpecChange(spec, { what: 'caps', add: [] }) as { text: string }).text).toContain('capabilities:\n  add: []\nuser');
    const bare = '---\nhardspec: 1\nkind: service\n---\nbody\n';
    expect((applySpecChange(bare, { what: 'caps', add: ['CHOWN'] }) as { text: string }).text).toBe('---\nhardspec: 1\nkind: service\ncapabilities:\n  add: [CHOWN]\n---\nbody\n');
  });

  it('rewrites a flow mapping as a block mapping with the same other keys', () => {
    const flow = '---\nkind: service\nseccomp: { baseline: docker-default, deny: [ptrace] }\n---\n';
    expect((applySpecChange(flow, { what: 'syscalls', allow: ['read'] }) as { text: string }).text).toBe('---\nkind: service\nseccomp:\n  baseline: none\n  allow: [read]\n  deny: [ptrace]\n---\n');
  });

  it('writes strip.files as a block list, one quoted-when-needed path a line, keeping comments and key order', () => {
    // hardspec minimize guestbook --service web --what files --write, on a spec whose list was a flow list.
    const flowFiles = [
      '---', 'kind: service', 'strip:', '  target: web:stripped', '  # found by minimize', '  files:',
      '    [/etc/nginx/fastcgi_params, /etc/nginx/mime.types,', '    /usr/bin/wget]', '  packages: [nginx]', 'user: "33:33"', '---', 'body', '',
    ].join('\n');
    const files = Array.from({ length: 30 }, (_, i) => `/usr/share/nginx/html/page-${String(i).padStart(2, '0')}.html`);
    const text = (applySpecChange(flowFiles, { what: 'files', packages: ['nginx'], files: [...files, '/srv/a b: c', 'true'] }) as { text: string }).text;
    expect(text).toBe([
      '---', 'kind: service', 'strip:', '  target: web:stripped', '  # found by minimize', '  files:',
      ...files.map((f) => `    - ${f}`), '    - "/srv/a b: c"', '    - "true"', '  packages: [nginx]', 'user: "33:33"', '---', 'body', '',
    ].join('\n'));
  });

  it('replaces a block list of files in place and adds a missing strip block with files as a block list', () => {
    const block = '---\nkind: service\nstrip:\n  files: # why each\n    - /etc/passwd\n    - /usr/bin/old\n  packages: [p]\n---\n';
    expect((applySpecChange(block, { what: 'files', packages: ['p'], files: ['/etc/group', '/etc/passwd'] }) as { text: string }).text)
      .toBe('---\nkind: service\nstrip:\n  files: # why each\n    - /etc/group\n    - /etc/passwd\n  packages: [p]\n---\n');
    expect((applySpecChange('---\nkind: service\n---\n', { what: 'files', packages: [], files: ['/a'] }) as { text: string }).text)
      .toBe('---\nkind: service\nstrip:\n  packages: []\n  files:\n    - /a\n---\n');
  });

  it('refuses a spec without frontmatter', () => {
    expect(applySpecChange('# no frontmatter\n', { what: 'caps', add: [] })).toHaveProperty('error');
  });

  it('works on the guestbook specs as they are', () => {
    for (const s of ['web', 'php', 'db']) {
      const text = readFileSync(path.join(ROOT, `specs/guestbook/${s}.md`), 'utf8');
      const r = applySpecChange(text, { what: 'syscalls', allow: ['read', 'write'] });
      expect(r).toHaveProperty('text');
      expect(applySpecChange(text, { what: 'files', packages: ['p'], files: ['/etc/passwd', '/etc/group'] })).toHaveProperty('text');
    }
  });
});

describe('unifiedDiff', () => {
  it('shows changed lines with context', () => {
    const d = unifiedDiff('a\nb\nc\nd\ne\nf\ng\nh\n', 'a\nb\nc\nD\ne\nf\ng\nh\n', 'x.md');
    expect(d).toBe('--- a/x.md\n+++ b/x.md\n@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n');
    expect(unifiedDiff('same\n', 'same\n', 'x')).toBe('');
  });
});

describe('candidates and the session model', () => {
  it('replaces one service allowlist or capability set, leaving the others alone', async () => {
    const model = await guestbook();
    const m = candidateModel(model, 'web', 'syscalls', ['read', 'write', 'exit_group']);
    const web = m.services.find((s) => s.name === 'web')!;
    expect(web.seccomp.baseline).toBe('none');
    expect(web.seccomp.allow).toEqual(['exit_group', 'read', 'write']);
    expect(web.seccomp.enosys).toContain('clone3');
    expect(m.services.find((s) => s.name === 'db')).toBe(model.services.find((s) => s.name === 'db'));
    const caps = candidateModel(model, 'db', 'caps', ['CHOWN']);
    expect(caps.services.find((s) => s.name === 'db')!.capAdd).toEqual(['CHOWN']);
    const artifacts = runArtifacts(m, '../../specs/guestbook');
    expect(artifacts.map((a) => a.path)).toEqual(['compose.yaml', 'seccomp/db.json', 'seccomp/php.json', 'seccomp/web.json']);
    expect(JSON.parse(artifacts.find((a) => a.path === 'seccomp/web.json')!.content).syscalls[0].names).toEqual(['exit_group', 'read', 'write']);
  });

  it('starts a syscall search from the names of the engine architecture only', async () => {
    const model = await guestbook();
    const web = model.services.find((s) => s.name === 'web')!;
    // As the spec first was: Docker's default list without ptrace and personality.
    const u = syscallUniverse({ ...web, seccomp: resolveSeccomp({ baseline: 'docker-default', deny: ['ptrace', 'personality'] }, []) }, 'x86_64');
    expect(u.start).not.toContain('ptrace');
    expect(u.start).toContain('openat');
    // Docker's list holds 32-bit names (e.g. _llseek); the model keeps only x86_64 and aarch64 ones.
    expect(u.start.length + u.pool.length).toBe(291);
    expect(u.pool).toEqual(['personality', 'ptrace']);
  });

  it('oracle: the functional interactions only; dependents restart with their dependency, stateful services every run', async () => {
    const model = await guestbook();
    const ids = functionalInteractions(model).map((i) => i.id);
    expect(ids).toContain('form-post-in-browser');
    expect(ids).not.toContain('security-headers');
    expect(ids.some((i) => i.endsWith('-refused'))).toBe(false);
    expect(withDependents(model, 'web')).toEqual(['web']);
    expect(withDependents(model, 'php')).toEqual(['php', 'web']);
    expect(withDependents(model, 'db')).toEqual(['db', 'php', 'web']);
    // The database holds the data: it starts from a fresh volume in every run.
    expect(servicesToRestart(model, 'web')).toEqual(['db', 'web']);
    expect(servicesToRestart(model, 'php')).toEqual(['db', 'php', 'web']);
    // The persistence interaction recreates db with php and web up, so a db run restarts db alone.
    expect([...recreatedByOracle(model)]).toEqual(['db']);
    expect(servicesToRestart(model, 'db')).toEqual(['db']);
    // Without that interaction nothing proves php survives a new db container: both restart with it.
    const unproven = { ...model, interactions: model.interactions.filter((it) => it.check.kind !== 'persistence') };
    expect(recreatedByOracle(unproven).size).toBe(0);
    expect(servicesToRestart(unproven, 'db')).toEqual(['db', 'php', 'web']);
    expect(servicesToRestart(unproven, 'web')).toEqual(['db', 'php', 'web']);
    // A read back from db itself (sql) does not go through php and web: it proves nothing of them.
    const sqlRead = { ...model, interactions: model.interactions.map((it) => (it.check.kind === 'persistence' ? { ...it, check: { ...it.check, read: { kind: 'sql' as const, service: 'db', query: 'SELECT 1', expect: { contains: ['1'] } } } } : it)) };
    expect(recreatedByOracle(sqlRead).size).toBe(0);
    expect(servicesToRestart(sqlRead, 'db')).toEqual(['db', 'php', 'web']);
    // A persistence check of the security probes proves nothing: only functional ones count.
    const probeOnly = { ...model, interactions: model.interactions.map((it) => (it.check.kind === 'persistence' ? { ...it, purpose: 'security' as const } : it)) };
    expect(servicesToRestart(probeOnly, 'db')).toEqual(['db', 'php', 'web']);
  });

  it('a service that did not come up is the candidate\'s failure only when it is the service under test or depends on it', async () => {
    const model = await guestbook();
    const db = { service: 'db', reason: 'not healthy after 60 s' };
    const php = { service: 'php', reason: 'dependency failed' };
    const web = { service: 'web', reason: 'exited (1)' };
    // web's candidate cannot keep db or php down: those are oracle errors.
    expect(unhealthyElsewhere(model, 'web', [web])).toEqual([]);
    expect(unhealthyElsewhere(model, 'web', [db, php, web])).toEqual([db, php]);
    // db's candidate can keep every service down (php and web wait for it).
    expect(unhealthyElsewhere(model, 'db', [db, php, web])).toEqual([]);
    expect(unhealthyElsewhere(model, 'php', [db])).toEqual([db]);
    expect(unhealthyElsewhere(model, 'php', [php, web])).toEqual([]);
  });

  it('moves published ports and the URLs to them, nothing else', async () => {
    const model = await guestbook();
    const ports = new Map([[8080, 18080]]);
    expect(remapUrl('http://127.0.0.1:8080/', ports)).toBe('http://127.0.0.1:18080/');
    expect(remapUrl('http://127.0.0.1:80801/', ports)).toBe('http://127.0.0.1:80801/');
    expect(remapUrl('http://example.org:8080/', ports)).toBe('http://example.org:8080/');
    const m = remapPorts(model, ports);
    expect(m.services.find((s) => s.name === 'web')!.ports[0]!.host).toBe(18080);
    expect(JSON.stringify(m.interactions)).not.toContain('"url":"http://127.0.0.1:8080');
    expect(JSON.stringify(m.interactions)).toContain('127.0.0.1:18080');
    // A second lane never gets a port of the first, even when the random pick lands on it.
    const picks = [0.5, 0.5, 0.25];
    const lane = await findFreePorts(model, () => picks.shift() ?? 0.75, [40_000]);
    expect([30_000, 50_000]).toContain(lane.get(8080)); // 30000 unless something on this host holds it
    const override = minimizeOverride(m, { 'io.hardspec.run': 'r1' }, 1);
    expect(override).toContain('interval: "1s"');
    expect(override).toContain('internal: true');
    expect(override).not.toContain('runtime');
    // The strace recording's run: every service under the engine's runtime hardspec-strace.
    const traced = minimizeOverride(m, { 'io.hardspec.run': 'r1' }, 1, 'hardspec-strace');
    expect(traced.match(/^ {4}runtime: "?hardspec-strace"?$/gm)).toHaveLength(m.services.length);
  });
});

describe('report', () => {
  async function syscallsReport() {
    const backend: MinimizeBackend = {
      run: async (c) => ({ verdict: c.has('read') ? 'pass' : 'fail', scope: 'service', restarted: ['web'], durationMs: 10, failed: c.has('read') ? [] : [{ id: 'site-answers', problem: 'x' }], unhealthy: [] }),
      record: async () => ({ outcome: { verdict: 'pass', scope: 'stack', restarted: ['web'], durationMs: 10, failed: [], unhealthy: [] }, items: [{ name: 'read', count: 3, failed: 0, makers: ['service'] }, { name: 'uname', count: 1, failed: 1, makers: ['healthcheck'] }], other: ['mount'] }),
    };
    const result = await minimize(backend, { what: 'syscalls', strategy: 'record', minimal: true, seed: 1, start: ['read', 'uname', 'write'], pool: [] });
    const ctx = {
      stack: 'guestbook', service: 'web', spec: 'specs/guestbook/web.md', hardspecVersion: '0.1.0', startedAt: new Date(0),
      engine: { version: '20.10.24', kernel: '6.18', arch: 'x86_64' }, compose: 'docker-compose 1.29.2',
      recorder: { kind: 'bpftrace' as const, caps: true, problems: [], fallbacks: [] }, otherArch: [], dockerDefault: { profileNames: 346, forService: 291 }, oracle: ['site-answers'],
    };
    return { result, ctx, report: buildReport(result, ctx) };
  }

  it('matches its JSON Schema and reads well', async () => {
    const { result, ctx, report } = await syscallsReport();
    expect(validateReport(report)).toEqual([]);
    expect(validateReport({ ...report, what: 'network' })).not.toEqual([]);
    expect(report).toMatchObject({ result: { items: ['read'], oneMinimal: true, proof: 'as-tested' }, recorded: { seed: ['read', 'uname'], beforeFilter: ['mount'] } });
    expect(validateReport({ ...report, result: { ...(report.result as object), proof: 'somehow' } })).not.toEqual([]);
    const text = formatSummary(result, ctx);
    expect(text).toContain('guestbook/web: 1 syscalls');
    expect(text).toContain('1-minimal: proven as the one-item-per-run method proves it');
    expect(formatSummary({ ...result, proof: 'final-set' }, ctx)).toContain('1-minimal: proven against this set');
    expect(text).toContain('confirmation: 3/3 runs passed');
    expect(report).toMatchObject({ runs: { lanes: 1 } });
    expect(text).not.toContain('lanes');
    expect(formatSummary({ ...result, lanes: 2 }, ctx)).toMatch(/wall time \S+ on 2 lanes \(candidates run side by side\)/);
    // The site reads the lanes (and 1 from reports made before the field existed).
    const web = { capAdd: [], seccomp: { allow: ['read'] } } as unknown as ServiceModel;
    expect(summarizeReport(JSON.stringify({ ...report, runs: { ...(report.runs as object), lanes: 2 } }), 'minimize/web-syscalls.json', web)).toMatchObject({ lanes: 2, inSpec: true });
    const { lanes: _, ...oldRuns } = report.runs as { lanes: number };
    expect(summarizeReport(JSON.stringify({ ...report, runs: oldRuns }), 'minimize/web-syscalls.json', web)).toMatchObject({ lanes: 1 });
    // And what recorded the start set.
    expect(summarizeReport(JSON.stringify(report), 'minimize/web-syscalls.json', web)).toMatchObject({ recorder: 'bpftrace' });
    const traced = { ...report, recorder: { kind: 'strace', caps: false, problems: ['eBPF: no BTF'], fallbacks: [] } };
    expect(validateReport(traced)).toEqual([]);
    expect(summarizeReport(JSON.stringify(traced), 'minimize/web-syscalls.json', web)).toMatchObject({ recorder: 'strace' });
    expect(validateReport({ ...report, recorder: { ...traced.recorder, kind: 'ptrace' } })).not.toEqual([]);
    expect(validateReport({ ...report, runs: { ...(report.runs as object), lanes: 0 } })).not.toEqual([]);
    // A search resumed from a journal: the report says so, the summary and the site too.
    const resumed = { runs: 120, wallMs: 3_600_000, from: { startedAt: '2026-11-30T21:41:00.000Z', engine: { version: '20.10.24', kernel: '6.18.44' } } };
    const resumedReport = buildReport({ ...result, resumed }, ctx);
    expect(validateReport(resumedReport)).toEqual([]);
    expect(resumedReport).toMatchObject({ runs: { resumed } });
    expect(validateReport({ ...resumedReport, runs: { ...(resumedReport.runs as object), resumed: { runs: 1 } } })).not.toEqual([]);
    expect(formatSummary({ ...result, resumed }, ctx)).toMatch(/resumed from a journal of 120 run\(s\) that took 1h00m of it/);
    expect(summarizeReport(JSON.stringify(resumedReport), 'minimize/web-syscalls.json', web)).toMatchObject({ resumedRuns: 120 });
    expect(summarizeReport(JSON.stringify(report), 'minimize/web-syscalls.json', web)).not.toHaveProperty('resumedRuns');
  });

  it('holds only items of its kind: syscall names, capability names (no CAP_), or paths and search nodes', async () => {
    const { report } = await syscallsReport();
    // The sample report with every item list holding `items` (and no recording).
    const kind = (what: string, items: string[]) => {
      const { recorded: _, dockerDefault: __, ...rest } = report;
      return { ...rest, what, start: { size: items.length, items, otherArch: [] }, result: { ...(report.result as object), size: items.length, items, removed: [], added: [], addedAfterRecording: [], kept: [] }, log: [] };
    };
    expect(validateReport(kind('syscalls', ['read']))).toEqual([]);
    expect(validateReport(kind('syscalls', ['read', '/etc/passwd']))).toEqual([
      '/start/items/1 must match pattern "^[a-z0-9_]+$"',
      '/result/items/1 must match pattern "^[a-z0-9_]+$"',
    ]);
    expect(validateReport({ ...kind('caps', ['CHOWN']), recorded: { size: 1, seed: ['CHOWN'], items: [], denied: ['SETGID', 'cap41'] } })).toEqual([]);
    expect(validateReport(kind('caps', ['CAP_CHOWN']))).toHaveLength(2);
    expect(validateReport(kind('caps', ['/etc/passwd']))).toHaveLength(2);
    expect(validateReport(kind('files', ['/etc/passwd', 'pkg:nginx|', 'dir:/srv|']))).toEqual([]);
    expect(validateReport(kind('files', ['read']))).toHaveLength(2);
  });

  it('every report in generated/ and bench/results/ matches the schema', () => {
    const reports = ['generated', 'bench/results']
      .flatMap((dir) => readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' }).map((f) => path.join(dir, f)))
      .filter((f) => f.endsWith('.json'))
      .map((f) => ({ f, json: JSON.parse(readFileSync(path.join(ROOT, f), 'utf8')) as { format?: string } }))
      .filter((r) => r.json.format === 'hardspec-minimize');
    expect(reports.length).toBeGreaterThan(0);
    for (const r of reports) expect([r.f, validateReport(r.json)]).toEqual([r.f, []]);
  });

  it('progress line: runs, estimate, time left', () => {
    expect(progressLine({ done: 10, remaining: 30, elapsedMs: 100_000, phase: 'minimal' })).toBe('[######------------------] run 10/~40 · minimal · 1m40s elapsed, ~5m00s left');
    expect(progressLine({ done: 0, remaining: 5, elapsedMs: 0, phase: 'record' })).toContain('estimating');
  });
});

describe('searchKeep (what every candidate holds)', () => {
  const svc = (keep: string[]) => ({ seccomp: { ...resolveSeccomp({ keep }) } });
  it("adds the spec's seccomp.keep to --keep, or to the default for syscalls", () => {
    expect(searchKeep({ what: 'syscalls' }, svc(['wait4']))).toEqual(['restart_syscall', 'rt_sigreturn', 'wait4']);
    expect(searchKeep({ what: 'syscalls', keep: [] }, svc(['wait4', 'kill']))).toEqual(['kill', 'wait4']);
    expect(searchKeep({ what: 'syscalls', keep: ['kill'] }, svc(['kill']))).toEqual(['kill']);
  });
  it('keeps nothing of seccomp.keep when the search is over capabilities or files', () => {
    expect(searchKeep({ what: 'caps' }, svc(['wait4']))).toEqual([]);
    expect(searchKeep({ what: 'files' }, svc(['wait4']))).toEqual([]);
  });
});
