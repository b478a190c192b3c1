/**
 * Pure builders of the committed image: its config (base config + one layer + a history entry) and
 * its manifest (base layers + the new one), in the base image's media-type family (OCI or Docker).
 */
import { SeelieError } from "../errors.ts";

/** A content descriptor as it appears in manifests. */
export interface OciDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { os: string; architecture: string; variant?: string };
}

/** An image manifest (OCI or Docker v2 schema 2). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: OciDescriptor;
  layers: OciDescriptor[];
  annotations?: Record<string, string>;
}

/** An image index / manifest list. */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: OciDescriptor[];
}

/** The parts of an image config seelie touches; everything else is kept as is. */
export interface ImageConfig {
  created?: string;
  architecture?: string;
  os?: string;
  config?: Record<string, unknown>;
  rootfs: { type: string; diff_ids: string[] };
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean; author?: string }[];
  [key: string]: unknown;
}

/** The OCI and Docker media types of images, configs and layers. */
export const MEDIA = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
} as const;

/** True for an index or a Docker manifest list. */
export function isIndexMediaType(mt: string | undefined): boolean {
  return mt === MEDIA.ociIndex || mt === MEDIA.dockerList;
}

/** True for a Docker (not OCI) manifest. */
export function isDockerManifest(m: { mediaType?: string }): boolean {
  return m.mediaType === MEDIA.dockerManifest;
}

/** The Go architecture name of a Node one (`x64` → `amd64`). */
export function goArch(nodeArch: string = process.arch): string {
  return (
    ({ x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x" } as Record<string, string>)[nodeArch] ??
    nodeArch
  );
}

/** Picks the manifest for `os/arch` out of an index; throws naming the image when none matches. */
export function pickPlatformManifest(index: ImageIndex, image: string, os = "linux", arch = goArch()): OciDescriptor {
  const m =
    index.manifests.find((d) => d.platform?.os === os && d.platform?.architecture === arch) ??
    (index.manifests.length === 1 ? index.manifests[0] : undefined);
  if (!m) {
    throw new SeelieError(`the base image ${image} has no manifest for ${os}/${arch}`, {
      hint: "commit on a node of a platform the base image supports",
    });
  }
  return m;
}

/**
 * The committed image's config: the base config (env, cmd, entrypoint, working dir, labels… kept),
 * the new layer's uncompressed digest appended to `rootfs.diff_ids` and a history entry for it.
 */
export function buildCommitConfig(
  base: ImageConfig,
  diffId: string,
  opts: { created: string; createdBy?: string; comment?: string },
): ImageConfig {
  if (!base.rootfs || !Array.isArray(base.rootfs.diff_ids)) {
    throw new SeelieError("the base image's config has no rootfs.diff_ids", { hint: "the base image looks corrupt; pull it again" });
  }
  const out: ImageConfig = structuredClone(base);
  out.created = opts.created;
  out.rootfs = { type: "layers", diff_ids: [...base.rootfs.diff_ids, diffId] };
  const entry: NonNullable<ImageConfig["history"]>[number] = { created: opts.created, created_by: opts.createdBy ?? "seelie commit" };
  if (opts.comment) entry.comment = opts.comment;
  out.history = [...(base.history ?? []), entry];
  // Docker's per-container fields describe the base's build container, not this commit.
  delete out.container;
  delete out.container_config;
  return out;
}

/** Serialises JSON the way it is stored and pushed (compact, UTF-8). */
export function jsonBytes(v: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(v));
}

/** The OCI media type standing for a Docker one (layers, config), for a manifest turned OCI. */
const DOCKER_TO_OCI: Record<string, string> = {
  [MEDIA.dockerLayerGzip]: MEDIA.ociLayerGzip,
  [MEDIA.dockerConfig]: MEDIA.ociConfig,
  "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
};

/**
 * The committed image's manifest: the base manifest's layers plus `layer`, pointing at `config`,
 * in the base's media-type family (the layer's and config's media types follow it too). A zstd layer
 * has no Docker media type, so with zstd the manifest is OCI whatever the base's family.
 */
export function buildCommitManifest(
  base: ImageManifest,
  config: { digest: string; size: number },
  layer: { digest: string; size: number },
  compression: "gzip" | "zstd" = "gzip",
): ImageManifest {
  const docker = isDockerManifest(base) && compression === "gzip";
  const layerType = compression === "zstd" ? MEDIA.ociLayerZstd : docker ? MEDIA.dockerLayerGzip : MEDIA.ociLayerGzip;
  return {
    schemaVersion: 2,
    mediaType: docker ? MEDIA.dockerManifest : MEDIA.ociManifest,
    config: { mediaType: docker ? MEDIA.dockerConfig : MEDIA.ociConfig, digest: config.digest, size: config.size },
    layers: [
      ...base.layers.map((l) => ({ ...l, mediaType: docker ? l.mediaType : (DOCKER_TO_OCI[l.mediaType] ?? l.mediaType) })),
      { mediaType: layerType, digest: layer.digest, size: layer.size },
    ],
  };
}

/** containerd's GC labels that keep a manifest's config and layers alive while the manifest is. */
export function manifestGcLabels(m: ImageManifest): Record<string, string> {
  const labels: Record<string, string> = { "containerd.io/gc.ref.content.config": m.config.digest };
  m.layers.forEach((l, i) => {
    labels[`containerd.io/gc.ref.content.l.${i}`] = l.digest;
  });
  return labels;
}
