/** The VerifierEngine of a real run: one compose project on a Docker engine. */
import type Docker from 'dockerode';
import type { ContainerInspectInfo } from 'dockerode';
import { readFile } from 'node:fs/promises';
import type { StackModel } from '../model/types.ts';
import { composeArgs } from './compose-cli.ts';
import { containerLogSince, containerLogTail, execIn, readContainerFile } from './docker.ts';
import { EngineError, type ExecResult, type HostFacts, type PublishedPort, type RecreateResult, type StartResult, type VerifierEngine } from './engine.ts';
import { LABEL } from './override.ts';
import { COMPOSE_NETWORK_LABEL, COMPOSE_PROJECT_LABEL, COMPOSE_SERVICE_LABEL, type StackRun } from './lifecycle.ts';
import { lastLines } from './streams.ts';

export class DockerVerifierEngine implements VerifierEngine {
  constructor(
    private readonly docker: Docker,
    private readonly run: StackRun,
    private readonly model: StackModel,
    private readonly runId: string,
    readonly host: HostFacts,
  ) {}

  private async container(service: string): Promise<string> {
    const id = await this.run.containerOf(service);
    if (!id) throw new EngineError(`the service ${service} has no container in this run`);
    return id;
  }

  async exec(service: string, argv: readonly string[], timeoutMs: number): Promise<ExecResult> {
    return execIn(this.docker, await this.container(service), argv, timeoutMs);
  }

  async readFile(service: string, path: string): Promise<Buffer> {
    return readContainerFile(this.docker, await this.container(service), path);
  }

  async inspect(service: string): Promise<ContainerInspectInfo> {
    return this.docker.getContainer(await this.container(service)).inspect();
  }

  async inspectNetwork(name: string) {
    const list = await this.docker.listNetworks({ filters: JSON.stringify({ label: [`${COMPOSE_PROJECT_LABEL}=${this.run.project}`, `${COMPOSE_NETWORK_LABEL}=${name}`] }) });
    const found = list[0];
    if (!found) throw new EngineError(`the network ${name} does not exist in this run`);
    const n = await this.docker.getNetwork(found.Id).inspect();
    return { Name: n.Name as string, Internal: Boolean(n.Internal), Labels: (n.Labels as Record<string, string> | null) ?? null };
  }

  async logTail(service: string, lines: number): Promise<string> {
    const id = await this.run.containerOf(service);
    return id ? containerLogTail(this.docker, id, lines) : '';
  }

  async recreate(service: string, timeoutMs: number): Promise<RecreateResult> {
    // Before removing anything: an unknown service is an error, not a missing container.
    if (!this.model.services.some((s) => s.name === service)) throw new EngineError(`no service ${service}`);
    const oldContainer = await this.container(service);
    const rm = await this.run.compose(composeArgs.removeService(service), { timeoutMs: 60_000 });
    if (rm.code !== 0) throw new EngineError(`compose rm ${service} failed: ${lastLines(rm.stderr, 5)}`);
    const started = Date.now();
    const up = await this.run.compose(composeArgs.upService(service), { timeoutMs });
    if (up.code !== 0) throw new EngineError(`compose up ${service} failed: ${lastLines(up.stderr, 5)}`);
    return { oldContainer, newContainer: await this.healthyAgain(service, timeoutMs), healthyAfterMs: Date.now() - started };
  }

  async stop(service: string, timeoutMs: number): Promise<void> {
    await this.container(service);
    const r = await this.run.compose(composeArgs.stopService(service), { timeoutMs });
    if (r.code !== 0) throw new EngineError(`compose stop ${service} failed: ${lastLines(r.stderr, 5)}`);
  }

  async start(service: string, timeoutMs: number): Promise<StartResult> {
    const started = Date.now();
    const r = await this.run.compose(composeArgs.startService(service), { timeoutMs });
    if (r.code !== 0) throw new EngineError(`compose start ${service} failed: ${lastLines(r.stderr, 5)}`);
    return { container: await this.healthyAgain(service, timeoutMs), healthyAfterMs: Date.now() - started };
  }

  /** Waits until the service is healthy again; its container id. */
  private async healthyAgain(service: string, timeoutMs: number): Promise<string> {
    const model = this.model.services.find((s) => s.name === service);
    if (!model) throw new EngineError(`no service ${service}`);
    const [state] = await this.run.waitHealthy([model], timeoutMs);
    if (!state?.ok) throw new EngineError(`${service} did not become healthy again: ${state?.reason ?? 'unknown'}`);
    return state.container ?? '';
  }

  async logSince(service: string, sinceMs: number): Promise<string> {
    return containerLogSince(this.docker, await this.container(service), sinceMs);
  }

  async publishedPorts(): Promise<readonly PublishedPort[]> {
    const list = await this.docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABEL.run}=${this.runId}`] }) });
    const out: PublishedPort[] = [];
    for (const c of list) {
      const info = await this.docker.getContainer(c.Id).inspect();
      const service = info.Config.Labels?.[COMPOSE_SERVICE_LABEL] ?? c.Names[0] ?? c.Id;
      const bindings = { ...(info.HostConfig.PortBindings ?? {}), ...(info.NetworkSettings.Ports ?? {}) } as Record<string, { HostIp: string; HostPort: string }[] | null>;
      for (const [containerPort, list2] of Object.entries(bindings)) {
        for (const b of list2 ?? []) if (b.HostPort) out.push({ service, hostIp: b.HostIp || '0.0.0.0', hostPort: Number(b.HostPort), containerPort });
      }
    }
    const seen = new Set<string>();
    return out.filter((p) => { const k = `${p.service} ${p.hostIp} ${p.hostPort} ${p.containerPort}`; if (seen.has(k)) return false; seen.add(k); return true; });
  }

  async readHostProc(service: string, file: string): Promise<string> {
    if (!this.host.localProc) throw new EngineError('the engine is not local (DOCKER_HOST is not a unix socket): its processes are not in this host\'s /proc');
    const info = await this.inspect(service);
    const pid = info.State.Pid;
    if (!pid) throw new EngineError(`the container of ${service} has no process (state ${info.State.Status})`);
    // The pid must be the container's in *this* /proc (not a pid from another pid namespace).
    const cgroup = await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '');
    if (!cgroup.includes(info.Id)) throw new EngineError(`pid ${pid} in this host's /proc is not the container's init process (the engine runs in another pid namespace)`);
    return readFile(`/proc/${pid}/${file}`, 'utf8');
  }
}
