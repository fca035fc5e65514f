// The eBPF recording's pure parts: the bpftrace program, parsing its output, and attributing every
// call to a service and a maker. Intent, as the manual practice it replaces:
//   bpftrace -e 'tracepoint:raw_syscalls:sys_enter { @s[cgroup, args->id] = count(); }' &
//   docker-compose up -d; <run the interactions>; stat -c %i /sys/fs/cgroup/unified/docker/<id>
// but with the cut at the seccomp filter and without the verifier's own processes.
import { describe, expect, it } from 'vitest';
import { argvMatches, attributeTrace, bpftraceProgram, parseTrace, seedsAllowlist, type AttributionContext } from '../compiler/src/minimize/record/trace.ts';
import { syscallNamer } from '../compiler/src/minimize/record/record-run.ts';

const WEB = 'a'.repeat(64);
const DB = 'b'.repeat(64);
const DB2 = 'c'.repeat(64);

// Shaped like bpftrace's real output on this machine (Docker 20.10, runc, cgroup v2 ids).
const SAMPLE = [
  'Attaching 6 probes...',
  `MKDIR\t2571\t/docker/${WEB}`,
  'MKDIR\t9\t/system.slice/ignored',
  // runc: [0:PARENT] → [1:CHILD] → [2:INIT], which execs nginx under the filter
  'FORK\t2571\t100\t101',
  'FORK\t2571\t101\t102',
  'EXECVE\t2571\t102\t2\tnginx\t-g\tdaemon off;',
  'FORK\t2571\t102\t103', // nginx master → worker
  // docker exec: the healthcheck, then the probe, then a verifier helper (no fork in the cgroup)
  'EXECVE\t2571\t200\t2\twget\t--no-config\t--no-hsts\t-q',
  'EXECVE\t2571\t300\t2\t/.hardspec-probe\tmount',
  'EXECVE\t2571\t400\t2\tcat\t/etc/hostname',
  `MKDIR\t2600\t/docker/${DB}`,
  'EXECVE\t2600\t500\t2\tmariadbd',
  `MKDIR\t2700\t/docker/${DB2}`,
  'EXECVE\t2700\t600\t2\tmariadbd',
  '',
  '@s[2571, 102, 0, runc:[2:INIT], 165]: 3', // mount, before the filter
  '@s[2571, 102, 2, runc:[2:INIT], 59]: 1', // execve, runc after the filter
  '@s[2571, 102, 2, nginx, 0]: 10', // read
  '@s[2571, 103, 2, nginx, 288]: 5', // accept4, by the worker
  '@s[2571, 200, 2, wget, 270]: 2', // pselect6, healthcheck
  '@s[2571, 300, 2, .hardspec-probe, 165]: 1', // mount, probe
  '@s[2571, 400, 2, cat, 1]: 1', // write, helper
  '@s[2600, 500, 2, mariadbd, 425]: 1', // io_uring_setup
  '@s[2700, 600, 2, mariadbd, 425]: 2',
  '@s[9, 1, 2, systemd, 0]: 99', // not a container
  '@f[2571, 102, 2, nginx, 0]: 4',
  '@c[2571, 102, 2, nginx, 10, 0]: 1',
  '@c[2571, 102, 2, nginx, 21, -1]: 7',
  'END',
].join('\n');

const ctx: AttributionContext = {
  services: new Map([[WEB, 'web'], [DB, 'db'], [DB2, 'db']]),
  healthchecks: new Map([['web', ['wget', '--no-config', '--no-hsts', '-q', '-T', '2']]]),
  probePath: '/.hardspec-probe',
  syscallName: syscallNamer('x64'),
  capName: (n) => ['CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP', 'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER', 'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN'][n],
};

describe('bpftrace program', () => {
  it('traces container cgroups only, with the seccomp mode, and capability checks when asked', () => {
    const p = bpftraceProgram({ caps: true });
    expect(p).toContain('tracepoint:raw_syscalls:sys_enter /curtask->cgroups->dfl_cgrp->level >= 2/');
    expect(p).toContain('curtask->seccomp.mode');
    expect(p).toContain('tracepoint:capability:cap_capable');
    expect(bpftraceProgram({ caps: false })).not.toContain('cap_capable');
  });
});

