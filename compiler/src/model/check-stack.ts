/**
 * Phase 3, cross-spec checks: references to networks, volumes, secrets and services, duplicate
 * services, host ports and interaction ids, and overlapping mounts. Reads the built model; the
 * reporters locate each problem in the spec that holds it.
 */
import { diagnostic } from '../diagnostics/diagnostic.ts';
import { didYouMean, suggest } from '../diagnostics/suggest.ts';
import type { SpecReporter, StackHead } from './build.ts';
import { isSameOrBelow } from './names.ts';
import type { Check, ServiceModel } from './types.ts';

export interface BuiltService {
  readonly model: ServiceModel;
  readonly reporter: SpecReporter;
  readonly raw: Record<string, unknown>;
}

export function checkStack(head: StackHead, headReporter: SpecReporter, services: readonly BuiltService[]): void {
  const networks = head.networks.map((n) => n.name);
  const volumes = head.volumes.map((v) => v.name);
  const secrets = head.secrets.map((s) => s.name);
  const serviceNames = services.map((s) => s.model.name);
  const used = { networks: new Set<string>(), volumes: new Set<string>(), secrets: new Set<string>() };

  // Duplicate service names: the spec that renames itself with "service:" is the one reported
  // (at that value); when neither does, the second file in path order (at its start: the name
  // comes from the file name).
  const firstOf = new Map<string, BuiltService>();
  for (const s of services) {
    const prev = firstOf.get(s.model.name);
    if (!prev) { firstOf.set(s.model.name, s); continue; }
    const [blamed, other] = prev.raw.service !== undefined && s.raw.service === undefined ? [prev, s] : [s, prev];
    const message = `service "${s.model.name}" is already declared in ${other.model.source.path}`;
    const hint = 'give each service its own name (the file name, or "service:")';
    if (blamed.raw.service !== undefined) blamed.reporter.report('HS3003', '/service', message, hint);
    else blamed.reporter.diagnostics.push(diagnostic('HS3003', { file: blamed.model.source.path, line: 1, column: 1 }, message, hint));
  }

  const ports = new Map<string, string>();
  const interactionIds = new Map<string, string>();
  head.interactions.forEach((it, i) => {
    claimInteraction(it.id, `/interactions/${i}/id`, headReporter, interactionIds, head.source.path);
    checkCheckServices(it.check, `/interactions/${i}/check`, headReporter, serviceNames);
  });

  for (const { model: s, reporter: r } of services) {
    s.networks.forEach((n) => {
      used.networks.add(n);
      if (networks.includes(n)) return;
      // The declaration this reference most likely means is not also reported as unused.
      used.networks.add(suggest(n, networks) ?? n);
      r.report('HS3005', `/networks/${indexIn(r, '/networks', n)}`, `network "${n}" is not declared in stack.md${didYouMean(n, networks)}`, `declare it under networks: in stack.md${networks.length ? ` (declared: ${networks.join(', ')})` : ''}`);
    });
    rawList(r, '/volumes').forEach((v, i) => {
      const vol = v as { type?: string; source: string };
      if ((vol.type ?? 'volume') !== 'volume') return;
      used.volumes.add(vol.source);
      if (volumes.includes(vol.source)) return;
      used.volumes.add(suggest(vol.source, volumes) ?? vol.source);
      r.report('HS3006', `/volumes/${i}/source`, `volume "${vol.source}" is not declared in stack.md${didYouMean(vol.source, volumes)}`, 'declare it under volumes: in stack.md');
    });
    s.secrets.forEach((n) => {
      used.secrets.add(n);
      if (secrets.includes(n)) return;
      used.secrets.add(suggest(n, secrets) ?? n);
      r.report('HS3007', `/secrets/${indexIn(r, '/secrets', n)}`, `secret "${n}" is not declared in stack.md${didYouMean(n, secrets)}`, 'declare it under secrets: in stack.md');
    });
    s.dependsOn.forEach((n) => {
      const others = serviceNames.filter((x) => x !== s.name);
      if (!serviceNames.includes(n) || n === s.name) r.report('HS3015', `/depends_on/${indexIn(r, '/depends_on', n)}`, n === s.name ? 'a service cannot depend on itself' : `service "${n}" does not exist in this stack${didYouMean(n, others)}`, others.length ? `the other services: ${others.join(', ')}` : 'the stack has no other service');
    });
    rawList(r, '/ports').forEach((p, i) => {
      const port = p as { host: number; host_ip?: string; protocol?: string };
      const ip = port.host_ip ?? '127.0.0.1';
      const proto = port.protocol ?? 'tcp';
      const key = `${proto}/${port.host}`;
      for (const [other, where] of ports) {
        const [otherKey, otherIp] = other.split(' ');
        if (otherKey === key && (otherIp === ip || otherIp === '0.0.0.0' || ip === '0.0.0.0' || otherIp === '::' || ip === '::')) {
          r.report('HS3004', `/ports/${i}/host`, `host port ${ip}:${port.host}/${proto} is already published by ${where}`, 'publish each host port once');
        }
      }
      ports.set(`${key} ${ip}`, `${s.name} (${s.source.path})`);
    });
    // Mount targets: tmpfs and volumes must not coincide or nest.
    const mounts = [
      ...rawList(r, '/tmpfs').map((t, i) => ({ target: (t as { path: string }).path, at: `/tmpfs/${i}/path` })),
      ...rawList(r, '/volumes').map((v, i) => ({ target: (v as { target: string }).target, at: `/volumes/${i}/target` })),
      ...s.secrets.map((n) => ({ target: `/run/secrets/${n}`, at: `/secrets/${indexIn(r, '/secrets', n)}` })),
    ];
    mounts.forEach((m, i) => {
      for (const other of mounts.slice(0, i)) {
        if (isSameOrBelow(m.target, other.target) || isSameOrBelow(other.target, m.target)) {
          r.report('HS3009', m.at, m.target === other.target ? `${m.target} is mounted twice` : `${m.target} and ${other.target} overlap: one mount would hide the other`, 'mount each path once, and not one inside another');
        }
      }
    });
    s.interactions.forEach((it, i) => {
      claimInteraction(it.id, `/interactions/${i}/id`, r, interactionIds, s.source.path);
      checkCheckServices(it.check, `/interactions/${i}/check`, r, serviceNames);
    });
  }

  for (const [kind, declared] of [['networks', networks], ['volumes', volumes], ['secrets', secrets]] as const) {
    for (const name of declared) {
      if (!used[kind].has(name)) headReporter.report('HS3023', `/${kind}/${name}`, `${kind.slice(0, -1)} "${name}" is declared but no service uses it`, 'remove it, or add it to the service that needs it', 'key');
    }
  }
}

