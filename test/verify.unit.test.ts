// Unit tests for the verifier's pure parts: compose command lines (v2 and 1.29), the run's
// override, secret scrubbing, the evidence document and its schema, console lines, exit codes,
// stream/tar decoding, HTTP form handling, the automatic comparisons, and the interaction
// runner against a scripted fake engine. No Docker, no network.
import { Ajv } from 'ajv';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { load as loadYaml } from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';
import type { ContainerInspectInfo } from 'dockerode';
import {
  canonicalJson, compareCapabilities, compareHealthcheck, compareMounts, comparePorts, compareResources, compareSecurityOpt,
  compareTmpfs, judgeMounts, judgeProcStatus, parseMountInfo, parseProcStatus, pickDeniedSyscall, sizeInBytes,
} from '../compiler/src/verify/auto-compare.ts';
import { cookiePairs, decodeEntities, hiddenFieldsOfFirstForm } from '../compiler/src/verify/checks/http.ts';
import { findLacking, LOG_LINES_QUOTED } from '../compiler/src/verify/checks/log.ts';
import { lastLogLines } from '../compiler/src/verify/checks/outage.ts';
import { judgeProbe, probeArgv, syscallTable } from '../compiler/src/verify/checks/probe.ts';
import { withRunToken } from '../compiler/src/verify/checks/types.ts';
import { composeArgs, composeCommand, composeVersionProbes } from '../compiler/src/verify/compose-cli.ts';
import { engineAddress, linesSince } from '../compiler/src/verify/docker.ts';
import { EngineError } from '../compiler/src/verify/engine.ts';
import { buildEvidence, compactUtc, evidenceJson, exitCodeFor, summarize, type EvidenceInput } from '../compiler/src/verify/evidence.ts';
import { healthBudgetMs, Interrupted, publishedHostPorts, trapSignals } from '../compiler/src/verify/lifecycle.ts';
import { composeOverride, LABEL } from '../compiler/src/verify/override.ts';
import { parseProbeResult } from '../compiler/src/verify/probe.ts';
import { formatResultLine, formatSummary } from '../compiler/src/verify/report.ts';
import { runInteraction, servicesConcerned, skippedResult, specInteractions, type InteractionResult } from '../compiler/src/verify/runner.ts';
import { ensureSecrets, Scrubber, SECRET_MARK } from '../compiler/src/verify/secrets.ts';
import { demuxDockerStream, lastLines, readTar, splitStreams } from '../compiler/src/verify/streams.ts';
import { FakeEngine, interaction, probeAnswer, runnerContext, service, stack } from './fixtures/verify-support/fakes.ts';

const schema = JSON.parse(readFileSync(new URL('../compiler/src/verify/evidence.schema.json', import.meta.url), 'utf8'));
const temps: string[] = [];
const tempDir = () => { const d = mkdtempSync(path.join(tmpdir(), 'hardspec-verify-unit-')); temps.push(d); return d; };
afterAll(() => { for (const d of temps) rmSync(d, { recursive: true, force: true }); });

describe('compose command lines', () => {
  const project = { name: 'hardspec-demo-0a1b2c3d', files: ['compose.yaml', '/tmp/x/override.yaml'] };

  it('builds docker-compose 1.29 lines', () => {
    expect(composeCommand({ kind: 'v1', version: '1.29.2' }, project, composeArgs.up())).toEqual({
      file: 'docker-compose',
      args: ['--ansi', 'never', '-p', 'hardspec-demo-0a1b2c3d', '-f', 'compose.yaml', '-f', '/tmp/x/override.yaml', 'up', '-d', '--no-build'],
    });
  });

  it('builds docker compose v2 lines', () => {
    expect(composeCommand({ kind: 'v2', version: '2.24.0' }, project, composeArgs.down())).toEqual({
      file: 'docker',
      args: ['compose', '--ansi', 'never', '-p', 'hardspec-demo-0a1b2c3d', '-f', 'compose.yaml', '-f', '/tmp/x/override.yaml', 'down', '-v', '--remove-orphans', '-t', '10'],
    });
  });

  it('builds with --force-rm so a failed build leaves no intermediate containers', () => {
    // docker-compose -p hardspec-demo-0a1b2c3d -f compose.yaml -f /tmp/x/override.yaml build --force-rm
    expect(composeCommand({ kind: 'v1', version: '1.29.2' }, project, composeArgs.build()).args.slice(-2)).toEqual(['build', '--force-rm']);
    expect(composeCommand({ kind: 'v2', version: '2.24.0' }, project, composeArgs.build()).args.slice(-2)).toEqual(['build', '--force-rm']);
  });

  it('recreates one service without its dependencies and keeps volumes', () => {
    expect(composeArgs.removeService('db')).toEqual(['rm', '-s', '-f', 'db']);
    expect(composeArgs.upService('db')).toEqual(['up', '-d', '--no-build', '--no-deps', 'db']);
    expect(composeArgs.removeService('db')).not.toContain('-v');
  });

  it('probes v2 before docker-compose', () => {
    expect(composeVersionProbes().map((p) => [p.variant, p.line.file, ...p.line.args])).toEqual([
      ['v2', 'docker', 'compose', 'version', '--short'],
      ['v1', 'docker-compose', 'version', '--short'],
    ]);
  });
});

