/**
 * Layers out of `docker save` (GET /images/{id}/get), streamed: the engine's own layer tars, for a
 * Docker container whose upper directory cannot be read, and for a base image that is in no
 * registry. Both save formats: Docker < 25 (`<v1id>/json` then `<v1id>/layer.tar`; the top layer's
 * json is the one with a `config`) and Docker ≥ 25 (OCI layout, layers as `blobs/sha256/<diff_id>`).
 */
import { SeelieError, errorMessage } from "../errors.ts";
import { normalizeTarPath, parsePax, tarNumber, tarString } from "../containerd/tar-headers.ts";

/** One entry of a tar stream; `body()` must be read to its end (or not at all) before the next entry is asked for. */
export interface SaveEntry {
  name: string;
  type: string;
  size: number;
  body: () => ReadableStream<Uint8Array>;
}

/** Pulls exact byte counts out of a stream, handing on data chunks without copying them. */
class Bytes {
  private left: Uint8Array = new Uint8Array(0);
  constructor(private readonly reader: { read(): Promise<{ done: boolean; value?: Uint8Array }> }) {}

  private async more(): Promise<boolean> {
    while (this.left.length === 0) {
      const r = await this.reader.read();
      if (r.done) return false;
      this.left = r.value ?? new Uint8Array(0);
    }
    return true;
  }

  /** Up to `max` bytes (at least one), or null at the end. */
  async some(max: number): Promise<Uint8Array | null> {
    if (!(await this.more())) return null;
    const n = Math.min(max, this.left.length);
    const out = this.left.subarray(0, n);
    this.left = this.left.subarray(n);
    return out;
  }

