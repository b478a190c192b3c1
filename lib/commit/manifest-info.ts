/**
 * Reads a pushed image's manifest back from its registry (distribution API, basic or bearer-token auth)
 * to report the compressed size and layer count Docker's push does not give.
 */
import type { RegistryAuth } from "../registry/credentials.ts";
import { parseImageRef, referenceOf } from "../image/ref.ts";
import { isLoopbackRegistry } from "../registry/www-authenticate.ts";
import { registryApiHost } from "../containerd/base-image.ts";

const ACCEPT = [
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
].join(", ");

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

function basic(auth?: RegistryAuth): string | undefined {
  if (!auth?.username || auth.password === undefined) return undefined;
  return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}`;
}

/** Parses `Bearer realm="…",service="…",scope="…"`. */
export function parseChallenge(header: string): Record<string, string> | undefined {
  if (!/^bearer /i.test(header)) return undefined;
  const out: Record<string, string> = {};
  for (const m of header.slice(7).matchAll(/(\w+)="([^"]*)"/g)) out[m[1] ?? ""] = m[2] ?? "";
  return out;
}

async function token(challenge: Record<string, string>, auth: RegistryAuth | undefined, signal?: AbortSignal): Promise<string | undefined> {
  if (!challenge.realm) return undefined;
  const u = new URL(challenge.realm);
  if (challenge.service) u.searchParams.set("service", challenge.service);
  if (challenge.scope) u.searchParams.set("scope", challenge.scope);
  const b = basic(auth);
  const r = await fetch(u, { headers: b ? { authorization: b } : {}, signal });
  if (!r.ok) return undefined;
  const j = (await r.json()) as { token?: string; access_token?: string };
  return j.token ?? j.access_token;
}

/** Fetches the manifest of `image` and sums its layers; undefined when the registry cannot be read. */
export async function fetchManifestInfo(image: string, auth: RegistryAuth | undefined, signal?: AbortSignal): Promise<ManifestInfo | undefined> {
  const ref = parseImageRef(image);
  const host = registryApiHost(ref.domain);
  const schemes = isLoopbackRegistry(host) ? ["http", "https"] : ["https", "http"];
  for (const scheme of schemes) {
    const url = `${scheme}://${host}/v2/${ref.path}/manifests/${referenceOf(ref)}`;
    try {
      const headers: Record<string, string> = { accept: ACCEPT };
      let r = await fetch(url, { headers, signal });
      if (r.status === 401) {
        const ch = r.headers.get("www-authenticate") ?? "";
        const bearer = parseChallenge(ch);
        const authz = bearer ? ((t) => (t ? `Bearer ${t}` : undefined))(await token(bearer, auth, signal)) : basic(auth);
        if (!authz) return undefined;
        r = await fetch(url, { headers: { ...headers, authorization: authz }, signal });
      }
      if (!r.ok) return undefined;
      return manifestInfo((await r.json()) as { layers?: { size?: number }[] });
    } catch {
      // Try the other scheme (an insecure registry answers only on http).
    }
  }
  return undefined;
}
