/**
 * `seelie job get` and `seelie job list`: read the store; `get` (and `list --refresh`) ask the
 * backends for the live status and each worker's state; `-o cmd` and a plain `list` need nothing but
 * the store (the backends are not even loaded).
 */
import type { SeelieConfig } from "../config/types.ts";
import { errorMessage, UsageError } from "../errors.ts";
import { submitCommand } from "./cmdline.ts";
import { readJob } from "./lookup.ts";
import { jobDocument, jobTable, jobText } from "./render.ts";
import { JobStore, type ListFilter } from "./store.ts";
import { JOB_STATUSES, type JobRecord, type WorkerStatus } from "./types.ts";
import { jobsEnv } from "./store-path.ts";
import { parseJobId } from "./validate.ts";

/** The output of a command: the text for stdout and warnings for stderr. */
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
  const { Backends, refreshJob } = await import("./status.ts");
  let workers: WorkerStatus[] | undefined;
  try {
    ({ job, workers } = await refreshJob(job, new Backends(input.config, input.env), input.jobStore));
  } catch (err) {
    warnings.push(`could not ask the backend for the live status (${errorMessage(err)}); showing the last known one`);
  }
  const doc = jobDocument(job, { showSecrets: input.showSecrets, workers });
  if (input.format === "json") return { stdout: `${JSON.stringify(doc, null, 2)}\n`, warnings };
  if (input.format === "yaml") {
    const { stringify } = await import("yaml");
    return { stdout: stringify(doc, { lineWidth: 0 }), warnings };
  }
  return { stdout: `${jobText(job, { showSecrets: input.showSecrets, workers })}\n`, warnings };
}

/** What `listJobs` needs. */
export interface ListInput {
  filter: ListFilter;
  format: "text" | "json";
  showSecrets?: boolean;
  jobStore: string;
  /** Ask the backends for the live status of the listed jobs (and record it); needs `config` and `env`. */
  refresh?: { config: () => Promise<SeelieConfig>; env: Record<string, string | undefined> };
}

/** Checks a `--status` filter against the known statuses (any case). */
function checkStatusFilter(status: string | undefined): void {
  if (status !== undefined && !JOB_STATUSES.some((s) => s.toLowerCase() === status.toLowerCase())) {
    throw new UsageError(`--status "${status}" is not a job status`, `use one of ${JOB_STATUSES.join(", ")}`);
  }
}

function listed(jobs: JobRecord[], input: ListInput, workers?: Map<number, WorkerStatus[]>): string {
  if (input.format === "json")
    return `${JSON.stringify(
      jobs.map((j) => jobDocument(j, { showSecrets: input.showSecrets, workers: workers?.get(j.id) })),
      null,
      2,
    )}\n`;
  return `${jobTable(jobs, workers)}\n`;
}

/**
 * `seelie job list`: jobs newest first, as a table or a JSON document. Without `refresh` the last
 * known status, from the store alone (the backends are not even loaded).
 */
export async function listJobs(input: ListInput): Promise<Shown> {
  checkStatusFilter(input.filter.status);
  if (input.refresh) return listRefreshed(input, input.refresh);
  const store = JobStore.open(input.jobStore);
  try {
    return { stdout: listed(store.list(input.filter), input), warnings: [] };
  } finally {
    store.close();
  }
}

/**
 * `job list --refresh`: the live status first (one connection per backend, at most 8 jobs asked at
 * a time), then the filter applied to the refreshed statuses. A backend that cannot be reached
 * leaves its jobs at their last known status, with one warning per backend.
 */
async function listRefreshed(input: ListInput, refresh: NonNullable<ListInput["refresh"]>): Promise<Shown> {
  const { Backends, FINAL_STATUSES, refreshJob } = await import("./status.ts");
  const store = JobStore.open(input.jobStore);
  let candidates: JobRecord[];
  try {
    candidates = store.list(input.filter);
    if (input.filter.status) {
      // --status applies to the live status: a job whose status can still change may match it now.
      const open = JOB_STATUSES.filter((s) => !FINAL_STATUSES.includes(s));
      const more = store.list({ ...input.filter, status: undefined, statuses: open, limit: Number.MAX_SAFE_INTEGER });
      const ids = new Set(candidates.map((j) => j.id));
      candidates = [...candidates, ...more.filter((j) => !ids.has(j.id))].sort((a, b) => b.id - a.id);
    }
  } finally {
    store.close();
  }
  const backends = new Backends(refresh.config, refresh.env);
  const failures = new Map<string, string>();
  const workers = new Map<number, WorkerStatus[]>();
  const jobs = await mapLimited(candidates, 8, async (job) => {
    try {
      const r = await refreshJob(job, backends, input.jobStore);
      if (r.workers) workers.set(job.id, r.workers);
      return r.job;
    } catch (err) {
      const where = job.backend?.kind === "tfjob" ? `context ${job.backend.context}` : "the local engine";
      if (!failures.has(where)) failures.set(where, errorMessage(err));
      return job;
    }
  });
  const status = input.filter.status?.toLowerCase();
  const shown = (status ? jobs.filter((j) => j.status.toLowerCase() === status) : jobs).slice(0, input.filter.limit ?? 20);
  const warnings = [...failures].map(
    ([where, msg]) => `could not ask ${where} for the live status (${msg}); its jobs show their last known status`,
  );
  return { stdout: listed(shown, input, workers), warnings };
}

/** `f` over `xs` with at most `limit` calls at a time, results in order. */
async function mapLimited<T, R>(xs: readonly T[], limit: number, f: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(xs.length);
  let next = 0;
  const worker = async () => {
    while (next < xs.length) {
      const i = next++;
      out[i] = await f(xs[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, xs.length) }, worker));
  return out;
}

/** `seelie job get`: one job in the asked format. */
export async function runJobGet(
  opts: { jobId?: string; format: GetInput["format"]; showSecrets: boolean },
  io: { env: Record<string, string | undefined> },
): Promise<Shown> {
  const id = parseJobId(opts.jobId);
  return getJob({ id, format: opts.format, showSecrets: opts.showSecrets, ...(await jobsEnv(io.env)) });
}

/** `seelie job list`: the flags as given (`limit` a string), checked here. */
export async function runJobList(
  opts: {
    status?: string;
    cluster?: string;
    name?: string;
    limit: string;
    refresh: boolean;
    showSecrets: boolean;
    format: ListInput["format"];
  },
  io: { env: Record<string, string | undefined> },
): Promise<Shown> {
  if (!/^[0-9]+$/.test(opts.limit) || Number(opts.limit) < 1) {
    throw new UsageError(`--limit "${opts.limit}" is not a positive whole number`, "e.g. --limit 50");
  }
  const { jobStore, config, env } = await jobsEnv(io.env);
  return listJobs({
    filter: { status: opts.status, cluster: opts.cluster, name: opts.name, limit: Number(opts.limit) },
    format: opts.format,
    showSecrets: opts.showSecrets,
    jobStore,
    refresh: opts.refresh ? { config, env } : undefined,
  });
}