function claimInteraction(id: string, at: string, r: SpecReporter, ids: Map<string, string>, where: string): void {
  const prev = ids.get(id);
  if (prev) r.report('HS3016', at, `interaction id "${id}" is already used in ${prev}`, 'give each interaction of the stack its own id');
  else ids.set(id, where);
}

function checkCheckServices(c: Check, at: string, r: SpecReporter, services: readonly string[]): void {
  const one = (svc: string | undefined, path: string) => {
    if (svc && !services.includes(svc)) r.report('HS3017', path, `service "${svc}" does not exist in this stack${didYouMean(svc, services)}`, `services: ${services.join(', ')}`);
  };
  if (c.kind === 'outage') {
    one(c.service, `${at}/outage/service`);
    if (c.during) checkCheckServices(c.during, `${at}/outage/during`, r, services);
    // A log check reads the engine's copy of the output: a stopped container's is there too.
    if (c.during && c.during.kind !== 'log' && 'service' in c.during && c.service && c.during.service === c.service) {
      r.report('HS3032', `${at}/outage/during`, `the check made while "${c.service}" is stopped runs inside "${c.service}" (named or taken as the spec's own service), and a stopped container runs nothing`, 'name another service for it (service: <name>), or check from outside with http, browser or port_closed');
    }
    if (c.log) one(c.log.service, `${at}/outage/log/service`);
    return;
  }
  if (c.kind === 'persistence') {
    one(c.service, `${at}/persistence/service`);
    checkCheckServices(c.write, `${at}/persistence/write`, r, services);
    checkCheckServices(c.read, `${at}/persistence/read`, r, services);
    return;
  }
  if ('service' in c) one(c.service, `${at}/${c.kind}/service`);
}

function rawList(r: SpecReporter, path: string): unknown[] {
  const v = (r.spec.data as Record<string, unknown>)[path.slice(1)];
  return Array.isArray(v) ? v : [];
}

function indexIn(r: SpecReporter, path: string, value: string): number {
  return Math.max(0, rawList(r, path).indexOf(value));
}
