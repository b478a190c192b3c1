/**
 * Reads the entry headers of a tar stream (ustar, PAX `path`/`linkpath`, GNU long names), skipping
 * the file contents without keeping them, and maps a layer's entries to the paths it changes.
 */
import type { ChangedPath } from "../commit/runtime.ts";

/** One tar entry's header. */
export interface TarEntry {
  /** The entry's name as stored (e.g. `tmp/x`, `tmp/`). */
  name: string;
  /** The type flag: `0` file, `5` directory, `2` symlink, `1` hard link, `3`/`4` devices, `6` FIFO. */
  type: string;
  size: number;
  linkname: string;
}

/** Pulls exact byte counts out of a chunked stream. */
class ByteReader {
  private chunks: Uint8Array[] = [];
  private have = 0;
  constructor(private readonly it: AsyncIterator<Uint8Array>) {}

  private async fill(n: number): Promise<boolean> {
    while (this.have < n) {
      const r = await this.it.next();
      if (r.done) return false;
      if (r.value.length) {
        this.chunks.push(r.value);
        this.have += r.value.length;
      }
    }
    return true;
  }

  /** Exactly n bytes, or null at the end of the stream. */
  async read(n: number): Promise<Uint8Array | null> {
    if (!(await this.fill(n))) return null;
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const take = Math.min(c.length, n - off);
      out.set(c.subarray(0, take), off);
      off += take;
      if (take === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(take);
    }
    this.have -= n;
    return out;
  }

  /** Drops n bytes without keeping more than one chunk. */
  async skip(n: number): Promise<boolean> {
    let left = n;
    while (left > 0) {
      if (this.have === 0 && !(await this.fill(1))) return false;
      const c = this.chunks[0]!;
      const take = Math.min(c.length, left);
      if (take === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(take);
      this.have -= take;
      left -= take;
    }
    return true;
  }
}

const dec = new TextDecoder();

/** A NUL-terminated string field of a tar header. */
export function tarString(b: Uint8Array, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const z = s.indexOf(0);
  return dec.decode(z >= 0 ? s.subarray(0, z) : s);
}

/** A numeric field of a tar header: octal text, or GNU base-256. */
export function tarNumber(b: Uint8Array, off: number, len: number): number {
  // GNU base-256 encoding for big sizes: high bit of the first byte set.
  if ((b[off]! & 0x80) !== 0) {
    let v = 0;
    for (let i = off + 1; i < off + len; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = tarString(b, off, len).trim();
  return s ? Number.parseInt(s, 8) : 0;
}

/** Parses PAX extended header records (`LEN key=value\n`). */
export function parsePax(data: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  let off = 0;
  while (off < data.length) {
    const sp = data.indexOf(0x20, off);
    if (sp < 0) break;
    const len = Number.parseInt(dec.decode(data.subarray(off, sp)), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const rec = dec.decode(data.subarray(sp + 1, off + len - 1));
    const eq = rec.indexOf("=");
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    off += len;
  }
  return out;
}

/** Yields the entries of a tar stream; file data is skipped, never buffered. */
export async function* tarEntries(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const r = new ByteReader(chunks[Symbol.asyncIterator]());
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const h = await r.read(512);
    if (!h || h.every((x) => x === 0)) return;
    const size = tarNumber(h, 124, 12);
    const type = String.fromCharCode(h[156] || 0x30);
    const padded = Math.ceil(size / 512) * 512;
    if (type === "x" || type === "L" || type === "K") {
      const data = await r.read(padded);
      if (!data) return;
      const body = data.subarray(0, size);
      if (type === "x") pax = { ...pax, ...parsePax(body) };
      else if (type === "L") longName = tarString(body, 0, body.length);
      else longLink = tarString(body, 0, body.length);
      continue;
    }
    if (type === "g") {
      await r.skip(padded);
      continue;
    }
    let name = tarString(h, 0, 100);
    const magic = tarString(h, 257, 6);
    if (magic.startsWith("ustar")) {
      const prefix = tarString(h, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    name = pax.path ?? longName ?? name;
    const linkname = pax.linkpath ?? longLink ?? tarString(h, 157, 100);
    const realSize = pax.size !== undefined ? Number(pax.size) : size;
    pax = {};
    longName = undefined;
    longLink = undefined;
    yield { name, type, size: realSize, linkname };
    if (!(await r.skip(Math.ceil(realSize / 512) * 512))) return;
  }
}

/** `./a/b/` → `/a/b`; the root is `/`. */
export function normalizeTarPath(name: string): string {
  const parts = name.split("/").filter((p) => p && p !== ".");
  return `/${parts.join("/")}`;
}

const WHITEOUT = ".wh.";
const OPAQUE = ".wh..wh..opq";

/**
 * The change a layer-tar entry stands for: AUFS-style whiteouts (`.wh.name`) are deletions, an
 * opaque marker modifies its directory, anything else is an addition or a modification, decided by
 * `existedBefore` (added when it is not given).
 */
export function entryChange(entry: TarEntry, existedBefore?: (path: string) => boolean): ChangedPath | undefined {
  const path = normalizeTarPath(entry.name);
  if (path === "/") return undefined;
  const slash = path.lastIndexOf("/");
  const dir = path.slice(0, slash) || "/";
  const base = path.slice(slash + 1);
  if (base === OPAQUE) return { path: dir, kind: "modified" };
  if (base.startsWith(WHITEOUT)) return { path: `${dir === "/" ? "" : dir}/${base.slice(WHITEOUT.length)}`, kind: "deleted" };
  return { path, kind: existedBefore?.(path) ? "modified" : "added" };
}
