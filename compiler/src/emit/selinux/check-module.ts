/**
 * Checks emitted SELinux modules against the real policy without an SELinux kernel: compile each
 * module with refpolicy's devel Makefile, link it with refpolicy's container module into the
 * `default` policy store (`semodule -n`: build the policy, never load it), optionally query the
 * linked policy, then remove the modules again so the store is left as it was.
 *
 * This is I/O, not an emitter: used by tests and by `hardspec compile --check-selinux`.
 *
 * Safety of the shared store:
 * - Every run holds an exclusive flock(1) on LOCK_FILE from before the first change until after
 *   the last, so concurrent test runs (and processes) serialise instead of interleaving.
 * - Modules are installed at a priority reserved for this check (CHECK_PRIORITY), so removing
 *   them (`-X <priority> -r`) can only take off what a check put there, never a module the
 *   system installed. A run that crashed between install and removal leaves modules at that priority; the
 *   next run removes them first (and says so in its log).
 * - A module whose name the store already holds is refused: it would shadow the real one.
 */
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEVEL_MAKEFILE = '/usr/share/selinux/devel/Makefile';
/** The store the checks link into (Debian's selinux-policy-default). */
export const STORE = 'default';
/** semodule priority reserved for hardspec's checks (400 is semodule's default for local modules). */
export const CHECK_PRIORITY = 850;
const MODULE_NAME = /^[a-z][a-z0-9_]*$/;
const CONTAINER_SCRIPT = fileURLToPath(new URL('../../../../scripts/selinux-container-module.sh', import.meta.url));
const PP_TO_CIL = '/usr/libexec/selinux/hll/pp';

export interface LinkResult {
  /** True when every module compiled, the set linked, and the store was restored. */
  readonly ok: boolean;
  /** What happened, step by step, with the tools' output; failures are explained in plain words. */
  readonly log: string;
  /** The built module packages (absolute paths inside `ppDir`). */
  readonly pp: string[];
}

export interface LinkOptions {
  /** Runs while the modules are linked, with the linked policy file (e.g. for sesearchAllow). */
  readonly whileLinked?: (policyFile: string) => Promise<void>;
  /** Where the built .pp files are kept; default: a new temporary folder the caller owns. */
  readonly ppDir?: string;
  /** A prebuilt container.pp; default: built or reused by scripts/selinux-container-module.sh. */
  readonly containerPp?: string;
  /** Cache folder for container.pp (passed to the script). */
  readonly cacheDir?: string;
  /** Give up waiting for another run's lock after this many seconds (default 300). */
  readonly lockTimeoutSeconds?: number;
}

interface RunResult { readonly code: number; readonly stdout: string; readonly stderr: string; readonly ms: number }

/** Runs a program without a shell; never throws for a non-zero exit. */
function run(file: string, args: readonly string[], cwd?: string): Promise<RunResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 127;
      const extra = error !== null && typeof error.code !== 'number' ? `${error.message}\n` : '';
      resolve({ code, stdout: String(stdout), stderr: String(stderr) + extra, ms: Date.now() - started });
    });
  });
}

