/**
 * The Docker side of stripping: read a full image's filesystem (`docker export` of a created,
 * never started container), and load the stripped image as a one-layer FROM-scratch image in
 * Docker's archive format (`docker load`), with the full image's configuration carried over.
 *
 * Why `docker load` and not a Dockerfile: the configuration (entrypoint, command, user,
 * environment, working folder, ports, health check, volumes, stop signal, labels) goes across as
 * JSON, so nothing of it is parsed as Dockerfile syntax (no quoting, no `$` expansion), and the
 * image id is the digest of that JSON: the same full image and spec give the same stripped image
 * id, byte for byte.
 */
import type Docker from 'dockerode';
import { createHash } from 'node:crypto';
import type { FsEntry, ImageFs } from './fs.ts';
import type { StripPlan } from './plan.ts';
import { contextTar, readImageTar, writeTar } from './tar.ts';

export const STRIPPED_FROM_LABEL = 'io.hardspec.stripped-from';
export const STRIPPED_FROM_ID_LABEL = 'io.hardspec.stripped-from-id';
const EXPORT_LABEL = 'io.hardspec.strip-export';

export interface FullImage {
  readonly name: string;
  readonly id: string;
  /** The image's size as Docker reports it (bytes, all layers). */
  readonly size: number;
  readonly created: string;
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
  readonly config: Readonly<Record<string, unknown>>;
}

export async function inspectFullImage(docker: Docker, name: string): Promise<FullImage | undefined> {
  try {
    const i = await docker.getImage(name).inspect() as unknown as {
      Id: string; Size: number; Created: string; Architecture: string; Os: string; Variant?: string; Config?: Record<string, unknown>;
    };
    return { name, id: i.Id, size: i.Size, created: i.Created, architecture: i.Architecture, os: i.Os, ...(i.Variant ? { variant: i.Variant } : {}), config: i.Config ?? {} };
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return undefined;
    throw e;
  }
}

/** The image's root filesystem, read through `docker export` of a container that is never started. */
export async function exportImageFs(docker: Docker, image: string): Promise<ImageFs> {
  const c = await docker.createContainer({ Image: image, Entrypoint: ['/nonexistent'], Cmd: [], NetworkDisabled: true, Labels: { [EXPORT_LABEL]: String(process.pid) }, HostConfig: { NetworkMode: 'none' } });
  try {
    const stream = await c.export();
    return await readImageTar(stream);
  } finally {
    await c.remove({ force: true, v: true }).catch(() => undefined);
  }
}

/** The config fields a stripped image carries over from its full image (Docker's image config names). */
const CARRIED = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Healthcheck', 'Volumes', 'WorkingDir', 'StopSignal', 'Labels', 'OnBuild', 'Shell'] as const;

/**
 * Pure: the entries of the stripped image's single layer, in path order. Folders get the time
 * `dirMtime` (the full image's creation): `docker export` reads a container, and creating one
 * touches the folders Docker puts its files in (/etc for hosts and resolv.conf, /), so their
 * times would differ from one export to the next.
 */
export function layerEntries(fs: ImageFs, plan: StripPlan, dirMtime = 0): { entry: FsEntry; content?: Buffer }[] {
  const kept = new Set(plan.kept.map((k) => k.entry.path));
  const out: { entry: FsEntry; content?: Buffer }[] = [];
  for (const k of plan.kept) {
    if (k.entry.path === '/') continue;
    let entry: FsEntry = { ...k.entry, mode: k.mode, ...(k.entry.type === 'dir' ? { mtime: dirMtime } : {}) };
    // A hard link whose target is not kept becomes the file itself.
    if (entry.type === 'hardlink' && (!entry.linkname || !kept.has(entry.linkname))) {
      const { linkname: _drop, ...rest } = entry;
      entry = { ...rest, type: 'file', size: fs.content(k.entry.path)?.length ?? 0 };
    }
    const content = entry.type === 'file' ? fs.content(k.entry.path) ?? Buffer.alloc(0) : undefined;
    out.push(content ? { entry, content } : { entry });
  }
  return out;
}

export interface StrippedArchive {
  /** The `docker load` archive. */
  readonly archive: Buffer;
  /** sha256:… of the image config: the image id Docker gives it. */
  readonly imageId: string;
  /** Bytes of the uncompressed layer. */
  readonly layerBytes: number;
  readonly config: Record<string, unknown>;
}

/** Pure: the stripped image as a Docker archive (manifest.json, config, one layer), deterministic. */
export function strippedArchive(fs: ImageFs, plan: StripPlan, full: FullImage, target: string): StrippedArchive {
  const layer = writeTar(layerEntries(fs, plan, Math.floor(Date.parse(full.created) / 1000) || 0));
  const diffId = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
  const carried: Record<string, unknown> = {};
  for (const k of CARRIED) if (full.config[k] !== undefined && full.config[k] !== null) carried[k] = full.config[k];
  carried.Labels = { ...(full.config.Labels as Record<string, string> | undefined ?? {}), [STRIPPED_FROM_LABEL]: full.name, [STRIPPED_FROM_ID_LABEL]: full.id };
  const config = {
    architecture: full.architecture,
    os: full.os,
    ...(full.variant ? { variant: full.variant } : {}),
    created: full.created,
    config: carried,
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created: full.created, created_by: `hardspec strip: ${plan.kept.length} entries of ${full.name} (${full.id})` }],
  };
  const configJson = Buffer.from(JSON.stringify(config));
  const configHex = createHash('sha256').update(configJson).digest('hex');
  const layerDir = diffId.slice('sha256:'.length);
  const manifest = [{ Config: `${configHex}.json`, RepoTags: [target], Layers: [`${layerDir}/layer.tar`] }];
  const archive = contextTar([
    { name: `${layerDir}/VERSION`, content: Buffer.from('1.0') },
    { name: `${layerDir}/layer.tar`, content: layer },
    { name: `${configHex}.json`, content: configJson },
    { name: 'manifest.json', content: Buffer.from(JSON.stringify(manifest)) },
  ]);
  return { archive, imageId: `sha256:${configHex}`, layerBytes: layer.length, config };
}

/** Loads the archive into the engine (`docker load`); resolves with the engine's output. */
export async function loadArchive(docker: Docker, archive: Buffer): Promise<string> {
  const stream = await docker.loadImage(archive as unknown as NodeJS.ReadableStream, { quiet: true });
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
  const text = Buffer.concat(chunks).toString('utf8');
  const err = text.split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l) as { error?: string }; } catch { return {}; } }).find((l) => l.error);
  if (err?.error) throw new Error(`docker load failed: ${err.error}`);
  return text;
}

/** Removes containers left by an interrupted export. */
export async function removeExportLeftovers(docker: Docker): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: JSON.stringify({ label: [EXPORT_LABEL] }) });
  for (const c of list) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
}
