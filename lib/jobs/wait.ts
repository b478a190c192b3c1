/**
 * `seelie job wait`: polls the job's live status (recording it, as `job get` does) until it reaches
 * the wanted status, ends otherwise, or the timeout passes — the contract of `kubectl wait`, for
 * shell automation: reached → the caller exits 0; anything else → an error (exit 1); Ctrl-C → 130.
 */
import type { SeelieConfig } from "../config/types.ts";
import { errorMessage, InterruptedError, SeelieError, UsageError } from "../errors.ts";
import { log } from "../log.ts";
import { parseDuration } from "./log-lines.ts";
import { readJob, runningBackend } from "./lookup.ts";
import { workerDocument } from "./render.ts";
import { Backends, refreshJob } from "./status.ts";
import { NO_OPERATOR_STATUS } from "./tfjob.ts";
import type { JobStatus, WorkerStatus } from "./types.ts";

/** The statuses `--for` accepts. */
export const WAIT_TARGETS = ["Succeeded", "Failed", "Running"] as const;
export type WaitTarget = (typeof WAIT_TARGETS)[number];

/** Statuses after which a job never reaches another one. */
const ENDED: readonly JobStatus[] = ["Succeeded", "Failed", "Deleted", "SubmitFailed", "Recorded", "Unknown"];

/** What `waitJob` needs. */
export interface WaitInput {
  id: number;
  /** `--for` as given (any case); default Succeeded. */
  for?: string;
  /** `--timeout` as given (`30m`); default: no limit. `0s` checks once. */
  timeout?: string;
  jobStore: string;
  config: () => Promise<SeelieConfig>;
  env: Record<string, string | undefined>;
  signal?: AbortSignal;
  /** Time between two looks at the backend. */
  pollMs?: number;
}

/** How the wait ended: the document for `-o json`, and the error to exit with when not reached. */
export interface Waited {
  document: { job_id: number; for: WaitTarget; reached: boolean; status: JobStatus; message?: string; workers?: Record<string, unknown>[] };
  text: string;
  error?: SeelieError;
}

/** Parses `--for` (any case). */
export function waitTarget(raw: string | undefined): WaitTarget {
  const t = WAIT_TARGETS.find((x) => x.toLowerCase() === (raw ?? "Succeeded").toLowerCase());
  if (!t) throw new UsageError(`--for "${raw}" is not a status seelie job wait can wait for`, `use --for ${WAIT_TARGETS.join(", --for ")}`);
  return t;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new InterruptedError("waiting for the job"));
    const onAbort = () => {
      clearTimeout(t);
      reject(new InterruptedError("waiting for the job"));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Waits for the job to reach `--for`; see the file comment for the outcomes. */
export async function waitJob(input: WaitInput): Promise<Waited> {
  const target = waitTarget(input.for);
  const timeoutMs = input.timeout === undefined ? Number.POSITIVE_INFINITY : parseDuration("timeout", input.timeout) * 1000;
  let job = readJob(input.jobStore, input.id);
  runningBackend(job, "wait for");
  const backends = new Backends(input.config, input.env, true);
  const deadline = Date.now() + timeoutMs;
  let failures = 0;
  let warnedNoOperator = false;
  let workers: WorkerStatus[] | undefined;
  const done = (reached: boolean, error?: SeelieError): Waited => ({
    document: {
      job_id: job.id,
      for: target,
      reached,
      status: job.status,
      ...(job.message ? { message: job.message } : {}),
      ...(workers ? { workers: workers.map(workerDocument) } : {}),
    },
    text: `job ${job.id} ${job.status}${job.message ? ` (${job.message})` : ""}`,
    error,
  });
  for (;;) {
    if (input.signal?.aborted) throw new InterruptedError("waiting for the job");
    try {
      ({ job, workers } = await refreshJob(job, backends, input.jobStore));
      failures = 0;
    } catch (err) {
      if (err instanceof UsageError || ++failures >= 5) throw err;
      log.warn(`could not ask the backend for job ${job.id}'s status (${errorMessage(err)}); trying again`);
    }
    if (job.status === target) return done(true);
    if (ENDED.includes(job.status)) {
      const why =
        job.status === "Unknown"
          ? `vanished: ${job.message ?? "its backend no longer knows it"}`
          : `ended ${job.status}${job.message ? ` (${job.message})` : ""}`;
      return done(
        false,
        new SeelieError(`job ${job.id} ${why}, not ${target}`, {
          hint: `seelie job logs --job_id ${job.id} shows what the workers printed`,
        }),
      );
    }
    if (job.message === NO_OPERATOR_STATUS && !warnedNoOperator) {
      warnedNoOperator = true;
      log.warn(`job ${job.id}'s TFJob has ${NO_OPERATOR_STATUS}; still waiting`);
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      return done(
        false,
        new SeelieError(`timed out after ${input.timeout} waiting for job ${job.id} to be ${target} (it is ${job.status})`, {
          hint: "wait longer with a larger --timeout, or look at it with seelie job get",
        }),
      );
    }
    await sleep(Math.min(input.pollMs ?? 1000, left), input.signal);
  }
}
