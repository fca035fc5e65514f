// The verification probe: a tiny static, libc-free binary (compiler/probe/probe.c) that the
// verifier bind-mounts read-only into a container and runs with `docker exec`, so each check is
// made under the container's own user, capabilities, no-new-privileges flag and seccomp filter.
//
// This module builds it with the host C compiler into a content-addressed cache, and turns its
// exit status and JSON line back into a typed result. The pure helpers (cache naming, errno
// tables, result parsing) are kept apart from the I/O so they can be tested on their own.

import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { constants as osConstants, homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the probe is bind-mounted (read-only) inside containers under verification. */
export const PROBE_MOUNT_PATH = '/.hardspec-probe';

/** The probe's C source, shipped with the compiler. */
export const PROBE_SOURCE_PATH = fileURLToPath(new URL('../../probe/probe.c', import.meta.url));

/** Exit statuses the probe reserves; 1..133 are errno values, 0 is success. */
export const PROBE_EXIT_ERRNO_OUT_OF_RANGE = 254;
export const PROBE_EXIT_USAGE = 255;
/** Highest errno Linux defines (EHWPOISON); the probe never exits with 134..253 itself. */
export const PROBE_ERRNO_MAX = 133;

/**
 * Compiler flags. Freestanding and static so the binary runs in images with no libc at all, and
 * issues no start-up syscalls of its own (see probe.c). -fno-tree-loop-distribute-patterns stops
 * gcc turning copy loops into memset/memcpy calls that a -nostdlib link could not resolve.
 */
export const PROBE_CFLAGS: readonly string[] = [
  '-Os',
  '-Wall',
  '-Wextra',
  '-nostdlib',
  '-static',
  '-ffreestanding',
  '-fno-stack-protector',
  '-fno-builtin',
  '-fno-pie',
  '-no-pie',
  '-fno-tree-loop-distribute-patterns',
  '-fno-asynchronous-unwind-tables',
  '-fno-unwind-tables',
  '-Wl,--build-id=none',
  '-Wl,-z,noexecstack',
  '-s',
];

/** Node's process.arch values the probe supports, with the GNU triplet of a cross gcc. */
const PROBE_ARCHES: Readonly<Record<string, string>> = {
  x64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu',
};

export interface BuildProbeOptions {
  /** Target architecture as Node names it (`x64`, `arm64`); default: the host's. */
  arch?: string;
  /** C compiler; default `gcc` for the host arch, `<triplet>-gcc` for another arch. */
  cc?: string;
  /** Cache directory; default `$XDG_CACHE_HOME/hardspec` or `~/.cache/hardspec`. */
  cacheDir?: string;
  /** Probe source file; default {@link PROBE_SOURCE_PATH}. */
  sourcePath?: string;
  /** Environment used to find the cache dir and run the compiler; default process.env. */
  env?: NodeJS.ProcessEnv;
}

// ---------------------------------------------------------------------------------------------
// Pure helpers

/** The hardspec cache directory per the XDG base-directory spec (a relative XDG path is ignored). */
export function probeCacheDir(env: NodeJS.ProcessEnv, home: string): string {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && xdg.startsWith('/') ? xdg : join(home, '.cache');
  return join(base, 'hardspec');
}

/**
 * The cache key: sha256 over the source, the target arch and the flags, so that editing the
 * probe, building for another arch or changing flags never reuses a stale binary.
 */
export function probeCacheKey(source: string | Uint8Array, arch: string, flags: readonly string[] = PROBE_CFLAGS): string {
  return createHash('sha256')
    .update(`hardspec-probe\0${arch}\0${flags.join(' ')}\0`)
    .update(source)
    .digest('hex');
}

export function probeFileName(key: string, arch: string): string {
  return `probe-${arch}-${key}`;
}

export function defaultCompiler(arch: string, hostArch: string = process.arch): string {
  if (arch === hostArch) return 'gcc';
  const triplet = PROBE_ARCHES[arch];
  if (!triplet) throw new Error(unsupportedArch(arch));
  return `${triplet}-gcc`;
}

function unsupportedArch(arch: string): string {
  return `hardspec: the verification probe supports ${Object.keys(PROBE_ARCHES).join(' and ')}, not '${arch}'`;
}

/** Linux errno names shared by every asm-generic architecture (x86_64, aarch64, arm, riscv, s390x, ...). */
const GENERIC_ERRNO_NAMES: readonly (string | undefined)[] = [
  undefined, 'EPERM', 'ENOENT', 'ESRCH', 'EINTR', 'EIO', 'ENXIO', 'E2BIG', 'ENOEXEC', 'EBADF',
  'ECHILD', 'EAGAIN', 'ENOMEM', 'EACCES', 'EFAULT', 'ENOTBLK', 'EBUSY', 'EEXIST', 'EXDEV', 'ENODEV',
  'ENOTDIR', 'EISDIR', 'EINVAL', 'ENFILE', 'EMFILE', 'ENOTTY', 'ETXTBSY', 'EFBIG', 'ENOSPC', 'ESPIPE',
  'EROFS', 'EMLINK', 'EPIPE', 'EDOM', 'ERANGE', 'EDEADLK', 'ENAMETOOLONG', 'ENOLCK', 'ENOSYS', 'ENOTEMPTY',
  'ELOOP', undefined, 'ENOMSG', 'EIDRM', 'ECHRNG', 'EL2NSYNC', 'EL3HLT', 'EL3RST', 'ELNRNG', 'EUNATCH',
  'ENOCSI', 'EL2HLT', 'EBADE', 'EBADR', 'EXFULL', 'ENOANO', 'EBADRQC', 'EBADSLT', undefined, 'EBFONT',
  'ENOSTR', 'ENODATA', 'ETIME', 'ENOSR', 'ENONET', 'ENOPKG', 'EREMOTE', 'ENOLINK', 'EADV', 'ESRMNT',
  'ECOMM', 'EPROTO', 'EMULTIHOP', 'EDOTDOT', 'EBADMSG', 'EOVERFLOW', 'ENOTUNIQ', 'EBADFD', 'EREMCHG', 'ELIBACC',
  'ELIBBAD', 'ELIBSCN', 'ELIBMAX', 'ELIBEXEC', 'EILSEQ', 'ERESTART', 'ESTRPIPE', 'EUSERS', 'ENOTSOCK', 'EDESTADDRREQ',
  'EMSGSIZE', 'EPROTOTYPE', 'ENOPROTOOPT', 'EPROTONOSUPPORT', 'ESOCKTNOSUPPORT', 'EOPNOTSUPP', 'EPFNOSUPPORT', 'EAFNOSUPPORT', 'EADDRINUSE', 'EADDRNOTAVAIL',
  'ENETDOWN', 'ENETUNREACH', 'ENETRESET', 'ECONNABORTED', 'ECONNRESET', 'ENOBUFS', 'EISCONN', 'ENOTCONN', 'ESHUTDOWN', 'ETOOMANYREFS',
  'ETIMEDOUT', 'ECONNREFUSED', 'EHOSTDOWN', 'EHOSTUNREACH', 'EALREADY', 'EINPROGRESS', 'ESTALE', 'EUCLEAN', 'ENOTNAM', 'ENAVAIL',
  'EISNAM', 'EREMOTEIO', 'EDQUOT', 'ENOMEDIUM', 'EMEDIUMTYPE', 'ECANCELED', 'ENOKEY', 'EKEYEXPIRED', 'EKEYREVOKED', 'EKEYREJECTED',
  'EOWNERDEAD', 'ENOTRECOVERABLE', 'ERFKILL', 'EHWPOISON',
];

const ASM_GENERIC_ARCHES = new Set(['x64', 'arm64', 'arm', 'ia32', 'riscv64', 's390x', 'loong64', 'ppc64']);

/** Aliases that share a number with the canonical name; never preferred when inverting a table. */
const ERRNO_ALIASES = new Set(['EWOULDBLOCK', 'EDEADLOCK', 'ENOTSUP']);

function invertErrnoConstants(table: Readonly<Record<string, number>>): Map<number, string> {
  const byNumber = new Map<number, string>();
  for (const [name, n] of Object.entries(table)) {
    if (!byNumber.has(n) || ERRNO_ALIASES.has(byNumber.get(n) ?? '')) byNumber.set(n, name);
  }
  return byNumber;
}

/**
 * The errno name for `n` on `arch` (the container's arch, i.e. the host's for a native probe).
 * The asm-generic arches share one table; for others the host's own table (Node's
 * os.constants.errno) is used when `arch` is the host arch.
 */
export function errnoName(n: number, arch: string = process.arch): string | undefined {
  if (!Number.isInteger(n) || n <= 0) return undefined;
  if (ASM_GENERIC_ARCHES.has(arch)) {
    if (arch === 'ppc64' && n === 58) return 'EDEADLOCK'; // powerpc's one deviation
    return GENERIC_ERRNO_NAMES[n];
  }
  if (arch === process.arch) return invertErrnoConstants(osConstants.errno).get(n);
  return undefined;
}

/** How the probe run ended, as far as the exit status and stdout tell. */
export type ProbeOutcome =
  /** The operation succeeded (exit 0). */
  | 'succeeded'
  /** The operation failed with `errno`. */
  | 'failed'
  /** The probe rejected its arguments (exit 255): a verifier bug, not a container property. */
  | 'usage'
  /** The probe was killed by `signal` (e.g. 31 SIGSYS: a seccomp filter with a kill action). */
  | 'killed'
  /** The runtime could not start the probe (exit 126/127 with no output): e.g. execve denied, probe missing. */
  | 'not-run'
  /** Nothing to go on. */
  | 'unknown';

export interface ProbeResult {
  op: string;
  ok: boolean;
  errno?: number;
  errnoName?: string;
  /** Operation-specific fields from the JSON line (values are strings), e.g. CapEff, uid, step. */
  data?: Record<string, string>;
  outcome: ProbeOutcome;
  /** Which channel the result was read from: stdout is absent when `write` itself was denied. */
  source: 'stdout' | 'exit-status';
  exitCode: number | null;
  signal?: number;
  /** The probe's own `target` (path, pid, syscall number), when it printed one. */
  target?: string;
}

/** The probe's JSON line, or undefined: the last stdout line that parses as an object with an op. */
function parseProbeLine(stdout: string): Record<string, unknown> | undefined {
  const lines = stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{'));
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const value: unknown = JSON.parse(lines[i] ?? '');
      if (value !== null && typeof value === 'object' && !Array.isArray(value) && typeof (value as { op?: unknown }).op === 'string') {
        return value as Record<string, unknown>;
      }
    } catch {
      // not the probe's line (e.g. a runtime message); keep looking
    }
  }
  return undefined;
}

