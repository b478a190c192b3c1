import { describe, expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import { gzipRuns, looksIncompressible, parallelCompress, parseCompression } from "../../../lib/commit/compress.ts";
import { parseLayerSource } from "../../../lib/commit/target.ts";
import { UsageError } from "../../../lib/errors.ts";

function random(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) b.set(crypto.getRandomValues(new Uint8Array(Math.min(65536, n - i))), i);
  return b;
}
const text = (n: number) => new TextEncoder().encode(Buffer.from(random(n)).toString("base64").slice(0, n));

async function run(data: Uint8Array, kind: "gzip" | "zstd", level?: number): Promise<Uint8Array> {
  const src = new Blob([data]).stream();
  return new Uint8Array(
    await new Response(src.pipeThrough(parallelCompress({ kind, level, blockSize: 256 * 1024, concurrency: 3 }))).arrayBuffer(),
  );
}

describe("parallelCompress", () => {
  const data = new Uint8Array(Buffer.concat([random(700_000), text(900_000), new Uint8Array(300_000)]));
  test("zstd: concatenated frames decode to the input", async () => {
    const z = await run(data, "zstd");
    expect(Buffer.from(Bun.zstdDecompressSync(z)).equals(Buffer.from(data))).toBe(true);
    expect(z.length).toBeLessThan(data.length);
  });
  test("gzip: 1 MiB files alternating random / repetitive text stay within 1 % of plain gzip -6", async () => {
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 8; i++)
      parts.push(i % 2 ? new TextEncoder().encode(`seelie line ${i}\n`.repeat(80_000)).subarray(0, 1 << 20) : random(1 << 20));
    const mixed = new Uint8Array(Buffer.concat(parts));
    const z = await new Response(new Blob([mixed]).stream().pipeThrough(parallelCompress({ kind: "gzip" }))).arrayBuffer();
    const plain = Bun.gzipSync(mixed, { level: 6 }).length;
    expect(z.byteLength / plain).toBeLessThan(1.01);
  });
  test("gzip: random blocks stored, text compressed; gunzip gives the input", async () => {
    const z = await run(data, "gzip");
    expect(Buffer.from(gunzipSync(z)).equals(Buffer.from(data))).toBe(true);
    // stored random (+ a few bytes), text at ~0.76, zeros at almost nothing
    expect(z.length).toBeLessThan(700_000 + 900_000 * 0.8 + 10_000);
  });
  test("empty input is one valid (empty) stream for both", async () => {
    expect(gunzipSync(await run(new Uint8Array(0), "gzip")).length).toBe(0);
    expect(Bun.zstdDecompressSync(await run(new Uint8Array(0), "zstd")).length).toBe(0);
  });
});

describe("looksIncompressible", () => {
  test.each([
    ["random bytes", () => random(256 << 10), true],
    ["random, then text starting in the segment", () => new Uint8Array(Buffer.concat([random(40 << 10), text(24 << 10)])), false],
    ["text, then random", () => new Uint8Array(Buffer.concat([text(10 << 10), random(54 << 10)])), false],
    ["base64 text", () => text(256 << 10), false],
    ["zeros", () => new Uint8Array(256 << 10), false],
    ["less than a sample", () => random(1000), false],
  ] as const)("%s → %p", (_w, block, want) => {
    expect(looksIncompressible(block())).toBe(want);
  });
});

describe("gzipRuns", () => {
  const K = 64 << 10;
  test.each([
    ["empty block: one empty run", () => new Uint8Array(0), [[0, 0, 6]]],
    ["text only: one deflated run", () => text(3 * K), [[0, 3 * K, 6]]],
    ["random only: one stored run", () => random(3 * K), [[0, 3 * K, 0]]],
    [
      "random, text, random: runs on segment bounds",
      () => new Uint8Array(Buffer.concat([random(2 * K), text(K), random(2 * K)])),
      [
        [0, 2 * K, 0],
        [2 * K, 3 * K, 6],
        [3 * K, 5 * K, 0],
      ],
    ],
    [
      "a short random tail is deflated (too short to judge)",
      () => new Uint8Array(Buffer.concat([random(K), random(100)])),
      [
        [0, K, 0],
        [K, K + 100, 6],
      ],
    ],
  ] as const)("%s", (_w, block, want) => {
    expect(gzipRuns(block(), 6)).toEqual(want as unknown as [number, number, number][]);
  });
});

