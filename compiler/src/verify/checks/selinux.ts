/**
 * `selinux`: the container runs with the spec's SELinux type. On a host without SELinux (no
 * /sys/fs/selinux and no `selinux` in the engine's security options) that cannot be observed:
 * the result is `not-verifiable`, never `passed`.
 */
import type { SelinuxCheck } from '../../model/types.ts';
import { outcome, type CheckContext, type CheckOutcome } from './types.ts';

/** Pure: the type field of an SELinux context "user:role:type:level". */
export function selinuxType(context: string): string | undefined {
  return context.replace(/\0/g, '').trim().split(':')[2];
}

export async function runSelinuxCheck(check: SelinuxCheck, ctx: CheckContext): Promise<CheckOutcome> {
  const { host } = ctx.engine;
  const spec = ctx.model.services.find((s) => s.name === check.service)?.selinux;
  const facts = { selinuxfs: host.selinuxfs, engineSecurityOptions: host.engineSecurityOptions, expectedType: spec?.type ?? null };
  if (!host.selinuxfs || !host.engineSelinux) {
    const why = !host.selinuxfs && !host.engineSelinux
      ? 'SELinux is not enabled on this host: /sys/fs/selinux is absent and the engine does not report selinux among its security options'
      : !host.selinuxfs ? 'SELinux is not enabled on this host: /sys/fs/selinux is absent'
        : 'the engine runs without SELinux support (no selinux among its security options, dockerd --selinux-enabled is off)';
    return { status: 'not-verifiable', method: ['host-fs', 'docker-info'], observed: facts, problems: [why] };
  }
  if (!spec) return outcome([`the spec of ${check.service} names no SELinux type`], ['docker-inspect'], facts);
  const info = await ctx.engine.inspect(check.service);
  const label = (info as unknown as { ProcessLabel?: string }).ProcessLabel ?? '';
  const current = await ctx.engine.readHostProc(check.service, 'attr/current');
  const problems: string[] = [];
  if (selinuxType(label) !== spec.type) problems.push(`the engine's process label is ${JSON.stringify(label)}, expected type ${spec.type}`);
  if (selinuxType(current) !== spec.type) problems.push(`the process runs as ${JSON.stringify(current.trim())}, expected type ${spec.type}`);
  return outcome(problems, ['docker-inspect', 'host-proc'], { ...facts, processLabel: label, processContext: current.replace(/\0/g, '').trim() });
}