const FIXED_KEYS = new Set(['op', 'target', 'ok', 'errno', 'name']);

/**
 * Interpret one probe run. `exitCode` is the exit status reported by the runtime (docker exec
 * reports death by signal N as 128+N; pass `null` if unknown). `op` names the operation when the
 * probe printed nothing.
 *
 * Without stdout, the exit status alone decides: 0 ok, 1..133 errno, 254 an errno above 133,
 * 255 usage, 126/127 the runtime's "could not execute"/"not found" (these are also ENOKEY and
 * EKEYEXPIRED, but the probe always writes before exiting, so a silent 126/127 is the runtime's),
 * 134..192 = 128+signal.
 */
export function parseProbeResult(exitCode: number | null, stdout: string | undefined, op = 'unknown', arch: string = process.arch): ProbeResult {
  const line = stdout ? parseProbeLine(stdout) : undefined;
  if (line) {
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries(line)) {
      if (!FIXED_KEYS.has(k)) data[k] = typeof v === 'string' ? v : JSON.stringify(v);
    }
    const errno = typeof line.errno === 'number' && Number.isInteger(line.errno) && line.errno > 0 ? line.errno : undefined;
    const ok = line.ok === true && errno === undefined;
    const name = typeof line.name === 'string' ? line.name : errno !== undefined ? errnoName(errno, arch) : undefined;
    const usage = exitCode === PROBE_EXIT_USAGE || typeof line.usage === 'string';
    const result: ProbeResult = {
      op: String(line.op) || op,
      ok,
      outcome: ok ? 'succeeded' : usage ? 'usage' : errno !== undefined ? 'failed' : 'unknown',
      source: 'stdout',
      exitCode,
    };
    if (typeof line.target === 'string') result.target = line.target;
    if (errno !== undefined) result.errno = errno;
    if (name !== undefined) result.errnoName = name;
    if (Object.keys(data).length > 0) result.data = data;
    return result;
  }
  return fromExitStatus(exitCode, op, arch);
}

