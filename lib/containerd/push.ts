/**
 * Pushes a committed image from containerd's content store to a registry over the distribution
 * API. Layers the content store lacks (common for kubelet-pulled bases) are mounted from the base
 * repository when it is in the same registry, else copied blob by blob from the base's registry.
 */
import type { ProgressSink } from "../log.ts";
import { RegistryClient } from "../registry/distribution.ts";
import type { ImageRef } from "../image/ref.ts";
import type { ContainerdClient } from "./client.ts";
import { contentInfo, contentStream } from "./content.ts";
import type { BaseImage, AuthResolver } from "./base-image.ts";
import { registryApiHost } from "./base-image.ts";
import type { ImageManifest } from "./image-builders.ts";
import { gcPaced } from "../util/gc-pacer.ts";

/** What a push did with each blob, for the result and the tests. */
export interface PushReport {
  digest: string;
  existing: number;
  mounted: number;
  uploaded: number;
  copied: number;
  bytesSent: number;
}

const short = (d: string) => d.replace(/^sha256:/, "").slice(0, 12);

/** Pushes `manifest` (whose config and new layer are in the content store) to `target`. */
export async function pushImage(
  c: ContainerdClient,
  opts: {
    target: ImageRef;
    registry: RegistryClient;
    manifest: ImageManifest;
    manifestBytes: Uint8Array;
    configBytes: Uint8Array;
    base: BaseImage;
    resolveAuth?: AuthResolver;
    progress: ProgressSink;
    signal?: AbortSignal;
  },
): Promise<PushReport> {
  const { registry, target, manifest, base, progress } = opts;
  const repo = target.path;
  const sameRegistry = registryApiHost(base.ref.domain) === registry.registry;
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
    if (sameRegistry && base.manifest.layers.some((l) => l.digest === d) && (await registry.mountBlob(repo, d, base.ref.path))) {
      report.mounted++;
      progress(`layer ${short(d)}: mounted from ${base.ref.path}`);
      continue;
    }
    if (await contentInfo(c, d)) {
      progress(`layer ${short(d)}: uploading ${layer.size} bytes`);
      await registry.uploadBlob(repo, { digest: d, size: layer.size }, () => contentStream(c, d, opts.signal));
      report.uploaded++;
      report.bytesSent += layer.size;
      continue;
    }
    baseRegistry ??= sameRegistry
      ? registry
      : new RegistryClient({ registry: registryApiHost(base.ref.domain), auth: await opts.resolveAuth?.(base.ref.domain), signal: opts.signal });
    const from = baseRegistry;
    progress(`layer ${short(d)}: copying ${layer.size} bytes from ${from.registry}/${base.ref.path}`);
    // Paced like contentStream: a base layer can be hundreds of MB of short-lived fetch buffers.
    await registry.uploadBlob(repo, { digest: d, size: layer.size }, async () => (await from.getBlob(base.ref.path, d)).pipeThrough(gcPaced()));
    report.copied++;
    report.bytesSent += layer.size;
  }
  const cfg = manifest.config;
  if ((await registry.blobSize(repo, cfg.digest)) === undefined) {
    await registry.uploadBlob(repo, { digest: cfg.digest, size: cfg.size }, () => new Blob([opts.configBytes]).stream());
    report.bytesSent += cfg.size;
  }
  const reference = target.tag ?? "latest";
  report.digest = await registry.putManifest(repo, reference, manifest.mediaType ?? "application/vnd.oci.image.manifest.v1+json", opts.manifestBytes);
  progress(`pushed ${registry.registry}/${repo}:${reference}@${report.digest}`);
  return report;
}
