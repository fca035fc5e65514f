// npm run bench:compile — compiles synthetic stacks of 100, 1,000 and 10,000 service specs and
// prints specs per second and peak memory for each, plus the cost per spec relative to the
// smallest size (linear growth keeps that ratio near 1). Target: 1,000 specs in under 2 s.
// Each size runs in its own process so peak memory (max RSS) is that size's alone.
import { execFileSync } from 'node:child_process';
import { compile, type StackInput } from '../compiler/src/pipeline.ts';

const SERVICES_PER_STACK = 10;

function serviceSpec(stack: number, i: number): string {
  return `---
hardspec: 1
kind: service
description: synthetic service ${i} of stack ${stack}
image:
  name: bench/s${stack}-svc${i}:1
  build:
    context: svc${i}
user: "${1000 + i}:${1000 + i}"
read_only: true
tmpfs:
  - { path: /run/app, size: 1m, mode: "0755", uid: ${1000 + i}, gid: ${1000 + i} }
  - { path: /tmp, size: 4m, mode: "1777" }
ports:
  - { container: 8080, host: ${10000 + i} }
networks: [front, back]
volumes:
  - { source: data, target: /var/lib/app${i} }
capabilities:
  add: [NET_BIND_SERVICE]
seccomp:
  allow: [accept, accept4, bind, brk, clone, close, connect, epoll_create1, epoll_ctl, epoll_wait, execve, exit, exit_group, fcntl, fstat, futex, getpid, getrandom, listen, lseek, mmap, mprotect, munmap, newfstatat, openat, read, recvfrom, rt_sigaction, rt_sigprocmask, sendto, set_robust_list, set_tid_address, socket, write]
selinux:
  type: bench_s${stack}_svc${i}_t
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
  - id: s${stack}-svc${i}-answers
    description: answers
    reason: it must
    check:
      http: { url: "http://127.0.0.1:${10000 + i}/", expect: { status: 200 } }
  - id: s${stack}-svc${i}-read-only
    description: read-only root
    reason: no writes
    check:
      probe: { op: write, args: [/x], expect: { errno: EROFS } }
---
# Service ${i}

## Why
Synthetic.
`;
}

const stackSpec = `---
hardspec: 1
kind: stack
networks: { front: {}, back: { internal: true } }
volumes: { data: {} }
---
# Synthetic stack
`;

function makeInputs(services: number): StackInput[] {
  const enc = new TextEncoder();
  const stacks: StackInput[] = [];
  for (let s = 0; s * SERVICES_PER_STACK < services; s++) {
    const files = [{ path: `specs/s${s}/stack.md`, bytes: enc.encode(stackSpec) }];
    for (let i = 0; i < SERVICES_PER_STACK && s * SERVICES_PER_STACK + i < services; i++) {
      files.push({ path: `specs/s${s}/svc${i}.md`, bytes: enc.encode(serviceSpec(s, i)) });
    }
    stacks.push({ name: `s${s}`, dir: `specs/s${s}`, specDirFromOut: `../../specs/s${s}`, files });
  }
  return stacks;
}

if (process.argv[2] === '--size') {
  const n = Number(process.argv[3]);
  const inputs = makeInputs(n);
  compile(makeInputs(10)); // warm the schema compilers, as any real run after the first spec
  const t0 = performance.now();
  const result = compile(inputs);
  const ms = performance.now() - t0;
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(`synthetic specs have errors: ${errors[0]!.message}`);
  const artifacts = result.stacks.reduce((a, s) => a + s.artifacts.length, 0);
  process.stdout.write(JSON.stringify({ n, ms, artifacts, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
} else {
  const sizes = [100, 1000, 10000];
  const rows = sizes.map((n) => JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', import.meta.filename, '--size', String(n)], { encoding: 'utf8', maxBuffer: 1 << 20 })) as { n: number; ms: number; artifacts: number; maxRssMiB: number });
  const perSpec0 = rows[0]!.ms / rows[0]!.n;
  console.log(`hardspec bench:compile — ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${process.arch}`);
  console.log('specs    time (s)   specs/s   artifacts   peak RSS (MiB)   cost/spec vs 100');
  for (const r of rows) {
    console.log(`${String(r.n).padStart(5)}  ${(r.ms / 1000).toFixed(3).padStart(9)}  ${Math.round(r.n / (r.ms / 1000)).toString().padStart(8)}  ${String(r.artifacts).padStart(10)}  ${r.maxRssMiB.toFixed(0).padStart(15)}  ${((r.ms / r.n) / perSpec0).toFixed(2).padStart(17)}×`);
  }
  const thousand = rows.find((r) => r.n === 1000)!;
  console.log(`target: 1,000 specs in under 2 s — ${thousand.ms < 2000 ? 'met' : 'NOT met'} (${(thousand.ms / 1000).toFixed(2)} s)`);
}
