/** Re-chunking a byte stream into fixed-size pieces (registry uploads, containerd content writes). */

/**
 * Splits a byte stream into chunks of exactly `size` bytes (the last one shorter). With `reuse`, one
 * buffer is filled again for every chunk: a chunk is then valid only until the next one is asked for.
 */
export async function* rechunk(
  stream: ReadableStream<Uint8Array>,
  size: number,
  opts: { reuse?: boolean } = {},
): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let buf = new Uint8Array(size);
  let fill = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let off = 0;
      while (off < value.length) {
        const n = Math.min(size - fill, value.length - off);
        buf.set(value.subarray(off, off + n), fill);
        fill += n;
        off += n;
        if (fill === size) {
          yield buf;
          if (!opts.reuse) buf = new Uint8Array(size);
          fill = 0;
        }
      }
    }
    if (fill > 0) yield buf.subarray(0, fill);
  } finally {
    reader.releaseLock();
    await stream.cancel().catch(() => undefined);
  }
}
