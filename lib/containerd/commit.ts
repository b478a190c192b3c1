/**
 * `docker commit` + `docker push` natively on containerd: under a lease, diff the container's
 * snapshot against its parent (uncompressed, so the container is paused only for a copy), gzip that
 * on every core (straight into the registry upload, or into the content store when the image is kept), write the new config and manifest into the content store,
 * register the image, push it over the distribution API, then delete the image (unless kept) and
 * the lease so containerd's GC reclaims everything. The container is paused only around the diff
 * and always resumed.
 */
import { randomBytes } from "node:crypto";
import type { CommitResult } from "../commit/runtime.ts";
import type { RegistryAuth } from "../registry/credentials.ts";
import { RegistryClient } from "../registry/distribution.ts";
import { InterruptedError } from "../errors.ts";
import { log, type ProgressSink } from "../log.ts";
import { formatImageRef, parseImageRef, type ImageRef } from "../image/ref.ts";
import type { Container } from "../../proto/gen/containerd/services/containers/v1/containers_pb.ts";
import type { CallOptions } from "@connectrpc/connect";
import { containerdError, isAlreadyExists, type ContainerdClient } from "./client.ts";
import { contentStream, writeContent } from "./content.ts";
import { diffContainerSnapshot, snapshotUpperDir } from "./snapshot-diff.ts";
import { registryApiHost } from "../registry/host.ts";
import { type AuthResolver, type BaseImage, loadBaseImage, resolveBaseImageName } from "./base-image.ts";
import type { ImageHints } from "./base-image-name.ts";
import { MEDIA, manifestGcLabels, type ImageManifest } from "./image-builders.ts";
import { buildCommittedImage, hashing, pushCommittedImage, uploadNewLayer, type LocalBlob } from "../commit/push-image.ts";
import { DEFAULT_LEVEL, parallelCompress, type Compression } from "../commit/compress.ts";
import type { LayerSource } from "../commit/runtime.ts";
import { UpperDirUnusable, upperDirTar, walkUpperDir, type UpperWalk } from "../commit/upper-dir.ts";
import { contentInfo } from "./content.ts";

const UNCOMPRESSED_LABEL = "containerd.io/uncompressed";
/** The label naming the container on seelie's leases, so one can tell whose they are. */
export const LEASE_CONTAINER_LABEL = "seelie.io/container";

/** Options of commitContainerdContainer (the RuntimeContainer.commit options plus what containerd needs). */
export interface ContainerdCommitOptions {
  image: string;
  push: boolean;
  auth?: RegistryAuth;
  keepImage: boolean;
  pause: boolean;
  progress: ProgressSink;
  signal?: AbortSignal;
  timings: Record<string, number>;
  /** Credentials of other registries (the base image's, when it is not the target's). */
  resolveAuth?: AuthResolver;
  /** Pause and resume the task; given by the container so its state stays in sync. */
  pauseTask: () => Promise<void>;
  resumeTask: () => Promise<void>;
  /** Whether the task runs and is not already paused (only then is it paused here). */
  shouldPause: boolean;
  /** What the container records about its image (see base-image-name.ts). */
  imageHints: ImageHints;
  /** Where the new layer comes from (default auto) and how it is compressed (default gzip 6). */
  layerSource?: LayerSource;
  compression?: { kind: Compression; level: number };
  /** Where the host's / is mounted (the snapshot's upper directory is read under it). */
  hostPrefix?: string;
  /** Registry client options for tests (attempts, back-off). */
  registryOptions?: { attempts?: number; backoffMs?: number; insecure?: boolean };
}

async function timed<T>(timings: Record<string, number>, name: string, fn: () => Promise<T>): Promise<T> {
  const t = performance.now();
  try {
    return await fn();
  } finally {
    timings[name] = Math.round((timings[name] ?? 0) + performance.now() - t);
  }
}

function checkAbort(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new InterruptedError(what);
}

/** The target digest of image `name`, or undefined when there is no such image. */
async function imageTarget(c: ContainerdClient, name: string): Promise<string | undefined> {
  try {
    return (await c.images.get({ name })).image?.target?.digest;
  } catch {
    return undefined;
  }
}

