/**
 * Bounded memory for byte pipelines on Bun. Streaming a layer allocates short-lived buffers outside
 * the JS heap at every step (file reads, gRPC frames, compressed blocks, fetch bodies); JavaScriptCore
 * collects them only after RSS has grown by ~150–200 MB, so peak RSS followed the heap heuristics,
 * not the live data (a few blocks). A full collection keeps the peak near the live data, but with the
 * committer's heap (every module loaded) one costs 10–15 ms: run every 2–4 MiB streamed, as it was,
 * that was ~8 s of CPU per GB, more than reading, hashing and zstd together. So a collection runs
 * only once RSS has grown past a budget; the bytes streamed only decide how often RSS is looked at.
 */

/** Growth of RSS allowed over the first pipeline's start (measured at 1 GB: peak 126–140 MiB, ~1 collection per 10 MiB). */
export const RSS_HEADROOM = 32 * 1024 * 1024;
const CHECK_EVERY_BYTES = 1024 * 1024;

/** A process's memory budget: `over()` collects when RSS is past it; `collections` counts them. */
export interface MemoryBudget {
  over(): void;
  readonly collections: number;
}

/**
 * A budget of `headroom` over RSS after a first collection (what came before — a walk of the upper
 * directory, say — left garbage that would otherwise count as live). After each collection the next
 * limit is what is left plus half the headroom, never below the first: the allocator may keep freed
 * pages (it reuses them), and collections stay at least half a budget of growth apart.
 */
export function memoryBudget(headroom: number, rss: () => number, gc: () => void): MemoryBudget {
  gc();
  const first = rss() + headroom;
  let limit = first;
  let collections = 0;
  return {
    over() {
      if (rss() < limit) return;
      gc();
      collections++;
      limit = Math.max(first, rss() + headroom / 2);
    },
    get collections() {
      return collections;
    },
  };
}

// One budget for the process: a commit's pipelines run one after another.
let budget: MemoryBudget | undefined;

/** Counts bytes and, every MiB, collects garbage if the process is over its memory budget. */
export function gcPacer(): (bytes: number) => void {
  budget ??= memoryBudget(RSS_HEADROOM, process.memoryUsage.rss, () => Bun.gc(true));
  const b = budget;
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since < CHECK_EVERY_BYTES) return;
    since = 0;
    b.over();
  };
}

/** A pass-through stream that runs a `gcPacer` on the bytes going through it. */
export function gcPaced(): TransformStream<Uint8Array, Uint8Array> {
  const count = gcPacer();
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, ctrl) {
      ctrl.enqueue(chunk);
      count(chunk.length);
    },
  });
}
