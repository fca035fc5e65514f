/**
 * The normalised model: what emitters and the verifier read. Built only from specs that passed
 * schema validation; every default is filled in here, every list sorted and de-duplicated, so
 * emitters never make choices of their own. Everything is readonly.
 */
import type { BodySection } from '../parse/spec-file.ts';

export interface SpecSource {
  /** Path as shown to people (relative to the working folder). */
  readonly path: string;
  /** Path relative to the stack folder, e.g. "web.md". */
  readonly relPath: string;
  readonly sha256: string;
  readonly title: string;
  readonly sections: readonly BodySection[];
  readonly body: string;
}

export interface StackModel {
  readonly name: string;
  /** The stack folder as given to the compiler, relative to the working folder. */
  readonly dir: string;
  readonly description: string;
  readonly source: SpecSource;
  readonly networks: readonly NetworkModel[];
  readonly volumes: readonly VolumeModel[];
  readonly secrets: readonly SecretModel[];
  /** Services sorted by name. */
  readonly services: readonly ServiceModel[];
  /** Stack-wide interactions (from stack.md), in spec order. */
  readonly interactions: readonly InteractionModel[];
}

export interface NetworkModel { readonly name: string; readonly internal: boolean; readonly description: string }
export interface VolumeModel { readonly name: string; readonly description: string }
export interface SecretModel { readonly name: string; readonly description: string; readonly generateBytes: number }

export interface TmpfsMount {
  readonly path: string;
  readonly size?: string;
  readonly mode?: string;
  readonly uid?: number;
  readonly gid?: number;
  readonly exec: boolean;
}

export interface PortMapping {
  readonly container: number;
  readonly host: number;
  readonly hostIp: string;
  readonly protocol: 'tcp' | 'udp';
}

export interface VolumeMount {
  readonly type: 'volume' | 'bind';
  /** Volume name, or for binds a path relative to the stack folder (normalised, no ..). */
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
  readonly selinux?: 'z' | 'Z';
}

export interface SeccompModel {
  readonly baseline: 'none' | 'docker-default';
  /** The final allowlist (baseline + allow − deny), sorted, unique. */
  readonly allow: readonly string[];
  /** Names answered with ENOSYS, sorted; never overlaps `allow`. */
  readonly enosys: readonly string[];
  /** As written in the spec (for reports and the site). */
  readonly declaredAllow: readonly string[];
  readonly declaredDeny: readonly string[];
  /** Names `hardspec minimize` never removes (part of `allow`), sorted. */
  readonly keep: readonly string[];
}

export interface SelinuxRule {
  readonly target: string;
  readonly class: string;
  readonly permissions: readonly string[];
}

export interface SelinuxModel {
  readonly type: string;
  /** Module name: the type without its `_t` suffix. */
  readonly module: string;
  /** Sorted by target, class; permissions sorted and unique; rules for the same pair merged. */
  readonly allow: readonly SelinuxRule[];
}

export interface StripModel {
  readonly target: string;
  readonly packages: readonly string[];
  readonly files: readonly string[];
}

export interface ResourcesModel {
  readonly memory?: string;
  readonly cpus?: number;
  readonly pids?: number;
  /** Sorted by name. */
  readonly ulimits: readonly { readonly name: string; readonly soft: number; readonly hard: number }[];
}

export interface HealthcheckModel {
  readonly command: readonly string[];
  readonly interval?: string;
  readonly timeout?: string;
  readonly startPeriod?: string;
  readonly retries?: number;
}

export interface ImageModel {
  readonly name: string;
  readonly base?: string;
  readonly build?: {
    /** Relative to the stack folder, normalised. */
    readonly context: string;
    readonly dockerfile: string;
    readonly args: readonly (readonly [string, string])[];
  };
}

