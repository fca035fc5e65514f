// Seccomp: the syscall tables (from linux-libc-dev), Docker's vendored default profile, the
// baseline/allow/deny resolution, the profile schema and the emitter. The engine tests at the end
// run the emitted profiles under Docker, each stated as the `docker run` line it amounts to.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DOCKER_DEFAULT_PROFILE,
  dockerDefaultArgFilters,
  dockerDefaultFor,
  dockerDefaultUnconditional,
} from '../compiler/src/emit/seccomp/docker-default.ts';
import {
  SYSCALLS_AARCH64,
  SYSCALLS_X86_64,
  allSyscallNames,
  buildSeccompProfile,
  emitSeccompProfile,
  isKnownSyscall,
  resolveSeccomp,
  validateSeccompProfile,
} from '../compiler/src/emit/seccomp/emit-seccomp.ts';
import type { SeccompModel, ServiceModel, SpecSource } from '../compiler/src/model/types.ts';
import {
  AARCH64_DEFINES,
  GENERIC_HEADER,
  HEADER_DIR,
  TABLES_PATH,
  X86_64_HEADER,
  installedLinuxLibcDevVersion,
  parseGenericHeader,
  renderSyscallTables,
} from '../scripts/gen-syscall-tables.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '..');
const committedTables = readFileSync(path.join(root, TABLES_PATH), 'utf8');
const committedVersion = (JSON.parse(committedTables) as { source: { version: string } }).source.version;

const source: SpecSource = { path: 'specs/demo/web.md', relPath: 'web.md', sha256: '0'.repeat(64), title: 'web', sections: [], body: '' };

/** The emitter reads only name, source, seccomp and capAdd; the rest of the model is not needed. */
function service(seccomp: SeccompModel, capAdd: readonly string[] = [], name = 'web'): ServiceModel {
  return { name, source, seccomp, capAdd } as unknown as ServiceModel;
}

describe('syscall tables', () => {
  it('have the numbers the kernel headers give', () => {
    expect(SYSCALLS_X86_64.size).toBe(362);
    expect(SYSCALLS_AARCH64.size).toBe(306);
    const tables = JSON.parse(committedTables) as { x86_64: Record<string, number>; aarch64: Record<string, number> };
    expect(tables.x86_64.read).toBe(0);
    expect(tables.x86_64.clone3).toBe(435);
    expect(tables.aarch64.openat).toBe(56);
    expect(tables.aarch64.read).toBe(63);
  });

  it('give aarch64 exactly the generic table arm64 builds', () => {
    for (const name of ['open', 'fork', 'stat', 'lstat', 'sync_file_range2', 'arch_specific_syscall', 'syscalls']) {
      expect(SYSCALLS_AARCH64.has(name), name).toBe(false);
    }
    // __NR3264_* indirections and the __ARCH_WANT_* guards arm64 sets
    for (const name of ['fstat', 'newfstatat', 'fcntl', 'lseek', 'mmap', 'fadvise64', 'renameat', 'getrlimit', 'clone3', 'memfd_secret', 'sync_file_range']) {
      expect(SYSCALLS_AARCH64.has(name), name).toBe(true);
    }
    for (const name of ['accept', 'accept4']) {
      expect(SYSCALLS_X86_64.has(name) && SYSCALLS_AARCH64.has(name), name).toBe(true);
    }
  });

  it('answer isKnownSyscall and allSyscallNames from both architectures', () => {
    expect(isKnownSyscall('arch_prctl')).toBe(true); // x86_64 only
    expect(isKnownSyscall('openat')).toBe(true);
    expect(isKnownSyscall('_llseek')).toBe(false); // 32-bit only
    expect(isKnownSyscall('opne')).toBe(false);
    const names = allSyscallNames();
    expect(names).toEqual([...new Set([...SYSCALLS_X86_64, ...SYSCALLS_AARCH64])].sort());
    // In Linux 6.1 every aarch64 name is also an x86_64 name, so the union is the x86_64 table.
    expect(names.length).toBe(SYSCALLS_X86_64.size);
  });
});

