/**
 * `seelie job logs` on the local engine: each worker container's output (Docker's multiplexed
 * stream, split back into stdout and stderr), followed until the container stops or Ctrl-C.
 */
import type { Readable } from "node:stream";
import { InterruptedError, SeelieError } from "../errors.ts";
import { engineError, type LocalEngine, type LocalRef } from "./backend-local.ts";
import { dockerDemuxer, type LogSink, prefixedLines } from "./log-lines.ts";
import type { LogRequest } from "./logs.ts";

/** Writes the logs of the chosen workers of a local job to `sink`. */
export async function localLogs(engine: LocalEngine, jobId: number, ref: LocalRef, req: LogRequest, sink: LogSink): Promise<void> {
  const one = async (index: number) => {
    const name = ref.containers[index]!;
    const opts = {
      stdout: true,
      stderr: true,
      timestamps: req.timestamps,
      ...(req.tail !== undefined ? { tail: req.tail } : {}),
      ...(req.sinceSeconds !== undefined ? { since: Math.floor(Date.now() / 1000) - req.sinceSeconds } : {}),
    };
    const prefix = req.prefix ? `[worker-${index}] ` : "";
    const out = prefixedLines(prefix, (c) => sink.stdout(c));
    const err = prefixedLines(prefix, (c) => sink.stderr(c));
    const demux = dockerDemuxer((stream, payload) => (stream === 2 ? err : out).write(payload));
    const container = engine.docker.getContainer(name);
    try {
      if (!req.follow) {
        demux((await container.logs({ ...opts, follow: false })) as unknown as Uint8Array);
      } else {
        const stream = (await container.logs({ ...opts, follow: true })) as unknown as Readable;
        await pump(stream, demux, req.signal);
      }
    } catch (e) {
      if (e instanceof SeelieError) throw e;
      if ((e as { statusCode?: number }).statusCode === 404) {
        throw new SeelieError(`job ${jobId}: the container of worker-${index} (${name}) no longer exists; it was removed outside seelie`, {
          hint: `its logs are gone; seelie job delete --job_id ${jobId} --forget drops the record`,
        });
      }
      throw engineError(engine, e);
    } finally {
      out.end();
      err.end();
    }
  };
  if (req.follow) await Promise.all(req.workers.map(one));
  else for (const i of req.workers) await one(i);
}

/** Feeds a stream to `onChunk` until it ends; Ctrl-C destroys it and rejects with InterruptedError. */
function pump(stream: Readable, onChunk: (c: Uint8Array) => void, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      stream.destroy();
      reject(new InterruptedError("following the logs"));
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    stream.on("data", (c: Uint8Array) => onChunk(c));
    stream.on("end", () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    });
    stream.on("close", () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    });
    stream.on("error", (e) => {
      signal?.removeEventListener("abort", onAbort);
      if (signal?.aborted) reject(new InterruptedError("following the logs"));
      else reject(e);
    });
  });
}