/** A stream of `data` in pieces of `piece` bytes. */
function pieces(data: Uint8Array, piece: number): ReadableStream<Uint8Array> {
  let off = 0;
  return new ReadableStream<Uint8Array>({
    pull(ctrl) {
      if (off >= data.length) return ctrl.close();
      ctrl.enqueue(data.slice(off, off + piece));
      off += piece;
    },
  });
}

describe("parallelCompress gzip: block and piece sizes", () => {
  const input = (n: number) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 10)) & 0xff;
    crypto.getRandomValues(b.subarray(0, Math.min(n, 50_000)));
    return b;
  };
  test.each([
    ["empty", 0, 10, {}],
    ["smaller than a block", 1000, 7, { blockSize: 4096 }],
    ["exactly two blocks", 8192, 1000, { blockSize: 4096, concurrency: 2 }],
    ["many blocks, more in flight than workers", 1_000_003, 65536, { blockSize: 65536, concurrency: 8 }],
    ["one at a time", 300_000, 4096, { blockSize: 100_000, concurrency: 1 }],
  ] as const)("%s", async (_name, size, piece, opts) => {
    const data = input(size);
    const gz = new Uint8Array(
      await new Response(pieces(data, piece).pipeThrough(parallelCompress({ kind: "gzip", ...opts }))).arrayBuffer(),
    );
    expect(Buffer.from(gunzipSync(gz)).equals(Buffer.from(data))).toBe(true);
    // The gzip tool reads the concatenated members as one stream too.
    const p = Bun.spawnSync(["gzip", "-dc"], { stdin: gz });
    expect(p.exitCode).toBe(0);
    expect(Buffer.from(p.stdout).equals(Buffer.from(data))).toBe(true);
  });
  test("two streams at once share the workers and keep their own order", async () => {
    const a = text(3 << 20);
    const b = random(3 << 20);
    const [za, zb] = await Promise.all(
      [a, b].map(
        async (d) =>
          new Uint8Array(
            await new Response(pieces(d, 100_000).pipeThrough(parallelCompress({ kind: "gzip", blockSize: 256 << 10 }))).arrayBuffer(),
          ),
      ),
    );
    expect(Buffer.from(gunzipSync(za!)).equals(Buffer.from(a))).toBe(true);
    expect(Buffer.from(gunzipSync(zb!)).equals(Buffer.from(b))).toBe(true);
  });
});

describe("flags", () => {
  test.each([
    [undefined, undefined, { kind: "gzip", level: 6 }],
    ["zstd", undefined, { kind: "zstd", level: 3 }],
    ["GZIP", "9", { kind: "gzip", level: 9 }],
    ["zstd", 19, { kind: "zstd", level: 19 }],
  ] as const)("--compression %p --compression-level %p", (k, l, want) => {
    expect(parseCompression(k, l)).toEqual(want);
  });
  test.each([
    ["brotli", undefined, /unknown --compression "brotli"/],
    ["gzip", "0", /out of range for gzip/],
    ["zstd", "20", /out of range for zstd/],
    ["gzip", "fast", /out of range/],
  ] as const)("bad: %p %p", (k, l, msg) => {
    expect(() => parseCompression(k, l)).toThrow(UsageError);
    expect(() => parseCompression(k, l)).toThrow(msg);
  });
  test("--layer-source", () => {
    expect(parseLayerSource(undefined)).toBe("auto");
    expect(parseLayerSource("UpperDir")).toBe("upperdir");
    expect(parseLayerSource("api")).toBe("api");
    expect(() => parseLayerSource("snapshot")).toThrow(/unknown --layer-source "snapshot"/);
  });
});
