/**
 * `port_closed`: a TCP connect from the host to the port must be refused, and no container of the
 * run may publish that port (per docker inspect): both, so neither a firewall nor another process
 * on the host can make the check pass by accident.
 */
import net from 'node:net';
import type { PortClosedCheck } from '../../model/types.ts';
import { outcome, type CheckContext, type CheckOutcome } from './types.ts';

/** Tries to connect: "refused", "open", or the error code seen (e.g. a time-out). */
export function tryConnect(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (what: string) => { clearTimeout(timer); socket.destroy(); resolve(what); };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    socket.once('connect', () => done('open'));
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'refused' : (e.code ?? e.message)));
  });
}

export async function runPortClosedCheck(check: PortClosedCheck, ctx: CheckContext): Promise<CheckOutcome> {
  const host = check.host === 'localhost' ? '127.0.0.1' : check.host;
  const connect = await tryConnect(host, check.port, Math.min(3000, ctx.timeoutMs));
  const published = (await ctx.engine.publishedPorts()).filter((p) => p.hostPort === check.port);
  const problems: string[] = [];
  if (connect !== 'refused') problems.push(connect === 'open' ? `something answers on ${host}:${check.port}` : `the connection to ${host}:${check.port} was not refused (${connect})`);
  for (const p of published) problems.push(`${p.service} publishes ${p.hostIp}:${p.hostPort} (container port ${p.containerPort})`);
  return outcome(problems, ['tcp-connect', 'docker-inspect'], {
    host, port: check.port, connect,
    publishedBy: published.map((p) => `${p.service} ${p.hostIp}:${p.hostPort}->${p.containerPort}`),
  });
}