describe('the run override', () => {
  const model = stack([service('db', { volumes: [{ type: 'volume', source: 'data', target: '/var/lib/data', readOnly: false }] }), service('web', { networks: [] })]);
  const doc = loadYaml(composeOverride(model, { runId: '0a1b2c3d', stack: 'demo', pid: 4242, pidStart: '99' }, '/cache/probe-x64-abc')) as Record<string, Record<string, Record<string, unknown>>>;
  const labels = { [LABEL.run]: '0a1b2c3d', [LABEL.stack]: 'demo', [LABEL.pid]: '4242', [LABEL.pidStart]: '99' };

  it('labels every service and mounts the probe read-only', () => {
    for (const s of ['db', 'web']) {
      expect(doc.services![s]!.labels).toEqual(labels);
      expect(doc.services![s]!.volumes).toEqual([{ type: 'bind', source: '/cache/probe-x64-abc', target: '/.hardspec-probe', read_only: true }]);
    }
  });

  it('restates internal: true, because docker-compose 1.29 replaces a repeated network', () => {
    expect(doc.networks!.backend).toEqual({ internal: true, labels });
    expect(doc.networks!.frontend).toEqual({ labels });
  });

  it('labels the volumes, and the default network when a service has no network', () => {
    expect(doc.volumes!.data).toEqual({ labels });
    expect(doc.networks!.default).toEqual({ labels });
  });

  it('keeps label values strings (a pid must not become a YAML number)', () => {
    expect(typeof doc.services!.db!.labels).toBe('object');
    expect((doc.services!.db!.labels as Record<string, unknown>)[LABEL.pid]).toBe('4242');
  });
});

describe('secrets', () => {
  it('generates a base64url secret once: folder 0700, file 0444', async () => {
    const out = tempDir();
    const model = stack([service('db')]);
    const first = await ensureSecrets(model, out);
    const file = path.join(out, 'secrets', 'db-password');
    expect(first.files[0]!.created).toBe(true);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o444);
    expect(first.values[0]).toMatch(/^[A-Za-z0-9_-]{32}$/); // 24 bytes
    const again = await ensureSecrets(model, out);
    expect(again.files[0]!.created).toBe(false);
    expect(again.values).toEqual(first.values);
  });

  it('scrubs the value and the forms it leaks in', () => {
    const v = 'Zm9vYmFyLXNlY3JldC12YWx1ZQ_x';
    const native = `*${createHash('sha1').update(createHash('sha1').update(v).digest()).digest('hex').toUpperCase()}`;
    const s = new Scrubber([v]);
    expect(s.scrub(`pw=${v}; url=${encodeURIComponent(v)}; b64=${Buffer.from(v).toString('base64')}`)).not.toContain(v);
    expect(s.scrub(`IDENTIFIED BY PASSWORD '${native}'`)).toBe(`IDENTIFIED BY PASSWORD '${SECRET_MARK}'`);
    expect(s.scrubDeep({ [v]: [v, { x: `a${v}b` }], n: 3 })).toEqual({ [SECRET_MARK]: [SECRET_MARK, { x: `a${SECRET_MARK}b` }], n: 3 });
    expect(s.leaks(`..${v}..`)).toBe(true);
    expect(s.leaks('nothing here')).toBe(false);
  });

  it('ignores values too short to scrub safely', () => {
    expect(new Scrubber(['ab']).scrub('about')).toBe('about');
  });
});

describe('evidence', () => {
  const results: InteractionResult[] = [
    { id: 'site-answers', description: 'd', reason: 'r', origin: 'spec', purpose: 'functional', kind: 'http', status: 'passed', durationMs: 12, method: ['http'], observed: { status: 200, b: 1, a: { z: 1, y: 2 } } },
    { id: 'web-selinux-type', description: 'd', reason: 'r', service: 'web', origin: 'spec', purpose: 'security', kind: 'selinux', status: 'not-verifiable', durationMs: 0, method: ['host-fs', 'docker-info'], observed: {}, problems: ['no SELinux'] },
    { id: 'db.auto.caps', description: 'd', reason: 'r', service: 'db', origin: 'automatic', purpose: 'security', kind: 'auto', status: 'failed', durationMs: 1, method: ['docker-inspect'], observed: { capAdd: ['CHOWN'] }, problems: ['CapAdd'], logTail: { db: 'log line with s3cr3t-value' } },
  ];
  const input = (interactions: readonly InteractionResult[]): EvidenceInput => ({
    stack: 'demo', runId: '0a1b2c3d', project: 'hardspec-demo-0a1b2c3d',
    startedAt: new Date('2026-01-02T03:04:05.678Z'), finishedAt: new Date('2026-01-02T03:05:00.000Z'),
    result: 'failed', exitCode: exitCodeFor(summarize(interactions)), hardspecVersion: '0.1.0',
    engine: { version: '20.10.24', apiVersion: '1.41', os: 'Debian', kernel: '6.1', arch: 'x86_64', cgroupDriver: 'cgroupfs', cgroupVersion: '1', securityOptions: ['name=seccomp,profile=default'] },
    compose: { variant: 'v1', command: 'docker-compose', version: '1.29.2' },
    host: { kernel: '6.1', arch: 'x64', selinux: false },
    images: [{ service: 'db', image: 'demo/db:dev', id: `sha256:${'a'.repeat(64)}` }],
    specs: [{ path: 'stack.md', sha256: 'b'.repeat(64) }],
    artifacts: [{ path: 'compose.yaml', sha256: 'c'.repeat(64) }],
    timings: { buildMs: 1, upMs: 2, interactionsMs: 3, teardownMs: 4, totalMs: 10 },
    teardown: { remaining: 0, problems: [] },
    interactions,
  });
  const doc = buildEvidence(input(results), new Scrubber(['s3cr3t-value']));

  it('validates against evidence.schema.json', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ ...doc, extra: 1 })).toBe(false);
  });

  it('has a fixed key order and sorted observed data', () => {
    expect(Object.keys(doc).slice(0, 9)).toEqual(['format', 'formatVersion', 'stack', 'runId', 'project', 'startedAt', 'finishedAt', 'result', 'exitCode']);
    const first = (doc.interactions as Record<string, unknown>[])[0]!;
    expect(Object.keys(first)).toEqual(['id', 'description', 'reason', 'service', 'origin', 'purpose', 'kind', 'status', 'durationMs', 'method', 'observed']);
    expect(JSON.stringify(first.observed)).toBe('{"a":{"y":2,"z":1},"b":1,"status":200}');
    expect(evidenceJson(buildEvidence(input(results), new Scrubber(['s3cr3t-value'])))).toBe(evidenceJson(doc));
  });

  it('scrubs secrets from every string', () => {
    expect(evidenceJson(doc)).not.toContain('s3cr3t-value');
    expect(evidenceJson(doc)).toContain(`log line with ${SECRET_MARK}`);
  });

  it('counts and maps to exit codes', () => {
    expect(doc.summary).toEqual({ total: 3, passed: 1, failed: 1, notVerifiable: 1, skipped: 0 });
    expect(exitCodeFor(summarize(results.slice(0, 2)))).toBe(0); // not-verifiable never fails a run…
    expect(exitCodeFor(summarize(results))).toBe(1);
    expect(exitCodeFor(summarize([]), true)).toBe(2);
    const skipped = skippedResult(interaction('x', { kind: 'port_closed', host: '127.0.0.1', port: 1 }), 'not run');
    expect(exitCodeFor(summarize([skipped]))).toBe(1); // …but a skipped one does
  });

  it('names run files by compact UTC time', () => {
    expect(compactUtc(new Date('2026-01-02T03:04:05.678Z'))).toBe('20260102T030405Z');
  });
});

