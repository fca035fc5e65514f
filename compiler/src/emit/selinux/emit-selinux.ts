/**
 * Emit phase, SELinux: one refpolicy module per service that names an SELinux type. Pure: model in,
 * text out, no I/O.
 *
 * The module declares the service's process type as a container domain the way refpolicy's
 * container module declares container_t, so the service keeps everything a default Docker
 * container may do under SELinux and gains only the rules its spec adds:
 *
 * - `container_domain_template(<module>)` declares `<module>_t` with the container_domain
 *   attribute (the container module's common rules: manage container_file_t, read-only
 *   container_ro_file_t, proc/sysctl reads, IPC with itself), MCS-constrained, in system_r;
 * - the attributes container_t carries: container_net_domain (sockets, bind/connect any port),
 *   container_system_domain and container_user_domain (the system and rootless engines may start
 *   it, and it may use their fds and pipes);
 * - container_t's own rules (CONTAINER_T_RULES, CONTAINER_T_INTERFACES), copied from refpolicy's
 *   container.te: without `container_file_t:file entrypoint` the engine could not start the
 *   container's programs in the domain at all — except its capability rule: container_t's own
 *   rules grant ten capabilities (sys_admin, sys_ptrace among them); this domain gets only those
 *   its spec adds back (capabilities.add). The container_domain attributes still grant a few
 *   (setuid, kill, net_raw …) that a module cannot take away; Docker drops them from the process.
 *
 * Then the spec's allow rules, sorted and merged. Every name that reaches the policy text is checked
 * again here (defence in depth behind the schema and the model): identifiers against a strict
 * pattern and m4's built-in macros, classes and permissions against SELINUX_CLASSES. The .te is
 * run through m4, so an unchecked name could be a macro that rewrites the policy.
 */
import type { ServiceModel, SelinuxRule } from '../../model/types.ts';
import { generatedHeader, type Artifact } from '../artifact.ts';
import classesJson from './classes.json' with { type: 'json' };

/**
 * Every object class of the policy hardspec links against, with its permissions (sorted), from
 * classes.json (regenerate with `npx tsx scripts/gen-selinux-classes.ts`).
 */
export const SELINUX_CLASSES: ReadonlyMap<string, readonly string[]> = new Map(
  Object.entries(classesJson.classes).map(([name, perms]) => [name, Object.freeze([...perms])] as const),
);

/** Where the class list came from (package and policy version), for reports. */
export const SELINUX_CLASSES_SOURCE: string = classesJson.source;

const IDENTIFIER = /^[a-z][a-z0-9_]*$/;
const TYPE = /^[a-z][a-z0-9_]*_t$/;

/**
 * GNU m4's built-in macro names. Some are recognised even without arguments (`dnl` swallows the rest
 * of a line, `m4exit` ends the input), so none of them may appear as a bare word in the .te.
 * refpolicy's own macros never end in `_t`, and no class or permission name is a macro.
 */
const M4_BUILTINS: ReadonlySet<string> = new Set([
  '__file__', '__gnu__', '__line__', '__os2__', '__program__', '__unix__', '__windows__', 'builtin',
  'changecom', 'changequote', 'changeword', 'debugfile', 'debugmode', 'decr', 'define', 'defn',
  'divert', 'divnum', 'dnl', 'dumpdef', 'errprint', 'esyscmd', 'eval', 'format', 'ifdef', 'ifelse',
  'include', 'incr', 'index', 'indir', 'len', 'm4exit', 'm4wrap', 'maketemp', 'mkstemp', 'os2',
  'patsubst', 'popdef', 'pushdef', 'regexp', 'shift', 'sinclude', 'substr', 'syscmd', 'sysval',
  'traceoff', 'traceon', 'translit', 'undefine', 'undivert', 'unix', 'windows',
]);

/** Module names hardspec must never emit: refpolicy's container module is linked beside ours. */
const RESERVED_MODULES: ReadonlySet<string> = new Set(['container']);

/** Attributes that make a container domain equivalent to container_t (see container.te). */
const CONTAINER_T_ATTRIBUTES = ['container_net_domain', 'container_system_domain', 'container_user_domain'] as const;

interface FixedRule {
  readonly kind: 'allow' | 'dontaudit';
  readonly target: string;
  readonly class: string;
  readonly permissions: readonly string[];
}

