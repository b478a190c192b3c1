/**
 * The job model: what `seelie submit tfjob` was given (the spec, stored exactly as given) and what the
 * store keeps about a submission (id, times, backend reference, last known status).
 */

/** One `-E KEY=VALUE`, in the order given. */
export interface EnvVar {
  name: string;
  value: string;
}

/** Everything that defines a job: the flags of `seelie submit tfjob`, validated. */
export interface JobSpec {
  name: string;
  description: string;
  /** `local` (the local Docker engine) or a kubeconfig context. */
  cluster: string;
  namespace: string;
  /** CPU cores (may be fractional). */
  cpu: number;
  /** Memory in GiB (may be fractional). */
  memory: number;
  gpu: number;
  workerCount: number;
  image: string;
  /** Words before the entrypoint, e.g. `bash -c`. */
  entrypointType: string;
  /** The command the workers run; empty: the image's own command. */
  entrypoint: string;
  env: EnvVar[];
}

/** The lifecycle of a job as seelie reports it. */
export type JobStatus =
  | "Recorded" // stored, never started (--record_only)
  | "Submitted" // handed to the backend, nothing observed yet
  | "Created"
  | "Running"
  | "Restarting"
  | "Succeeded"
  | "Failed"
  | "SubmitFailed" // the backend refused it after it was recorded
  | "Deleted" // its containers/network or TFJob were removed by `seelie job delete`; the record stays
  | "Unknown";

/** Every status, in lifecycle order (for `job list --status` and `job wait --for`). */
export const JOB_STATUSES: readonly JobStatus[] = [
  "Recorded",
  "Submitted",
  "Created",
  "Running",
  "Restarting",
  "Succeeded",
  "Failed",
  "SubmitFailed",
  "Deleted",
  "Unknown",
];

/**
 * Where the backend keeps the job, to look up its live status. A local job has a network of its own
 * only with several workers, and only until it is seen to end (the address pool goes back to Docker).
 */
export type BackendRef =
  | { kind: "local"; network?: string; containers: string[] }
  | { kind: "tfjob"; context: string; namespace: string; name: string };

/** One worker as the backend reports it right now (not stored). */
export interface WorkerStatus {
  /** `worker-<i>`. */
  worker: string;
  /** The container or pod name. */
  name: string;
  /** The engine's or kubelet's state: created, running, exited, waiting, terminated, missing… */
  state: string;
  /** Why, when the backend says (e.g. CrashLoopBackOff, Error, Completed). */
  reason?: string;
  restarts: number;
  exitCode?: number;
}

/** What the backend says about a job right now. */
export interface LiveStatus {
  status: JobStatus;
  message?: string;
  workers: WorkerStatus[];
}

/** A stored job. */
export interface JobRecord {
  id: number;
  kind: "tfjob";
  spec: JobSpec;
  status: JobStatus;
  /** Why the status is what it is (the backend's message), when there is one. */
  message?: string;
  backend?: BackendRef;
  createdAt: string;
  updatedAt: string;
}

/** The `-E` keys that look like they hold secrets: a word of the key (split at `_`, `-`, `.`) is one of these. */
const SECRET_WORDS = [
  "PASSWORD",
  "PASSWD",
  "PASS",
  "TOKEN",
  "SECRET",
  "SECRETS",
  "KEY",
  "KEYS",
  "APIKEY",
  "CREDENTIAL",
  "CREDENTIALS",
  "CRED",
  "CREDS",
  "AUTH",
  "PRIVATE",
  "SIGNATURE",
  "COOKIE",
] as const;

/** True when an env var name looks secret (PASSWORD, TOKEN, SECRET, KEY, … as a word of it, any case). */
export function isSecretKey(key: string): boolean {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toUpperCase()
    .split(/[_.-]+/)
    .filter(Boolean);
  return words.some((w) => (SECRET_WORDS as readonly string[]).includes(w));
}