describe('console lines', () => {
  const r: InteractionResult = { id: 'site-answers', description: '', reason: '', origin: 'spec', purpose: 'functional', kind: 'http', status: 'failed', durationMs: 1234, method: ['http'], observed: {}, problems: ['status 500, expected 200'] };
  it('uses marks on a terminal and words otherwise', () => {
    expect(formatResultLine(r, { unicode: true, color: false })).toBe('✗ site-answers  1.2 s\n    status 500, expected 200');
    expect(formatResultLine({ ...r, status: 'passed', durationMs: 5 }, { unicode: false, color: false })).toBe('ok   site-answers  5 ms');
    expect(formatResultLine({ ...r, status: 'not-verifiable', problems: ['no SELinux'] }, { unicode: false, color: false })).toBe('n/v  site-answers  1.2 s\n    no SELinux');
  });
  it('summarises', () => {
    expect(formatSummary({ total: 4, passed: 2, failed: 1, notVerifiable: 1, skipped: 0 }, 61_000)).toBe('2 passed, 1 failed, 1 not verifiable (4 checks in 61.0 s)');
  });
});

describe('engine address and published ports', () => {
  it('reads DOCKER_HOST, else the default socket', () => {
    expect(engineAddress({})).toMatchObject({ display: 'unix:///var/run/docker.sock', from: 'the default socket', local: true });
    expect(engineAddress({ DOCKER_HOST: 'unix:///nonexistent.sock' })).toMatchObject({ display: 'unix:///nonexistent.sock', from: 'DOCKER_HOST', options: { socketPath: '/nonexistent.sock' } });
    expect(engineAddress({ DOCKER_HOST: 'tcp://127.0.0.1:2375' })).toMatchObject({ options: { host: '127.0.0.1', port: 2375 }, local: false });
  });
  it('lists the host ports the stack publishes', () => {
    const model = stack([service('web', { ports: [{ container: 8080, host: 8080, hostIp: '127.0.0.1', protocol: 'tcp' }] }), service('db')]);
    expect(publishedHostPorts(model)).toEqual([{ hostIp: '127.0.0.1', port: 8080, protocol: 'tcp', service: 'web' }]);
  });
  it('bounds the time a service may take to turn healthy', () => {
    expect(healthBudgetMs(service('db'))).toBe(5000 + 13_000 * 4);
  });
});

describe('streams', () => {
  const frame = (type: number, s: string) => { const d = Buffer.from(s); const h = Buffer.alloc(8); h[0] = type; h.writeUInt32BE(d.length, 4); return Buffer.concat([h, d]); };
  it('demultiplexes stdout and stderr', () => {
    const frames = demuxDockerStream(Buffer.concat([frame(1, 'out1 '), frame(2, 'err'), frame(1, 'out2')]));
    expect(splitStreams(frames)).toEqual({ stdout: 'out1 out2', stderr: 'err' });
  });
  it('keeps text that is not multiplexed', () => {
    expect(splitStreams(demuxDockerStream(Buffer.from('plain text'))).stdout).toBe('plain text');
  });
  it('reads a tar archive (as the archive API returns it)', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'nginx.conf'), 'daemon off;\n');
    const tar = spawnSync('tar', ['-C', dir, '-cf', '-', 'nginx.conf']);
    const entries = readTar(tar.stdout);
    expect(entries.map((e) => [e.name, e.type, e.data.toString()])).toEqual([['nginx.conf', '0', 'daemon off;\n']]);
  });
  it('keeps the last lines', () => {
    expect(lastLines('a\nb\nc\n', 2)).toBe('b\nc');
  });
});

describe('http form handling', () => {
  it('takes the hidden inputs of the first form only', () => {
    const html = `<form method="post"><input type="hidden" name="csrf_token" value="1.ab&amp;c"><input name="username"><input type='hidden' name=x value=y></form><form><input type="hidden" name="other" value="no"></form>`;
    expect(hiddenFieldsOfFirstForm(html)).toEqual([['csrf_token', '1.ab&c'], ['x', 'y']]);
    expect(hiddenFieldsOfFirstForm('<p>no form</p>')).toEqual([]);
  });
  it('keeps cookie name=value pairs', () => {
    expect(cookiePairs(['gb_csrf=abc; path=/; httponly; samesite=lax', 'bad'])).toEqual(['gb_csrf=abc']);
  });
  it('decodes entities', () => {
    expect(decodeEntities('&lt;a&gt; &#39;x&#x27; &quot;')).toBe(`<a> 'x' "`);
  });
  it('replaces {{run}} everywhere', () => {
    expect(withRunToken({ form: { 'n{{run}}': 'Hedy {{run}}' }, list: ['{{run}}'] }, 't0')).toEqual({ form: { nt0: 'Hedy t0' }, list: ['t0'] });
  });
});

