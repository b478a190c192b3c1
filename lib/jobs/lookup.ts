/**
 * Finding a recorded job for a command, with the errors a user can act on: an unknown id, and a
 * job that has nothing running for `logs`/`wait` to look at (only recorded, never started, deleted).
 */
import { SeelieError, UsageError } from "../errors.ts";
import { JobStore } from "./store.ts";
import type { BackendRef, JobRecord } from "./types.ts";

/** Reads one job from the store; an unknown id is a UsageError. */
export function readJob(path: string, id: number): JobRecord {
  const store = JobStore.open(path);
  try {
    const job = store.get(id);
    if (!job) throw new UsageError(`no job ${id} in the job store ${path}`, "seelie job list shows the ids of your jobs");
    return job;
  } finally {
    store.close();
  }
}

/** The job's backend reference, or an error saying why there is nothing to `what` (e.g. "read logs of"). */
export function runningBackend(job: JobRecord, what: string): BackendRef {
  if (job.status === "Deleted") {
    throw new SeelieError(`job ${job.id} was deleted (${job.updatedAt}): there is nothing left to ${what}`, {
      hint: `seelie job get --job_id ${job.id} -o cmd prints the command that submits it again`,
    });
  }
  if (!job.backend) {
    const why =
      job.status === "Recorded" ? "was only recorded (--record_only) and never ran" : `never started (${job.message ?? job.status})`;
    throw new SeelieError(`job ${job.id} ${why}: there is nothing to ${what}`, { hint: `seelie job get --job_id ${job.id} shows it` });
  }
  return job.backend;
}
