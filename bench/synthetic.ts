// The synthetic stacks the benchmarks compile and publish: stacks of ten services with prose,
// varied allowlists and capabilities, a few interactions each. Shared by bench/compile.ts and
// bench/site.ts so both measure the same specs.
import type { StackInput } from '../compiler/src/pipeline.ts';

export const SERVICES_PER_STACK = 10;

const SYSCALL_POOL = ['accept', 'accept4', 'bind', 'brk', 'clock_gettime', 'clone', 'close', 'connect', 'dup', 'dup2', 'epoll_create1', 'epoll_ctl', 'epoll_pwait', 'epoll_wait', 'eventfd2', 'execve', 'exit', 'exit_group', 'fcntl', 'fstat', 'fsync', 'futex', 'getcwd', 'getdents64', 'getegid', 'geteuid', 'getgid', 'getpid', 'getppid', 'getrandom', 'getsockname', 'getsockopt', 'gettid', 'getuid', 'ioctl', 'listen', 'lseek', 'madvise', 'mmap', 'mprotect', 'munmap', 'nanosleep', 'newfstatat', 'openat', 'pipe2', 'poll', 'pread64', 'prlimit64', 'pwrite64', 'read', 'readlink', 'recvfrom', 'recvmsg', 'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn', 'sched_getaffinity', 'sched_yield', 'sendmsg', 'sendto', 'set_robust_list', 'set_tid_address', 'setsockopt', 'shutdown', 'sigaltstack', 'socket', 'statx', 'sysinfo', 'tgkill', 'uname', 'unlink', 'wait4', 'write', 'writev'];
const CAPS = ['NET_BIND_SERVICE', 'CHOWN', 'SETUID', 'SETGID', 'DAC_OVERRIDE', 'NET_RAW'];

export function serviceSpec(s: number, i: number): string {
  const n = s * SERVICES_PER_STACK + i;
  const allow = SYSCALL_POOL.filter((_, k) => (k * 7 + n) % 5 !== 0);
  const caps = i % 3 === 0 ? [] : [CAPS[n % CAPS.length]];
  return `---
hardspec: 1
kind: service
description: Synthetic service ${i} of stack ${s}, allowed ${allow.length} system calls.
image:
  name: bench/s${s}-svc${i}:1
  build:
    context: svc${i}
user: "${1000 + i}:${1000 + i}"
read_only: true
tmpfs:
  - { path: /run/app, size: 1m, mode: "0755", uid: ${1000 + i}, gid: ${1000 + i} }
  - { path: /tmp, size: 4m, mode: "1777" }
ports:
  - { container: 8080, host: ${10000 + n} }
networks: [front, back]
volumes:
  - { source: data, target: /var/lib/app${i} }
capabilities:
  add: [${caps.join(', ')}]
seccomp:
  baseline: ${i % 2 === 0 ? 'none' : 'docker-default'}
  ${i % 2 === 0 ? `allow: [${allow.join(', ')}]` : 'deny: [ptrace, personality]'}
selinux:
  type: bench_s${s}_svc${i}_t
  allow:
    - { target: self, class: tcp_socket, permissions: [accept, bind, create, listen, read, write] }
strip:
  packages: [libc6]
  files: [/usr/local/bin/app, /etc/passwd]
resources: { memory: 64m, cpus: 0.5, pids: 32, ulimits: { nofile: 1024 } }
healthcheck: { command: [/usr/local/bin/app, health], interval: 10s, timeout: 2s, retries: 3 }
restart: unless-stopped
environment: { APP_MODE: production, APP_PORT: "8080" }
interactions:
  - id: s${s}-svc${i}-answers
    description: The service answers on its port.
    reason: A hardened service that does not answer is no use.
    check:
      http: { url: "http://127.0.0.1:${10000 + n}/", expect: { status: 200 } }
  - id: s${s}-svc${i}-read-only
    description: Writing to / fails with EROFS.
    reason: Nothing in the image may change at run time.
    check:
      probe: { op: write, args: [/x], expect: { errno: EROFS } }
---
# Service ${i}

Synthetic service ${i} of stack ${s}: one process, as its own user.

## User

\`${1000 + i}:${1000 + i}\`, created in the image with fixed ids.

## Capabilities

${caps.length ? `Only \`${caps[0]}\`.` : 'None.'}

## Seccomp

${i % 2 === 0 ? `An allowlist of ${allow.length} names, recorded under load.` : "Docker's default less ptrace and personality."}

## Read-only root and tmpfs

Writable are only \`/run/app\` and \`/tmp\`.
`;
}

export const stackSpec = (s: number) => `---
hardspec: 1
kind: stack
description: Synthetic stack ${s}.
networks: { front: { description: the published side }, back: { internal: true, description: the internal side } }
volumes: { data: { description: shared data } }
---
# Synthetic stack ${s}

Ten services on two networks.

## Networks

\`front\` is published on loopback; \`back\` is internal.
`;

/** `services` service specs in stacks of SERVICES_PER_STACK, as the compiler's input, in memory. */
export function syntheticInputs(services: number): StackInput[] {
  const enc = new TextEncoder();
  const stacks: StackInput[] = [];
  for (let s = 0; s * SERVICES_PER_STACK < services; s++) {
    const files = [{ path: `specs/s${s}/stack.md`, bytes: enc.encode(stackSpec(s)) }];
    for (let i = 0; i < SERVICES_PER_STACK && s * SERVICES_PER_STACK + i < services; i++) {
      files.push({ path: `specs/s${s}/svc${i}.md`, bytes: enc.encode(serviceSpec(s, i)) });
    }
    stacks.push({ name: `s${s}`, dir: `specs/s${s}`, specDirFromOut: `../../specs/s${s}`, files });
  }
  return stacks;
}