/**
 * The CRI plugin answers an image created in its namespace without its label by adding an image
 * named after the config digest (its "image id") and re-creating the image with the label, from the
 * create event, asynchronously: a quick delete could then be undone. Created with the label, the
 * image is left alone. Should an id reference still point at our manifest, it goes too.
 */
const CRI_MANAGED_LABEL = { "io.cri-containerd.image": "managed" };

async function deleteCriIdReference(c: ContainerdClient, idName: string, manifestDigest: string): Promise<void> {
  if ((await imageTarget(c, idName)) === manifestDigest) await c.images.delete({ name: idName, sync: false }).catch(() => undefined);
}

/** What every step of one commit needs: the client, the container, the options and the commit's lease. */
interface CommitRun {
  c: ContainerdClient;
  container: Container;
  opts: ContainerdCommitOptions;
  target: ImageRef;
  /** The target as a formatted reference: the name of the local image. */
  name: string;
  leaseId: string;
  /** Call options that put what a call creates under the lease. */
  call: CallOptions;
}

/** The container's changes as read: an upper-directory walk, or an uncompressed diff in the content store. */
interface ReadChanges {
  walk?: UpperWalk;
  raw?: { digest: string; size: number };
}

/** The local image registered for the commit (deleted in the clean-up unless kept). */
interface CreatedImage {
  manifestDigest: string;
  /** The CRI plugin's id reference to delete too, when it did not exist before. */
  criIdName?: string;
}

/** Commits (and pushes) `container`; see the file comment. Cleans up on success, failure and abort. */
export async function commitContainerdContainer(
  c: ContainerdClient,
  container: Container,
  opts: ContainerdCommitOptions,
): Promise<CommitResult> {
  const target = parseImageRef(opts.image, "image reference");
  const name = formatImageRef(target);
  const { timings, progress, signal } = opts;
  const started = performance.now();
  const leaseId = `seelie-commit-${randomBytes(6).toString("hex")}`;
  const run: CommitRun = { c, container, opts, target, name, leaseId, call: c.leased(leaseId, { signal }) };
  await createCommitLease(run);
  let created: CreatedImage | undefined;
  try {
    const base = await timed(timings, "base_image", async () =>
      loadBaseImage(c, await resolveBaseImageName(c, opts.imageHints), { resolveAuth: opts.resolveAuth, signal }),
    );
    checkAbort(signal, "commit");
    const compression = opts.compression ?? { kind: "gzip" as const, level: DEFAULT_LEVEL.gzip };
    const upper = await upperDirToRead(run);
    const changes = await readContainerChanges(run, upper);
    checkAbort(signal, "commit");
    const registry = opts.push
      ? new RegistryClient({ registry: registryApiHost(target.domain), auth: opts.auth, signal, ...opts.registryOptions })
      : undefined;
    const layer = await writeNewLayer(run, changes, compression, registry);
    checkAbort(signal, "commit");
    progress(`new layer ${layer.digest} (${layer.size} bytes)`);

    const { manifest, manifestBytes, configBytes, image } = await timed(timings, "image", () =>
      writeContentsForImage(run, base, layer, compression.kind),
    );
    created = image;
    checkAbort(signal, "commit");

    // Not pushed: the local image id, which for containerd's CRI plugin (as for Docker) is the config digest.
    let digest = manifest.config.digest;
    if (registry) digest = await pushImage(run, registry, { manifest, manifestBytes, configBytes, base });
    return {
      image: name,
      digest,
      size: manifest.layers.reduce((n, l) => n + l.size, 0),
      layers: manifest.layers.length,
      layerSource: changes.walk ? "upperdir" : "api",
    };
  } finally {
    await timed(timings, "cleanup", () => cleanUpCommit(run, created));
    timings.commit_total = Math.round(performance.now() - started);
  }
}

async function createCommitLease({ c, leaseId, container }: CommitRun): Promise<void> {
  try {
    await c.leases.create({
      id: leaseId,
      // A safety net: should this process die, GC still reclaims what the lease holds after an hour.
      labels: { "containerd.io/gc.expire": new Date(Date.now() + 3600_000).toISOString(), [LEASE_CONTAINER_LABEL]: container.id },
    });
  } catch (err) {
    throw containerdError(err, c.socketPath, "create lease");
  }
}

