/**
 * `seelie submit tfjob`: validate, check that the backend can run the job, record it (new id), run it,
 * record where it runs. Bad input and backend refusals found before recording leave the store as it was.
 */
import type { SeelieConfig } from "../config/types.ts";
import { SeelieError, errorMessage } from "../errors.ts";
import { JobStore } from "./store.ts";
import type { JobRecord } from "./types.ts";
import { parseJobSpec, type RawJobOptions } from "./validate.ts";
import { jobsEnv } from "./store-path.ts";

/** What `submitJob` needs. */
export interface SubmitInput {
  options: RawJobOptions;
  /** Record the job without starting it (status Recorded, no backend contacted). */
  recordOnly?: boolean;
  /** The job store's path. */
  jobStore: string;
  /** Loads the configuration (engine endpoint, credentials), only when a backend is used. */
  config: () => Promise<SeelieConfig>;
  env: Record<string, string | undefined>;
  signal?: AbortSignal;
}

/** Submits a job and returns its record (with its new id). */
export async function submitJob(input: SubmitInput): Promise<JobRecord> {
  const spec = parseJobSpec(input.options);
  const store = JobStore.open(input.jobStore, { create: true });
  try {
    if (input.recordOnly) return store.insert(spec, "Recorded");
    if (spec.cluster === "local") {
      const local = await import("./backend-local.ts");
      const config = await input.config();
      const engine = await local.connectLocal(config);
      await local.prepareLocal(engine, spec, config, input.signal);
      const job = store.insert(spec, "Submitted");
      return await recordRun(store, job, () => local.runLocal(engine, job, input.signal));
    }
    const kube = await import("./backend-kube.ts");
    const cluster = kube.connectKube(spec.cluster, input.env);
    await kube.checkTfJobApi(cluster);
    const job = store.insert(spec, "Submitted");
    return await recordRun(store, job, () => kube.createTfJob(cluster, job));
  } finally {
    store.close();
  }
}

async function recordRun(store: JobStore, job: JobRecord, run: () => Promise<NonNullable<JobRecord["backend"]>>): Promise<JobRecord> {
  try {
    const backend = await run();
    store.update(job.id, { backend });
    return { ...job, backend };
  } catch (err) {
    store.update(job.id, { status: "SubmitFailed", message: errorMessage(err) });
    if (err instanceof SeelieError) {
      throw new SeelieError(`job ${job.id} was recorded but could not start: ${err.message}`, {
        hint: err.hint,
        exitCode: err.exitCode,
        cause: err,
      });
    }
    throw err;
  }
}

/** What `seelie submit tfjob` prints: the id (text), a document (`-o json`), and a sentence for stderr. */
export interface Submitted {
  document: { job_id: number; status: JobRecord["status"]; backend: JobRecord["backend"] | null };
  text: string;
  summary: string;
}

/** `seelie submit tfjob`: records the job and starts it (unless `recordOnly`). */
export async function runSubmitTfJob(
  opts: { options: RawJobOptions; recordOnly: boolean },
  io: { env: Record<string, string | undefined>; signal?: AbortSignal },
): Promise<Submitted> {
  const job = await submitJob({ ...opts, ...(await jobsEnv(io.env)), signal: io.signal });
  const b = job.backend;
  const where =
    b?.kind === "local" ? "the local Docker engine" : b ? `TFJob ${b.namespace}/${b.name} (context ${b.context})` : "the store only";
  return {
    document: { job_id: job.id, status: job.status, backend: b ?? null },
    text: String(job.id),
    summary: `job ${job.id} ${b ? "submitted to" : "recorded in"} ${where}; see it with: seelie job get --job_id ${job.id}`,
  };
}
