/**
 * What the local backend creates for a job, as data (pure, unit-tested): a per-job user-defined
 * network and one container per worker, with limits, GPUs, env, TF_CONFIG and labels.
 */
import type { JobRecord } from "./types.ts";
import { workerCommand } from "./validate.ts";
import { JOB_ID_LABEL } from "./tfjob.ts";

/** The label with the per-submission token (ids repeat across stores; tokens do not). */
const JOB_UID_LABEL = "seelie.io/job-uid";
const WORKER_INDEX_LABEL = "seelie.io/worker-index";
/** The port TF_CONFIG names for each worker. */
const TF_PORT = 2222;

/** The network and container create options for a job on the local engine. */
export interface LocalPlan {
  network: { Name: string; Driver: "bridge"; Labels: Record<string, string>; CheckDuplicate: true };
  containers: { name: string; options: Record<string, any> }[];
}

/** The worker hostnames, resolvable on the job's network. */
function workerHosts(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `worker-${i}`);
}

/** The TF_CONFIG of worker `index`. */
export function tfConfig(count: number, index: number): string {
  return JSON.stringify({ cluster: { worker: workerHosts(count).map((h) => `${h}:${TF_PORT}`) }, task: { type: "worker", index } });
}

/** Plans the network and containers of a job; `uid` makes names unique across job stores. */
export function localPlan(job: Pick<JobRecord, "id" | "spec">, uid: string): LocalPlan {
  const s = job.spec;
  const base = `seelie-job-${job.id}-${uid}`;
  const labels = { [JOB_ID_LABEL]: String(job.id), [JOB_UID_LABEL]: uid, "seelie.io/managed-by": "seelie" };
  const command = workerCommand(s);
  const hosts = workerHosts(s.workerCount);
  const containers = hosts.map((host, i) => {
    const options: Record<string, any> = {
      name: `${base}-${host}`,
      Hostname: host,
      Image: s.image,
      Env: [...s.env.map((e) => `${e.name}=${e.value}`), `TF_CONFIG=${tfConfig(s.workerCount, i)}`],
      Labels: { ...labels, [WORKER_INDEX_LABEL]: String(i) },
      HostConfig: {
        NetworkMode: base,
        NanoCpus: Math.round(s.cpu * 1e9),
        Memory: Math.round(s.memory * 1024 ** 3),
        ...(s.gpu > 0 ? { DeviceRequests: [{ Driver: "nvidia", Count: s.gpu, Capabilities: [["gpu"]] }] } : {}),
      },
      NetworkingConfig: { EndpointsConfig: { [base]: { Aliases: [host] } } },
    };
    if (command.length > 0) options.Entrypoint = command;
    return { name: options.name as string, options };
  });
  return { network: { Name: base, Driver: "bridge", Labels: labels, CheckDuplicate: true }, containers };
}

/** One worker container's state as the engine reports it. */
export interface WorkerState {
  name: string;
  /** Docker's State.Status: created, running, paused, restarting, removing, exited, dead; `missing` when gone. */
  state: string;
  exitCode?: number;
}

/** The job status the workers' states mean, with a per-worker summary. */
export function localStatus(workers: WorkerState[]): { status: JobRecord["status"]; message: string } {
  const message = workers.map((w, i) => `worker ${i}: ${w.state}${w.state === "exited" ? ` (${w.exitCode})` : ""}`).join(", ");
  if (workers.length === 0 || workers.every((w) => w.state === "missing")) return { status: "Unknown", message: "the containers were removed" };
  if (workers.some((w) => w.state === "dead" || (w.state === "exited" && w.exitCode !== 0))) return { status: "Failed", message };
  if (workers.every((w) => w.state === "exited")) return { status: "Succeeded", message };
  if (workers.some((w) => ["running", "paused", "removing"].includes(w.state))) return { status: "Running", message };
  if (workers.some((w) => w.state === "restarting")) return { status: "Restarting", message };
  if (workers.some((w) => w.state === "missing")) return { status: "Unknown", message };
  return { status: "Created", message };
}