/** The snapshot's upper directory to read the layer from; undefined: the diff service makes it. */
async function upperDirToRead({ c, container, opts }: CommitRun): Promise<string | undefined> {
  const upper = opts.layerSource === "api" ? undefined : await snapshotUpperDir(c, container, opts.hostPrefix);
  if (opts.layerSource === "upperdir" && !upper) {
    throw new UpperDirUnusable(`container ${container.id} has no overlayfs upper directory (snapshotter "${container.snapshotter}")`, {
      hint: "use --layer-source api (or auto) on this snapshotter",
    });
  }
  return upper;
}

/** Reads the container's changes, paused when asked; the container is resumed whatever happens. */
async function readContainerChanges({ c, container, opts, leaseId }: CommitRun, upper: string | undefined): Promise<ReadChanges> {
  const { timings, progress, signal } = opts;
  const pausing = opts.pause && opts.shouldPause;
  progress(`reading container ${container.id}'s changes ${upper ? `from ${upper}` : "with the diff service"}${pausing ? " (paused)" : ""}`);
  const read: ReadChanges = {};
  await timed(timings, "diff", async () => {
    const pausedAt = performance.now();
    try {
      // Inside the try: a pause that fails half-way is still followed by a resume.
      if (pausing) await opts.pauseTask();
      if (upper) {
        try {
          read.walk = walkUpperDir(upper);
        } catch (err) {
          if (!(err instanceof UpperDirUnusable) || opts.layerSource === "upperdir") throw err;
          log.warn(`${err.message}; falling back to the diff service (slower)${err.hint ? ` (${err.hint})` : ""}`);
        }
      }
      // Uncompressed: the diff is then a plain copy, so the pause stays short; compression follows.
      if (!read.walk) read.raw = await diffContainerSnapshot(c, container, { leaseId, mediaType: MEDIA.ociLayer, signal });
    } finally {
      if (pausing) {
        await opts.resumeTask();
        timings.paused = Math.round(performance.now() - pausedAt);
      }
    }
  });
  return read;
}

/** Compresses the changes into the new layer: into the registry upload, or into the content store. */
async function writeNewLayer(
  run: CommitRun,
  { walk, raw }: ReadChanges,
  compression: { kind: Compression; level: number },
  registry: RegistryClient | undefined,
): Promise<{ digest: string; size: number; diffId: string }> {
  const { c, opts, target } = run;
  const { timings, progress, signal } = opts;
  const changed = new Set<string>();
  const open = (): ReadableStream<Uint8Array> =>
    walk ? upperDirTar(walk, { onChanged: (p) => changed.add(p) }) : contentStream(c, raw!.digest, signal);
  let layer: { digest: string; size: number; diffId: string };
  if (registry && !opts.keepImage) {
    // Compressed straight into the registry, in step with the upload: the local image is removed
    // right after, so the compressed layer never needs to sit in the content store (an image whose
    // layers are not all in the store is what the kubelet's pulls leave too).
    progress(`compressing (${compression.kind}) and uploading the new layer`);
    layer = await timed(timings, "compress_upload", () => uploadNewLayer(registry, target.path, open, compression));
  } else {
    progress(`compressing (${compression.kind}) the new layer`);
    layer = await timed(timings, "compress", () => compressIntoContentStore(run, open, compression));
  }
  if (changed.size)
    log.warn(
      `changed while being read (committed as read, after the pause): ${[...changed].slice(0, 20).join(", ")}${changed.size > 20 ? " …" : ""}`,
    );
  return layer;
}

/** Writes the compressed layer into the content store, labelled with its uncompressed digest. */
async function compressIntoContentStore(
  { c, leaseId, call }: CommitRun,
  open: () => ReadableStream<Uint8Array>,
  compression: { kind: Compression; level: number },
): Promise<{ digest: string; size: number; diffId: string }> {
  const h = hashing();
  let diffId: string | undefined;
  const id = () => (diffId ??= h.digest());
  // The label is read when the write commits, after the whole layer went through the hash.
  const labels = Object.defineProperty({} as Record<string, string>, UNCOMPRESSED_LABEL, { get: id, enumerable: true });
  const stored = await writeContent(c, open().pipeThrough(h.stream).pipeThrough(parallelCompress(compression)), {
    ref: `seelie-layer-${leaseId}`,
    labels,
    call,
  });
  return { ...stored, diffId: id() };
}

