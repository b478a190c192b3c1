/**
 * Layer compression on every core. The input is cut into blocks, each compressed on its own in a
 * thread pool (zlib's for gzip, Bun's for zstd) and emitted in order. A concatenation of gzip
 * members is one valid gzip stream (RFC 1952 §2.2), and a concatenation of zstd frames one valid
 * zstd stream (RFC 8878 §3.1): Go's readers (docker, containerd), gzip/zstd and zlib read either as
 * one. With blocks of 2 MiB a gzip layer is within a fraction of a percent of single-stream gzip.
 */
import { availableParallelism } from "node:os";
import { deflateRawSync, gzip } from "node:zlib";
import { UsageError } from "../errors.ts";

export type Compression = "gzip" | "zstd";

/** Default levels: gzip 6 as `docker push` and `gzip -6`; zstd 3 as nerdctl and zstd's CLI. */
export const DEFAULT_LEVEL: Record<Compression, number> = { gzip: 6, zstd: 3 };
const LEVELS: Record<Compression, [number, number]> = { gzip: [1, 9], zstd: [1, 19] };

/** Validates `--compression` and `--compression-level` (undefined level: the default). */
export function parseCompression(kind: string | undefined, level: string | number | undefined): { kind: Compression; level: number } {
  const k = (kind ?? "gzip").toLowerCase();
  if (k !== "gzip" && k !== "zstd") throw new UsageError(`unknown --compression "${kind}"`, "use --compression gzip or --compression zstd");
  const [lo, hi] = LEVELS[k];
  if (level === undefined || level === "") return { kind: k, level: DEFAULT_LEVEL[k] };
  const n = Number(level);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new UsageError(`--compression-level ${level} is out of range for ${k}`, `use a whole number from ${lo} to ${hi}`);
  return { kind: k, level: n };
}

const SAMPLE = 8 * 1024;
const SAMPLE_EVERY = 256 * 1024;

/**
 * True when every sample of the block (8 KiB every 256 KiB) deflates to more than 97 % of itself:
 * random data, or data compressed already (checkpoints, archives, images). deflate would spend the
 * same time on it as on text for nothing; stored it costs 5 bytes per 64 KiB.
 */
export function looksIncompressible(block: Uint8Array): boolean {
  if (block.length < SAMPLE) return false;
  for (let off = 0; off + SAMPLE <= block.length; off += SAMPLE_EVERY) {
    const s = block.subarray(off, off + SAMPLE);
    if (deflateRawSync(s, { level: 6 }).length < s.length * 0.97) return false;
  }
  return true;
}

function gzipBlock(block: Uint8Array, level: number): Promise<Uint8Array> {
  const l = looksIncompressible(block) ? 0 : level;
  return new Promise((resolve, reject) => gzip(block, { level: l }, (err, out) => (err ? reject(err) : resolve(out))));
}

const compressBlock: Record<Compression, (block: Uint8Array, level: number) => Promise<Uint8Array>> = {
  gzip: gzipBlock,
  zstd: (block, level) => Bun.zstdCompress(block, { level }),
};

/**
 * A TransformStream compressing with up to `concurrency` blocks of `blockSize` in flight. Input
 * blocks are reused once compressed, so what it holds is bounded: `concurrency + 1` input blocks
 * and the compressed blocks waiting to be read (at most `concurrency`).
 */
export function parallelCompress(opts: { kind?: Compression; blockSize?: number; concurrency?: number; level?: number } = {}): TransformStream<Uint8Array, Uint8Array> {
  const kind = opts.kind ?? "gzip";
  const blockSize = opts.blockSize ?? 2 * 1024 * 1024;
  // Twice the cores: the cores keep compressing while the upload is still sending earlier blocks.
  const concurrency = Math.max(1, opts.concurrency ?? availableParallelism() * 2);
  const level = opts.level ?? DEFAULT_LEVEL[kind];
  const fn = compressBlock[kind];
  const inflight: Promise<Uint8Array>[] = [];
  const free: Uint8Array[] = [];
  let buf: Uint8Array = new Uint8Array(blockSize);
  let fill = 0;
  let emitted = false;
  const compress = async (block: Uint8Array, n: number) => {
    try {
      return await fn(block.subarray(0, n), level);
    } finally {
      free.push(block);
    }
  };
  const flushBlock = async (ctrl: TransformStreamDefaultController<Uint8Array>) => {
    inflight.push(compress(buf, fill));
    buf = free.pop() ?? new Uint8Array(blockSize);
    fill = 0;
    // Back-pressure: never more than `concurrency` blocks compressing at once.
    while (inflight.length >= concurrency) {
      ctrl.enqueue(await inflight.shift()!);
      emitted = true;
    }
  };
  return new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, ctrl) {
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(blockSize - fill, chunk.length - off);
        buf.set(chunk.subarray(off, off + n), fill);
        fill += n;
        off += n;
        if (fill === blockSize) await flushBlock(ctrl);
      }
    },
    async flush(ctrl) {
      // An empty input still yields one (empty) member/frame: a valid stream.
      if (fill > 0 || (!emitted && inflight.length === 0)) await flushBlock(ctrl);
      while (inflight.length) ctrl.enqueue(await inflight.shift()!);
    },
  });
}
