/**
 * The live status of a recorded job, asked of the backend that runs it (loaded lazily).
 */
import type { SeelieConfig } from "../config/types.ts";
import type { JobRecord, JobStatus } from "./types.ts";

/** Statuses that never change again. */
export const FINAL_STATUSES: readonly JobStatus[] = ["Recorded", "Succeeded", "Failed", "SubmitFailed"];

/** Asks the job's backend for its status; throws a SeelieError when the backend cannot be reached. */
export async function liveStatus(job: JobRecord, config: SeelieConfig, env: Record<string, string | undefined>): Promise<{ status: JobStatus; message?: string }> {
  const ref = job.backend;
  if (!ref) return { status: job.status, message: job.message };
  if (ref.kind === "local") {
    const local = await import("./backend-local.ts");
    return local.localJobStatus(await local.connectLocal(config), ref);
  }
  const kube = await import("./backend-kube.ts");
  return kube.kubeJobStatus(kube.connectKube(ref.context, env), ref);
}
