/**
 * The file-list search on a real engine: each candidate (a set of file items) becomes a stripped
 * image (the stripper's own plan, ELF closure and policy, loaded with `docker load` under one
 * candidate tag), and the stack runs with the service on that image. The full image's filesystem
 * is read once.
 */
import type Docker from 'dockerode';
import type { ServiceModel, StackModel } from '../model/types.ts';
import type { ImageFs } from '../strip/fs.ts';
import { loadArchive, strippedArchive, type FullImage } from '../strip/image.ts';
import { planStrip } from '../strip/plan.ts';
import { runArtifacts } from './candidate.ts';
import { candidateStripInput } from './files.ts';
import type { MinimizeBackend } from './minimize.ts';
import type { RunOutcome, StackSession } from './stack-session.ts';

/** The tag every candidate image of a service is loaded under (replaced run by run). */
export const candidateTag = (s: ServiceModel) => `${s.strip.target}-candidate`;

/** Pure: the stack with the service running `image` (no build section). */
export function withImage(model: StackModel, service: string, image: string): StackModel {
  return { ...model, services: model.services.map((s) => (s.name === service ? { ...s, image: { name: image } } : s)) };
}

export class FilesBackend implements MinimizeBackend {
  /** Ids of candidate images loaded so far: removed once no container uses them (disk). */
  private readonly loaded = new Set<string>();

  constructor(
    private readonly session: StackSession,
    private readonly docker: Docker,
    private readonly service: ServiceModel,
    private readonly fs: ImageFs,
    private readonly full: FullImage,
    private readonly signal: AbortSignal,
    /** Search nodes → the files they stand for (files.ts: fileSearchTree). */
    private readonly expand: (node: string) => readonly string[] = (n) => [n],
    /** Paths every candidate keeps (the service's state under its volumes). */
    private readonly fixed: readonly string[] = [],
  ) {}

  async run(candidate: ReadonlySet<string>, options: { fresh: boolean }): Promise<RunOutcome> {
    const started = Date.now();
    const plan = planStrip(this.fs, candidateStripInput(this.service, [...candidate].flatMap((n) => this.expand(n)), this.fixed));
    if (plan.problems.length) {
      return { verdict: 'fail', scope: 'service', restarted: [], durationMs: Date.now() - started, failed: [], unhealthy: [{ service: this.service.name, reason: `the candidate cannot be built: ${plan.problems[0]!.message}` }] };
    }
    const tag = candidateTag(this.service);
    try {
      const archive = strippedArchive(this.fs, plan, this.full, tag);
      await loadArchive(this.docker, archive.archive);
      await this.removeOld(archive.imageId);
      this.loaded.add(archive.imageId);
    } catch (e) {
      return { verdict: 'error', scope: 'service', restarted: [], durationMs: Date.now() - started, failed: [], unhealthy: [], error: (e as Error).message };
    }
    const m = withImage(this.session.model, this.service.name, tag);
    // The first run after an error restarts everything (as for any other search).
    return this.session.runCandidate(runArtifacts(m, this.session.specDirFromOut), this.service.name, this.signal, { forceStack: options.fresh });
  }

  /** Removes earlier candidate images that no container uses any more (errors ignored: in use). */
  private async removeOld(current: string): Promise<void> {
    for (const id of [...this.loaded]) {
      if (id === current) continue;
      try {
        await this.docker.getImage(id).remove({ noprune: false });
        this.loaded.delete(id);
      } catch {
        // still used by a container of the previous run: removed after a later run
      }
    }
  }

  /** Removes every candidate image (at the end of the search). */
  async cleanup(): Promise<void> {
    await this.docker.getImage(candidateTag(this.service)).remove({ force: true }).catch(() => undefined);
    for (const id of this.loaded) await this.docker.getImage(id).remove({ force: true }).catch(() => undefined);
    this.loaded.clear();
  }
}
