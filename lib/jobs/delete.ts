/**
 * `seelie job delete`: removes what the job runs on — its containers and network (local) or its
 * TFJob (cluster; the pods go with it) — and marks the record `Deleted` (so `-o cmd` still
 * reproduces it), or with `forget` removes the record too. Nothing changes in the store when the
 * backend cannot be reached.
 */
import type { SeelieConfig } from "../config/types.ts";
import { SeelieError } from "../errors.ts";
import { readJob } from "./lookup.ts";
import { Backends } from "./status.ts";
import { JobStore } from "./store.ts";

/** What `deleteJob` needs. */
export interface DeleteInput {
  id: number;
  forget?: boolean;
  jobStore: string;
  config: () => Promise<SeelieConfig>;
  env: Record<string, string | undefined>;
}

/** What was done (`-o json`). */
export interface Deleted {
  job_id: number;
  status: "Deleted";
  /** True when the record was removed too. */
  forgotten: boolean;
  /** What was removed from the backend: `container …`, `network …`, `TFJob ns/name`. */
  removed: string[];
  /** What was already gone. */
  already_gone: string[];
}

/** Deletes a job's backend objects and marks (or removes) its record. */
export async function deleteJob(input: DeleteInput): Promise<Deleted> {
  const job = readJob(input.jobStore, input.id);
  const result: Deleted = { job_id: job.id, status: "Deleted", forgotten: false, removed: [], already_gone: [] };
  if (job.status === "Deleted" && !input.forget) {
    throw new SeelieError(`job ${job.id} is already deleted (${job.updatedAt})`, {
      hint: `its record stays so seelie job get --job_id ${job.id} -o cmd can resubmit it; add --forget to remove the record too`,
    });
  }
  const ref = job.status === "Deleted" ? undefined : job.backend;
  const backends = new Backends(input.config, input.env);
  if (ref?.kind === "local") {
    const { deleteLocal } = await import("./backend-local.ts");
    result.removed = await deleteLocal(await backends.local(), ref);
    const names = [...ref.containers.map((c) => `container ${c}`), ...(ref.network ? [`network ${ref.network}`] : [])];
    result.already_gone = names.filter((n) => !result.removed.includes(n));
  } else if (ref?.kind === "tfjob") {
    const { deleteTfJob } = await import("./backend-kube.ts");
    const what = `TFJob ${ref.namespace}/${ref.name}`;
    if (await deleteTfJob(await backends.kube(ref.context), ref)) result.removed.push(what);
    else result.already_gone.push(what);
  }
  const store = JobStore.open(input.jobStore);
  try {
    if (input.forget) {
      store.remove(job.id);
      result.forgotten = true;
    } else {
      store.update(job.id, {
        status: "Deleted",
        message: result.removed.length ? `removed ${result.removed.join(", ")}` : "nothing was left to remove",
      });
    }
  } finally {
    store.close();
  }
  return result;
}
