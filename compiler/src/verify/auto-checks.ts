/**
 * The automatic security checks every service gets, whatever its interactions say: the
 * container's configuration as the engine holds it (docker inspect, field by field against the
 * model), the process as the host kernel sees it (/proc/<pid>/status and mountinfo), and the
 * probe inside (read-only root, a syscall outside the allowlist, its own status as the container
 * user). Ids are `<service>.auto.<check>`; stack-wide ones `stack.auto.<check>`.
 */
import type { ContainerInspectInfo } from 'dockerode';
import type { ServiceModel, StackModel } from '../model/types.ts';
import {
  compareCapabilities, compareHealthcheck, compareIsolation, compareMounts, compareNetworks, comparePorts,
  compareReadOnly, compareResources, compareRestart, compareSecurityOpt, compareTmpfs, compareUlimits, compareUser,
  judgeMounts, judgeProcStatus, parseMountInfo, parseProcStatus, pickDeniedSyscall, type Comparison, type MountContext,
} from './auto-compare.ts';
import { judgeProbe, probeObserved, runProbe, syscallTable } from './checks/probe.ts';
import type { CheckOutcome, Method } from './checks/types.ts';
import type { VerifierEngine } from './engine.ts';
import { EngineError } from './engine.ts';
import { errorLine, type InteractionResult } from './runner.ts';
import type { ServiceState } from './lifecycle.ts';

export interface AutoContext {
  readonly engine: VerifierEngine;
  readonly model: StackModel;
  readonly project: string;
  readonly runToken: string;
  readonly mounts: Omit<MountContext, 'project'>;
  /** Generated seccomp profile text by service name. */
  readonly seccompProfiles: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
}

interface AutoCheck {
  readonly id: string;
  readonly service?: string;
  readonly description: string;
  readonly reason: string;
  readonly run: () => Promise<CheckOutcome>;
}

const fromComparison = (c: Comparison, method: Method): CheckOutcome => ({
  status: c.problems.length ? 'failed' : 'passed', method: [method], observed: c.observed, ...(c.problems.length ? { problems: c.problems } : {}),
});

const PROBE_TIMEOUT_MS = 10_000;

/** The health of each service right after `up`, as results (`<service>.auto.healthy`). */
export function healthResults(states: readonly ServiceState[], model: StackModel, durationMs: number): InteractionResult[] {
  return states.map((st) => {
    const s = model.services.find((x) => x.name === st.service);
    return {
      id: `${st.service}.auto.healthy`,
      description: s?.healthcheck ? `${st.service} starts and its healthcheck passes.` : `${st.service} starts and keeps running.`,
      reason: 'Nothing else can be verified about a service that does not start under its hardening.',
      service: st.service, origin: 'automatic', purpose: 'functional', kind: 'health',
      status: st.ok ? 'passed' : 'failed', durationMs: st.ok ? st.waitedMs : durationMs, method: ['docker-inspect'],
      observed: { status: st.status, ...(st.health ? { health: st.health } : {}), restartCount: st.restartCount, ...(st.exitCode !== undefined ? { exitCode: st.exitCode } : {}), waitedMs: st.waitedMs },
      ...(st.ok ? {} : { problems: [st.reason ?? 'not healthy'] }),
    };
  });
}

