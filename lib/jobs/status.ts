/**
 * The live status of recorded jobs, asked of the backends that run them (loaded lazily, one
 * connection per backend for a whole `job list --refresh`), and written back to the store. A local
 * job seen to have ended gives its network back to Docker here: whichever command sees it first.
 */
import type { SeelieConfig } from "../config/types.ts";
import type { KubeCluster } from "./backend-kube.ts";
import type { LocalEngine } from "./backend-local.ts";
import { JobStore } from "./store.ts";
import type { JobRecord, JobStatus, LiveStatus, WorkerStatus } from "./types.ts";

/** Statuses that never change again. */
export const FINAL_STATUSES: readonly JobStatus[] = ["Recorded", "Succeeded", "Failed", "SubmitFailed", "Deleted"];

/** Statuses with nothing left in a backend to ask about. */
const NOTHING_TO_ASK: readonly JobStatus[] = ["Recorded", "SubmitFailed", "Deleted"];

/** Lazily made, shared connections to the backends of the jobs a command looks at. */
export class Backends {
  private localEngine?: Promise<LocalEngine>;
  private readonly clusters = new Map<string, Promise<KubeCluster>>();

  constructor(
    private readonly config: () => Promise<SeelieConfig>,
    readonly env: Record<string, string | undefined>,
    /** Forget a failed connection so the next call tries again (`job wait`); else one failure answers every job (`list --refresh`). */
    private readonly retryFailed = false,
  ) {}

  /** The local Docker engine. */
  local(): Promise<LocalEngine> {
    this.localEngine ??= (async () => (await import("./backend-local.ts")).connectLocal(await this.config()))().catch((err) => {
      if (this.retryFailed) this.localEngine = undefined;
      throw err;
    });
    return this.localEngine;
  }

  /** The cluster of a kubeconfig context. */
  kube(context: string): Promise<KubeCluster> {
    let c = this.clusters.get(context);
    if (!c) {
      c = (async () => (await import("./backend-kube.ts")).connectKube(context, this.env))().catch((err) => {
        if (this.retryFailed) this.clusters.delete(context);
        throw err;
      });
      this.clusters.set(context, c);
    }
    return c;
  }
}

/** Asks the job's backend what it is doing; throws a SeelieError when the backend cannot be reached. */
export async function liveStatus(job: JobRecord, backends: Backends): Promise<LiveStatus> {
  const ref = job.backend;
  if (!ref) return { status: job.status, message: job.message, workers: [] };
  if (ref.kind === "local") {
    const local = await import("./backend-local.ts");
    return local.localJobStatus(await backends.local(), ref);
  }
  const kube = await import("./backend-kube.ts");
  return kube.kubeJobStatus(await backends.kube(ref.context), ref, job.id);
}

/** A job as it is now, with its workers (undefined when there was nothing to ask). */
export interface Refreshed {
  job: JobRecord;
  workers?: WorkerStatus[];
}

/**
 * Asks the backend for the job's live status and records a change in the store. A final status is
 * kept (the workers are still shown); a local job that ended has its network removed.
 */
export async function refreshJob(job: JobRecord, backends: Backends, storePath: string): Promise<Refreshed> {
  if (!job.backend || NOTHING_TO_ASK.includes(job.status)) return { job };
  const live = await liveStatus(job, backends);
  const change: Parameters<JobStore["update"]>[1] = {};
  if (!FINAL_STATUSES.includes(job.status) && (live.status !== job.status || (live.message ?? undefined) !== job.message)) {
    change.status = live.status;
    change.message = live.message ?? null;
  }
  const ended = live.status === "Succeeded" || live.status === "Failed";
  if (ended && job.backend.kind === "local" && job.backend.network) {
    const { releaseNetwork } = await import("./backend-local.ts");
    if (await releaseNetwork(await backends.local(), job.backend)) {
      const { network: _released, ...rest } = job.backend;
      change.backend = rest;
    }
  }
  if (Object.keys(change).length === 0) return { job, workers: live.workers };
  const store = JobStore.open(storePath);
  try {
    // `job delete` may have run meanwhile in another shell: never turn Deleted back into a live status.
    store.update(job.id, change, new Date(), ["Deleted"]);
    return { job: store.get(job.id) ?? job, workers: live.workers };
  } finally {
    store.close();
  }
}
