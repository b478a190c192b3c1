import { describe, expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import { looksIncompressible, parallelCompress, parseCompression } from "../../../lib/commit/compress.ts";
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
    ["random bytes", random(256 << 10), true],
    ["random, then text starting in the segment", new Uint8Array(Buffer.concat([random(40 << 10), text(24 << 10)])), false],
    ["text, then random", new Uint8Array(Buffer.concat([text(10 << 10), random(54 << 10)])), false],
    ["base64 text", text(256 << 10), false],
    ["zeros", new Uint8Array(256 << 10), false],
    ["less than a sample", random(1000), false],
  ] as const)("%s → %p", (_w, block, want) => {
    expect(looksIncompressible(block)).toBe(want);
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
