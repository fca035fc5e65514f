/**
 * The file-list search on a real engine: each candidate (a set of file items) becomes a stripped
 * image (the stripper's own plan, ELF closure and policy, loaded with `docker load` under one
 * candidate tag), and the stack runs with the service on that image. The full image's filesystem
 * is read once. The candidate images are removed as the search goes (candidate-images.ts); none
 * is kept at the end: the command needs only the report, and `hardspec strip` builds the result.
 */
import type Docker from 'dockerode';
import type { ServiceModel, StackModel } from '../model/types.ts';
import type { ImageFs } from '../strip/fs.ts';
import { loadArchive, strippedArchive, type FullImage } from '../strip/image.ts';
import { planStrip } from '../strip/plan.ts';
import { imageId } from '../verify/docker.ts';
import { CandidateImages } from './candidate-images.ts';
import { runArtifacts } from './candidate.ts';
import { candidateStripInput, recordedFileItems, type FileItems } from './files.ts';
import type { MinimizeBackend, RecordOutcome } from './minimize.ts';
import type { RecorderKind } from './record/recorder.ts';
import { recordRunOrError } from './record/record-run.ts';
import type { RunOutcome, StackSession } from './stack-session.ts';

/** The tag every candidate image of a service is loaded under (replaced run by run). */
export const candidateTag = (s: ServiceModel) => `${s.strip.target}-candidate`;

/** Pure: the stack with the service running `image` (no build section). */
export function withImage(model: StackModel, service: string, image: string): StackModel {
  return { ...model, services: model.services.map((s) => (s.name === service ? { ...s, image: { name: image } } : s)) };
}

export class FilesBackend implements MinimizeBackend {
  private readonly images: CandidateImages;
  readonly record?: (start: ReadonlySet<string>) => Promise<RecordOutcome>;

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
    /** The progress stream, for images that cannot be removed. */
    say: (line: string) => void = () => undefined,
    /** Record the files the service names while it runs on the start set's stripped image, mapped to these items. */
    recording?: { readonly items: FileItems; readonly recorder: RecorderKind },
  ) {
    this.images = new CandidateImages({ remove: (image, options) => docker.getImage(image).remove(options) }, say);
    if (recording) this.record = (start) => this.recordOnce(recording.items, recording.recorder, start);
  }

  /**
   * The record run: the whole stack with the service on the stripped image of the start set (the
   * spec's list, expanded), traced, the paths the service named mapped to items. Recording on the
   * full image instead would name what the full image's own configuration loads: there PHP's CLI
   * reads /etc/php/8.2/cli/conf.d and opens every extension of php8.2-common, none of which the
   * stripped image runs.
   */
  private async recordOnce(items: FileItems, recorder: RecorderKind, start: ReadonlySet<string>): Promise<RecordOutcome> {
    const loaded = await this.load(start);
    if ('verdict' in loaded) return { outcome: loaded, items: [], other: [] };
    const m = withImage(this.session.model, this.service.name, loaded.tag);
    const { outcome, recordings } = await recordRunOrError(this.session, m, runArtifacts(m, this.session.specDirFromOut), this.service.name, this.signal, { recorder, caps: false, files: true });
    await this.images.sweep(loaded.id);
    const mine = recordings.find((r) => r.service === this.service.name);
    const mapped = recordedFileItems(this.fs, items, mine?.files ?? []);
    return { outcome, items: mapped.items, other: mapped.other };
  }

  /** Builds and loads the candidate's stripped image; a failed outcome when it cannot be. */
  private async load(candidate: ReadonlySet<string>): Promise<{ tag: string; id: string } | RunOutcome> {
    const started = Date.now();
    const plan = planStrip(this.fs, candidateStripInput(this.service, [...candidate].flatMap((n) => this.expand(n)), this.fixed));
    if (plan.problems.length) {
      return { verdict: 'fail', scope: 'service', restarted: [], durationMs: Date.now() - started, failed: [], unhealthy: [{ service: this.service.name, reason: `the candidate cannot be built: ${plan.problems[0]!.message}` }] };
    }
    const tag = candidateTag(this.service);
    try {
      const archive = strippedArchive(this.fs, plan, this.full, tag);
      await loadArchive(this.docker, archive.archive);
      // The id the engine gave the image (with containerd's image store it is not the config digest).
      const id = (await imageId(this.docker, tag)) ?? archive.imageId;
      this.images.add(id);
      return { tag, id };
    } catch (e) {
      return { verdict: 'error', scope: 'service', restarted: [], durationMs: Date.now() - started, failed: [], unhealthy: [], error: (e as Error).message };
    }
  }

  async run(candidate: ReadonlySet<string>, options: { fresh: boolean }): Promise<RunOutcome> {
    const loaded = await this.load(candidate);
    if ('verdict' in loaded) return loaded;
    const m = withImage(this.session.model, this.service.name, loaded.tag);
    // The first run after an error restarts everything (as for any other search).
    const outcome = await this.session.runCandidate(runArtifacts(m, this.session.specDirFromOut), this.service.name, this.signal, { forceStack: options.fresh });
    // The run replaced the container of the run before: that run's image can go now.
    await this.images.sweep(loaded.id);
    return outcome;
  }

  /** Removes every candidate image; call it after the stack is torn down. */
  async cleanup(): Promise<void> {
    await this.images.removeAll(candidateTag(this.service));
  }
}