function serviceChecks(s: ServiceModel, ac: AutoContext, internal: () => Promise<Record<string, boolean>>): AutoCheck[] {
  let inspected: Promise<ContainerInspectInfo> | undefined;
  const inspect = () => (inspected ??= ac.engine.inspect(s.name));
  const viaInspect = (name: string, description: string, reason: string, compare: (info: ContainerInspectInfo) => Comparison | Promise<Comparison>): AutoCheck => ({
    id: `${s.name}.auto.${name}`, service: s.name, description, reason,
    run: async () => fromComparison(await compare(await inspect()), 'docker-inspect'),
  });
  const checks: AutoCheck[] = [
    viaInspect('user', `${s.name} runs as ${s.user.uid}:${s.user.gid}.`, 'The spec names a numeric, unprivileged user.', (i) => compareUser(s, i)),
    viaInspect('caps', `Every capability is dropped and only ${s.capAdd.join(', ') || 'none'} added back.`, 'Capabilities are root\'s powers; the spec lists the only ones the service needs.', (i) => compareCapabilities(s, i)),
    viaInspect('security-opt', 'no-new-privileges, the generated seccomp profile and the SELinux type are applied, nothing else.', 'A missing profile means Docker\'s default one; a missing no-new-privileges lets setuid binaries gain privileges.', (i) => compareSecurityOpt(s, i, ac.seccompProfiles[s.name] ?? '{}')),
    viaInspect('read-only', `The root file system is ${s.readOnly ? 'read-only' : 'writable'}.`, 'A read-only root keeps binaries and configuration unchanged.', (i) => compareReadOnly(s, i)),
    viaInspect('tmpfs', 'Exactly the spec\'s tmpfs mounts, with their size, mode, owner and noexec,nosuid,nodev.', 'tmpfs mounts are the only writable paths on a read-only root.', (i) => compareTmpfs(s, i)),
    viaInspect('mounts', 'Exactly the spec\'s volumes, binds and secrets are mounted (plus the run\'s read-only probe).', 'An unexpected mount (an image VOLUME, a host path) is a writable or leaking path the spec does not show.', (i) => compareMounts(s, i, { ...ac.mounts, project: ac.project })),
    viaInspect('ports', s.ports.length ? `Only ${s.ports.map((p) => `${p.hostIp}:${p.host}`).join(', ')} is published.` : 'No port is published.', 'Published ports are the stack\'s attack surface.', (i) => comparePorts(s, i)),
    viaInspect('networks', `${s.name} joins ${s.networks.join(', ') || 'the default network'} only, internal where the spec says so.`, 'Network membership separates the tiers.', async (i) => compareNetworks(s, i, ac.project, ac.model, await internal())),
    viaInspect('resources', 'Memory, CPU and process limits are the spec\'s.', 'Limits keep a runaway or hostile service from starving the host.', (i) => compareResources(s, i)),
    viaInspect('ulimits', 'Ulimits are the spec\'s.', 'Limits on open files and processes bound the damage of a runaway service.', (i) => compareUlimits(s, i)),
    viaInspect('restart', `The restart policy is ${s.restart}.`, 'The spec decides whether a crashed service comes back.', (i) => compareRestart(s, i)),
    viaInspect('healthcheck', 'The healthcheck is the spec\'s (exec form, timings).', 'A healthcheck that tests the wrong thing reports a broken service healthy.', (i) => compareHealthcheck(s, i)),
    viaInspect('isolation', 'Not privileged, no host namespace, no host device.', 'Each of these undoes the container boundary.', (i) => compareIsolation(i)),
    {
      id: `${s.name}.auto.proc-status`, service: s.name,
      description: 'The host kernel shows the process with exactly the spec\'s capabilities, no-new-privileges, a seccomp filter and the spec\'s ids.',
      reason: 'docker inspect shows what was asked for; /proc shows what the kernel enforces.',
      run: async () => fromComparison(judgeProcStatus(s, parseProcStatus(await ac.engine.readHostProc(s.name, 'status'))), 'host-proc'),
    },
    {
      id: `${s.name}.auto.proc-mounts`, service: s.name,
      description: `The host kernel shows the root ${s.readOnly ? 'read-only' : 'writable'} and every tmpfs nosuid,nodev${s.tmpfs.some((t) => !t.exec) ? ',noexec' : ''}.`,
      reason: 'The mount table is what the kernel enforces, whatever the configuration says.',
      run: async () => fromComparison(judgeMounts(s, parseMountInfo(await ac.engine.readHostProc(s.name, 'mountinfo'))), 'host-proc'),
    },
  ];
  if (s.readOnly) {
    const target = `/.hardspec-verify-${ac.runToken}`;
    checks.push({
      id: `${s.name}.auto.probe-read-only`, service: s.name,
      description: `Creating ${target} inside the container fails with EROFS.`,
      reason: 'Proves the read-only root from inside, as the service\'s own user.',
      run: async () => {
        const run = await runProbe(ac.engine, s.name, 'write', [target], PROBE_TIMEOUT_MS);
        const problems = judgeProbe(run.result, { ok: false, errno: ['EROFS'] }, run.exec);
        return { status: problems.length ? 'failed' : 'passed', method: ['probe'], observed: probeObserved(run), ...(problems.length ? { problems } : {}) };
      },
    });
  }
  checks.push({
    id: `${s.name}.auto.probe-seccomp`, service: s.name,
    description: 'A harmless syscall outside the allowlist fails with EPERM inside the container.',
    reason: 'Proves the seccomp filter is the spec\'s allowlist and is enforced.',
    run: async () => {
      const pick = pickDeniedSyscall(s, syscallTable(ac.engine.host.arch));
      if (!pick) {
        return { status: 'not-verifiable', method: ['probe'], observed: { candidates: 'all allowed' }, problems: ['every harmless candidate syscall is in the allowlist or above its highest number'] };
      }
      const run = await runProbe(ac.engine, s.name, 'syscall', [String(pick.nr)], PROBE_TIMEOUT_MS);
      const problems = judgeProbe(run.result, { ok: false, errno: ['EPERM'] }, run.exec);
      return { status: problems.length ? 'failed' : 'passed', method: ['probe'], observed: { syscall: pick.name, nr: pick.nr, highestNamed: pick.highest, ...probeObserved(run) }, ...(problems.length ? { problems } : {}) };
    },
  });
  checks.push({
    id: `${s.name}.auto.probe-status`, service: s.name,
    description: 'A process started in the container (docker exec) has the spec\'s ids, capabilities, no-new-privileges and seccomp filter.',
    reason: 'What an attacker who gets code execution inside the container would have.',
    run: async () => {
      const run = await runProbe(ac.engine, s.name, 'status', [], PROBE_TIMEOUT_MS);
      const problems = judgeProbe(run.result, { ok: true }, run.exec);
      const judged = run.result.data ? judgeProcStatus(s, run.result.data) : { observed: {}, problems: ['the probe printed no status'] };
      problems.push(...judged.problems);
      return { status: problems.length ? 'failed' : 'passed', method: ['probe'], observed: { ...judged.observed, exitCode: run.exec.exitCode }, ...(problems.length ? { problems } : {}) };
    },
  });
  return checks;
}