describe('probe arguments and judgement', () => {
  it('turns a syscall name into the engine architecture\'s number', () => {
    expect(probeArgv('syscall', ['acct'], 'x64')).toEqual(['/.hardspec-probe', 'syscall', '163']);
    expect(probeArgv('syscall', ['acct'], 'arm64')).toEqual(['/.hardspec-probe', 'syscall', String(syscallTable('arm64').acct)]);
    expect(probeArgv('write', ['/x'], 'x64')).toEqual(['/.hardspec-probe', 'write', '/x']);
  });
  it('accepts only the expected errno', () => {
    const erofs = parseProbeResult(30, '{"op":"write","ok":false,"errno":30,"name":"EROFS"}\n', 'write', 'x64');
    expect(judgeProbe(erofs, { ok: false, errno: ['EROFS'] })).toEqual([]);
    expect(judgeProbe(erofs, { ok: false, errno: ['EPERM'] })).toEqual(['failed with EROFS, expected EPERM']);
    expect(judgeProbe(erofs, { ok: true })).toEqual(['failed with EROFS, expected success']);
    expect(judgeProbe(parseProbeResult(159, '', 'syscall', 'x64'), { ok: false, errno: ['EPERM'] })[0]).toMatch(/SIGSYS/);
    expect(judgeProbe(parseProbeResult(127, '', 'status', 'x64'), { ok: true })[0]).toMatch(/could not be started/);
  });
});

describe('automatic comparisons', () => {
  const web = service('web', {
    ports: [{ container: 8080, host: 8080, hostIp: '127.0.0.1', protocol: 'tcp' }],
    tmpfs: [{ path: '/run/nginx', size: '64k', mode: '0755', uid: 33, gid: 33, exec: false }],
    secrets: ['db-password'],
    volumes: [{ type: 'volume', source: 'data', target: '/data', readOnly: false }],
  });
  const profile = JSON.stringify({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] }, null, 2);
  // docker-compose 1.29 re-serialises the profile with Python's json.dumps before sending it.
  const pythonDumps = '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}';
  const info = (hc: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ HostConfig: hc, Config: {}, ...extra }) as unknown as ContainerInspectInfo;

  it('compares the seccomp profile by content, whatever its serialisation', () => {
    const ok = compareSecurityOpt(web, info({ SecurityOpt: ['no-new-privileges:true', `seccomp=${pythonDumps}`] }), profile);
    expect(ok.problems).toEqual([]);
    expect((ok.observed.seccomp as { same: boolean }).same).toBe(true);
    const other = compareSecurityOpt(web, info({ SecurityOpt: ['seccomp=unconfined', 'apparmor=unconfined'] }), profile);
    expect(other.problems).toEqual(expect.arrayContaining(['unexpected security option "apparmor=unconfined"', 'no-new-privileges is not set', 'the seccomp profile the engine holds differs from the generated one']));
    expect(canonicalJson(JSON.parse(pythonDumps))).toBe(canonicalJson(JSON.parse(profile)));
  });

  it('wants CapDrop ALL and exactly the spec\'s CapAdd', () => {
    expect(compareCapabilities(web, info({ CapDrop: ['ALL'], CapAdd: null })).problems).toEqual([]);
    expect(compareCapabilities(web, info({ CapDrop: ['NET_RAW'], CapAdd: ['CAP_CHOWN'] })).problems).toHaveLength(2);
  });

  it('compares tmpfs options semantically', () => {
    expect(compareTmpfs(web, info({ Tmpfs: { '/run/nginx': 'size=64k,mode=0755,uid=33,gid=33,noexec,nosuid,nodev' } })).problems).toEqual([]);
    expect(compareTmpfs(web, info({ Tmpfs: { '/run/nginx': 'size=64k,mode=0755,uid=33,gid=33,nosuid,nodev', '/tmp': '' } })).problems).toHaveLength(2);
    expect(sizeInBytes('64k')).toBe(65536);
  });

  it('flags unexpected mounts, such as an anonymous volume from an image VOLUME', () => {
    const mounts = [
      { Type: 'volume', Name: 'p_data', Source: '/var/lib/docker/volumes/p_data/_data', Destination: '/data', RW: true },
      { Type: 'bind', Source: '/gen/secrets/db-password', Destination: '/run/secrets/db-password', RW: false },
      { Type: 'bind', Source: '/cache/probe', Destination: '/.hardspec-probe', RW: false },
    ];
    const mc = { project: 'p', stackDir: '/specs/demo', secretsDir: '/gen/secrets' };
    expect(compareMounts(web, info({}, { Mounts: mounts }), mc).problems).toEqual([]);
    const extra = compareMounts(web, info({}, { Mounts: [...mounts, { Type: 'volume', Name: 'f00', Source: '/x', Destination: '/var/cache', RW: true }] }), mc);
    expect(extra.problems[0]).toMatch(/unexpected writable volume mount on \/var\/cache/);
  });

  it('compares ports, resources and the healthcheck', () => {
    expect(comparePorts(web, info({ PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }] } })).problems).toEqual([]);
    expect(comparePorts(web, info({ PortBindings: { '8080/tcp': [{ HostIp: '', HostPort: '8080' }] } })).problems).toHaveLength(2);
    expect(compareResources(web, info({ Memory: 64 * 1024 * 1024, NanoCpus: 5e8, PidsLimit: 16 })).problems).toEqual([]);
    expect(compareResources(web, info({ Memory: 0, NanoCpus: 0, PidsLimit: null })).problems).toHaveLength(3);
    const hc = { Test: ['CMD', 'true'], Interval: 10e9, Timeout: 3e9, StartPeriod: 5e9, Retries: 3 };
    expect(compareHealthcheck(web, info({}, { Config: { Healthcheck: hc } })).problems).toEqual([]);
    expect(compareHealthcheck(web, info({}, { Config: { Healthcheck: { ...hc, Test: ['CMD-SHELL', 'true'] } } })).problems).toHaveLength(1);
  });

  it('judges /proc status: bounding set exact, others at most the spec\'s', () => {
    const status = parseProcStatus('Uid:\t33\t33\t33\t33\nGid:\t33\t33\t33\t33\nCapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n');
    expect(judgeProcStatus(web, status).problems).toEqual([]);
    expect(judgeProcStatus(service('x', { capAdd: ['NET_BIND_SERVICE'] }), { ...status, CapBnd: '0000000000000400' }).problems).toEqual([]);
    const bad = judgeProcStatus(web, { ...status, CapBnd: '00000000a80425fb', NoNewPrivs: '0', Seccomp: '0', Uid: '0 0 0 0' });
    expect(bad.problems).toHaveLength(4);
  });

  it('judges mountinfo: root read-only, tmpfs noexec,nosuid,nodev', () => {
    const mi = [
      '600 500 0:50 / / ro,relatime master:1 - overlay overlay rw,lowerdir=x',
      '601 600 0:51 / /run/nginx rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,size=64k',
      '602 600 0:52 / /.hardspec-probe ro,relatime - ext4 /dev/sda rw',
    ].join('\n');
    expect(judgeMounts(web, parseMountInfo(mi)).problems).toEqual([]);
    const rw = mi.replace('/ / ro,', '/ / rw,').replace('nosuid,nodev,noexec', 'nosuid,nodev');
    expect(judgeMounts(web, parseMountInfo(rw)).problems).toEqual(['the root file system is mounted rw, expected ro', '/run/nginx is mounted without noexec']);
  });

  it('picks a denied syscall below the highest allowed number', () => {
    const table = syscallTable('x64');
    expect(pickDeniedSyscall(service('a', { seccomp: { ...web.seccomp, allow: ['read', 'write', 'clone3'] } }), table)?.name).toBe('get_mempolicy');
    expect(pickDeniedSyscall(service('b', { seccomp: { ...web.seccomp, allow: ['get_mempolicy', 'statx'], enosys: [] } }), table)?.name).toBe('sysfs');
    // Nothing is numbered below 63 (uname) but read/write: no candidate is below the highest named number.
    expect(pickDeniedSyscall(service('c', { seccomp: { ...web.seccomp, allow: ['read', 'write'], enosys: [] } }), table)).toBeUndefined();
  });
});

