/**
 * `seelie job get` and `seelie job list`: read the store; `get` asks the backend for the live status
 * (except for `-o cmd`, which needs nothing but the record).
 */
import type { SeelieConfig } from "../config/types.ts";
import { UsageError, errorMessage } from "../errors.ts";
import { submitCommand } from "./cmdline.ts";
import { jobDocument, jobTable, jobText } from "./render.ts";
import { JobStore, type ListFilter } from "./store.ts";
import type { JobRecord, JobStatus } from "./types.ts";

/** The output of `seelie job get`: the text for stdout and warnings for stderr. */
export interface Shown {
  stdout: string;
  warnings: string[];
}

/** What `getJob` needs. */
export interface GetInput {
  id: number;
  format: "text" | "json" | "yaml" | "cmd";
  showSecrets?: boolean;
  /** The job store's path. */
  jobStore: string;
  /** Loads the configuration (only when the backend is asked for the live status). */
  config: () => Promise<SeelieConfig>;
  env: Record<string, string | undefined>;
}

/** Reads one job from the store; an unknown id is a UsageError. */
function readJob(path: string, id: number): JobRecord {
  const store = JobStore.open(path);
  try {
    const job = store.get(id);
    if (!job) throw new UsageError(`no job ${id} in the job store ${path}`, "seelie job list shows the ids of your jobs");
    return job;
  } finally {
    store.close();
  }
}

/** `seelie job get`: the job in the asked format, with its live status for text/json/yaml. */
export async function getJob(input: GetInput): Promise<Shown> {
  let job = readJob(input.jobStore, input.id);
  const warnings: string[] = [];
  if (input.format === "cmd") {
    const { command, hiddenKeys } = submitCommand(job.spec, { showSecrets: input.showSecrets });
    if (hiddenKeys.length) {
      warnings.push(
        `the value${hiddenKeys.length > 1 ? "s" : ""} of ${hiddenKeys.join(", ")} look${hiddenKeys.length > 1 ? "" : "s"} secret and ${hiddenKeys.length > 1 ? "are" : "is"} not printed: ` +
          `the command reads ${hiddenKeys.map((k) => `$${k}`).join(", ")} from your shell; set ${hiddenKeys.length > 1 ? "them" : "it"} first, or use --show-secrets`,
      );
    }
    return { stdout: `${command}\n`, warnings };
  }
  job = await refreshed(job, input, warnings);
  const doc = jobDocument(job, { showSecrets: input.showSecrets });
  if (input.format === "json") return { stdout: `${JSON.stringify(doc, null, 2)}\n`, warnings };
  if (input.format === "yaml") {
    const { stringify } = await import("yaml");
    return { stdout: stringify(doc, { lineWidth: 0 }), warnings };
  }
  return { stdout: `${jobText(job, { showSecrets: input.showSecrets })}\n`, warnings };
}

async function refreshed(job: JobRecord, input: GetInput, warnings: string[]): Promise<JobRecord> {
  if (!job.backend) return job;
  let live: { status: JobStatus; message?: string };
  try {
    const { liveStatus, FINAL_STATUSES } = await import("./status.ts");
    if (FINAL_STATUSES.includes(job.status)) return job;
    live = await liveStatus(job, await input.config(), input.env);
  } catch (err) {
    warnings.push(`could not ask the backend for the live status (${errorMessage(err)}); showing the last known one`);
    return job;
  }
  if (live.status === job.status && (live.message ?? undefined) === job.message) return job;
  const store = JobStore.open(input.jobStore);
  try {
    store.update(job.id, { status: live.status, message: live.message ?? null });
    return store.get(job.id) ?? job;
  } finally {
    store.close();
  }
}

/** The statuses `job list --status` accepts. */
const LIST_STATUSES: readonly JobStatus[] = ["Recorded", "Submitted", "Created", "Running", "Restarting", "Succeeded", "Failed", "SubmitFailed", "Unknown"];

/** `seelie job list`: jobs newest first (last known status), as a table or a JSON document. */
export function listJobs(input: { filter: ListFilter; format: "text" | "json"; showSecrets?: boolean; jobStore: string }): Shown {
  const { status } = input.filter;
  if (status !== undefined && !LIST_STATUSES.some((s) => s.toLowerCase() === status.toLowerCase())) {
    throw new UsageError(`--status "${status}" is not a job status`, `use one of ${LIST_STATUSES.join(", ")}`);
  }
  const store = JobStore.open(input.jobStore);
  try {
    const jobs = store.list(input.filter);
    if (input.format === "json") return { stdout: `${JSON.stringify(jobs.map((j) => jobDocument(j, input)), null, 2)}\n`, warnings: [] };
    return { stdout: `${jobTable(jobs)}\n`, warnings: [] };
  } finally {
    store.close();
  }
}