function fromExitStatus(exitCode: number | null, op: string, arch: string): ProbeResult {
  const base = { op, source: 'exit-status' as const, exitCode };
  if (exitCode === null || !Number.isInteger(exitCode) || exitCode < 0) return { ...base, ok: false, outcome: 'unknown' };
  if (exitCode === 0) return { ...base, ok: true, outcome: 'succeeded' };
  if (exitCode === 126 || exitCode === 127) return { ...base, ok: false, outcome: 'not-run' };
  if (exitCode <= PROBE_ERRNO_MAX) {
    const name = errnoName(exitCode, arch);
    return { ...base, ok: false, outcome: 'failed', errno: exitCode, ...(name ? { errnoName: name } : {}) };
  }
  if (exitCode === PROBE_EXIT_USAGE) return { ...base, ok: false, outcome: 'usage' };
  if (exitCode === PROBE_EXIT_ERRNO_OUT_OF_RANGE) return { ...base, ok: false, outcome: 'failed' };
  if (exitCode > 128 && exitCode <= 128 + 64) return { ...base, ok: false, outcome: 'killed', signal: exitCode - 128 };
  return { ...base, ok: false, outcome: 'unknown' };
}

// ---------------------------------------------------------------------------------------------
// I/O

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(error, { stdout, stderr }));
      else resolve({ stdout, stderr });
    });
  });
}