/** container_t's own access vector rules from refpolicy's container.te ("Container local policy"). */
const CONTAINER_T_RULES: readonly FixedRule[] = [
  { kind: 'dontaudit', target: 'self', class: 'capability2', permissions: ['block_suspend'] },
  { kind: 'allow', target: 'self', class: 'process', permissions: ['setrlimit'] },
  { kind: 'allow', target: 'container_file_t', class: 'file', permissions: ['entrypoint'] },
  { kind: 'allow', target: 'container_file_t', class: 'filesystem', permissions: ['getattr'] },
];

/** container_t's interface calls from the same section, in container.te's order. */
const CONTAINER_T_INTERFACES = [
  'kernel_read_network_state',
  'kernel_read_irq_sysctls',
  'dev_getattr_mtrr_dev',
  'dev_read_rand',
  'dev_read_sysfs',
  'dev_read_urand',
  'files_read_kernel_modules',
  'fs_mount_cgroup',
  'fs_rw_cgroup_files',
  'kernel_read_vm_overcommit_sysctl',
  'auth_use_nsswitch',
  'logging_send_audit_msgs',
  'userdom_use_user_ptys',
] as const;

const SECTION = '########################################\n#\n';

/** selinux/<module>.te, .fc and .if for a service with an SELinux type; [] for one without. */
export function emitSelinuxModule(stack: string, service: ServiceModel): Artifact[] {
  const selinux = service.selinux;
  if (selinux === undefined) return [];
  const where = `service "${service.name}" (${service.source.path})`;
  const { type, module } = selinux;
  checkIdentifier(module, 'SELinux module name', where);
  if (!TYPE.test(type) || type !== `${module}_t`) {
    throw new Error(`${where}: SELinux type ${JSON.stringify(type)} must be the module name followed by "_t" (module ${JSON.stringify(module)})`);
  }
  if (RESERVED_MODULES.has(module)) throw new Error(`${where}: the SELinux module name "${module}" is reserved`);

  const header = checkedHeader(stack, service);
  const rules = mergeRules(selinux.allow, where);
  const te = renderTe(header, module, type, rules, service.capAdd ?? []);
  const fc = `${header}\n# ${type} labels no files of its own: the engine labels the files of the container\n# container_file_t (volumes too, with :z or :Z), which the domain uses as container_t does.\n`;
  const iface = `${header}\n## <summary>Container domain ${type}, generated by hardspec; it offers no interfaces.</summary>\n`;
  return [
    { path: `selinux/${module}.te`, content: te, sources: [service.source] },
    { path: `selinux/${module}.fc`, content: fc, sources: [service.source] },
    { path: `selinux/${module}.if`, content: iface, sources: [service.source] },
  ];
}

function checkIdentifier(name: string, what: string, where: string): void {
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw new Error(`${where}: ${what} ${JSON.stringify(name)} is not a policy identifier (${IDENTIFIER.source})`);
  }
  if (M4_BUILTINS.has(name)) throw new Error(`${where}: ${what} "${name}" is an m4 macro name and would rewrite the policy text`);
}

/** The generated header, refused if a stack or file name could end the comment and start policy text. */
function checkedHeader(stack: string, service: ServiceModel): string {
  const header = generatedHeader('#', stack, [service.source]);
  const body = header.endsWith('\n') ? header.slice(0, -1) : header;
  if (!body.startsWith('# ') || /[\u0000-\u001f\u007f\u2028\u2029]/.test(body)) {
    throw new Error(`service "${service.name}": the stack or spec file name contains a line break or control character`);
  }
  return `${body}\n`;
}

interface Rule { readonly target: string; readonly class: string; readonly permissions: readonly string[] }

/** Validates every name, then merges rules for the same target:class and sorts everything. */
function mergeRules(allow: readonly SelinuxRule[], where: string): Rule[] {
  const merged = new Map<string, { target: string; class: string; permissions: Set<string> }>();
  for (const rule of allow) {
    const target = rule.target;
    if (target !== 'self') {
      checkIdentifier(target, 'SELinux target type', where);
      if (!TYPE.test(target)) throw new Error(`${where}: SELinux target ${JSON.stringify(target)} is neither "self" nor a type ending in "_t"`);
    }
    checkClass(rule.class, rule.permissions, where);
    const key = `${target}:${rule.class}`;
    const entry = merged.get(key) ?? { target, class: rule.class, permissions: new Set<string>() };
    for (const p of rule.permissions) entry.permissions.add(p);
    merged.set(key, entry);
  }
  return [...merged.values()]
    .filter((r) => r.permissions.size > 0)
    .map((r) => ({ target: r.target, class: r.class, permissions: [...r.permissions].sort(byCodeUnit) }))
    .sort((a, b) => byCodeUnit(a.target, b.target) || byCodeUnit(a.class, b.class));
}

