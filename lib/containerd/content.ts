/**
 * Reading and writing blobs of containerd's content store. Writes are split over several
 * client-streamed `Write` calls that resume the same ref at its offset: on Bun one call that sends
 * more than ~6 MiB hangs (see PLATFORM-NOTES); measured here, messages of 1 MiB hung already at
 * ~2 MiB, and under load (load average 10 on 2 cores) calls of 4 MiB in 256 KiB messages hung too
 * now and then, so each call carries at most `perCallBytes` (4 MiB) and a stalled call is cancelled
 * and resumed from the store's offset.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type CallOptions } from "@connectrpc/connect";
import {
  WriteAction,
  WriteContentRequestSchema,
  type Info,
  type WriteContentRequest,
} from "../../proto/gen/containerd/services/content/v1/content_pb.ts";
import { rechunk } from "../util/rechunk.ts";
import { log } from "../log.ts";
import { SeelieError } from "../errors.ts";
import { gcPacer } from "../util/gc-pacer.ts";
import { containerdError, isAlreadyExists, isNotFound, type ContainerdClient } from "./client.ts";

/** The content store's info for `digest`, or undefined when the store does not hold it. */
export async function contentInfo(c: ContainerdClient, digest: string, call?: CallOptions): Promise<Info | undefined> {
  try {
    return (await c.content.info({ digest }, call)).info;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw containerdError(err, c.socketPath, `content info ${digest}`);
  }
}

/**
 * Streams a blob out of the content store with server-streamed `Read`s of `windowBytes` each, one
 * after the other, so that what one call can buffer ahead of a slow consumer stays bounded. It
 * paces garbage collection by the bytes read (`gcPacer`): this stream drives the whole
 * read → gzip → upload pipeline, whose buffers are otherwise collected too late.
 */
export function contentStream(
  c: ContainerdClient,
  digest: string,
  signal?: AbortSignal,
  windowBytes = 8 * 1024 * 1024,
): ReadableStream<Uint8Array> {
  const collect = gcPacer();
  let it: AsyncIterator<{ data: Uint8Array }> | undefined;
  let offset = 0;
  let size: number | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        if (size === undefined) {
          const info = await contentInfo(c, digest);
          if (!info) throw new SeelieError(`the content store has no blob ${digest}`, { hint: "it may have been garbage-collected" });
          size = Number(info.size);
        }
        for (;;) {
          if (!it) {
            if (offset >= size) return ctrl.close();
            const n = Math.min(windowBytes, size - offset);
            it = c.content.read({ digest, offset: BigInt(offset), size: BigInt(n) }, { signal })[Symbol.asyncIterator]();
          }
          const r = await it.next();
          if (r.done) {
            it = undefined;
            continue;
          }
          offset += r.value.data.length;
          ctrl.enqueue(r.value.data);
          collect(r.value.data.length);
          return;
        }
      } catch (err) {
        ctrl.error(containerdError(err, c.socketPath, `read content ${digest}`));
      }
    },
    async cancel() {
      await it?.return?.();
    },
  });
}

/** Reads a whole (small) blob: manifests, configs. */
export async function readContent(c: ContainerdClient, digest: string, signal?: AbortSignal): Promise<Uint8Array> {
  return new Uint8Array(await new Response(contentStream(c, digest, signal)).arrayBuffer());
}

/** What to write into the content store. */
export interface WriteContentOptions {
  /** The ingest ref; unique per write. */
  ref: string;
  /** The expected digest and size; when absent (a stream being produced) they are computed while writing. */
  digest?: string;
  size?: number;
  labels?: Record<string, string>;
  /** Call options (e.g. the lease header from `client.leased(id)`). */
  call?: CallOptions;
  /** Bytes sent per Write call (default 4 MiB; each call costs ~80 ms of set-up, so not much less). */
  perCallBytes?: number;
  /** Bytes per message (default 256 KiB). */
  messageBytes?: number;
  /** A Write call with no acknowledgement for this long (default 2 s) has stalled: it is cancelled and resumed where the store stopped. */
  callTimeoutMs?: number;
}

const CALL_ATTEMPTS = 4;

/**
 * Writes a blob into the content store from bytes or a stream and commits it (checking the
 * expected digest when given), in Write calls of at most `perCallBytes`. A call that stalls (Bun's
 * HTTP/2 client hangs now and then on client-streamed data under load, at any size from ~2 MiB on)
 * is cancelled and resumed from the offset the store reports, so at most one call's bytes are held
 * in memory. Content already present counts as written. Returns the blob's digest and size.
 */
