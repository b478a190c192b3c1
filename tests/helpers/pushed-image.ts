/**
 * Reads a pushed image back from the test registry over the distribution API (Basic auth): its
 * manifest, config and the file tree of its top layer (every tar entry with type, mode, owner,
 * size, link target, device numbers, extended attributes and a hash of the data).
 */
import { createGunzip } from "node:zlib";
import { Readable } from "node:stream";
import { testRegistry } from "./services.ts";

const MANIFEST_ACCEPT = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json";

function split(ref: string): { host: string; repo: string; tag: string } {
  const [host, ...rest] = ref.split("/");
  const path = rest.join("/");
  const i = path.lastIndexOf(":");
  return { host: host!, repo: path.slice(0, i), tag: path.slice(i + 1) };
}

async function get(url: string, accept?: string): Promise<Response> {
  const reg = testRegistry();
  const res = await fetch(url, {
    headers: { ...(accept ? { accept } : {}), authorization: `Basic ${Buffer.from(`${reg.user}:${reg.password}`).toString("base64")}` },
  });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return res;
}

export interface PushedImage {
  manifest: {
    mediaType?: string;
    config: { digest: string; mediaType: string };
    layers: { digest: string; size: number; mediaType: string }[];
  };
  manifestText: string;
  config: {
    config: Record<string, unknown>;
    rootfs: { diff_ids: string[] };
    history?: { comment?: string; created_by?: string }[];
    [k: string]: unknown;
  };
  configText: string;
}

/** The manifest and config of a pushed image `host/repo:tag`. */
export async function pushedImage(ref: string): Promise<PushedImage> {
  const { host, repo, tag } = split(ref);
  const manifestText = await (await get(`http://${host}/v2/${repo}/manifests/${tag}`, MANIFEST_ACCEPT)).text();
  const manifest = JSON.parse(manifestText) as PushedImage["manifest"];
  const configText = await (await get(`http://${host}/v2/${repo}/blobs/${manifest.config.digest}`)).text();
  return { manifest, manifestText, config: JSON.parse(configText), configText };
}

/** The raw (still compressed) bytes of a blob of `host/repo:tag`'s repository. */
export async function pushedBlob(ref: string, digest: string): Promise<Uint8Array> {
  const { host, repo } = split(ref);
  return new Uint8Array(await (await get(`http://${host}/v2/${repo}/blobs/${digest}`)).arrayBuffer());
}

/** One entry of a layer tar, as compared between images. */
export interface TreeEntry {
  name: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkname: string;
  dev: string;
  xattrs: string[];
  sha256: string;
}

/** The entries of the top layer of a pushed image (gzip or zstd), sorted by name. */
export async function topLayerTree(ref: string): Promise<TreeEntry[]> {
  const { manifest } = await pushedImage(ref);
  const top = manifest.layers.at(-1)!;
  const blob = await pushedBlob(ref, top.digest);
  const tar = top.mediaType.endsWith("zstd") ? Bun.zstdDecompressSync(blob) : await gunzip(blob);
  return parseTar(new Uint8Array(tar)).sort((a, b) => (a.name < b.name ? -1 : 1));
}

async function gunzip(b: Uint8Array): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of Readable.from([Buffer.from(b)]).pipe(createGunzip())) chunks.push(c as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

const dec = new TextDecoder();
const str = (b: Uint8Array, o: number, l: number) => {
  const s = b.subarray(o, o + l);
  const z = s.indexOf(0);
  return dec.decode(z >= 0 ? s.subarray(0, z) : s);
};
const oct = (b: Uint8Array, o: number, l: number) => Number.parseInt(str(b, o, l).trim() || "0", 8);

/** A whole tar in memory parsed into entries (test sizes only). Written here, independent of lib/. */
export function parseTar(t: Uint8Array): TreeEntry[] {
  const out: TreeEntry[] = [];
  let off = 0;
  let pax: Record<string, string> = {};
  while (off + 512 <= t.length) {
    const h = t.subarray(off, off + 512);
    if (h.every((x) => x === 0)) break;
    const size = oct(h, 124, 12);
    const type = String.fromCharCode(h[156] || 48);
    const data = t.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === "x") {
      let p = 0;
      const recs: Record<string, string> = {};
      while (p < data.length) {
        const sp = data.indexOf(0x20, p);
        const len = Number(dec.decode(data.subarray(p, sp)));
        const rec = dec.decode(data.subarray(sp + 1, p + len - 1));
        const eq = rec.indexOf("=");
        recs[rec.slice(0, eq)] = rec.slice(eq + 1);
        p += len;
      }
      pax = recs;
      continue;
    }
    let name = str(h, 0, 100);
    const prefix = str(h, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
    name = (pax.path ?? name).replace(/^\.?\//, "").replace(/\/$/, "");
    out.push({
      name,
      type: type === "\0" ? "0" : type,
      mode: oct(h, 100, 8) & 0o7777,
      uid: oct(h, 108, 8),
      gid: oct(h, 116, 8),
      size,
      linkname: pax.linkpath ?? str(h, 157, 100),
      dev: type === "3" || type === "4" ? `${oct(h, 329, 8)},${oct(h, 337, 8)}` : "",
      xattrs: Object.keys(pax)
        .filter((k) => k.startsWith("SCHILY.xattr."))
        .map((k) => `${k.slice(13)}=${Buffer.from(pax[k]!, "latin1").toString("hex")}`)
        .sort(),
      sha256: type === "0" || type === "\0" ? new Bun.CryptoHasher("sha256").update(data).digest("hex") : "",
    });
    pax = {};
  }
  return out;
}