function checkClass(cls: string, permissions: readonly string[], where: string): void {
  checkIdentifier(cls, 'SELinux class', where);
  const known = SELINUX_CLASSES.get(cls);
  if (known === undefined) throw new Error(`${where}: unknown SELinux class "${cls}"`);
  if (!Array.isArray(permissions)) throw new Error(`${where}: permissions of class "${cls}" are not a list`);
  for (const p of permissions) {
    checkIdentifier(p, `permission of class "${cls}"`, where);
    if (!known.includes(p)) throw new Error(`${where}: class "${cls}" has no permission "${p}"`);
  }
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function renderRule(kind: 'allow' | 'dontaudit', type: string, rule: Rule): string {
  return `${kind} ${type} ${rule.target}:${rule.class} { ${rule.permissions.join(' ')} };`;
}

/** gen_require for everything the literal rules name that this module does not declare. */
function renderRequire(type: string, rules: readonly Rule[]): string {
  const types = new Set<string>();
  const classes = new Map<string, Set<string>>();
  for (const r of rules) {
    if (r.target !== 'self' && r.target !== type) types.add(r.target);
    const perms = classes.get(r.class) ?? new Set<string>();
    for (const p of r.permissions) perms.add(p);
    classes.set(r.class, perms);
  }
  const lines = [
    ...[...CONTAINER_T_ATTRIBUTES].sort(byCodeUnit).map((a) => `attribute ${a};`),
    ...[...types].sort(byCodeUnit).map((t) => `type ${t};`),
    ...[...classes.keys()].sort(byCodeUnit).map((c) => `class ${c} { ${[...classes.get(c)!].sort(byCodeUnit).join(' ')} };`),
  ];
  return `gen_require(\`\n${lines.map((l) => `\t${l}`).join('\n')}\n')`;
}

/**
 * The capabilities the spec adds back, as SELinux sees them: numbers 0–31 are in class
 * `capability`, 32 and up (MAC_OVERRIDE …) in `capability2`.
 */
export function capabilityRules(capAdd: readonly string[]): FixedRule[] {
  const CAPABILITY2 = new Set(['MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF', 'CHECKPOINT_RESTORE']);
  const rules: FixedRule[] = [];
  for (const [cls, pick] of [['capability', (c: string) => !CAPABILITY2.has(c)], ['capability2', (c: string) => CAPABILITY2.has(c)]] as const) {
    const perms = capAdd.filter(pick).map((c) => c.toLowerCase()).sort(byCodeUnit);
    if (perms.length > 0) rules.push({ kind: 'allow', target: 'self', class: cls, permissions: perms });
  }
  return rules;
}

function renderTe(header: string, module: string, type: string, specRules: readonly Rule[], capAdd: readonly string[]): string {
  const own = [...capabilityRules(capAdd), ...CONTAINER_T_RULES];
  for (const r of own) checkClass(r.class, r.permissions, 'container_t rules');
  const fixed = own.map((r) => renderRule(r.kind, type, r));
  const spec = specRules.map((r) => renderRule('allow', type, r));
  const parts = [
    header,
    `policy_module(${module}, 1.0.0)`,
    '',
    `${SECTION}# Declarations: ${type} is a container domain like container_t\n#`,
    '',
    renderRequire(type, [...own, ...specRules]),
    '',
    `container_domain_template(${module})`,
    `typeattribute ${type} ${CONTAINER_T_ATTRIBUTES.join(', ')};`,
    '',
    `${SECTION}# The rules of container_t itself (refpolicy container.te, "Container local policy"),\n# with capabilities narrowed to those the spec adds back\n#`,
    '',
    ...fixed,
    '',
    ...CONTAINER_T_INTERFACES.map((i) => `${i}(${type})`),
    '',
    'optional_policy(`',
    `\trpm_read_db(${type})`,
    "')",
    '',
    `${SECTION}# Rules from the spec\n#`,
    '',
    ...(spec.length > 0 ? spec : ['# The spec adds no rules.']),
  ];
  return `${parts.join('\n')}\n`;
}