describe('parseTrace + attributeTrace', () => {
  const raw = parseTrace(SAMPLE);

  it('parses events and maps', () => {
    expect(raw.complete).toBe(true);
    expect(raw.cgroups.get('2571')).toBe(WEB);
    expect(raw.cgroups.has('9')).toBe(false);
    expect(raw.syscalls).toHaveLength(10);
    expect(raw.failures).toHaveLength(1);
    expect(raw.execs[0]?.argv).toEqual(['nginx', '-g', 'daemon off;']);
    expect(raw.syscalls[0]?.comm).toBe('runc:[2:INIT]');
  });

  const [db, web] = attributeTrace(raw, ctx);

  it('cuts at the filter and labels who made each call', () => {
    expect(web?.service).toBe('web');
    expect(web?.beforeFilter).toEqual(['mount']);
    const by = Object.fromEntries(web!.syscalls.map((s) => [s.name, s.makers]));
    expect(by).toEqual({
      accept4: ['service'],
      execve: ['runtime'],
      mount: ['probe'],
      pselect6: ['healthcheck'],
      read: ['service'],
      write: ['helper'],
    });
    expect(web!.syscalls.find((s) => s.name === 'read')).toMatchObject({ count: 10, failed: 4 });
    expect(web!.syscalls.filter((s) => seedsAllowlist(s.makers)).map((s) => s.name)).toEqual(['accept4', 'execve', 'pselect6', 'read']);
  });

  it('sums a service over its containers (a recreated database)', () => {
    expect(db?.containers).toEqual([DB, DB2]);
    expect(db?.syscalls).toEqual([{ name: 'io_uring_setup', count: 3, failed: 0, makers: ['service'] }]);
  });

  it('splits capability checks into granted and denied', () => {
    expect(web?.capsGranted.map((c) => c.name)).toEqual(['NET_BIND_SERVICE']);
    expect(web?.capsDenied.map((c) => c.name)).toEqual(['SYS_ADMIN']);
  });

  it('says when bpftrace did not finish', () => {
    expect(parseTrace(SAMPLE.replace('END', '')).complete).toBe(false);
  });
});

describe('argvMatches', () => {
  it('compares the recorded arguments, allowing for bpftrace cutting long ones', () => {
    expect(argvMatches(['mariadb', '--user=mysql'], ['mariadb', '--user=mysql'])).toBe(true);
    expect(argvMatches(['mariadb', '--user=mysql', '-e'], ['mariadb', '--user=mysql', '--connect-timeout=3'])).toBe(false);
    const long = `--execute=${'x'.repeat(200)}`;
    expect(argvMatches(['mariadb', long.slice(0, 79)], ['mariadb', long])).toBe(true);
  });
});

describe('file recording', () => {
  const FILES = [
    `MKDIR\t2571\t/docker/${WEB}`,
    'FORK\t2571\t101\t102',
    'EXECVE\t2571\t102\t2\tnginx',
    'EXECVE\t2571\t200\t2\twget\t--no-config\t--no-hsts\t-q',
    'EXECVE\t2571\t400\t2\tcat\t/etc/hostname',
    '@o[2571, 102, 0, /proc/self/fd]: 3', // runc setting up, before the filter
    '@o[2571, 102, 2, /usr/sbin/nginx]: 1', // the execve of the entrypoint, made by runc under the filter
    '@o[2571, 102, 2, /etc/nginx/nginx.conf]: 2',
    '@o[2571, 102, 2, /srv/odd, name]/x]: 1', // a path with ", " and "]" in it
    '@o[2571, 200, 2, /usr/bin/wget]: 4',
    '@o[2571, 400, 2, /etc/hostname]: 1',
    '@o[2571, 102, 2, relative/path]: 1',
    'END',
  ].join('\n');

  it('adds one probe per path argument, for the calls the kernel has', () => {
    const p = bpftraceProgram({ caps: false, files: ['openat', 'execve', 'readlink', 'no_such_call'] });
    expect(p).toContain('tracepoint:syscalls:sys_enter_openat, tracepoint:syscalls:sys_enter_execve /curtask->cgroups->dfl_cgrp->level >= 2/ { @o[cgroup, pid, curtask->seccomp.mode, str(args->filename)] = count(); }');
    expect(p).toContain('tracepoint:syscalls:sys_enter_readlink /curtask->cgroups->dfl_cgrp->level >= 2/ { @o[cgroup, pid, curtask->seccomp.mode, str(args->path)] = count(); }');
    expect(p).not.toContain('no_such_call');
    expect(bpftraceProgram({ caps: false })).not.toContain('@o[');
  });

  it('parses paths whole (commas and brackets included) and keeps only what happens under the filter, by maker', () => {
    const raw = parseTrace(FILES);
    expect(raw.files).toHaveLength(7);
    expect(raw.files[3]).toEqual({ cgroup: '2571', pid: 102, mode: 2, path: '/srv/odd, name]/x', count: 1 });
    const [web] = attributeTrace(raw, ctx);
    expect(web!.files.map((f) => [f.name, f.count, f.makers.join(',')])).toEqual([
      ['/etc/hostname', 1, 'helper'],
      ['/etc/nginx/nginx.conf', 2, 'service'],
      ['/srv/odd, name]/x', 1, 'service'],
      ['/usr/bin/wget', 4, 'healthcheck'],
      ['/usr/sbin/nginx', 1, 'service'],
      ['relative/path', 1, 'service'],
    ]);
  });
});