describe('gen-syscall-tables', () => {
  const x86Path = path.join(HEADER_DIR, X86_64_HEADER);
  const genericPath = path.join(HEADER_DIR, GENERIC_HEADER);
  const headersPresent = existsSync(x86Path) && existsSync(genericPath);

  it('reproduces the committed JSON byte for byte from the installed headers', (ctx) => {
    if (!headersPresent) return ctx.skip(`linux-libc-dev headers not installed (${x86Path})`);
    const installed = installedLinuxLibcDevVersion();
    const rendered = renderSyscallTables({
      x86_64Header: readFileSync(x86Path, 'utf8'),
      genericHeader: readFileSync(genericPath, 'utf8'),
      packageVersion: committedVersion,
    });
    // The tables themselves must match whatever 6.1 headers are installed ...
    expect(JSON.parse(rendered)).toEqual(JSON.parse(committedTables));
    // ... and the recorded version is the one the file was made from.
    if (installed !== committedVersion) {
      return ctx.skip(`byte check of source.version: installed linux-libc-dev ${installed}, table made from ${committedVersion}`);
    }
    expect(rendered).toBe(committedTables);
  });

  it('evaluates #if guards, #else branches and __NR3264 aliases like the preprocessor', () => {
    const header = [
      '#define __NR_a 1',
      '#ifdef __ARCH_WANT_RENAMEAT',
      '#define __NR_renameat 38',
      '#endif',
      '#if defined(__ARCH_WANT_TIME32_SYSCALLS) || __BITS_PER_LONG != 32',
      '#define __NR_futex 98',
      '#endif',
      '#ifdef __ARCH_WANT_SYNC_FILE_RANGE2',
      '#define __NR_sync_file_range2 84',
      '#else',
      '#define __NR_sync_file_range 84',
      '#endif',
      '#define __NR3264_fstat 80',
      '#if __BITS_PER_LONG == 64 && !defined(__SYSCALL_COMPAT)',
      '#define __NR_fstat __NR3264_fstat',
      '#else',
      '#define __NR_fstat64 __NR3264_fstat',
      '#endif',
      '#undef __NR_syscalls',
      '#define __NR_syscalls 451',
    ].join('\n');
    expect(parseGenericHeader(header, [])).toEqual({ a: 1, futex: 98, sync_file_range: 84, fstat: 80 });
    expect(parseGenericHeader(header, ['__ARCH_WANT_RENAMEAT'])).toMatchObject({ renameat: 38 });
    expect(() => parseGenericHeader('#if FOO +\n#endif', [])).toThrow(/cannot evaluate/);
    expect(() => parseGenericHeader('#ifdef X\n', [])).toThrow(/without #endif/);
  });

  it("uses the __ARCH_WANT_* set of arm64's own header (when the arm64 cross headers are installed)", (ctx) => {
    const arm64 = '/usr/aarch64-linux-gnu/include/asm/unistd.h';
    if (!existsSync(arm64)) return ctx.skip(`${arm64} absent (apt-get install linux-libc-dev-arm64-cross)`);
    const defines = [...readFileSync(arm64, 'utf8').matchAll(/^#define (__ARCH_WANT_\w+)/gm)].map((m) => m[1]).sort();
    expect(defines).toEqual(AARCH64_DEFINES);
  });
});

describe("Docker's default profile", () => {
  it('allows 346 names unconditionally; 286 are x86_64 or aarch64 syscalls, the rest 32-bit names', () => {
    const names = dockerDefaultUnconditional();
    expect(names.length).toBe(346);
    expect(names.filter(isKnownSyscall).length).toBe(286);
    expect(names.filter((n) => !isKnownSyscall(n))).toEqual([
      '_llseek', '_newselect', 'chown32', 'clock_adjtime64', 'clock_getres_time64', 'clock_gettime64',
      'clock_nanosleep_time64', 'fadvise64_64', 'fchown32', 'fcntl64', 'fstat64', 'fstatat64', 'fstatfs64',
      'ftruncate64', 'futex_time64', 'getegid32', 'geteuid32', 'getgid32', 'getgroups32', 'getresgid32',
      'getresuid32', 'getuid32', 'io_pgetevents_time64', 'ipc', 'lchown32', 'lstat64', 'mmap2',
      'mq_timedreceive_time64', 'mq_timedsend_time64', 'ppoll_time64', 'pselect6_time64', 'recv',
      'recvmmsg_time64', 'rt_sigtimedwait_time64', 'sched_rr_get_interval_time64', 'semtimedop_time64', 'send',
      'sendfile64', 'setfsgid32', 'setfsuid32', 'setgid32', 'setgroups32', 'setregid32', 'setresgid32',
      'setresuid32', 'setreuid32', 'setuid32', 'sigprocmask', 'sigreturn', 'socketcall', 'stat64', 'statfs64',
      'timer_gettime64', 'timer_settime64', 'timerfd_gettime64', 'timerfd_settime64', 'truncate64', 'ugetrlimit',
      'utimensat_time64', 'waitpid',
    ]);
  });

  it('adds per-architecture, per-capability and per-kernel groups the way moby evaluates them', () => {
    const x86 = dockerDefaultFor('x86_64');
    const arm = dockerDefaultFor('aarch64');
    const extra = (list: readonly string[]) => list.filter((n) => !dockerDefaultUnconditional().includes(n));
    expect(extra(x86)).toEqual(['arch_prctl', 'clone', 'modify_ldt', 'personality', 'ptrace']);
    expect(extra(arm)).toEqual(['arm_fadvise64_64', 'arm_sync_file_range', 'breakpoint', 'cacheflush', 'clone', 'personality', 'ptrace', 'set_tls', 'sync_file_range2']);
    expect(dockerDefaultFor('x86_64', [], { kernel: '4.4' })).not.toContain('ptrace');
    expect(dockerDefaultFor('x86_64', ['SYS_ADMIN'])).toEqual(dockerDefaultFor('x86_64', ['CAP_SYS_ADMIN']));
    expect(dockerDefaultFor('x86_64', ['SYS_ADMIN'])).toEqual(expect.arrayContaining(['mount', 'setns', 'unshare', 'clone3']));
    expect(dockerDefaultFor('x86_64', ['NET_BIND_SERVICE'])).toEqual(x86);
  });

  it('keeps argument filters for clone (no namespace flags) and personality, the same on both arches', () => {
    const x86 = dockerDefaultArgFilters('x86_64');
    expect([...x86.keys()]).toEqual(['clone', 'personality']);
    expect(x86.get('clone')).toEqual([[{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }]]);
    expect(x86.get('personality')?.map((alt) => alt[0]?.value)).toEqual([0, 8, 131072, 131080, 4294967295]);
    expect(dockerDefaultArgFilters('aarch64')).toEqual(x86);
    // With CAP_SYS_ADMIN Docker allows clone outright.
    expect([...dockerDefaultArgFilters('x86_64', ['SYS_ADMIN']).keys()]).toEqual(['personality']);
  });
});

describe('resolveSeccomp', () => {
  it('is baseline ∪ allow − deny, sorted and unique, with clone3 answered ENOSYS', () => {
    const m = resolveSeccomp({ allow: ['write', 'read', 'write', 'openat'], deny: ['openat'] });
    expect(m).toEqual({
      baseline: 'none',
      allow: ['read', 'write'],
      enosys: ['clone3'],
      declaredAllow: ['openat', 'read', 'write'],
      declaredDeny: ['openat'],
      keep: [],
    });
  });

  it('allows the kept names like allow, and lists them apart for the minimiser', () => {
    const m = resolveSeccomp({ allow: ['read', 'write'], keep: ['wait4', 'kill', 'wait4', 'no_such_call'] });
    expect(m.allow).toEqual(['kill', 'read', 'wait4', 'write']);
    expect(m.keep).toEqual(['kill', 'wait4']);
    expect(m.declaredAllow).toEqual(['read', 'write']);
  });

  it('does not answer clone3 with ENOSYS once it is allowed, and never overlaps allow', () => {
    expect(resolveSeccomp({ allow: ['clone3'] }).enosys).toEqual([]);
    const m = resolveSeccomp({ allow: ['statx', 'read'], enosys: ['statx', 'io_uring_setup', 'io_uring_setup'] });
    expect(m.allow).toEqual(['read', 'statx']);
    expect(m.enosys).toEqual(['clone3', 'io_uring_setup']);
  });

  it("expands docker-default for x86_64 and aarch64 and drops other architectures' names", () => {
    const m = resolveSeccomp({ baseline: 'docker-default' });
    expect(m.allow.length).toBe(291);
    expect(m.allow).toEqual(expect.arrayContaining(['arch_prctl', 'clone', 'personality', 'ptrace', 'mkdirat']));
    for (const dropped of ['_llseek', 'socketcall', 'arm_fadvise64_64', 'set_tls', 'mount', 'clone3']) {
      expect(m.allow, dropped).not.toContain(dropped);
    }
    expect(m.allow.every(isKnownSyscall)).toBe(true);
    expect(m.enosys).toEqual(['clone3']);
    const admin = resolveSeccomp({ baseline: 'docker-default' }, ['SYS_ADMIN']);
    expect(admin.allow).toEqual(expect.arrayContaining(['mount', 'clone3']));
    expect(admin.enosys).toEqual([]);
  });

  it('lets deny remove baseline names', () => {
    const m = resolveSeccomp({ baseline: 'docker-default', deny: ['mkdir', 'mkdirat'], allow: ['mount'] });
    expect(m.allow).not.toContain('mkdir');
    expect(m.allow).not.toContain('mkdirat');
    expect(m.allow).toContain('mount');
  });
});

describe('profile schema', () => {
  it("accepts Docker's own default.json", () => {
    expect(validateSeccompProfile(DOCKER_DEFAULT_PROFILE)).toEqual([]);
  });

  it('accepts every emitted profile', () => {
    for (const spec of [{}, { baseline: 'docker-default' as const }, { allow: ['read'], enosys: ['statx'] }]) {
      for (const caps of [[], ['SYS_ADMIN']]) {
        expect(validateSeccompProfile(JSON.parse(emitSeccompProfile('demo', service(resolveSeccomp(spec), caps)).content))).toEqual([]);
      }
    }
  });

  it('refuses wrong shapes with one message per problem', () => {
    expect(
      validateSeccompProfile({
        defaultAction: 'SCMP_ACT_DENY',
        architectures: ['SCMP_ARCH_X86'],
        archMap: [{ architecture: 'SCMP_ARCH_X86_64' }],
        syscalls: [
          { names: ['read'], action: 'SCMP_ACT_ALLOW', errnoRet: 1 },
          { name: 'read', names: ['write'], action: 'SCMP_ACT_ALLOW' },
          { names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: -1, op: 'SCMP_CMP_EQ' }] },
        ],
        defaultErrno: 'EPERM',
      }),
    ).toEqual([
      "/ Docker refuses a profile that sets both architectures and archMap.",
      '/ must NOT have additional properties',
      '/defaultAction must be equal to one of the allowed values: ["SCMP_ACT_KILL","SCMP_ACT_KILL_PROCESS","SCMP_ACT_KILL_THREAD","SCMP_ACT_TRAP","SCMP_ACT_ERRNO","SCMP_ACT_TRACE","SCMP_ACT_ALLOW","SCMP_ACT_LOG","SCMP_ACT_NOTIFY"]',
      '/syscalls/0/action must be equal to one of the allowed values: ["SCMP_ACT_ERRNO","SCMP_ACT_TRACE"]',
      '/syscalls/1 must be one of: The old single name, and no names list (Docker refuses both at once). | A names list with at least one name, and no single name.',
      '/syscalls/2/args/0/index must be <= 5',
      '/syscalls/2/args/0/value must be >= 0',
    ]);
  });
});

describe('emitSeccompProfile', () => {
  it('writes a small profile exactly so', () => {
    const artifact = emitSeccompProfile('demo', service(resolveSeccomp({ allow: ['write', 'exit_group', 'clone', 'read'], enosys: ['statx'] })));
    expect(artifact.path).toBe('seccomp/web.json');
    expect(artifact.sources).toEqual([source]);
    expect(artifact.content).toBe(`{
  "defaultAction": "SCMP_ACT_ERRNO",
  "defaultErrnoRet": 1,
  "archMap": [
    {
      "architecture": "SCMP_ARCH_X86_64",
      "subArchitectures": [
        "SCMP_ARCH_X86",
        "SCMP_ARCH_X32"
      ]
    },
    {
      "architecture": "SCMP_ARCH_AARCH64",
      "subArchitectures": [
        "SCMP_ARCH_ARM"
      ]
    }
  ],
  "syscalls": [
    {
      "names": [
        "exit_group",
        "read",
        "write"
      ],
      "action": "SCMP_ACT_ALLOW"
    },
    {
      "names": [
        "clone"
      ],
      "action": "SCMP_ACT_ALLOW",
      "args": [
        {
          "index": 0,
          "value": 2114060288,
          "op": "SCMP_CMP_MASKED_EQ"
        }
      ]
    },
    {
      "names": [
        "clone3",
        "statx"
      ],
      "action": "SCMP_ACT_ERRNO",
      "errnoRet": 38
    }
  ]
}
`);
  });

  it('is byte-identical across calls and whatever order the lists come in', () => {
    const a = emitSeccompProfile('demo', service(resolveSeccomp({ baseline: 'docker-default', allow: ['mount', 'chroot'], deny: ['mkdir', 'ptrace'] })));
    const b = emitSeccompProfile('demo', service(resolveSeccomp({ baseline: 'docker-default', allow: ['chroot', 'mount', 'chroot'], deny: ['ptrace', 'mkdir'] })));
    const c = emitSeccompProfile('demo', service(resolveSeccomp({ baseline: 'docker-default', allow: ['mount', 'chroot'], deny: ['mkdir', 'ptrace'] })));
    expect(b.content).toBe(a.content);
    expect(c.content).toBe(a.content);
    expect(a.content.endsWith('}\n')).toBe(true);
    expect(a.content).not.toMatch(/[ \t]$/m);
  });

  it("keeps Docker's clone filter without CAP_SYS_ADMIN and drops it with", () => {
    const m = resolveSeccomp({ allow: ['clone', 'read'] });
    const without = buildSeccompProfile({ seccomp: m, capAdd: [] });
    expect(without.syscalls.map((r) => [r.names, r.args?.length ?? 0])).toEqual([[['read'], 0], [['clone'], 1], [['clone3'], 0]]);
    const withAdmin = buildSeccompProfile({ seccomp: m, capAdd: ['SYS_ADMIN'] });
    expect(withAdmin.syscalls[0]!.names).toEqual(['clone', 'read']);
  });

  it('leaves out the ENOSYS rule when nothing is answered ENOSYS', () => {
    const p = buildSeccompProfile({ seccomp: resolveSeccomp({ allow: ['read', 'clone3'] }), capAdd: [] });
    expect(p.syscalls).toEqual([{ names: ['clone3', 'read'], action: 'SCMP_ACT_ALLOW' }]);
  });
});

// ── Under a real engine ──────────────────────────────────────────────────────────────────────

const IMAGE = 'debian:bookworm';
const RUN_ID = `seccomp-${process.pid}-${Date.now()}`;

function succeeds(cmd: string, args: readonly string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}
const docker = succeeds('docker', ['info']) && succeeds('docker', ['image', 'inspect', IMAGE]);

/** A real glibc program that starts a thread (glibc tries clone3 first, then clone on ENOSYS). */
const THREAD_PROGRAM = `#include <pthread.h>
#include <stdio.h>
#include <string.h>
static void *run(void *arg) { (void)arg; return "thread ran"; }
int main(void) {
  pthread_t t; void *out;
  int rc = pthread_create(&t, NULL, run, NULL);
  if (rc != 0) { printf("pthread_create: %s\\n", strerror(rc)); return 1; }
  pthread_join(t, &out);
  printf("%s\\n", (const char *)out);
  return 0;
}
`;

describe.skipIf(!docker)(`under Docker (${IMAGE})`, () => {
  let dir = '';
  let threads: string | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'hardspec-seccomp-'));
    await writeFile(path.join(dir, 'threads.c'), THREAD_PROGRAM);
    try {
      await run('gcc', ['-static', '-pthread', '-O2', '-o', path.join(dir, 'threads'), path.join(dir, 'threads.c')]);
      threads = path.join(dir, 'threads');
    } catch {
      threads = undefined;
    }
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function profileFile(name: string, content: string): Promise<string> {
    const file = path.join(dir, `${name}.json`);
    await writeFile(file, content);
    return file;
  }

  async function dockerRun(profile: string, args: readonly string[], mounts: readonly string[] = []) {
    const argv = ['run', '--rm', '--label', `hardspec.test=${RUN_ID}`, '--security-opt', `seccomp=${profile}`];
    for (const m of mounts) argv.push('-v', `${m}:/${path.basename(m)}:ro`);
    try {
      const { stdout, stderr } = await run('docker', [...argv, IMAGE, ...args], { timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string };
      return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
    }
  }

  const emitted = (spec: Parameters<typeof resolveSeccomp>[0]) => emitSeccompProfile('demo', service(resolveSeccomp(spec))).content;

  it('docker run --security-opt seccomp=<docker-default baseline> debian:bookworm mkdir /tmp/x  → succeeds', async () => {
    const r = await dockerRun(await profileFile('baseline', emitted({ baseline: 'docker-default' })), ['mkdir', '/tmp/x']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
  });

  it('docker run --security-opt seccomp=<baseline − mkdir, mkdirat> debian:bookworm mkdir /tmp/x  → EPERM', async () => {
    const file = await profileFile('no-mkdir', emitted({ baseline: 'docker-default', deny: ['mkdir', 'mkdirat'] }));
    const r = await dockerRun(file, ['mkdir', '/tmp/x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("mkdir: cannot create directory '/tmp/x': Operation not permitted");
  });

  it('clone3 answered ENOSYS lets glibc fall back to clone: a threaded program works, and fails with EPERM instead', async (ctx) => {
    if (!threads) return ctx.skip('gcc -static -pthread is not available to build the threaded program');
    const baseline = buildSeccompProfile(service(resolveSeccomp({ baseline: 'docker-default' })));
    const ok = await dockerRun(await profileFile('enosys', JSON.stringify(baseline)), ['/threads'], [threads]);
    expect(ok).toMatchObject({ code: 0, stdout: 'thread ran\n' });
    // The same profile with clone3 answered EPERM (as the default action would):
    const eperm = { ...baseline, syscalls: baseline.syscalls.map((r) => (r.errnoRet === 38 ? { ...r, errnoRet: 1 } : r)) };
    const bad = await dockerRun(await profileFile('eperm', JSON.stringify(eperm)), ['/threads'], [threads]);
    expect(bad).toMatchObject({ code: 1, stdout: 'pthread_create: Operation not permitted\n' });
  });

  it('clone with a namespace flag is refused by the clone filter (perl: syscall(SYS_clone, CLONE_NEWUSER|SIGCHLD))', async (ctx) => {
    if (process.arch !== 'x64') return ctx.skip('uses the x86_64 number of clone (56)');
    const script = ['perl', '-e', 'my $r = syscall(56, 0x10000000 | 17, 0, 0, 0, 0); print $r < 0 ? $! + 0 : "forked", "\\n"'];
    const filtered = await dockerRun(await profileFile('clone-filter', emitted({ baseline: 'docker-default' })), script);
    expect(filtered).toMatchObject({ code: 0, stdout: '1\n' }); // EPERM
    // Control: the profile emitted for a service with CAP_SYS_ADMIN allows clone outright, and the
    // same call (in a container without that capability) then creates a user namespace.
    const open = buildSeccompProfile(service(resolveSeccomp({ baseline: 'docker-default' }), ['SYS_ADMIN']));
    const unfiltered = await dockerRun(await profileFile('clone-open', JSON.stringify(open)), script);
    expect(unfiltered.stdout).toContain('forked');
  });

  it("names the engine's architecture lacks are skipped by runc, not refused", async () => {
    const base = buildSeccompProfile(service(resolveSeccomp({ baseline: 'docker-default' })));
    // 32-bit and arm names, an x86_64 name libseccomp knows but the kernel does not implement, and
    // a name no table has: runc resolves names for the native arch and skips what it cannot.
    const withForeign = { ...base, syscalls: [{ names: ['_llseek', 'arm_fadvise64_64', 'set_tls', 'tuxcall', 'hardspec_not_a_syscall'], action: 'SCMP_ACT_ALLOW' }, ...base.syscalls] };
    const r = await dockerRun(await profileFile('foreign', JSON.stringify(withForeign)), ['mkdir', '/tmp/x']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
  });

  it("Docker's unconditional group alone cannot start glibc on x86_64 (arch_prctl is arch-conditional)", async (ctx) => {
    if (process.arch !== 'x64') return ctx.skip('x86_64 engine only');
    const file = await profileFile('unconditional', emitted({ allow: [...dockerDefaultUnconditional()] }));
    const r = await dockerRun(file, ['mkdir', '/tmp/x']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('cannot set %fs base address for thread-local storage');
  });
});