/** Every automatic check of the stack, in order: stack-wide first, then per service (by name). */
export function automaticChecks(ac: AutoContext): AutoCheck[] {
  let internal: Promise<Record<string, boolean>> | undefined;
  const networkFlags = () => (internal ??= (async () => Object.fromEntries(await Promise.all(ac.model.networks.map(async (n) => [n.name, (await ac.engine.inspectNetwork(n.name)).Internal] as const))))());
  const stack: AutoCheck[] = ac.model.networks.length ? [{
    id: 'stack.auto.networks',
    description: `The networks ${ac.model.networks.map((n) => n.name).join(', ')} exist, internal where the spec says so.`,
    reason: 'An internal network has no route out; losing that flag silently exposes the tier behind it.',
    run: async () => {
      const problems: string[] = [];
      const observed: Record<string, unknown> = {};
      for (const n of ac.model.networks) {
        const info = await ac.engine.inspectNetwork(n.name);
        observed[n.name] = { name: info.Name, internal: info.Internal };
        if (info.Internal !== n.internal) problems.push(`${n.name} is ${info.Internal ? '' : 'not '}internal, expected ${n.internal ? '' : 'not '}internal`);
      }
      return { status: problems.length ? 'failed' : 'passed', method: ['docker-inspect'], observed, ...(problems.length ? { problems } : {}) };
    },
  }] : [];
  return [...stack, ...ac.model.services.flatMap((s) => serviceChecks(s, ac, networkFlags))];
}

/** Runs one automatic check; an engine that cannot observe something yields `not-verifiable`. */
export async function runAutoCheck(check: AutoCheck, signal: AbortSignal): Promise<InteractionResult> {
  const started = Date.now();
  let out: CheckOutcome;
  try {
    out = await check.run();
  } catch (e) {
    if (signal.aborted) throw signal.reason;
    out = e instanceof EngineError && /not local|another pid namespace/.test(e.message)
      ? { status: 'not-verifiable', method: ['host-proc'], observed: {}, problems: [e.message] }
      : { status: 'failed', method: [], observed: { error: (e as Error).message }, problems: [errorLine(e)] };
  }
  return {
    id: check.id, description: check.description, reason: check.reason, ...(check.service ? { service: check.service } : {}),
    origin: 'automatic', purpose: 'security', kind: 'auto', status: out.status, durationMs: Date.now() - started,
    method: out.method, observed: out.observed, ...(out.problems?.length ? { problems: out.problems } : {}),
  };
}
