/**
 * The base image of a Docker container as the push needs it: its manifest and config from a
 * registry it was pulled from (one of the image's RepoDigests whose config is the image's id), so
 * its layers can be mounted or copied; else (an image built or loaded on the node) its layers are
 * uploaded from `docker save`, compressed as the new layer is.
 */
import type Docker from "dockerode";
import { errorMessage, SeelieError } from "../errors.ts";
import { parseImageRef } from "../image/ref.ts";
import type { ProgressSink } from "../log.ts";
import { RegistryClient } from "../registry/distribution.ts";
import type { AuthResolver } from "../containerd/base-image.ts";
import { registryApiHost } from "../registry/host.ts";
import {
  isIndexMediaType,
  MEDIA,
  pickPlatformManifest,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  type OciDescriptor,
} from "../containerd/image-builders.ts";
import type { Compression } from "./compress.ts";
import type { CommitBase } from "./push-image.ts";
import { uploadNewLayer } from "./push-image.ts";
import { forEachSavedLayer } from "./docker-save.ts";

const dec = new TextDecoder();

/** The base from a registry the image was pulled from, or undefined when none has it (or none answers). */
export async function dockerBaseFromRegistry(
  docker: Docker,
  imageId: string,
  opts: {
    resolveAuth?: AuthResolver;
    signal?: AbortSignal;
    progress: ProgressSink;
    registryOptions?: { attempts?: number; backoffMs?: number };
  },
): Promise<CommitBase | undefined> {
  const info = await docker.getImage(imageId).inspect();
  for (const rd of info.RepoDigests ?? []) {
    try {
      const ref = parseImageRef(rd, "RepoDigest");
      if (!ref.digest) continue;
      const reg = new RegistryClient({
        registry: registryApiHost(ref.domain),
        auth: await opts.resolveAuth?.(ref.domain),
        signal: opts.signal,
        attempts: 1,
        ...opts.registryOptions,
      });
      let m = await reg.getManifest(ref.path, ref.digest);
      let doc = JSON.parse(dec.decode(m.bytes)) as ImageManifest | ImageIndex;
      if (isIndexMediaType(m.mediaType) || "manifests" in doc) {
        m = await reg.getManifest(ref.path, pickPlatformManifest(doc as ImageIndex, rd).digest);
        doc = JSON.parse(dec.decode(m.bytes)) as ImageManifest;
      }
      const manifest = doc as ImageManifest;
      if (manifest.config?.digest !== info.Id) continue;
      const config = JSON.parse(
        dec.decode(new Uint8Array(await new Response(await reg.getBlob(ref.path, manifest.config.digest)).arrayBuffer())),
      ) as ImageConfig;
      return { ref, manifest, config };
    } catch (err) {
      opts.progress(`base image ${rd}: ${errorMessage(err)}; its layers will be uploaded from this node`);
    }
  }
  return undefined;
}

/**
 * Uploads the layers of a base image that is in no registry to `repo`, from `docker save`, and
 * returns it as a base with a manifest of those uploads.
 */
export async function uploadDockerBase(
  socket: string,
  imageId: string,
  registry: RegistryClient,
  repo: string,
  compression: { kind: Compression; level: number },
  opts: { progress: ProgressSink; signal?: AbortSignal },
): Promise<CommitBase> {
  const byDiff = new Map<string, OciDescriptor>();
  const mediaType = compression.kind === "zstd" ? MEDIA.ociLayerZstd : MEDIA.ociLayerGzip;
  opts.progress(`the base image ${imageId.slice(0, 19)} is in no registry: uploading its layers from this node`);
  const configBytes = await forEachSavedLayer(
    socket,
    imageId,
    imageId,
    async (layer) => {
      let used = false;
      const up = await uploadNewLayer(
        registry,
        repo,
        () => {
          if (used) throw new SeelieError("a docker save stream cannot be read twice");
          used = true;
          return layer;
        },
        compression,
      );
      byDiff.set(up.diffId, { mediaType, digest: up.digest, size: up.size });
    },
    opts.signal,
  );
  const config = JSON.parse(dec.decode(configBytes)) as ImageConfig;
  const layers = (config.rootfs?.diff_ids ?? []).map((d) => {
    const l = byDiff.get(d);
    if (!l)
      throw new SeelieError(`docker save of ${imageId} lacks the layer ${d}`, {
        hint: "push the base image to a registry and pull it from there",
      });
    return l;
  });
  return {
    manifest: {
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.ociConfig, digest: imageId, size: configBytes.length },
      layers,
    },
    config,
  };
}
