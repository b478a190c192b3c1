/**
 * The one push path of the committer, for both runtimes: the new layer is uploaded as it is
 * compressed on every core (one streamed upload; its digest, and the uncompressed diff_id, computed
 * on the way), then the base layers are found in the target, cross-repo mounted or copied (or
 * uploaded from the runtime's store), then the config and the manifest are written.
 */
import { SeelieError } from "../errors.ts";
import type { ProgressSink } from "../log.ts";
import { RegistryClient, sha256Digest } from "../registry/distribution.ts";
import type { ImageRef } from "../image/ref.ts";
import type { AuthResolver } from "../containerd/base-image.ts";
import { registryApiHost } from "../registry/host.ts";
import { buildCommitConfig, buildCommitManifest, jsonBytes, type ImageConfig, type ImageManifest } from "../containerd/image-builders.ts";
import { gcPaced } from "../util/gc-pacer.ts";
import { parallelCompress, type Compression } from "./compress.ts";

/** The image a container was created from, as the push needs it. */
export interface CommitBase {
  /** Where the base's layers are in a registry (for a mount or a copy); undefined when they are not. */
  ref?: ImageRef;
  manifest: ImageManifest;
  config: ImageConfig;
}

/** What a push did with each blob, for the result and the tests. */
export interface PushReport {
  digest: string;
  existing: number;
  mounted: number;
  uploaded: number;
  copied: number;
  bytesSent: number;
}

/** A blob the runtime holds itself (containerd's content store), opened for an upload. */
export type LocalBlob = (digest: string) => Promise<(() => ReadableStream<Uint8Array>) | undefined>;

const short = (d: string) => d.replace(/^sha256:/, "").slice(0, 12);

/** A pass-through that hashes what goes through it (sha256), for the uncompressed layer's diff_id. */
export function hashing(): { stream: TransformStream<Uint8Array, Uint8Array>; digest: () => string; size: () => number } {
  const h = new Bun.CryptoHasher("sha256");
  let n = 0;
  return {
    stream: new TransformStream({
      transform(chunk, ctrl) {
        h.update(chunk);
        n += chunk.length;
        ctrl.enqueue(chunk);
      },
    }),
    digest: () => `sha256:${h.digest("hex")}`,
    size: () => n,
  };
}

/** The new layer after its upload: compressed digest and size, uncompressed digest (diff_id) and size. */
export interface UploadedLayer {
  digest: string;
  size: number;
  diffId: string;
  rawSize: number;
}

/**
 * Compresses the uncompressed layer tar `open()` gives on every core straight into one streamed
 * upload to `repo`. `open()` is called again when the upload is retried. The one place that paces
 * garbage collection for a new layer, whatever reads it (upper directory, docker save, content store).
 */
export async function uploadNewLayer(
  registry: RegistryClient,
  repo: string,
  open: () => ReadableStream<Uint8Array> | Promise<ReadableStream<Uint8Array>>,
  compression: { kind: Compression; level: number },
): Promise<UploadedLayer> {
  let h: ReturnType<typeof hashing> | undefined;
  const up = await registry.uploadStream(repo, async () => {
    h = hashing();
    return (await open())
      .pipeThrough(h.stream)
      .pipeThrough(parallelCompress({ kind: compression.kind, level: compression.level }))
      .pipeThrough(gcPaced());
  });
  return { ...up, diffId: h!.digest(), rawSize: h!.size() };
}

/** The committed image's config and manifest, as bytes, from the base and the new layer. */
export function buildCommittedImage(
  base: CommitBase,
  layer: { digest: string; size: number; diffId: string },
  opts: { comment: string; compression: Compression; created?: string },
): {
  config: ImageConfig;
  configBytes: Uint8Array;
  configDigest: string;
  manifest: ImageManifest;
  manifestBytes: Uint8Array;
  manifestDigest: string;
} {
  const config = buildCommitConfig(base.config, layer.diffId, { created: opts.created ?? new Date().toISOString(), comment: opts.comment });
  const configBytes = jsonBytes(config);
  const configDigest = sha256Digest(configBytes);
  const manifest = buildCommitManifest(base.manifest, { digest: configDigest, size: configBytes.length }, layer, opts.compression);
  const manifestBytes = jsonBytes(manifest);
  return { config, configBytes, configDigest, manifest, manifestBytes, manifestDigest: sha256Digest(manifestBytes) };
}