describe('the interaction runner (fake engine)', () => {
  const db = service('db', {
    interactions: [
      interaction('db-root-read-only', { kind: 'probe', service: 'db', op: 'write', args: ['/x'], expect: { ok: false, errno: ['EROFS'] } }, { purpose: 'security', declaredIn: 'db' }),
    ],
  });
  const web = service('web', { ports: [{ container: 8080, host: 8080, hostIp: '127.0.0.1', protocol: 'tcp' }], dependsOn: ['php'] });
  const model = stack([db, service('php', { dependsOn: ['db'] }), web], {
    interactions: [interaction('site', { kind: 'http', method: 'GET', url: 'http://127.0.0.1:8080/', headers: {}, expect: { status: 200, bodyContains: [], bodyNotContains: [], headers: {}, headersAbsent: [] } })],
  });

  it('orders interactions: stack.md first, then services by name', () => {
    expect(specInteractions(model).map((i) => i.id)).toEqual(['site', 'db-root-read-only']);
  });

  it('knows whose logs explain a failure', () => {
    expect(servicesConcerned(model.interactions[0]!.check, model)).toEqual(['web', 'php', 'db']);
    expect(servicesConcerned(db.interactions[0]!.check, model)).toEqual(['db']);
    const persistence = { kind: 'persistence' as const, service: 'db', write: model.interactions[0]!.check as never, read: db.interactions[0]!.check as never };
    expect(servicesConcerned(persistence, model)).toEqual(['db', 'web', 'php']);
  });

  it('passes a probe answering the expected errno', async () => {
    const engine = new FakeEngine();
    engine.onExec = () => probeAnswer('write', { n: 30, name: 'EROFS' });
    const r = await runInteraction(db.interactions[0]!, runnerContext(engine, model));
    expect(r).toMatchObject({ id: 'db-root-read-only', status: 'passed', service: 'db', origin: 'spec', method: ['probe'], observed: { errno: 'EROFS' } });
    expect(engine.calls).toEqual(['exec db /.hardspec-probe write /x']);
  });

  it('fails with the log tail of the service when the errno differs', async () => {
    const engine = new FakeEngine();
    engine.onExec = () => probeAnswer('write', { n: 13, name: 'EACCES' });
    engine.logs.db = 'mariadbd: ready';
    const r = await runInteraction(db.interactions[0]!, runnerContext(engine, model));
    expect(r.status).toBe('failed');
    expect(r.problems).toEqual(['failed with EACCES, expected EROFS']);
    expect(r.logTail).toEqual({ db: 'mariadbd: ready' });
  });

  it('waits for the line that explains a failure when it reaches the log late', async () => {
    const engine = new FakeEngine();
    engine.onExec = () => probeAnswer('write', { n: 13, name: 'EACCES' });
    engine.logs.db = 'mariadbd: ready';
    let reads = 0;
    // The explaining line arrives between the first and the second read, then the log stays quiet.
    engine.onLogRead = () => { if (++reads === 2) engine.logs.db += '\nmariadbd: Permission denied'; };
    const r = await runInteraction(db.interactions[0]!, runnerContext(engine, model));
    expect(r.logTail).toEqual({ db: 'mariadbd: ready\nmariadbd: Permission denied' });
    expect(reads).toBe(3);
  });

  it('reads the tails of a log that never settles once, at the limit', async () => {
    const engine = new FakeEngine();
    engine.onExec = () => probeAnswer('write', { n: 13, name: 'EACCES' });
    let reads = 0;
    engine.onLogRead = () => { engine.logs.db = `line ${++reads}`; };
    const started = Date.now();
    const r = await runInteraction(db.interactions[0]!, runnerContext(engine, model, { logSettle: { quietMs: 10, maxMs: 100 } }));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(r.logTail!.db).toBe(`line ${reads}`);
    expect(reads).toBeGreaterThan(2);
  });

  it('turns a hung check into a failure at its time limit', async () => {
    const engine = new FakeEngine();
    engine.onExec = () => new Promise(() => undefined);
    const it2 = { ...db.interactions[0]!, timeoutMs: 50 };
    const r = await runInteraction(it2, runnerContext(engine, model));
    expect(r.status).toBe('failed');
    expect(r.problems?.[0]).toMatch(/time limit of 0.05 s/);
  });

  it('runs sql through the mariadb client over the socket and counts rows', async () => {
    const engine = new FakeEngine();
    engine.onExec = () => ({ exitCode: 0, stdout: 'Hedy abcd1234\n', stderr: '', timedOut: false });
    const it2 = interaction('stored', { kind: 'sql', service: 'db', query: "SELECT username FROM t WHERE username = 'Hedy {{run}}'", expect: { minRows: 1, contains: ['Hedy {{run}}'] } });
    const r = await runInteraction(it2, runnerContext(engine, model));
    expect(r.status).toBe('passed');
    expect(engine.calls[0]).toBe("exec db mariadb --user=mysql --socket=/run/mysqld/mysqld.sock --batch --skip-column-names -e SELECT username FROM t WHERE username = 'Hedy abcd1234'");
  });

  it('compares a file read through the archive with the stack folder\'s', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'my.cnf'), '[mariadbd]\n');
    const engine = new FakeEngine();
    engine.files['db:/etc/my.cnf'] = Buffer.from('[mariadbd]\n');
    const check = { kind: 'file' as const, service: 'db', path: '/etc/my.cnf', sameAs: 'my.cnf' };
    expect((await runInteraction(interaction('cnf', check), runnerContext(engine, model, { stackDir: dir }))).status).toBe('passed');
    engine.files['db:/etc/my.cnf'] = Buffer.from('[mysqld]\n');
    expect((await runInteraction(interaction('cnf', check), runnerContext(engine, model, { stackDir: dir }))).status).toBe('failed');
  });

  it('reports SELinux as not verifiable on a host without it, never as passed', async () => {
    const r = await runInteraction(interaction('se', { kind: 'selinux', service: 'db' }), runnerContext(new FakeEngine(), model));
    expect(r.status).toBe('not-verifiable');
    expect(r.problems?.[0]).toMatch(/\/sys\/fs\/selinux is absent/);
  });

  it('log: fails on a forbidden text anywhere in the output since the container was created, and quotes the first lines', async () => {
    const engine = new FakeEngine();
    const check = { kind: 'log' as const, service: 'web', lacks: ['[emerg]', '[alert]', 'Operation not permitted'] };
    engine.logsAfterStop.web = '172.29.0.1 - - "GET / HTTP/1.1" 200\n';
    const clean = await runInteraction(interaction('web-log', check), runnerContext(engine, model));
    expect(clean.status).toBe('passed');
    expect(clean.method).toEqual(['docker-logs']);
    expect(clean.observed).toMatchObject({ service: 'web', lines: 1, found: { '[emerg]': 0, '[alert]': 0, 'Operation not permitted': 0 }, offending: [] });
    engine.logsAfterStop.web = [
      '[alert] -1#-1: sigprocmask() failed (1: Operation not permitted)',
      '172.29.0.1 - - "GET / HTTP/1.1" 200',
      '[emerg] -1#-1: eventfd() failed (1: Operation not permitted)',
      '[alert] -1#-1: prctl(PR_SET_DUMPABLE) failed (1: Operation not permitted)',
    ].join('\n');
    const bad = await runInteraction(interaction('web-log', check), runnerContext(engine, model));
    expect(bad.status).toBe('failed');
    expect(bad.problems).toEqual(['the output of web holds "[emerg]" (1 line), "[alert]" (2 lines), "Operation not permitted" (3 lines); first: [alert] -1#-1: sigprocmask() failed (1: Operation not permitted)']);
    expect(bad.observed).toMatchObject({ lines: 4, found: { '[emerg]': 1, '[alert]': 2, 'Operation not permitted': 3 } });
    expect((bad.observed as { offending: string[] }).offending).toHaveLength(3);
    // The whole output is read (since 0), not only what came after some event.
    expect(engine.calls).toEqual(['logSince web', 'logSince web']);
    expect(engine.logSinceMs).toEqual([0, 0]);
    // The minimiser reads from its run's start: a container it kept holds earlier runs' output.
    await runInteraction(interaction('web-log', check), runnerContext(engine, model, { logsSinceMs: 1_764_560_000_000 }));
    expect(engine.logSinceMs).toEqual([0, 0, 1_764_560_000_000]);
  });

  it('log: quotes at most a few offending lines, each cut', () => {
    const many = Array.from({ length: 9 }, (_, i) => `[alert] ${i} ${'x'.repeat(i === 0 ? 400 : 1)}`).join('\n');
    const r = findLacking(many, ['[alert]', 'never']);
    expect(r.total).toBe(9);
    expect(r.counts).toEqual({ '[alert]': 9, never: 0 });
    expect(r.lines).toHaveLength(LOG_LINES_QUOTED);
    expect(r.lines[0]).toHaveLength(301);
  });

  it('persistence: write, recreate, read', async () => {
    const engine = new FakeEngine();
    const stored: string[] = [];
    engine.onExec = (_s, argv) => {
      const q = argv[argv.length - 1]!;
      if (q.startsWith('INSERT')) { stored.push('x'); return { exitCode: 0, stdout: '', stderr: '', timedOut: false }; }
      return { exitCode: 0, stdout: stored.map((s) => `${s}\n`).join(''), stderr: '', timedOut: false };
    };
    const check = { kind: 'persistence' as const, service: 'db', write: { kind: 'sql' as const, service: 'db', query: 'INSERT x', expect: { contains: [] } }, read: { kind: 'sql' as const, service: 'db', query: 'SELECT x', expect: { minRows: 1, contains: [] } } };
    const r = await runInteraction(interaction('persist', check), runnerContext(engine, model));
    expect(r.status).toBe('passed');
    expect(engine.calls.map((c) => c.split(' ')[0])).toEqual(['exec', 'recreate', 'exec']);
    expect(r.method).toEqual(expect.arrayContaining(['compose', 'exec']));
  });

  describe('outage', () => {
    const during = { kind: 'exec' as const, service: 'php', command: ['php', '-r', 'exit(0);'], expect: { exitCode: 0, stdoutContains: [], stderrContains: [] } };
    const outage = { kind: 'outage' as const, service: 'db', during, log: { service: 'php', contains: ['guestbook: Unavailable', 'run {{run}}'] } };

    it('stops the service, runs the check, finds the log lines written since, starts it again', async () => {
      const engine = new FakeEngine();
      engine.logsAfterStop.php = 'guestbook: Unavailable: database connection failed (run abcd1234)\n';
      const r = await runInteraction(interaction('outage', outage), runnerContext(engine, model));
      expect(r.status).toBe('passed');
      expect(engine.calls).toEqual(['stop db', 'exec php php -r exit(0);', 'logSince php', 'start db']);
      expect(r.method).toEqual(expect.arrayContaining(['compose', 'exec', 'docker-logs']));
      expect(r.observed).toMatchObject({ log: { service: 'php', contains: { 'guestbook: Unavailable': true, 'run abcd1234': true } }, started: { service: 'db' } });
    });

    it('with clean_stop, fails a service the engine had to kill, and passes one that exited by itself', async () => {
      const engine = new FakeEngine();
      engine.logsAfterStop.php = 'guestbook: Unavailable: database connection failed (run abcd1234)\n';
      const clean = { ...outage, cleanStop: true };
      engine.inspections.db = { State: { ExitCode: 137 } } as never;
      const killed = await runInteraction(interaction('outage', clean), runnerContext(engine, model));
      expect(killed.status).toBe('failed');
      expect(killed.problems![0]).toMatch(/^db did not stop by itself: the engine killed it after \d+ s \(exit code 137\).*; it wrote nothing after the stop signal$/);
      expect(killed.observed).toMatchObject({ stopped: { service: 'db', exitCode: 137 }, started: { service: 'db' }, stopLog: [] });
      // What the service said after the stop signal is in the problem and the evidence: its last lines.
      engine.logsAfterStop.db = ['starting', ...Array.from({ length: 7 }, (_, i) => `line ${i + 1}`), '', '[alert] 7#7: kill(8, 3) failed (1: Operation not permitted)', ''].join('\n');
      const told = await runInteraction(interaction('outage', clean), runnerContext(engine, model));
      const last = ['line 3', 'line 4', 'line 5', 'line 6', 'line 7', '[alert] 7#7: kill(8, 3) failed (1: Operation not permitted)'];
      expect(told.observed).toMatchObject({ stopLog: last });
      expect(told.problems![0]).toMatch(/; its last output: line 3 \| line 4 \| line 5 \| line 6 \| line 7 \| \[alert\] 7#7: kill\(8, 3\) failed \(1: Operation not permitted\)$/);
      delete engine.logsAfterStop.db;
      engine.inspections.db = { State: { ExitCode: 0 } } as never;
      expect((await runInteraction(interaction('outage', clean), runnerContext(engine, model))).status).toBe('passed');
      engine.inspections.db = { State: { ExitCode: 1 } } as never;
      expect((await runInteraction(interaction('outage', clean), runnerContext(engine, model))).problems).toEqual(['db did not stop cleanly: exit code 1, expected 0; it wrote nothing after the stop signal']);
      // Without clean_stop the exit code is only observed.
      engine.inspections.db = { State: { ExitCode: 137 } } as never;
      expect((await runInteraction(interaction('outage', outage), runnerContext(engine, model))).status).toBe('passed');
    });

    it('keeps the last non-empty lines of a failed stop, each cut at 300 characters', () => {
      expect(lastLogLines('a\n\n  \nb  \nc\n', 2)).toEqual(['b', 'c']);
      expect(lastLogLines('', 6)).toEqual([]);
      expect(lastLogLines(`${'x'.repeat(301)}\ny`, 6)).toEqual([`${'x'.repeat(300)}…`, 'y']);
    });

    it('with only clean_stop, stops and starts the service and judges the stop', async () => {
      const engine = new FakeEngine();
      engine.inspections.web = { State: { ExitCode: 0 } } as never;
      const r = await runInteraction(interaction('web-stop', { kind: 'outage', service: 'web', cleanStop: true }), runnerContext(engine, model));
      expect(r.status).toBe('passed');
      expect(engine.calls).toEqual(['stop web', 'start web']);
      expect(r.observed).toMatchObject({ stopped: { service: 'web', exitCode: 0 }, started: { service: 'web' } });
      expect(r.observed).not.toHaveProperty('during');
    });

    it('fails when the log lacks a line, and still starts the service again', async () => {
      const engine = new FakeEngine();
      engine.logsAfterStop.php = 'guestbook: Unavailable\n';
      const r = await runInteraction(interaction('outage', outage, { timeoutMs: 20_000 }), runnerContext(engine, model));
      expect(r.status).toBe('failed');
      expect(r.problems).toEqual(['the output of php since db was stopped lacks "run abcd1234" (waited 5 s)']);
      expect(engine.calls.at(-1)).toBe('start db');
      expect(engine.stopped.size).toBe(0);
    }, 15_000);

    it('fails when the check during the outage fails, and when the service does not come back', async () => {
      const engine = new FakeEngine();
      engine.logsAfterStop.php = 'guestbook: Unavailable run abcd1234';
      engine.onExec = () => ({ exitCode: 1, stdout: '', stderr: '', timedOut: false });
      const r = await runInteraction(interaction('outage', outage), runnerContext(engine, model));
      expect(r.status).toBe('failed');
      expect(r.problems?.[0]).toMatch(/^while db was stopped: exit code 1/);
      expect(engine.calls.at(-1)).toBe('start db');
      engine.onExec = () => ({ exitCode: 0, stdout: '', stderr: '', timedOut: false });
      engine.startFails = true;
      const r2 = await runInteraction(interaction('outage', outage), runnerContext(engine, model));
      expect(r2.status).toBe('failed');
      expect(r2.problems).toEqual(['db did not become healthy again: exited (1)']);
    });

    it('starts the service again after a failed stop, and after the time limit before the next interaction runs', async () => {
      const engine = new FakeEngine();
      engine.stop = async () => { engine.calls.push('stop db'); throw new EngineError('compose stop db failed: boom'); };
      const r = await runInteraction(interaction('outage', outage), runnerContext(engine, model));
      expect(r.status).toBe('failed');
      expect(r.problems).toEqual(['during the outage of db: compose stop db failed: boom']);
      expect(engine.calls).toEqual(['stop db', 'start db']);

      const slow = new FakeEngine();
      slow.onExec = () => new Promise(() => undefined); // `during` hangs
      const r2 = await runInteraction(interaction('outage', outage, { timeoutMs: 50 }), runnerContext(slow, model));
      expect(r2.problems?.[0]).toMatch(/time limit of 0.05 s/);
      // The restore ran before runInteraction returned.
      expect(slow.calls.at(-1)).toBe('start db');
      expect(slow.stopped.size).toBe(0);
    });

    it('names the stopped service, the log service and the check\'s own as concerned', () => {
      expect(servicesConcerned(outage, model)).toEqual(['db', 'php']);
    });
  });

  it('port_closed: refused and published by no container', async () => {
    const engine = new FakeEngine();
    const check = { kind: 'port_closed' as const, host: '127.0.0.1', port: 1 };
    expect((await runInteraction(interaction('closed', check), runnerContext(engine, model))).status).toBe('passed');
    engine.ports = [{ service: 'db', hostIp: '127.0.0.1', hostPort: 1, containerPort: '3306/tcp' }];
    const r = await runInteraction(interaction('closed', check), runnerContext(engine, model));
    expect(r.status).toBe('failed');
    expect(r.problems).toEqual(['db publishes 127.0.0.1:1 (container port 3306/tcp)']);
  });

  it('refuses URLs that are not loopback', async () => {
    const check = { kind: 'http' as const, method: 'GET' as const, url: 'http://192.0.2.1/', headers: {}, expect: { bodyContains: [], bodyNotContains: [], headers: {}, headersAbsent: [] } };
    const r = await runInteraction(interaction('away', check), runnerContext(new FakeEngine(), model));
    expect(r.status).toBe('failed');
    expect(r.problems?.[0]).toMatch(/only talk to loopback/);
  });

  it('lets an interrupt of the run escape', async () => {
    const ac = new AbortController();
    const engine = new FakeEngine();
    engine.onExec = () => new Promise(() => undefined);
    const pending = runInteraction({ ...db.interactions[0]!, timeoutMs: 10_000 }, runnerContext(engine, model, { signal: ac.signal }));
    ac.abort(new Error('SIGINT'));
    await expect(pending).rejects.toThrow('SIGINT');
  });
});