export interface ServiceModel {
  readonly name: string;
  readonly description: string;
  readonly source: SpecSource;
  readonly image: ImageModel;
  readonly command?: readonly string[];
  readonly entrypoint?: readonly string[];
  readonly workingDir?: string;
  readonly user: { readonly uid: number; readonly gid: number };
  readonly readOnly: boolean;
  readonly tmpfs: readonly TmpfsMount[];
  readonly ports: readonly PortMapping[];
  readonly networks: readonly string[];
  readonly volumes: readonly VolumeMount[];
  /** Capabilities added back after dropping ALL; sorted, without CAP_. */
  readonly capAdd: readonly string[];
  readonly noNewPrivileges: boolean;
  readonly seccomp: SeccompModel;
  readonly selinux?: SelinuxModel;
  readonly strip: StripModel;
  readonly resources: ResourcesModel;
  readonly healthcheck?: HealthcheckModel;
  readonly restart: 'no' | 'always' | 'on-failure' | 'unless-stopped';
  /** Sorted by name; values as strings. */
  readonly environment: readonly (readonly [string, string])[];
  readonly secrets: readonly string[];
  readonly dependsOn: readonly string[];
  readonly interactions: readonly InteractionModel[];
}

// ── Interactions ───────────────────────────────────────────────────────────────────────────

export interface HttpCheck {
  readonly kind: 'http';
  readonly method: 'GET' | 'POST' | 'HEAD';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly form?: Readonly<Record<string, string>>;
  readonly formFrom?: string;
  readonly expect: {
    readonly status?: number;
    readonly bodyContains: readonly string[];
    readonly bodyNotContains: readonly string[];
    readonly headers: Readonly<Record<string, string>>;
    readonly headersAbsent: readonly string[];
  };
}
export interface BrowserCheck {
  readonly kind: 'browser';
  readonly url: string;
  readonly fill: readonly (readonly [string, string])[];
  readonly submit?: string;
  readonly expect: { readonly textContains: readonly string[]; readonly textNotContains: readonly string[] };
  readonly screenshot: boolean;
}
export interface ExecCheck {
  readonly kind: 'exec';
  readonly service: string;
  readonly command: readonly string[];
  readonly expect: { readonly exitCode: number; readonly stdoutContains: readonly string[]; readonly stderrContains: readonly string[] };
}
export type ProbeOp = 'write' | 'read' | 'chmod' | 'mount' | 'unshare' | 'ptrace' | 'keyctl' | 'syscall' | 'connect-unix' | 'exists' | 'id' | 'status';
export interface ProbeCheck {
  readonly kind: 'probe';
  readonly service: string;
  readonly op: ProbeOp;
  readonly args: readonly string[];
  /** ok: must succeed; errno: must fail with one of these. */
  readonly expect: { readonly ok: true } | { readonly ok: false; readonly errno: readonly string[] };
}
export interface SqlCheck {
  readonly kind: 'sql';
  readonly service: string;
  readonly query: string;
  readonly expect: { readonly minRows?: number; readonly contains: readonly string[] };
}
export interface FileCheck {
  readonly kind: 'file';
  readonly service: string;
  readonly path: string;
  /** Relative to the stack folder. */
  readonly sameAs: string;
}
export interface PortClosedCheck { readonly kind: 'port_closed'; readonly host: string; readonly port: number }
export interface SelinuxCheck { readonly kind: 'selinux'; readonly service: string }
/** None of `lacks` may appear in the output (stdout and stderr) of the service's container since it was created. */
export interface LogCheck { readonly kind: 'log'; readonly service: string; readonly lacks: readonly string[] }
export type SimpleCheck = HttpCheck | BrowserCheck | ExecCheck | ProbeCheck | SqlCheck | FileCheck | PortClosedCheck | SelinuxCheck | LogCheck;
export interface PersistenceCheck {
  readonly kind: 'persistence';
  readonly service: string;
  readonly write: SimpleCheck;
  readonly read: SimpleCheck;
}
/** Stop `service` (cleanly, with cleanStop), run `during` while it is down (and find `log.contains` in `log.service`'s output written meanwhile), start it again. */
export interface OutageCheck {
  readonly kind: 'outage';
  readonly service: string;
  readonly during?: SimpleCheck;
  readonly log?: { readonly service: string; readonly contains: readonly string[] };
  /** The service must exit by itself on its stop signal (exit code 0), not be killed at the end of the grace period. */
  readonly cleanStop?: boolean;
}
export type Check = SimpleCheck | PersistenceCheck | OutageCheck;

export interface InteractionModel {
  readonly id: string;
  readonly description: string;
  readonly reason: string;
  readonly purpose: 'functional' | 'security';
  /** Milliseconds. */
  readonly timeoutMs: number;
  /** The service whose spec declares it, or undefined for stack.md. */
  readonly declaredIn?: string;
  readonly check: Check;
}
