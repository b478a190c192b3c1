/** gzip on every core: `parallelCompress` with gzip (see lib/commit/compress.ts). */
import { parallelCompress } from "../commit/compress.ts";

/** A TransformStream that gzips in parallel blocks (valid multi-member gzip). */
export function parallelGzip(
  opts: { blockSize?: number; concurrency?: number; level?: number } = {},
): TransformStream<Uint8Array, Uint8Array> {
  return parallelCompress({ ...opts, kind: "gzip" });
}
