/**
 * Reading and writing blobs of containerd's content store. Writes are split over several
 * client-streamed `Write` calls that resume the same ref at its offset: on Bun one call that sends
 * more than ~6 MiB hangs (see PLATFORM-NOTES), and messages of 1 MiB hung already at ~2 MiB, so
 * each call carries at most `perCallBytes` in messages of `messageBytes`.
 */
import { create } from "@bufbuild/protobuf";
import type { CallOptions } from "@connectrpc/connect";
import {
  WriteAction,
  WriteContentRequestSchema,
  type Info,
  type WriteContentRequest,
} from "../../proto/gen/containerd/services/content/v1/content_pb.ts";
import { rechunk } from "../registry/distribution.ts";
import { containerdError, isAlreadyExists, isNotFound, type ContainerdClient } from "./client.ts";

/** The sha256 digest (`sha256:…`) of bytes. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
}

/** The content store's info for `digest`, or undefined when the store does not hold it. */
export async function contentInfo(c: ContainerdClient, digest: string, call?: CallOptions): Promise<Info | undefined> {
  try {
    return (await c.content.info({ digest }, call)).info;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw containerdError(err, c.socketPath, `content info ${digest}`);
  }
}

/** Streams a blob out of the content store (server-streamed `Read`). */
export function contentStream(c: ContainerdClient, digest: string, signal?: AbortSignal): ReadableStream<Uint8Array> {
  let it: AsyncIterator<{ data: Uint8Array }> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        it ??= c.content.read({ digest }, { signal })[Symbol.asyncIterator]();
        const r = await it.next();
        if (r.done) ctrl.close();
        else ctrl.enqueue(r.value.data);
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
  digest: string;
  size: number;
  labels?: Record<string, string>;
  /** Call options (e.g. the lease header from `client.leased(id)`). */
  call?: CallOptions;
  /** Bytes sent per Write call (default 4 MiB, under Bun's hang threshold). */
  perCallBytes?: number;
  /** Bytes per message (default 256 KiB: on Bun 1.4.5 messages of 1 MiB hung after ~2 MiB in one call). */
  messageBytes?: number;
}

/**
 * Writes a blob into the content store from bytes or a stream and commits it with its expected
 * digest, split over several `Write` calls. Content already present counts as written.
 */
export async function writeContent(
  c: ContainerdClient,
  source: Uint8Array | ReadableStream<Uint8Array>,
  opts: WriteContentOptions,
): Promise<void> {
  const perCall = opts.perCallBytes ?? 4 * 1024 * 1024;
  const msgBytes = Math.min(opts.messageBytes ?? 256 * 1024, perCall);
  const stream = source instanceof Uint8Array ? new Blob([source]).stream() : source;
  const pieces = rechunk(stream, msgBytes)[Symbol.asyncIterator]();
  const total = BigInt(opts.size);
  let offset = 0n;
  let finished = false;
  const base = { ref: opts.ref, total, expected: opts.digest };
  try {
    while (!finished) {
      async function* requests(): AsyncGenerator<WriteContentRequest> {
        let sent = 0;
        while (sent < perCall) {
          const r = await pieces.next();
          if (r.done) {
            finished = true;
            yield create(WriteContentRequestSchema, { ...base, action: WriteAction.COMMIT, offset, labels: opts.labels ?? {} });
            return;
          }
          yield create(WriteContentRequestSchema, { ...base, action: WriteAction.WRITE, offset, data: r.value });
          offset += BigInt(r.value.length);
          sent += r.value.length;
        }
      }
      // A deadline per call, so a stalled stream fails instead of hanging forever.
      for await (const _ of c.content.write(requests(), { timeoutMs: 120_000, ...opts.call })) {
        // Each message is acknowledged; the stream ends when the server released the ref.
      }
    }
  } catch (err) {
    if (isAlreadyExists(err)) return;
    await c.content.abort({ ref: opts.ref }).catch(() => undefined);
    throw containerdError(err, c.socketPath, `write content ${opts.digest} (ref ${opts.ref})`);
  } finally {
    await pieces.return?.(undefined);
  }
}
