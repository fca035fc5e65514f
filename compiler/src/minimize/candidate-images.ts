/**
 * The stripped images of one file-list search. Every candidate is loaded under the same tag, so
 * the one before becomes a dangling `<none>` image: each is removed once a later run has replaced
 * the container that ran it, and all of them at the end, after the stack is torn down. Removal is
 * housekeeping: it never fails a run; what cannot be removed is said on the progress stream.
 */

/** What removal needs of the engine; dockerode's errors carry the HTTP status (409: in use). */
export interface ImageRemover {
  remove(image: string, options: { readonly force: boolean }): Promise<unknown>;
}

const statusOf = (e: unknown) => (e as { statusCode?: number }).statusCode;
const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split('\n')[0];

export class CandidateImages {
  /** Ids loaded and not removed yet, in load order. */
  private readonly loaded = new Set<string>();

  constructor(
    private readonly engine: ImageRemover,
    private readonly say: (line: string) => void,
  ) {}

  /** The image of the run about to start. */
  add(id: string): void {
    this.loaded.add(id);
  }

  /**
   * After a run: removes every candidate image but `current` (its container still runs). An
   * image a container still uses (the run ended before replacing it) is tried again next time.
   */
  async sweep(current: string): Promise<void> {
    for (const id of [...this.loaded]) {
      if (id === current) continue;
      try {
        await this.engine.remove(id, { force: false });
        this.loaded.delete(id);
      } catch (e) {
        if (statusOf(e) === 404) { this.loaded.delete(id); continue; }
        if (statusOf(e) === 409) continue;
        this.say(`could not remove the candidate image ${id.slice(0, 19)} (tried again later): ${firstLine(e)}`);
      }
    }
  }

  /** At the end, with no container left: removes the tag and every candidate image (forced). */
  async removeAll(tag: string): Promise<void> {
    const failed: string[] = [];
    for (const image of [tag, ...this.loaded]) {
      try {
        await this.engine.remove(image, { force: true });
      } catch (e) {
        if (statusOf(e) !== 404) failed.push(`${image === tag ? tag : image.slice(0, 19)}: ${firstLine(e)}`);
      }
    }
    this.loaded.clear();
    if (failed.length) this.say(`could not remove ${failed.length} candidate image(s) (remove them with docker rmi): ${failed.join('; ')}`);
  }
}
