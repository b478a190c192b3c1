/**
 * The image a container was created from: its manifest and config, read from containerd's content
 * store, or from the image's registry when the store lacks them.
 */
import type { RegistryAuth } from "../registry/credentials.ts";
import { RegistryClient } from "../registry/distribution.ts";
import { SeelieError } from "../errors.ts";
import { formatImageRef, parseImageRef, type ImageRef } from "../image/ref.ts";
import { containerdError, isNotFound, type ContainerdClient } from "./client.ts";
import { contentInfo, readContent } from "./content.ts";
import { nameForId, type ImageHints } from "./base-image-name.ts";
import { isIndexMediaType, pickPlatformManifest, type ImageConfig, type ImageIndex, type ImageManifest } from "./image-builders.ts";
import { registryApiHost } from "../registry/host.ts";

/** The resolved base image of a container. */
export interface BaseImage {
  /** The name as containerd records it on the container. */
  name: string;
  ref: ImageRef;
  manifest: ImageManifest;
  manifestDigest: string;
  config: ImageConfig;
}

/**
 * The name of the image a container was created from: a recorded name, else the name of an image
 * sharing the target of a recorded image id. Empty when nothing is recorded.
 */
export async function resolveBaseImageName(c: ContainerdClient, hints: ImageHints): Promise<string> {
  if (hints.names[0]) return hints.names[0];
  for (const id of hints.ids) {
    let digest: string | undefined;
    try {
      digest = (await c.images.get({ name: id })).image?.target?.digest;
    } catch (err) {
      if (!isNotFound(err)) throw containerdError(err, c.socketPath, `get image ${id}`);
    }
    if (!digest) continue;
    try {
      const all = (await c.images.list({ filters: [`target.digest==${digest}`] })).images.map((i) => i.name);
      const name = nameForId(all);
      if (name) return name;
    } catch (err) {
      throw containerdError(err, c.socketPath, `list images of ${digest}`);
    }
  }
  return "";
}

/** Finds credentials for a registry host (e.g. from a Docker config); undefined means anonymous. */
export type AuthResolver = (registry: string) => Promise<RegistryAuth | undefined>;

const dec = new TextDecoder();

/**
 * Loads the manifest and config of `imageName`: the image record's target from containerd, each
 * blob from the content store when present, else from the registry (with `resolveAuth`'s credentials).
 */
export async function loadBaseImage(
  c: ContainerdClient,
  imageName: string,
  opts: { resolveAuth?: AuthResolver; signal?: AbortSignal },
): Promise<BaseImage> {
  if (!imageName) {
    throw new SeelieError("the container records no image name, so its base image is unknown", {
      hint: "commit containers created from an image (as the kubelet creates them)",
    });
  }
  const ref = parseImageRef(imageName, "base image name");
  // containerd stores names fully qualified (docker.io/library/x:tag); a CRI annotation may not be.
  const stored = formatImageRef(ref);
  let registry: RegistryClient | undefined;
  const remote = async () => {
    registry ??= new RegistryClient({
      registry: registryApiHost(ref.domain),
      auth: await opts.resolveAuth?.(ref.domain),
      signal: opts.signal,
    });
    return registry;
  };
  const blob = async (digest: string): Promise<Uint8Array> => {
    if (await contentInfo(c, digest)) return readContent(c, digest, opts.signal);
    const stream = await (await remote()).getBlob(ref.path, digest);
    return new Uint8Array(await new Response(stream).arrayBuffer());
  };
  let target: { mediaType: string; digest: string } | undefined;
  for (const name of new Set([imageName, stored])) {
    try {
      target = (await c.images.get({ name })).image?.target;
      break;
    } catch (err) {
      if (!isNotFound(err)) throw containerdError(err, c.socketPath, `get image ${name}`);
    }
  }
  let manifestDigest: string;
  let mediaType: string;
  let bytes: Uint8Array;
  if (target) {
    manifestDigest = target.digest;
    mediaType = target.mediaType;
    if (await contentInfo(c, target.digest)) bytes = await readContent(c, target.digest, opts.signal);
    else bytes = (await (await remote()).getManifest(ref.path, target.digest)).bytes;
  } else {
    const m = await (await remote()).getManifest(ref.path, ref.digest ?? ref.tag ?? "latest");
    ({ mediaType, bytes, digest: manifestDigest } = m);
  }
  let doc = JSON.parse(dec.decode(bytes)) as ImageManifest | ImageIndex;
  if (isIndexMediaType(mediaType) || isIndexMediaType(doc.mediaType) || "manifests" in doc) {
    const d = pickPlatformManifest(doc as ImageIndex, imageName);
    manifestDigest = d.digest;
    doc = JSON.parse(dec.decode(await blob(d.digest))) as ImageManifest;
  }
  const manifest = doc as ImageManifest;
  if (!manifest.config || !Array.isArray(manifest.layers)) {
    throw new SeelieError(`the manifest ${manifestDigest} of ${imageName} is not an image manifest`);
  }
  const config = JSON.parse(dec.decode(await blob(manifest.config.digest))) as ImageConfig;
  return { name: imageName, ref, manifest, manifestDigest, config };
}
