/**
 * Emits compose.yaml: the hardened stack. Every service drops ALL capabilities and adds back only
 * the spec's, runs with no-new-privileges, its own seccomp profile and SELinux type, a read-only
 * root with the tmpfs mounts it needs, as its numeric user, with limits, a healthcheck and a restart
 * policy. Ports are bound to 127.0.0.1 unless the spec says otherwise. Paths are relative to the
 * compose file's folder (generated/<stack>/); run docker-compose from that folder, because
 * docker-compose 1.29 resolves `seccomp=` paths from the working directory.
 */
import type { ServiceModel, StackModel } from '../../model/types.ts';
import { generatedHeader, type Artifact } from '../artifact.ts';
import { toYaml, type YamlValue } from '../yaml-writer.ts';

export interface ComposeOptions {
  /** Path from generated/<stack>/ to the stack's spec folder, e.g. "../../specs/guestbook". */
  readonly specDirFromOut: string;
  /**
   * compose.stripped.yaml: services with a strip list run their stripped image (built by
   * `hardspec strip`, named by strip.target) and have no build section; the rest is the same.
   */
  readonly stripped?: boolean;
}

/** A service with something in its strip list gets a stripped image. */
export const hasStripList = (s: ServiceModel) => s.strip.packages.length > 0 || s.strip.files.length > 0;

/** docker-compose interpolates $VAR in every string; a literal $ must be written $$. */
const literal = (s: string) => s.replace(/\$/g, '$$$$');

/** The compose file and the document it was written from (validated without parsing it back). */
export function emitCompose(stack: StackModel, options: ComposeOptions): { artifact: Artifact; document: YamlValue } {
  const sources = [stack.source, ...stack.services.map((s) => s.source)];
  const doc: Record<string, YamlValue> = {
    services: Object.fromEntries(stack.services.map((s) => [s.name, composeService(s, stack, options)])),
  };
  if (stack.networks.length) {
    doc.networks = Object.fromEntries(stack.networks.map((n) => [n.name, n.internal ? { internal: true } : {}]));
  }
  if (stack.volumes.length) doc.volumes = Object.fromEntries(stack.volumes.map((v) => [v.name, {}]));
  if (stack.secrets.length) {
    doc.secrets = Object.fromEntries(stack.secrets.map((s) => [s.name, { file: `./secrets/${s.name}` }]));
  }
  const note = options.stripped ? `# The same stack on the stripped images (strip.target), built by: hardspec strip ${stack.name}\n` : '';
  const artifact = { path: options.stripped ? 'compose.stripped.yaml' : 'compose.yaml', content: generatedHeader('#', stack.name, sources) + note + toYaml(doc), sources };
  return { artifact, document: stripUndefined(doc) };
}

function composeService(s: ServiceModel, stack: StackModel, options: ComposeOptions): YamlValue {
  const securityOpt = [
    ...(s.noNewPrivileges ? ['no-new-privileges:true'] : []),
    `seccomp=seccomp/${s.name}.json`,
    ...(s.selinux ? [`label=type:${s.selinux.type}`] : []),
  ];
  const stripped = options.stripped === true && hasStripList(s);
  const build = !stripped && s.image.build && {
    context: joinRelative(options.specDirFromOut, s.image.build.context),
    dockerfile: s.image.build.dockerfile,
    args: s.image.build.args.length ? Object.fromEntries(s.image.build.args.map(([k, v]) => [k, literal(v)])) : undefined,
  };
  const healthy = new Set(stack.services.filter((x) => x.healthcheck).map((x) => x.name));
  return {
    image: stripped ? s.strip.target : s.image.name,
    build: build || undefined,
    entrypoint: s.entrypoint?.map(literal),
    command: s.command?.map(literal),
    working_dir: s.workingDir,
    user: `${s.user.uid}:${s.user.gid}`,
    read_only: s.readOnly,
    cap_drop: ['ALL'],
    cap_add: s.capAdd.length ? [...s.capAdd] : undefined,
    security_opt: securityOpt,
    tmpfs: s.tmpfs.length ? s.tmpfs.map(tmpfsEntry) : undefined,
    // Short syntax, because only it carries the SELinux relabel flag for named volumes too.
    volumes: s.volumes.length ? s.volumes.map((v) => {
      const source = v.type === 'bind' ? asPath(joinRelative(options.specDirFromOut, v.source)) : v.source;
      const mode = [v.readOnly ? 'ro' : '', v.selinux ?? ''].filter(Boolean).join(',');
      return `${source}:${v.target}${mode ? `:${mode}` : ''}`;
    }) : undefined,
    ports: s.ports.length ? s.ports.map((p) => `${p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp}:${p.host}:${p.container}/${p.protocol}`) : undefined,
    networks: s.networks.length ? [...s.networks] : undefined,
    mem_limit: s.resources.memory,
    cpus: s.resources.cpus,
    pids_limit: s.resources.pids,
    ulimits: s.resources.ulimits.length ? Object.fromEntries(s.resources.ulimits.map((u) => [u.name, { soft: u.soft, hard: u.hard }])) : undefined,
    healthcheck: s.healthcheck && {
      test: ['CMD', ...s.healthcheck.command.map(literal)],
      interval: s.healthcheck.interval,
      timeout: s.healthcheck.timeout,
      retries: s.healthcheck.retries,
      start_period: s.healthcheck.startPeriod,
    },
    restart: s.restart,
    environment: s.environment.length ? Object.fromEntries(s.environment.map(([k, v]) => [k, literal(v)])) : undefined,
    secrets: s.secrets.length ? [...s.secrets] : undefined,
    depends_on: s.dependsOn.length
      ? Object.fromEntries(s.dependsOn.map((d) => [d, { condition: healthy.has(d) ? 'service_healthy' : 'service_started' }]))
      : undefined,
  };
}

function stripUndefined(v: YamlValue): YamlValue {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(stripUndefined);
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, stripUndefined(x as YamlValue)]));
}

/** Docker's --tmpfs options; noexec, nosuid and nodev unless the spec allows exec. */
function tmpfsEntry(t: ServiceModel['tmpfs'][number]): string {
  const opts = [
    t.size && `size=${t.size}`,
    t.mode && `mode=${t.mode}`,
    t.uid !== undefined && `uid=${t.uid}`,
    t.gid !== undefined && `gid=${t.gid}`,
    t.exec ? 'exec' : 'noexec',
    'nosuid',
    'nodev',
  ].filter(Boolean);
  return `${t.path}:${opts.join(',')}`;
}

/** In short volume syntax a source not starting with . or / would be taken for a volume name. */
function asPath(p: string): string {
  return p.startsWith('.') || p.startsWith('/') ? p : `./${p}`;
}

function joinRelative(base: string, rel: string): string {
  return rel === '.' ? base : `${base}/${rel}`;
}
