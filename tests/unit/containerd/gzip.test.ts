import { describe, expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import { parallelGzip } from "../../../lib/containerd/gzip.ts";

function input(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 10)) & 0xff;
  crypto.getRandomValues(b.subarray(0, Math.min(n, 50_000)));
  return b;
}

async function run(data: Uint8Array, piece: number, opts: Parameters<typeof parallelGzip>[0]): Promise<Uint8Array> {
  let off = 0;
  const src = new ReadableStream<Uint8Array>({
    pull(ctrl) {
      if (off >= data.length) return ctrl.close();
      ctrl.enqueue(data.slice(off, off + piece));
      off += piece;
    },
  });
  return new Uint8Array(await new Response(src.pipeThrough(parallelGzip(opts))).arrayBuffer());
}

describe("parallelGzip", () => {
  const cases: [string, number, number, Parameters<typeof parallelGzip>[0]][] = [
    ["empty", 0, 10, {}],
    ["smaller than a block", 1000, 7, { blockSize: 4096 }],
    ["exactly two blocks", 8192, 1000, { blockSize: 4096, concurrency: 2 }],
    ["many blocks, 3 in flight", 1_000_003, 65536, { blockSize: 65536, concurrency: 3 }],
    ["one at a time", 300_000, 4096, { blockSize: 100_000, concurrency: 1 }],
  ];
  for (const [name, size, piece, opts] of cases) {
    test(name, async () => {
      const data = input(size);
      const gz = await run(data, piece, opts);
      expect(Buffer.from(gunzipSync(gz)).equals(Buffer.from(data))).toBe(true);
      // The gzip tool reads the concatenated members as one stream too.
      const p = Bun.spawnSync(["gzip", "-dc"], { stdin: gz });
      expect(p.exitCode).toBe(0);
      expect(Buffer.from(p.stdout).equals(Buffer.from(data))).toBe(true);
    });
  }
});
