/**
 * gzip members made by libdeflate on worker threads. Bun's `gzipSync(…, { library: "libdeflate" })`
 * deflates base64 text at ~100 MB/s per core against zlib's ~30–55 MB/s, with as good a ratio
 * (measured: 0.7552 vs zlib -6's 0.7566), but it is synchronous: one worker per core makes it parallel.
 * The workers are shared by every stream of the process and unref'd, so an idle pool keeps no process
 * alive; the input block travels to the worker and back (transferred, not copied) to be reused.
 */
import { availableParallelism } from "node:os";
import { SeelieError } from "../errors.ts";

/** A run of the block `[start, end)` deflated at `level` (0: stored) into one gzip member. */
export type Run = readonly [start: number, end: number, level: number];

// Plain JavaScript, loaded from a Blob URL: it needs no file of its own, in a checkout or in a
// `bun build --compile` binary alike.
const WORKER_SOURCE = `
let jobs = 0;
self.onmessage = ({ data: { id, buf, runs } }) => {
  const input = new Uint8Array(buf);
  try {
    const parts = runs.map(([s, e, level]) => Bun.gzipSync(input.subarray(s, e), { level, library: "libdeflate" }));
    self.postMessage({ id, parts, buf }, [...parts.map((p) => p.buffer), buf]);
  } catch (err) {
    self.postMessage({ id, error: String((err && err.message) || err), buf }, [buf]);
  }
  // libdeflate's scratch buffers are garbage of this thread's heap, which the main thread's
  // collections do not reach; a collection of this small heap costs ~1 ms.
  if (++jobs % 4 === 0) Bun.gc(true);
};`;

interface Job {
  id: number;
  buf: ArrayBuffer;
  runs: Run[];
  resolve: (r: { parts: Uint8Array[]; buf: ArrayBuffer }) => void;
  reject: (e: Error) => void;
}

interface Reply {
  id: number;
  parts?: Uint8Array[];
  buf: ArrayBuffer;
  error?: string;
}

class DeflatePool {
  private readonly idle: Worker[] = [];
  private readonly queue: Job[] = [];
  private readonly running = new Map<number, Job>();
  private nextId = 0;
  private readonly url: string;

  constructor(size: number) {
    this.url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "application/javascript" }));
    for (let i = 0; i < size; i++) this.idle.push(this.spawn());
  }

  private spawn(): Worker {
    const w = new Worker(this.url);
    w.unref();
    w.onmessage = (e: MessageEvent<Reply>) => {
      const job = this.running.get(e.data.id);
      this.running.delete(e.data.id);
      this.idle.push(w);
      this.next();
      if (!job) return;
      if (e.data.error !== undefined || !e.data.parts) job.reject(new SeelieError(`gzip of a layer block failed: ${e.data.error}`));
      else job.resolve({ parts: e.data.parts, buf: e.data.buf });
    };
    w.onerror = (e) => {
      // A worker that died takes its job with it: fail what is running rather than hang the upload,
      // and put a fresh worker in its place.
      const err = new SeelieError(`the gzip worker stopped: ${e.message}`);
      for (const job of this.running.values()) job.reject(err);
      this.running.clear();
      w.terminate();
      this.idle.push(this.spawn());
      this.next();
    };
    return w;
  }

  private next(): void {
    while (this.idle.length && this.queue.length) {
      const w = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.running.set(job.id, job);
      w.postMessage({ id: job.id, buf: job.buf, runs: job.runs }, [job.buf]);
    }
  }

  /** Deflates each run of `buf` into a gzip member, in order; `buf` is handed back with them. */
  gzip(buf: ArrayBuffer, runs: Run[]): Promise<{ parts: Uint8Array[]; buf: ArrayBuffer }> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, buf, runs, resolve, reject });
      this.next();
    });
  }
}

let pool: DeflatePool | undefined;

/** The process's pool, one worker per core, made on first use. */
export function deflatePool(): DeflatePool {
  pool ??= new DeflatePool(availableParallelism());
  return pool;
}
