/**
 * What the local backend creates for a job, as data (pure, unit-tested): one container per worker,
 * with limits, GPUs, env, TF_CONFIG and labels, and — only with several workers — a user-defined
 * network so the workers' hostnames resolve. A single worker resolves its own hostname through
 * /etc/hosts on Docker's default bridge, and takes no address pool from Docker.
 */

import { JOB_ID_LABEL } from "./tfjob.ts";
import type { JobRecord, JobStatus, WorkerStatus } from "./types.ts";
import { workerCommand } from "./validate.ts";

/** The label with the per-submission token (ids repeat across stores; tokens do not). */
export const JOB_UID_LABEL = "seelie.io/job-uid";
/** Marks what seelie made, so cleanup and the address-pool report can tell it from the rest. */
export const MANAGED_LABEL = "seelie.io/managed-by";
const WORKER_INDEX_LABEL = "seelie.io/worker-index";
/** The port TF_CONFIG names for each worker. */
const TF_PORT = 2222;

/** The network and container create options for a job on the local engine. */
export interface LocalPlan {
  /** Only with several workers. */
  network?: { Name: string; Driver: "bridge"; Labels: Record<string, string>; CheckDuplicate: true };
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

/** Plans the containers (and, with several workers, the network) of a job; `uid` makes names unique across job stores. */
export function localPlan(job: Pick<JobRecord, "id" | "spec">, uid: string): LocalPlan {
  const s = job.spec;
  const base = `seelie-job-${job.id}-${uid}`;
  const labels = { [JOB_ID_LABEL]: String(job.id), [JOB_UID_LABEL]: uid, [MANAGED_LABEL]: "seelie" };
  const ownNetwork = s.workerCount > 1;
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
        NetworkMode: ownNetwork ? base : "bridge",
        NanoCpus: Math.round(s.cpu * 1e9),
        Memory: Math.round(s.memory * 1024 ** 3),
        ...(s.gpu > 0 ? { DeviceRequests: [{ Driver: "nvidia", Count: s.gpu, Capabilities: [["gpu"]] }] } : {}),
      },
    };
    if (ownNetwork) options.NetworkingConfig = { EndpointsConfig: { [base]: { Aliases: [host] } } };
    if (command.length > 0) options.Entrypoint = command;
    return { name: options.name as string, options };
  });
  return {
    ...(ownNetwork ? { network: { Name: base, Driver: "bridge" as const, Labels: labels, CheckDuplicate: true as const } } : {}),
    containers,
  };
}

/** One worker container's state as the engine reports it (docker inspect's State and RestartCount). */
export interface ContainerState {
  name: string;
  /** State.Status: created, running, paused, restarting, removing, exited, dead; `missing` when gone. */
  state: string;
  exitCode?: number;
  oomKilled?: boolean;
  error?: string;
  restarts?: number;
}

/** A worker's status from its container's state. */
export function workerFromContainer(c: ContainerState, index: number): WorkerStatus {
  const w: WorkerStatus = { worker: `worker-${index}`, name: c.name, state: c.state, restarts: c.restarts ?? 0 };
  if (c.state === "exited" || c.state === "dead") w.exitCode = c.exitCode;
  const reason = c.oomKilled ? "OOMKilled" : c.error ? c.error : undefined;
  if (reason) w.reason = reason;
  return w;
}

/** A one-line summary of the workers: `worker 0: exited (0), worker 1: running`. */
export function workersSummary(workers: readonly WorkerStatus[]): string {
  return workers
    .map(
      (w) =>
        `${w.worker.replace("-", " ")}: ${w.state}${w.exitCode !== undefined ? ` (${w.exitCode})` : ""}${w.reason ? ` ${w.reason}` : ""}`,
    )
    .join(", ");
}

/** The job status the workers' containers mean, with a per-worker summary. */
export function localStatus(containers: ContainerState[]): { status: JobStatus; message: string; workers: WorkerStatus[] } {
  const workers = containers.map(workerFromContainer);
  const message = workersSummary(workers);
  const st = (status: JobStatus, msg = message) => ({ status, message: msg, workers });
  if (workers.length === 0 || workers.every((w) => w.state === "missing")) return st("Unknown", "the containers were removed");
  if (workers.some((w) => w.state === "dead" || (w.state === "exited" && w.exitCode !== 0))) return st("Failed");
  if (workers.every((w) => w.state === "exited")) return st("Succeeded");
  if (workers.some((w) => ["running", "paused", "removing"].includes(w.state))) return st("Running");
  if (workers.some((w) => w.state === "restarting")) return st("Restarting");
  if (workers.some((w) => w.state === "missing")) return st("Unknown");
  return st("Created");
}
