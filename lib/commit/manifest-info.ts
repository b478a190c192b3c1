/**
 * Reads a pushed image's manifest back from its registry to report the compressed size and layer
 * count Docker's push does not give. Through the one registry client (`lib/registry/distribution.ts`),
 * so its rule holds here too: plain http only for loopback registries or ones configured as insecure,
 * and never a credential over plain http to anything else.
 */

import { registryApiHost } from "../registry/host.ts";
import { parseImageRef, referenceOf } from "../image/ref.ts";
import type { RegistryAuth } from "../registry/credentials.ts";
import { MANIFEST_MEDIA_TYPES, RegistryClient } from "../registry/distribution.ts";

/** The compressed layer sizes of a manifest. */
export interface ManifestInfo {
  size: number;
  layers: number;
}

/** Sums an image manifest's layer sizes (pure). */
export function manifestInfo(manifest: { layers?: { size?: number }[] }): ManifestInfo {
  const layers = manifest.layers ?? [];
  return { size: layers.reduce((n, l) => n + (l.size ?? 0), 0), layers: layers.length };
}

/**
 * Fetches the manifest of `image` and sums its layers; undefined when the registry cannot be read
 * (the size is a report, not worth failing a pushed commit over). `insecure`: the registry is
 * configured to be reached over plain http.
 */
export async function fetchManifestInfo(
  image: string,
  auth: RegistryAuth | undefined,
  signal?: AbortSignal,
  opts: { insecure?: boolean; attempts?: number } = {},
): Promise<ManifestInfo | undefined> {
  const ref = parseImageRef(image);
  const client = new RegistryClient({
    registry: registryApiHost(ref.domain),
    auth,
    signal,
    insecure: opts.insecure,
    attempts: opts.attempts ?? 2,
    backoffMs: 200,
  });
  try {
    const m = await client.getManifest(ref.path, referenceOf(ref), [MANIFEST_MEDIA_TYPES.dockerManifest, MANIFEST_MEDIA_TYPES.ociManifest]);
    return manifestInfo(JSON.parse(new TextDecoder().decode(m.bytes)) as { layers?: { size?: number }[] });
  } catch {
    return undefined;
  }
}