export async function writeContent(
  c: ContainerdClient,
  source: Uint8Array | ReadableStream<Uint8Array>,
  opts: WriteContentOptions,
): Promise<{ digest: string; size: number }> {
  const perCall = opts.perCallBytes ?? 4 * 1024 * 1024;
  const msgBytes = Math.min(opts.messageBytes ?? 256 * 1024, perCall);
  const stream = source instanceof Uint8Array ? new Blob([source]).stream() : source;
  const pieces = rechunk(stream, msgBytes)[Symbol.asyncIterator]();
  const hasher = new Bun.CryptoHasher("sha256");
  const base = { ref: opts.ref, total: BigInt(opts.size ?? 0) };
  let offset = 0n; // bytes the store has for sure
  const what = `write content ${opts.digest ?? ""} (ref ${opts.ref})`;
  try {
    for (let eof = false; !eof; ) {
      const batch: Uint8Array[] = [];
      let batchBytes = 0;
      while (batchBytes < perCall) {
        const r = await pieces.next();
        if (r.done) {
          eof = true;
          break;
        }
        hasher.update(r.value);
        batch.push(r.value);
        batchBytes += r.value.length;
      }
      // Known in the last call at the latest, so that a resumed commit finds the blob (AlreadyExists).
      const expected = opts.digest ?? (eof ? `sha256:${hasher.copy().digest("hex")}` : "");
      let from = offset; // where this call starts: the store's offset
      // Attempts without progress; a resumed call that got further starts the count again.
      for (let attempt = 1; ; attempt++) {
        const start = from;
        async function* requests(): AsyncGenerator<WriteContentRequest> {
          let pos = offset;
          for (const piece of batch) {
            const end = pos + BigInt(piece.length);
            if (end > start) {
              const data = start > pos ? piece.subarray(Number(start - pos)) : piece;
              yield create(WriteContentRequestSchema, {
                ...base,
                expected,
                action: WriteAction.WRITE,
                offset: end - BigInt(data.length),
                data,
              });
            }
            pos = end;
          }
          if (eof)
            yield create(WriteContentRequestSchema, {
              ...base,
              expected,
              action: WriteAction.COMMIT,
              offset: pos,
              labels: opts.labels ?? {},
            });
        }
        // Every message is acknowledged: a call with no answer for `stallMs` has stalled.
        const stall = new AbortController();
        const stallMs = opts.callTimeoutMs ?? 2_000;
        let timer = setTimeout(() => stall.abort(), stallMs);
        const signal = opts.call?.signal ? AbortSignal.any([opts.call.signal, stall.signal]) : stall.signal;
        try {
          for await (const _ of c.content.write(requests(), { ...opts.call, signal })) {
            clearTimeout(timer);
            timer = setTimeout(() => stall.abort(), stallMs);
          }
          break;
        } catch (err) {
          clearTimeout(timer);
          if (isAlreadyExists(err) || attempt >= CALL_ATTEMPTS || opts.call?.signal?.aborted) throw err;
          if (!(err instanceof ConnectError) || ![Code.DeadlineExceeded, Code.Unavailable, Code.Canceled, Code.Internal].includes(err.code))
            throw err;
          await Bun.sleep(100 * attempt);
          const now = await storeOffset(c, opts.ref, offset);
          log.debug(`content write ${opts.ref}: call failed (${err.code}), resuming at ${now}`);
          if (now > from) attempt = 0;
          from = now;
        } finally {
          clearTimeout(timer);
        }
      }
      offset += BigInt(batchBytes);
    }
    return { digest: opts.digest ?? `sha256:${hasher.digest("hex")}`, size: Number(offset) };
  } catch (err) {
    if (isAlreadyExists(err)) {
      // Present already: refused at the first message (digest given) or at commit (all was read).
      if (opts.digest) return { digest: opts.digest, size: opts.size ?? 0 };
      for (let r = await pieces.next(); !r.done; r = await pieces.next()) {
        hasher.update(r.value);
        offset += BigInt(r.value.length);
      }
      return { digest: `sha256:${hasher.digest("hex")}`, size: Number(offset) };
    }
    await c.content.abort({ ref: opts.ref }).catch(() => undefined);
    throw containerdError(err, c.socketPath, what);
  } finally {
    await pieces.return?.(undefined);
  }
}

/** The offset the store holds for an ingest ref (at least `committed`); 0 when it has none. */
async function storeOffset(c: ContainerdClient, ref: string, committed: bigint): Promise<bigint> {
  try {
    const st = (await c.content.status({ ref })).status;
    return st && st.offset >= committed ? st.offset : committed;
  } catch (err) {
    if (isNotFound(err)) return committed;
    throw err;
  }
}