/** Writes the new config and manifest into the content store and registers the image. */
async function writeContentsForImage(
  run: CommitRun,
  base: BaseImage,
  layer: { digest: string; size: number; diffId: string },
  compression: Compression,
): Promise<{ manifest: ImageManifest; manifestBytes: Uint8Array; configBytes: Uint8Array; image: CreatedImage }> {
  const { c, container, leaseId, call } = run;
  const built = buildCommittedImage(base, layer, {
    comment: `committed from container ${container.id}`,
    compression,
  });
  const { configBytes, configDigest, manifest, manifestBytes, manifestDigest } = built;
  await writeContent(c, configBytes, { ref: `seelie-config-${leaseId}`, digest: configDigest, size: configBytes.length, call });
  await writeContent(c, manifestBytes, {
    ref: `seelie-manifest-${leaseId}`,
    digest: manifestDigest,
    size: manifestBytes.length,
    labels: manifestGcLabels(manifest),
    call,
  });
  const image = await createImage(run, manifest, manifestBytes, manifestDigest, configDigest);
  return { manifest, manifestBytes, configBytes, image };
}

/** Registers the image (replacing one of that name), so the CRI plugin sees it. */
async function createImage(
  { c, name, call }: CommitRun,
  manifest: ImageManifest,
  manifestBytes: Uint8Array,
  manifestDigest: string,
  configDigest: string,
): Promise<CreatedImage> {
  const image = {
    name,
    labels: { ...CRI_MANAGED_LABEL },
    target: {
      mediaType: manifest.mediaType ?? MEDIA.ociManifest,
      digest: manifestDigest,
      size: BigInt(manifestBytes.length),
      annotations: {},
    },
  };
  const criBefore = await imageTarget(c, configDigest);
  try {
    await c.images.create({ image }, call);
  } catch (err) {
    if (!isAlreadyExists(err)) throw containerdError(err, c.socketPath, `create image ${name}`);
    await c.images.delete({ name, sync: false }, call);
    await c.images.create({ image }, call).catch((e) => {
      throw containerdError(e, c.socketPath, `create image ${name}`);
    });
  }
  return { manifestDigest, criIdName: criBefore === undefined ? configDigest : undefined };
}

/** Pushes the committed image; its layers the content store holds are uploaded from there. Returns the pushed digest. */
async function pushImage(
  { c, opts, target }: CommitRun,
  registry: RegistryClient,
  image: { manifest: ImageManifest; manifestBytes: Uint8Array; configBytes: Uint8Array; base: BaseImage },
): Promise<string> {
  const { timings, progress, signal } = opts;
  const resolveAuth: AuthResolver = async (domain) =>
    registryApiHost(domain) === registry.registry ? opts.auth : opts.resolveAuth?.(domain);
  const localBlob: LocalBlob = async (d) => ((await contentInfo(c, d)) ? () => contentStream(c, d, signal) : undefined);
  const report = await timed(timings, "push", () =>
    pushCommittedImage({ target, registry, ...image, localBlob, resolveAuth, progress, signal }),
  );
  return report.digest;
}

/** Deletes the local image (unless kept) and the lease, so containerd's GC reclaims what the commit wrote. */
async function cleanUpCommit({ c, opts, name, leaseId }: CommitRun, created: CreatedImage | undefined): Promise<void> {
  if (created && !opts.keepImage) {
    await c.images
      .delete({ name, sync: false })
      .catch((err) => log.warn(`could not delete the local image ${name}: ${containerdError(err, c.socketPath, "delete image").message}`));
    if (created.criIdName) await deleteCriIdReference(c, created.criIdName, created.manifestDigest);
  }
  // sync: GC runs before Delete returns, so nothing the lease held survives this call.
  await c.leases
    .delete({ id: leaseId, sync: true })
    .catch((err) =>
      log.warn(
        `could not delete the lease ${leaseId} (containerd's GC reclaims it within an hour): ${containerdError(err, c.socketPath, "delete lease").message}`,
      ),
    );
}