  async exact(n: number): Promise<Uint8Array | null> {
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const c = await this.some(n - off);
      if (!c) return null;
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

/** The entries of a tar stream with their data as streams. */
export async function* tarStreamEntries(src: ReadableStream<Uint8Array>): AsyncGenerator<SaveEntry> {
  const reader = src.getReader();
  const bytes = new Bytes(reader);
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  try {
    for (;;) {
      const h = await bytes.exact(512);
      if (!h || h.every((x) => x === 0)) return;
      const size0 = tarNumber(h, 124, 12);
      const type = String.fromCharCode(h[156] || 0x30);
      if (type === "x" || type === "L") {
        const data = await bytes.exact(Math.ceil(size0 / 512) * 512);
        if (!data) return;
        if (type === "x") pax = { ...pax, ...parsePax(data.subarray(0, size0)) };
        else longName = tarString(data, 0, size0);
        continue;
      }
      let name = tarString(h, 0, 100);
      const prefix = tarString(h, 257, 6).startsWith("ustar") ? tarString(h, 345, 155) : "";
      if (prefix) name = `${prefix}/${name}`;
      name = pax.path ?? longName ?? name;
      const size = pax.size !== undefined ? Number(pax.size) : size0;
      pax = {};
      longName = undefined;
      let left = size;
      const body = () =>
        new ReadableStream<Uint8Array>(
          {
            async pull(ctrl) {
              if (left === 0) return ctrl.close();
              const c = await bytes.some(Math.min(left, 1024 * 1024));
              if (!c) return ctrl.error(new SeelieError("the docker save stream ended inside an entry"));
              left -= c.length;
              // Copied: the consumer (a compressor) may hold on to it.
              ctrl.enqueue(c.slice());
            },
          },
          { highWaterMark: 0 },
        );
      yield { name: normalizeTarPath(name).slice(1), type, size, body };
      while (left > 0) {
        const c = await bytes.some(left);
        if (!c) return;
        left -= c.length;
      }
      const pad = (512 - (size % 512)) % 512;
      if (pad && !(await bytes.exact(pad))) return;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** Streams `docker save` of `image` from the engine at `socket`. */
export async function dockerSave(socket: string, image: string, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> {
  let res: Response;
  try {
    res = await fetch(`http://docker/images/${encodeURIComponent(image)}/get`, { unix: socket, signal } as RequestInit);
  } catch (err) {
    throw new SeelieError(`Docker at ${socket}: saving image ${image} failed: ${errorMessage(err)}`, { hint: "check dockerd is running" });
  }
  if (!res.ok || !res.body)
    throw new SeelieError(`Docker at ${socket}: saving image ${image} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  return res.body;
}

/** Which entries of a save are layer tars, and whether one is the top layer (diff_id `topDiffId`). */
function layerMatcher(): {
  see: (e: SaveEntry, json?: Uint8Array) => void;
  isLayer: (name: string) => boolean;
  isTop: (name: string, topDiffId: string) => boolean;
} {
  let topDir: string | undefined;
  return {
    see(e, json) {
      // Docker < 25: the top layer's v1 json is the image's (it has a config); the others' are not.
      const m = /^([0-9a-f]{64})\/json$/.exec(e.name);
      if (m && json) {
        try {
          if ((JSON.parse(new TextDecoder().decode(json)) as { config?: unknown }).config) topDir = m[1];
        } catch {
          // not a v1 json
        }
      }
    },
    isLayer: (name) => /^[0-9a-f]{64}\/layer\.tar$/.test(name) || /^blobs\/sha256\/[0-9a-f]{64}$/.test(name),
    isTop: (name, top) =>
      name === `blobs/sha256/${top.replace(/^sha256:/, "")}` || (topDir !== undefined && name === `${topDir}/layer.tar`),
  };
}

/**
 * The uncompressed top layer (diff_id `topDiffId`) of image `image`, read out of a `docker save`.
 * The rest of the save is cancelled once the layer has been read.
 */
export async function savedTopLayer(
  socket: string,
  image: string,
  topDiffId: string,
  signal?: AbortSignal,
): Promise<ReadableStream<Uint8Array>> {
  const it = tarStreamEntries(await dockerSave(socket, image, signal));
  const match = layerMatcher();
  for (;;) {
    const r = await it.next();
    if (r.done) break;
    const e = r.value;
    if (e.type !== "0" && e.type !== "\0") continue;
    if (/\/json$/.test(e.name) && e.size < 1024 * 1024) {
      match.see(e, new Uint8Array(await new Response(e.body()).arrayBuffer()));
      continue;
    }
    if (!match.isTop(e.name, topDiffId)) continue;
    const reader = e.body().getReader();
    return new ReadableStream<Uint8Array>(
      {
        async pull(ctrl) {
          const x = await reader.read();
          if (x.done) {
            ctrl.close();
            await it.return(undefined);
          } else ctrl.enqueue(x.value);
        },
        async cancel() {
          await it.return(undefined);
        },
      },
      { highWaterMark: 0 },
    );
  }
  throw new SeelieError(`docker save of ${image} holds no layer ${topDiffId}`, {
    hint: "use --layer-source upperdir, or report the Docker version",
  });
}

/**
 * Every layer tar of `docker save image`, handed to `onLayer` one after the other as streams (each
 * read to its end), plus the image config (`<id>.json` or the blob named by `configDigest`).
 */
export async function forEachSavedLayer(
  socket: string,
  image: string,
  configDigest: string,
  onLayer: (layer: ReadableStream<Uint8Array>) => Promise<void>,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const hex = configDigest.replace(/^sha256:/, "");
  const match = layerMatcher();
  let config: Uint8Array | undefined;
  for await (const e of tarStreamEntries(await dockerSave(socket, image, signal))) {
    if (e.type !== "0" && e.type !== "\0") continue;
    if (e.name === `${hex}.json` || e.name === `blobs/sha256/${hex}`) {
      config = new Uint8Array(await new Response(e.body()).arrayBuffer());
      continue;
    }
    if (match.isLayer(e.name) && e.size > 0 && e.size !== undefined) {
      // OCI-layout blobs include small JSON documents; a layer tar is a multiple of 512 bytes.
      if (e.size % 512 !== 0) continue;
      await onLayer(e.body());
    }
  }
  if (!config) throw new SeelieError(`docker save of ${image} holds no config ${configDigest}`);
  return config;
}
