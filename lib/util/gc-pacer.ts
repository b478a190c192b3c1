/**
 * Bounded memory for byte pipelines on Bun. Streaming a layer allocates short-lived buffers outside
 * the JS heap at every step (gRPC frames and messages, zlib output, fetch bodies); JavaScriptCore
 * collects them only after RSS has grown by ~150–200 MB, so peak RSS followed the heap heuristics,
 * not the live data (a few blocks). A full collection every few MiB keeps the peak near the live
 * data; with the committer's small heap one costs ~13 ms (~3 ms per MiB streamed, on the main thread
 * while zlib's threads compress).
 */

/** Bytes between collections (measured on a 300 MB change: every 4 MiB +60 MB over the baseline, ~13 ms per collection; every 8 MiB +70 MB). */
export const GC_EVERY_BYTES = 4 * 1024 * 1024;

/** Counts bytes and runs a full, synchronous garbage collection every `everyBytes`. */
export function gcPacer(everyBytes = GC_EVERY_BYTES): (bytes: number) => void {
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since < everyBytes) return;
    since = 0;
    Bun.gc(true);
  };
}

/** A pass-through stream that runs `gcPacer(everyBytes)` on the bytes going through it. */
export function gcPaced(everyBytes = GC_EVERY_BYTES): TransformStream<Uint8Array, Uint8Array> {
  const count = gcPacer(everyBytes);
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, ctrl) {
      ctrl.enqueue(chunk);
      count(chunk.length);
    },
  });
}