async function isUsableFile(path: string): Promise<boolean> {
  try {
    const s = await stat(path);
    return s.isFile() && s.size > 0;
  } catch {
    return false;
  }
}

/**
 * Build the probe for `opts.arch` (default: the host's) and return the path of the binary.
 * The binary is cached by content hash and reused; a new one is written to a temporary name and
 * renamed into place, so concurrent builds never expose a half-written file.
 */
export async function buildProbe(opts: BuildProbeOptions = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const arch = opts.arch ?? process.arch;
  if (!PROBE_ARCHES[arch]) throw new Error(unsupportedArch(arch));
  const cc = opts.cc ?? defaultCompiler(arch);
  const sourcePath = opts.sourcePath ?? PROBE_SOURCE_PATH;
  const source = await readFile(sourcePath);
  const dir = opts.cacheDir ?? probeCacheDir(env, homedir());
  const target = join(dir, probeFileName(probeCacheKey(source, arch), arch));
  if (await isUsableFile(target)) return target;

  await mkdir(dir, { recursive: true });
  const tmp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await run(cc, [...PROBE_CFLAGS, '-o', tmp, sourcePath], env);
  } catch (err) {
    await rm(tmp, { force: true });
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') {
      const pkg = arch === process.arch ? 'gcc' : `gcc-${PROBE_ARCHES[arch]}`;
      throw new Error(
        `hardspec: cannot build the verification probe: C compiler '${cc}' not found on PATH. ` +
          `Install it (Debian/Ubuntu: apt-get install ${pkg}).`,
        { cause: err },
      );
    }
    throw new Error(`hardspec: building the verification probe with '${cc}' failed:\n${(e.stderr ?? '').trim() || e.message}`, { cause: err });
  }
  try {
    // World-executable: the probe runs as whatever user the container uses.
    await chmod(tmp, 0o755);
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return target;
}