describe('signals', () => {
  it('tears down on the first signal, says to wait on the second, and leaves at once on the third', () => {
    const listeners = new Map<string, (s: NodeJS.Signals) => void>();
    const source = { on: (s: string, f: (s: NodeJS.Signals) => void) => { listeners.set(s, f); }, off: (s: string) => { listeners.delete(s); } };
    const controller = new AbortController();
    const said: string[] = [];
    const left: number[] = [];
    const untrap = trapSignals(source as never, controller, (l) => said.push(l), (code) => left.push(code));
    listeners.get('SIGINT')!('SIGINT');
    expect(controller.signal.aborted).toBe(true);
    expect(controller.signal.reason).toBeInstanceOf(Interrupted);
    listeners.get('SIGINT')!('SIGINT');
    expect(left).toEqual([]);
    listeners.get('SIGTERM')!('SIGTERM');
    expect(left).toEqual([143]);
    expect(said).toEqual([
      'SIGINT: stopping and tearing the stack down',
      expect.stringMatching(/^SIGINT again: still tearing down .* a third signal leaves at once$/),
      expect.stringMatching(/^SIGTERM a third time: leaving now, without waiting for the tear-down; the next hardspec run removes what is left/),
    ]);
    untrap();
    expect(listeners.size).toBe(0);
  });
});

describe('linesSince (the outage check reads the log written since the stop)', () => {
  const since = Date.parse('2026-11-30T04:53:59.500Z');
  it('drops the lines of the same second stamped before the stop, and the stamps', () => {
    const log = [
      '2026-11-30T04:53:59.123456789Z guestbook: listening',
      '2026-11-30T04:53:59.500000000Z Unavailable: database connection failed',
      '2026-11-30T04:54:01.000000001Z second line',
      '',
    ].join('\n');
    expect(linesSince(log, since)).toBe('Unavailable: database connection failed\nsecond line\n');
  });
  it('keeps the unstamped rest of a kept line, drops the rest of a dropped one', () => {
    const log = '2026-11-30T04:53:59.4Z early\nrest of early\n2026-11-30T04:53:59.6Z late\nrest of late\n';
    expect(linesSince(log, since)).toBe('late\nrest of late\n');
  });
  it('reads offsets and gives nothing for a log written before', () => {
    expect(linesSince('2026-11-30T05:53:59.6+01:00 after\n', since)).toBe('after\n');
    expect(linesSince('2026-11-30T04:53:58.999999999Z before\n', since)).toBe('');
  });
});