/**
 * Pushes `manifest` to `target`: each layer already there is skipped, a base layer in the same
 * registry is mounted, one the runtime holds (`localBlob`) is uploaded from it, any other is copied
 * blob by blob from the base's registry; then the config and the manifest (by tag).
 */
export async function pushCommittedImage(opts: {
  target: ImageRef;
  registry: RegistryClient;
  manifest: ImageManifest;
  manifestBytes: Uint8Array;
  configBytes: Uint8Array;
  base: CommitBase;
  localBlob?: LocalBlob;
  resolveAuth?: AuthResolver;
  progress: ProgressSink;
  signal?: AbortSignal;
}): Promise<PushReport> {
  const { registry, target, manifest, base, progress } = opts;
  const repo = target.path;
  const baseRef = base.ref;
  const sameRegistry = baseRef !== undefined && registryApiHost(baseRef.domain) === registry.registry;
  let baseRegistry: RegistryClient | undefined;
  const report: PushReport = { digest: "", existing: 0, mounted: 0, uploaded: 0, copied: 0, bytesSent: 0 };
  await registry.ping();
  for (const layer of manifest.layers) {
    const d = layer.digest;
    if ((await registry.blobSize(repo, d)) !== undefined) {
      report.existing++;
      progress(`layer ${short(d)}: already in ${repo}`);
      continue;
    }
    const isBase = base.manifest.layers.some((l) => l.digest === d);
    if (sameRegistry && isBase && (await registry.mountBlob(repo, d, baseRef.path))) {
      report.mounted++;
      progress(`layer ${short(d)}: mounted from ${baseRef.path}`);
      continue;
    }
    const local = await opts.localBlob?.(d);
    if (local) {
      progress(`layer ${short(d)}: uploading ${layer.size} bytes`);
      await registry.uploadBlob(repo, { digest: d, size: layer.size }, local);
      report.uploaded++;
      report.bytesSent += layer.size;
      continue;
    }
    if (!baseRef || !isBase) {
      throw new SeelieError(`layer ${d} of ${target.path} is neither in the registry nor held on this node`, {
        hint: "the base image's layers are gone; pull the base image again",
      });
    }
    baseRegistry ??= sameRegistry
      ? registry
      : new RegistryClient({
          registry: registryApiHost(baseRef.domain),
          auth: await opts.resolveAuth?.(baseRef.domain),
          signal: opts.signal,
        });
    const from = baseRegistry;
    progress(`layer ${short(d)}: copying ${layer.size} bytes from ${from.registry}/${baseRef.path}`);
    // Paced: a base layer can be hundreds of MB of short-lived fetch buffers.
    await registry.uploadBlob(repo, { digest: d, size: layer.size }, async () =>
      (await from.getBlob(baseRef.path, d)).pipeThrough(gcPaced()),
    );
    report.copied++;
    report.bytesSent += layer.size;
  }
  const cfg = manifest.config;
  if ((await registry.blobSize(repo, cfg.digest)) === undefined) {
    await registry.uploadBlob(repo, { digest: cfg.digest, size: cfg.size }, () => new Blob([opts.configBytes]).stream());
    report.bytesSent += cfg.size;
  }
  const reference = target.tag ?? "latest";
  report.digest = await registry.putManifest(
    repo,
    reference,
    manifest.mediaType ?? "application/vnd.oci.image.manifest.v1+json",
    opts.manifestBytes,
  );
  progress(`pushed ${registry.registry}/${repo}:${reference}@${report.digest}`);
  return report;
}
