/**
 * `seelie job logs`: a job's worker output, from the local engine's containers or the TFJob's pods.
 * With several workers and no `--worker`, every line is prefixed with its worker (`[worker-1] …`).
 * `--follow` ends when the workers stop; Ctrl-C (the signal) ends it with InterruptedError.
 */
import type { SeelieConfig } from "../config/types.ts";
import { UsageError } from "../errors.ts";
import { type LogSink, parseDuration } from "./log-lines.ts";
import { readJob, runningBackend } from "./lookup.ts";
import { Backends } from "./status.ts";

/** What a backend is asked for: which workers, and how. */
export interface LogRequest {
  /** Worker indexes, in order. */
  workers: number[];
  /** Prefix each line with `[worker-<i>] `. */
  prefix: boolean;
  follow: boolean;
  /** Only the last this many lines (per worker). */
  tail?: number;
  /** Only lines newer than this many seconds. */
  sinceSeconds?: number;
  timestamps: boolean;
  signal?: AbortSignal;
}

/** What `jobLogs` needs: the flags as given, and where to write. */
export interface LogsInput {
  id: number;
  /** `--worker` as given (a worker index). */
  worker?: string;
  follow?: boolean;
  /** `--tail` as given. */
  tail?: string;
  /** `--since` as given (`10m`, `1h30m`). */
  since?: string;
  timestamps?: boolean;
  jobStore: string;
  config: () => Promise<SeelieConfig>;
  env: Record<string, string | undefined>;
  sink: LogSink;
  signal?: AbortSignal;
}

/** Validates the flags against the job (worker range) into a request. */
export function logRequest(
  input: Pick<LogsInput, "worker" | "follow" | "tail" | "since" | "timestamps" | "signal">,
  workerCount: number,
  jobId: number,
): LogRequest {
  let workers = Array.from({ length: workerCount }, (_, i) => i);
  if (input.worker !== undefined) {
    const w = input.worker;
    if (!/^[0-9]+$/.test(w) || Number(w) >= workerCount) {
      throw new UsageError(
        `--worker "${w}": job ${jobId} has ${workerCount} worker${workerCount > 1 ? "s" : ""} (${workerCount > 1 ? `0 to ${workerCount - 1}` : "0"})`,
        "give a worker index, or leave --worker out for all of them",
      );
    }
    workers = [Number(w)];
  }
  let tail: number | undefined;
  if (input.tail !== undefined) {
    if (!/^[0-9]+$/.test(input.tail)) throw new UsageError(`--tail "${input.tail}" is not a number of lines`, "e.g. --tail 100");
    tail = Number(input.tail);
  }
  return {
    workers,
    prefix: input.worker === undefined && workerCount > 1,
    follow: input.follow === true,
    tail,
    sinceSeconds: input.since === undefined ? undefined : parseDuration("since", input.since),
    timestamps: input.timestamps === true,
    signal: input.signal,
  };
}

/** Writes the job's logs to the sink. */
export async function jobLogs(input: LogsInput): Promise<void> {
  const job = readJob(input.jobStore, input.id);
  const req = logRequest(input, job.spec.workerCount, job.id);
  const ref = runningBackend(job, "read logs of");
  const backends = new Backends(input.config, input.env);
  if (ref.kind === "local") {
    const { localLogs } = await import("./local-logs.ts");
    return localLogs(await backends.local(), job.id, ref, req, input.sink);
  }
  const { kubeLogs } = await import("./kube-logs.ts");
  return kubeLogs(await backends.kube(ref.context), job.id, ref, req, input.sink);
}
