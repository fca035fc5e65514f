/**
 * The catalogue of every diagnostic hardspec can report. Codes are permanent: a code is never
 * reused for another meaning. They are grouped by the phase that reports them:
 *
 *   HS1xxx  read and parse   (files, encodings, frontmatter, YAML)
 *   HS2xxx  schema           (shape of the frontmatter, checked by ajv against spec.schema.json)
 *   HS3xxx  semantics        (names, references and safety rules across specs)
 *   HS4xxx  emit             (generated artifacts failing their own schema: a hardspec bug)
 *   HS5xxx  verify           (running the stack on a Docker engine)
 *
 * The reference page on the site and docs/diagnostics.md are generated from this table.
 */
export type Severity = 'error' | 'warning';

export interface CatalogueEntry {
  readonly code: string;
  readonly name: string;
  readonly severity: Severity;
  /** One paragraph: why this is a problem. */
  readonly explanation: string;
  /** A short spec fragment that triggers it. */
  readonly example: string;
}

const entries = [
  // ── HS1xxx: read and parse ─────────────────────────────────────────────────────────────────
  ['HS1001', 'file-unreadable', 'error', 'The spec file could not be read (permissions, a dangling link, or it vanished while reading).', '(a spec that is a dangling symbolic link)'],
  ['HS1002', 'file-too-large', 'error', 'Spec files are limited to 256 KiB. A hardening spec is a page of facts and prose; anything larger is almost certainly the wrong file, and the limit keeps a hostile file from exhausting memory.', '(a 300 KiB spec)'],
  ['HS1003', 'not-text', 'error', 'The file is not UTF-8 text (it holds NUL bytes or invalid UTF-8 sequences). Specs must be UTF-8; a BOM and CRLF line endings are accepted.', '(binary garbage saved as web.md)'],
  ['HS1004', 'empty-file', 'error', 'The spec file is empty. Every `.md` directly inside a stack folder is a spec and needs frontmatter.', '(a zero-byte db.md)'],
  ['HS1005', 'missing-frontmatter', 'error', 'The file does not start with a `---` line, so it has no YAML frontmatter. The frontmatter holds the facts of the spec; the Markdown after it holds the reasoning.', '# Web server\n(no --- block)'],
  ['HS1006', 'unclosed-frontmatter', 'error', 'The frontmatter opened with `---` is never closed by a second `---` line.', '---\nhardspec: 1\nkind: service\n# (no closing ---)'],
  ['HS1007', 'yaml-syntax', 'error', 'The frontmatter is not valid YAML.', '---\nuser: "33:33\n---'],
  ['HS1008', 'frontmatter-not-mapping', 'error', 'The frontmatter must be a YAML mapping (key: value pairs), not a list or a scalar.', '---\n- web\n---'],
  ['HS1009', 'duplicate-key', 'error', 'A key appears twice in the same mapping. YAML parsers disagree on which one wins, so hardspec refuses the file.', '---\nuser: "33:33"\nuser: "0:0"\n---'],
  ['HS1010', 'unsupported-yaml', 'error', 'The frontmatter uses a YAML feature hardspec does not accept in specs (custom tags, aliases, merge keys or several documents). Specs must be plain data so every reader sees the same values.', '---\nuser: !!binary MzM=\n---'],
  ['HS1011', 'invalid-file-name', 'error', 'Spec file and stack folder names become service, network and file names in generated artifacts. They must be lowercase letters, digits and dashes, starting with a letter, at most 63 characters.', 'specs/guestbook/Web Server.md'],
  ['HS1012', 'no-stack-file', 'error', 'A stack folder needs a `stack.md` with the networks, volumes and stack-wide interactions.', 'specs/guestbook/ without stack.md'],
  ['HS1013', 'no-specs', 'error', 'No stack was found: the folder holds neither a `stack.md` nor sub-folders with one.', 'hardspec compile empty-folder/'],
  ['HS1014', 'unsafe-path', 'error', 'A file or folder name contains characters that would be unsafe in generated shell, YAML or policy output (control characters such as a newline, `$`, backquotes, quotes, `;`, `|`, `&`).', 'specs/guestbook/$(reboot).md'],

  // ── HS2xxx: schema ─────────────────────────────────────────────────────────────────────────
  ['HS2001', 'unknown-key', 'error', 'The key is not part of the spec format. Misspelled keys would otherwise be silently ignored and a hardening measure lost.', 'read_onyl: true'],
  ['HS2002', 'missing-key', 'error', 'A required key is missing.', '---\nhardspec: 1\nkind: service\n# (no image, no user)\n---'],
  ['HS2003', 'wrong-type', 'error', 'The value has the wrong type (for example a string where a list is expected).', 'networks: frontend   # must be a list'],
  ['HS2004', 'invalid-value', 'error', 'The value has the right type but is not allowed (not one of the listed choices, out of range, or not in the expected form).', 'restart: sometimes'],
  ['HS2005', 'unsupported-version', 'error', 'The `hardspec:` format version is missing or not one this compiler understands. The current format version is 1.', 'hardspec: 7'],
  ['HS2006', 'wrong-kind', 'error', '`stack.md` must have `kind: stack`; every other spec must have `kind: service`.', '(stack.md with kind: service)'],

  // ── HS3xxx: semantics ──────────────────────────────────────────────────────────────────────
  ['HS3001', 'unknown-capability', 'error', 'Not a Linux capability name. Names are written without the `CAP_` prefix, in capitals.', 'capabilities:\n  add: [NET_BIN]'],
  ['HS3002', 'unknown-syscall', 'error', 'Not a system call of x86_64 or aarch64 (checked against the kernel headers of both architectures).', 'seccomp:\n  allow: [opne]'],
  ['HS3003', 'duplicate-service', 'error', 'Two spec files in the same stack declare the same service name.', '(web.md and frontend.md both with service: web)'],
  ['HS3004', 'duplicate-host-port', 'error', 'The same host address and port is published twice; the second container would fail to start.', '(web and admin both publish 127.0.0.1:8080)'],
  ['HS3005', 'undeclared-network', 'error', 'The service joins a network that `stack.md` does not declare.', 'networks: [frontned]'],
  ['HS3006', 'undeclared-volume', 'error', 'The service mounts a named volume that `stack.md` does not declare.', 'volumes:\n  - source: db-dta\n    target: /var/lib/mysql'],
  ['HS3007', 'undeclared-secret', 'error', 'The service uses a secret that `stack.md` does not declare.', 'secrets: [db-pasword]'],
  ['HS3008', 'relative-mount-path', 'error', 'Mount targets inside the container (tmpfs and volumes) must be absolute, normalised paths (no `.`, `..`, `//` or trailing slash).', 'tmpfs:\n  - path: run/php'],
  ['HS3009', 'overlapping-mounts', 'error', 'Two mounts of the service have the same target, or one lies inside the other; the later mount would hide the earlier one.', 'tmpfs:\n  - path: /run\n  - path: /run/php'],
  ['HS3010', 'unsafe-identifier', 'error', 'A value ends up in generated YAML, shell or SELinux policy text and holds characters that could break out of it or inject into it. hardspec refuses such values instead of trying to escape them.', "selinux:\n  type: \"web_t; allow domain self:capability *;\""],
  ['HS3011', 'privileged-refused', 'error', 'hardspec never emits `privileged: true`: a privileged container has every capability, no seccomp filter and access to every device, which undoes every other measure in the spec. Add the few capabilities the service really needs instead.', 'privileged: true'],
  ['HS3012', 'host-namespace-refused', 'error', 'hardspec never shares the host\'s network, PID, IPC, UTS or user namespace with a container: it would see and reach host processes and interfaces.', 'network_mode: host'],
  ['HS3013', 'docker-socket-refused', 'error', 'Mounting the Docker socket gives the container full control of the host (it can start a privileged container). hardspec refuses to emit it.', 'volumes:\n  - type: bind\n    source: /var/run/docker.sock\n    target: /var/run/docker.sock'],
  ['HS3014', 'seccomp-unconfined-refused', 'error', 'hardspec always emits a seccomp profile; `unconfined` would turn the system-call filter off. List the system calls the service needs instead.', 'seccomp: unconfined'],
  ['HS3015', 'unknown-dependency', 'error', '`depends_on` names a service that the stack does not have.', 'depends_on: [dbb]'],
  ['HS3016', 'duplicate-interaction', 'error', 'Interaction ids must be unique within a stack: evidence is keyed by them.', '(two interactions with id: site-answers)'],
  ['HS3017', 'interaction-unknown-service', 'error', 'An interaction names a service the stack does not have.', 'check:\n  probe:\n    service: wbe'],
  ['HS3018', 'bind-outside-stack', 'error', 'A bind mount or build context must be a relative path inside the stack folder. Absolute host paths and `..` would make the spec depend on, and expose, the machine it runs on.', 'volumes:\n  - type: bind\n    source: ../../etc\n    target: /data'],
  ['HS3019', 'root-user', 'warning', 'The service runs as root (uid 0). Run it as an unprivileged user; root in a container is root on the host if anything else fails.', 'user: "0:0"'],
  ['HS3020', 'secret-in-environment', 'warning', 'An environment variable looks like it carries a secret. The environment is visible in `docker inspect`, in /proc and in crash reports; use `secrets:` instead.', 'environment:\n  DB_PASSWORD: hunter2'],
  ['HS3021', 'syscall-allowed-and-denied', 'error', 'A system call is both allowed and denied in the same seccomp section.', 'seccomp:\n  allow: [ptrace]\n  deny: [ptrace]'],
  ['HS3022', 'port-not-loopback', 'warning', 'The port is published on an address other than 127.0.0.1, so other machines can reach it. That may be intended for a public service; say so in the spec\'s reasoning.', 'ports:\n  - container: 8080\n    host: 8080\n    host_ip: 0.0.0.0'],
  ['HS3023', 'unused-declaration', 'warning', 'A network, volume or secret declared in `stack.md` is used by no service.', 'volumes:\n  old-data: {}'],
  ['HS3024', 'no-services', 'error', 'The stack has a `stack.md` but no service spec beside it.', 'specs/guestbook/stack.md alone'],
  ['HS3025', 'no-new-privileges-off', 'warning', '`no_new_privileges: false` lets setuid binaries in the image gain privileges. Keep it on unless the reasoning explains why not.', 'no_new_privileges: false'],
  ['HS3026', 'writable-root', 'warning', '`read_only: false` leaves the root file system writable, so an attacker can change binaries and configuration. Prefer a read-only root with tmpfs mounts for the paths that need writing.', 'read_only: false'],
  ['HS3027', 'duplicate-item', 'warning', 'The same item is listed twice; the duplicate is ignored.', 'capabilities:\n  add: [CHOWN, CHOWN]'],
  ['HS3028', 'probe-without-service', 'error', 'This kind of check runs inside a container and must name its service (interactions in `stack.md` have no default service).', 'check:\n  probe:\n    op: write\n    args: [/]'],

  ['HS3029', 'non-loopback-url', 'error', 'Checks talk only to this machine: an interaction URL must point at 127.0.0.1 (or another loopback address, or localhost). Verification must never send traffic elsewhere.', 'check:\n  http:\n    url: http://example.com/'],
  ['HS3030', 'unknown-selinux-class', 'error', 'Not an object class or permission of the SELinux reference policy (checked against the classes of the installed policy at the time hardspec was built).', 'selinux:\n  allow:\n    - { target: container_file_t, class: fiel, permissions: [read] }'],
  ['HS3031', 'invalid-port-address', 'error', 'The host address to bind a port to must be an IPv4 or IPv6 literal.', 'ports:\n  - { container: 80, host: 8080, host_ip: localhost }'],
  ['HS3032', 'outage-check-inside-stopped-service', 'error', 'The check an outage makes while its service is stopped cannot run inside that service: a stopped container runs nothing. Inside checks (exec, probe, sql, file) default to the spec\'s own service.', 'check:\n  outage:\n    service: db\n    during:\n      sql: { service: db, query: SELECT 1 }'],
  ['HS3033', 'outage-checks-nothing', 'error', 'An outage check stops a service and starts it again; it must also check something: a check while the service is stopped (`during`), lines the outage must log (`log`), or that the service stopped by itself (`clean_stop`).', 'check:\n  outage:\n    service: web'],

  // ── HS4xxx: emit ───────────────────────────────────────────────────────────────────────────
  ['HS4001', 'invalid-compose-output', 'error', 'The generated compose file does not validate against the Compose Specification schema. This is a bug in hardspec; please report it with the spec.', '(none: internal check)'],
  ['HS4002', 'invalid-seccomp-output', 'error', 'The generated seccomp profile does not validate against the profile schema. This is a bug in hardspec; please report it with the spec.', '(none: internal check)'],
] as const satisfies ReadonlyArray<readonly [string, string, Severity, string, string]>;

export type DiagnosticCode = (typeof entries)[number][0];

export const CATALOGUE: ReadonlyMap<DiagnosticCode, CatalogueEntry> = new Map(
  entries.map(([code, name, severity, explanation, example]) => [
    code,
    { code, name, severity, explanation, example },
  ]),
);

export function catalogueEntry(code: DiagnosticCode): CatalogueEntry {
  const entry = CATALOGUE.get(code);
  if (!entry) throw new Error(`diagnostic code ${code} is not in the catalogue`);
  return entry;
}
