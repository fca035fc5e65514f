/**
 * The minimiser's stacks publish their ports on other host ports than the spec's, so they never
 * collide with a stack the user (or `hardspec verify`) runs at the same time, and so several
 * candidates could run side by side. The interactions' loopback URLs follow. Pure, except
 * `findFreePorts`, which asks the kernel.
 */
import net from 'node:net';
import type { Check, InteractionModel, StackModel } from '../model/types.ts';

/** Host port → host port. */
export type PortMap = ReadonlyMap<number, number>;

const LOOPBACK_URL = /^(https?:\/\/(?:127\.0\.0\.1|localhost|\[::1\])):(\d+)(?=[/?#]|$)/;

/** Pure: a loopback URL with its port mapped; other URLs unchanged. */
export function remapUrl(url: string, ports: PortMap): string {
  return url.replace(LOOPBACK_URL, (all, base: string, port: string) => {
    const to = ports.get(Number(port));
    return to === undefined ? all : `${base}:${to}`;
  });
}

function remapCheck<T extends Check>(check: T, ports: PortMap): T {
  const c = check as Check;
  switch (c.kind) {
    case 'http':
      return { ...c, url: remapUrl(c.url, ports), ...(c.formFrom ? { formFrom: remapUrl(c.formFrom, ports) } : {}) } as T;
    case 'browser':
      return { ...c, url: remapUrl(c.url, ports) } as T;
    case 'port_closed':
      return { ...c, port: ports.get(c.port) ?? c.port } as T;
    case 'outage':
      return (c.during ? { ...c, during: remapCheck(c.during, ports) } : c) as T;
    case 'persistence':
      return { ...c, write: remapCheck(c.write, ports), read: remapCheck(c.read, ports) } as T;
    default:
      return check;
  }
}

/** Pure: the model with every published host port and every loopback URL to it mapped. */
export function remapPorts(model: StackModel, ports: PortMap): StackModel {
  const it = (list: readonly InteractionModel[]) => list.map((i) => ({ ...i, check: remapCheck(i.check, ports) }));
  return {
    ...model,
    interactions: it(model.interactions),
    services: model.services.map((s) => ({
      ...s,
      ports: s.ports.map((p) => ({ ...p, host: ports.get(p.host) ?? p.host })),
      interactions: it(s.interactions),
    })),
  };
}

function isFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * For each published TCP port, a free one in 20000–59999, picked at random: Docker binds a host
 * port only while the container runs, so a port free now may be another session's between two
 * of its runs; a random pick makes two sessions choosing the same one unlikely, and `avoid`
 * rules it out for the sessions of one process.
 */
export async function findFreePorts(model: StackModel, random: () => number = Math.random, avoid: Iterable<number> = []): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  // `avoid`: the ports of this process's other sessions (lanes), free now while their stacks are down.
  const taken = new Set<number>(avoid);
  for (const s of model.services) {
    for (const p of s.ports) {
      if (out.has(p.host)) continue;
      for (let attempt = 0; attempt < 200; attempt++) {
        const cand = 20_000 + Math.floor(random() * 40_000);
        if (taken.has(cand)) continue;
        if (await isFree(p.hostIp, cand)) { out.set(p.host, cand); taken.add(cand); break; }
      }
      if (!out.has(p.host)) throw new Error(`no free host port found for ${s.name}'s port ${p.host}`);
    }
  }
  return out;
}