function onPath(command: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

/** The tools this check needs, with the Debian package that provides each. */
const TOOLS: readonly (readonly [string, string])[] = [
  ['make', 'make'],
  ['m4', 'm4'],
  ['checkmodule', 'checkpolicy'],
  ['semodule_package', 'semodule-utils'],
  ['semodule', 'policycoreutils'],
  ['sesearch', 'setools'],
  ['flock', 'util-linux'],
];

/**
 * Why the check cannot run here, or undefined when it can. Synchronous so that tests can use it in
 * `skipIf` at collection time.
 */
export function selinuxToolchainMissing(): string | undefined {
  const missing = TOOLS.filter(([cmd]) => !onPath(cmd)).map(([cmd, pkg]) => `${cmd} (package ${pkg})`);
  if (!existsSync(DEVEL_MAKEFILE)) missing.push(`${DEVEL_MAKEFILE} (package selinux-policy-dev)`);
  if (missing.length > 0) return `missing ${missing.join(', ')}; run scripts/install-selinux-tools.sh`;
  if (findPolicyFile() === undefined) return `no /etc/selinux/${STORE}/policy/policy.* (package selinux-policy-default)`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'linking into the policy store needs root';
  return undefined;
}

/** The installed binary policy of `store` with the highest version, e.g. /etc/selinux/default/policy/policy.33. */
export function findPolicyFile(store: string = STORE): string | undefined {
  const dir = `/etc/selinux/${store}/policy`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  const versions = names
    .map((n) => /^policy\.(\d+)$/.exec(n)?.[1])
    .filter((v): v is string => v !== undefined)
    .map(Number)
    .sort((a, b) => b - a);
  return versions.length === 0 ? undefined : `${dir}/policy.${versions[0]}`;
}

// ── The store lock ────────────────────────────────────────────────────────────────────────────

function lockFile(): string {
  for (const dir of ['/run/lock', '/var/lock']) {
    if (existsSync(dir)) return `${dir}/hardspec-selinux-store.lock`;
  }
  return join(tmpdir(), 'hardspec-selinux-store.lock');
}

/**
 * Takes an exclusive flock(1) on the lock file, held by a child process that lives until we close
 * its stdin. The kernel drops the lock when that child dies, so a crashed run never leaves a stale
 * lock behind.
 */
function acquireStoreLock(timeoutSeconds: number): Promise<{ readonly path: string; release: () => Promise<void> }> {
  const path = lockFile();
  return new Promise((resolve, reject) => {
    const child = spawn('flock', ['--exclusive', '--timeout', String(timeoutSeconds), path, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let held = false;
    const exited = new Promise<void>((done) => child.once('close', () => done()));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (!held && out.includes('locked\n')) {
        held = true;
        resolve({
          path,
          release: async () => {
            child.stdin.end();
            await exited;
          },
        });
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', (e) => reject(new Error(`cannot run flock for ${path}: ${e.message}`)));
    child.once('close', (code) => {
      if (!held) reject(new Error(`could not lock ${path} within ${timeoutSeconds}s (flock exit ${code}): ${err.trim()}`));
    });
  });
}

/**
 * Runs `fn` holding the store lock, e.g. to look at the store while no check has modules linked.
 * Not re-entrant: do not call buildAndLinkModules inside it.
 */
export async function withStoreLock<T>(fn: () => Promise<T>, timeoutSeconds = 300): Promise<T> {
  const lock = await acquireStoreLock(timeoutSeconds);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

// ── The store ─────────────────────────────────────────────────────────────────────────────────

interface StoreModule { readonly priority: number; readonly name: string }

function storeKey(modules: readonly StoreModule[]): string {
  return modules.map((m) => `${m.priority} ${m.name}`).sort().join('\n');
}

async function listStore(): Promise<StoreModule[]> {
  const r = await run('semodule', ['-n', '-s', STORE, '--list-modules=full']);
  if (r.code !== 0) throw new Error(`semodule --list-modules=full failed: ${r.stderr.trim()}`);
  const modules: StoreModule[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*(\d+)\s+(\S+)/.exec(line);
    if (m !== null) modules.push({ priority: Number(m[1]), name: m[2]! });
  }
  return modules;
}

/** `semodule -l` of the store: the enabled modules at their highest priority, one name a line. */
export async function listStoreModules(): Promise<string> {
  const r = await run('semodule', ['-n', '-s', STORE, '-l']);
  if (r.code !== 0) throw new Error(`semodule -l failed: ${r.stderr.trim()}`);
  return r.stdout;
}

async function removeAtCheckPriority(names: readonly string[], log: string[]): Promise<boolean> {
  if (names.length === 0) return true;
  const r = await run('semodule', ['-n', '-s', STORE, '-X', String(CHECK_PRIORITY), '-r', ...names]);
  log.push(`$ semodule -n -s ${STORE} -X ${CHECK_PRIORITY} -r ${names.join(' ')}  (exit ${r.code}, ${r.ms} ms)`, tidy(r.stderr + r.stdout));
  return r.code === 0;
}

/** Drops libsemanage's harmless noise (users of other distributions' policies) from tool output. */
function tidy(text: string): string {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^libsemanage\.add_user: user \S+ not in password file$/.test(l))
    .join('\n');
}

/**
 * Turns a link failure into words. libsepol names only a CIL line ("Failed to resolve
 * typeattributeset statement at …/modules/850/web/cil:6"); convert that module to CIL and show the
 * statement, and say which required type is missing when that is the cause.
 */
async function explainLinkFailure(output: string, ppByModule: ReadonlyMap<string, string>): Promise<string> {
  const notes: string[] = [];
  for (const m of output.matchAll(/Re-declaration of (type|typeattribute|role) (\S+)\n(?:.*\n)*?Bad \S+ declaration at \S*\/modules\/\d+\/([a-z0-9_]+)\/cil:\d+/g)) {
    notes.push(`module ${m[3]} declares the ${m[1]} "${m[2]}", which the policy or another linked module already declares. Give the service an SELinux type of its own.`);
  }
  const seen = new Set<string>();
  for (const m of output.matchAll(/Failed to resolve (\S+) statement at \S*\/modules\/\d+\/([a-z0-9_]+)\/cil:(\d+)/g)) {
    const [, statement, module, lineText] = m;
    const key = `${module}:${lineText}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const pp = ppByModule.get(module!);
    let cil: string | undefined;
    if (pp !== undefined && existsSync(PP_TO_CIL)) {
      const r = await run(PP_TO_CIL, [pp]);
      if (r.code === 0) cil = r.stdout.split('\n')[Number(lineText) - 1]?.trim();
    }
    const required = cil === undefined ? undefined : /^\(typeattributeset cil_gen_require ([a-z0-9_]+)\)$/.exec(cil)?.[1];
    if (required !== undefined) {
      notes.push(
        `module ${module} requires the type or attribute "${required}", which neither the installed policy nor the modules linked with it declare. ` +
          'Use a type the policy defines (seinfo -t lists them) or link the module that declares it.',
      );
    } else {
      notes.push(`module ${module} could not be linked: the ${statement} statement ${cil === undefined ? `at line ${lineText} of its CIL` : cil} refers to something the policy does not define.`);
    }
  }
  return notes.join('\n');
}

async function containerPackage(options: LinkOptions, log: string[]): Promise<string | undefined> {
  if (options.containerPp !== undefined) return options.containerPp;
  const args = options.cacheDir === undefined ? [] : [options.cacheDir];
  const r = await run(CONTAINER_SCRIPT, args);
  log.push(`$ ${[CONTAINER_SCRIPT, ...args].join(' ')}  (exit ${r.code}, ${r.ms} ms)`, tidy(r.stderr));
  if (r.code !== 0) return undefined;
  return r.stdout.trim().split('\n').at(-1);
}

/**
 * Compiles `<dir>/<module>.te` (+ .fc, .if) for each module, links them with refpolicy's container
 * module into the `default` store, runs `whileLinked`, and always removes them again.
 */
export async function buildAndLinkModules(dir: string, modules: string[], options: LinkOptions = {}): Promise<LinkResult> {
  const log: string[] = [];
  const done = (ok: boolean, pp: string[]): LinkResult => ({ ok, log: log.filter((l) => l !== '').join('\n'), pp });

  const missing = selinuxToolchainMissing();
  if (missing !== undefined) {
    log.push(`cannot check SELinux modules here: ${missing}`);
    return done(false, []);
  }
  const names = [...new Set(modules)].sort();
  for (const name of names) {
    if (!MODULE_NAME.test(name)) throw new Error(`not a module name: ${JSON.stringify(name)}`);
    if (name === 'container') throw new Error('the module name "container" belongs to refpolicy\'s container module');
  }
  if (names.length === 0) {
    log.push('no modules to check');
    return done(true, []);
  }

  // 1. Compile, each module on its own so a failure names its module.
  const build = await mkdtemp(join(tmpdir(), 'hardspec-selinux-build-'));
  const ppByModule = new Map<string, string>();
  try {
    for (const name of names) {
      for (const ext of ['te', 'fc', 'if']) {
        const from = join(dir, `${name}.${ext}`);
        if (existsSync(from)) await copyFile(from, join(build, `${name}.${ext}`));
        else if (ext === 'te') {
          log.push(`${from} does not exist`);
          return done(false, []);
        }
      }
    }
    for (const name of names) {
      const r = await run('make', ['-s', '-f', DEVEL_MAKEFILE, `${name}.pp`], build);
      log.push(`$ make -f ${DEVEL_MAKEFILE} ${name}.pp  (exit ${r.code}, ${r.ms} ms)`, tidy(r.stdout + r.stderr));
      if (r.code !== 0) {
        log.push(`module ${name} does not compile (see the m4/checkmodule output above).`);
        return done(false, []);
      }
    }
    // Only now, so a failed compile leaves no folder behind.
    const ppDir = options.ppDir ?? (await mkdtemp(join(tmpdir(), 'hardspec-selinux-pp-')));
    await mkdir(ppDir, { recursive: true });
    for (const name of names) {
      const pp = join(ppDir, `${name}.pp`);
      await copyFile(join(build, `${name}.pp`), pp);
      ppByModule.set(name, pp);
    }
  } finally {
    await rm(build, { recursive: true, force: true });
  }
  const pp = names.map((n) => ppByModule.get(n)!);

  const container = await containerPackage(options, log);
  if (container === undefined) {
    log.push('could not build refpolicy\'s container module (see above).');
    return done(false, pp);
  }

  // 2. Link, query, unlink — all under the lock.
  const lock = await acquireStoreLock(options.lockTimeoutSeconds ?? 300);
  log.push(`locked ${lock.path}`);
  let ok = false;
  let callbackError: unknown;
  let before: StoreModule[] | undefined;
  try {
    const stale = (await listStore()).filter((m) => m.priority === CHECK_PRIORITY).map((m) => m.name);
    if (stale.length > 0) {
      log.push(`removing modules left at priority ${CHECK_PRIORITY} by an earlier run that did not finish: ${stale.join(', ')}`);
      if (!(await removeAtCheckPriority(stale, log))) throw new Error(`could not remove stale modules ${stale.join(', ')} from the store`);
    }
    before = await listStore();
    const clash = names.filter((n) => before!.some((m) => m.name === n));
    if (clash.length > 0) {
      log.push(`the store already has a module named ${clash.join(', ')}; linking ours would shadow it. Choose another SELinux type for the service.`);
      return done(false, pp);
    }
    // A system with container-selinux installed already has the container module: use that one.
    const withContainer = before.some((m) => m.name === 'container') ? [] : ['container'];
    const packages = [...(withContainer.length > 0 ? [container] : []), ...pp];
    const r = await run('semodule', ['-n', '-s', STORE, '-X', String(CHECK_PRIORITY), ...packages.flatMap((p) => ['-i', p])]);
    log.push(`$ semodule -n -s ${STORE} -X ${CHECK_PRIORITY} -i ${packages.join(' -i ')}  (exit ${r.code}, ${r.ms} ms)`, tidy(r.stderr + r.stdout));
    if (r.code !== 0) {
      const why = await explainLinkFailure(r.stderr + r.stdout, ppByModule);
      log.push(why === '' ? 'linking failed (see the semodule output above).' : why);
    } else {
      ok = true;
      const policy = findPolicyFile();
      if (options.whileLinked !== undefined && policy !== undefined) {
        try {
          await options.whileLinked(policy);
        } catch (e) {
          callbackError = e;
        }
      }
    }
  } finally {
    // Whatever happened above: take off everything at the check priority. Under the lock, and with
    // stale modules removed first, all of it is this run's.
    try {
      const ours = (await listStore()).filter((m) => m.priority === CHECK_PRIORITY).map((m) => m.name);
      if (!(await removeAtCheckPriority(ours, log))) {
        ok = false;
        log.push(`could not remove ${ours.join(', ')} from the ${STORE} store; remove them with: semodule -n -s ${STORE} -X ${CHECK_PRIORITY} -r ${ours.join(' ')}`);
      }
      if (before !== undefined && storeKey(await listStore()) !== storeKey(before)) {
        ok = false;
        log.push(`the ${STORE} store differs from before the check (compare semodule -n -s ${STORE} --list-modules=full).`);
      }
    } finally {
      await lock.release();
    }
  }
  if (callbackError !== undefined) throw callbackError;
  return done(ok, pp);
}

// ── Queries ───────────────────────────────────────────────────────────────────────────────────

export interface AllowRule {
  readonly source: string;
  readonly target: string;
  readonly class: string;
  /** Sorted. */
  readonly permissions: readonly string[];
  /** The boolean expression guarding a conditional rule, e.g. "container_use_nfs", and its branch. */
  readonly conditional?: { readonly expression: string; readonly branch: boolean };
  /** The line as sesearch printed it. */
  readonly text: string;
}

export interface SesearchOptions {
  /** Policy file; default: the installed `default` policy with the highest version. */
  readonly policy?: string;
  /**
   * Match source and target as written, not through the attributes they carry (sesearch -ds -dt).
   * Default true: "is this rule in the policy" rather than "is this access allowed somehow".
   */
  readonly direct?: boolean;
}

const ALLOW_LINE = /^allow (\S+) (\S+):(\S+) (?:\{ ([^}]*) \}|(\S+));(?: \[ (.*) \]:(True|False))?$/;

/** The allow rules for source → target:class in the linked policy (run it while the modules are linked). */
export async function sesearchAllow(source: string, target: string, cls: string, options: SesearchOptions = {}): Promise<AllowRule[]> {
  for (const name of [source, target, cls]) {
    if (!MODULE_NAME.test(name)) throw new Error(`not a policy identifier: ${JSON.stringify(name)}`);
  }
  const policy = options.policy ?? findPolicyFile();
  if (policy === undefined) throw new Error(`no policy file under /etc/selinux/${STORE}/policy`);
  const direct = options.direct ?? true;
  const args = ['-A', '-s', source, '-t', target, '-c', cls, ...(direct ? ['-ds', '-dt'] : []), policy];
  const r = await run('sesearch', args);
  if (r.code !== 0) throw new Error(`sesearch ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
  const rules: AllowRule[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = ALLOW_LINE.exec(line.trim());
    if (m === null) continue;
    const permissions = (m[4] ?? m[5] ?? '').split(' ').filter((p) => p !== '').sort();
    rules.push({
      source: m[1]!,
      target: m[2]!,
      class: m[3]!,
      permissions,
      ...(m[6] === undefined ? {} : { conditional: { expression: m[6], branch: m[7] === 'True' } }),
      text: line.trim(),
    });
  }
  return rules;
}
