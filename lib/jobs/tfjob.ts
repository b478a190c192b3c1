/**
 * The Kubeflow TFJob (`kubeflow.org/v1`) for a job: a pure builder, and the status a TFJob's
 * conditions mean. Workers = `--worker-count`, container `tensorflow`, resources as requests and
 * limits (cpu, memory in GiB, `nvidia.com/gpu`), command from the entrypoint, env from `-E`.
 */

import { formatNumber } from "./cmdline.ts";
import type { JobRecord, JobStatus } from "./types.ts";
import { workerCommand } from "./validate.ts";

/** The label carrying the job id on the TFJob, its pods and local containers. */
export const JOB_ID_LABEL = "seelie.io/job-id";
export const TFJOB_GROUP = "kubeflow.org";
export const TFJOB_VERSION = "v1";
export const TFJOB_PLURAL = "tfjobs";

/**
 * The prefix of the TFJob's name for a job id (job names are free text; Kubernetes names are not).
 * The API server adds a random suffix, so job 12 of two users' stores never collide in a namespace.
 */
function tfJobNamePrefix(id: number): string {
  return `seelie-job-${id}-`;
}

/** A TFJob object as sent to the API server. */
export interface TfJobObject {
  apiVersion: "kubeflow.org/v1";
  kind: "TFJob";
  metadata: {
    name?: string;
    generateName?: string;
    namespace: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  spec: Record<string, unknown>;
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

/** Builds the TFJob for a recorded job. */
export function buildTfJob(job: Pick<JobRecord, "id" | "spec">): TfJobObject {
  const s = job.spec;
  const labels = { [JOB_ID_LABEL]: String(job.id), "app.kubernetes.io/managed-by": "seelie" };
  const resources: Record<string, string> = { cpu: formatNumber(s.cpu), memory: `${formatNumber(s.memory)}Gi` };
  if (s.gpu > 0) resources["nvidia.com/gpu"] = formatNumber(s.gpu);
  const container: Record<string, unknown> = {
    name: "tensorflow",
    image: s.image,
    env: s.env.map((e) => ({ name: e.name, value: e.value })),
    resources: { requests: { ...resources }, limits: { ...resources } },
  };
  const command = workerCommand(s);
  if (command.length > 0) container.command = command;
  return {
    apiVersion: "kubeflow.org/v1",
    kind: "TFJob",
    metadata: {
      generateName: tfJobNamePrefix(job.id),
      namespace: s.namespace,
      labels,
      annotations: { "seelie.io/name": s.name, "seelie.io/description": s.description },
    },
    spec: {
      runPolicy: { cleanPodPolicy: "None" },
      tfReplicaSpecs: {
        Worker: {
          replicas: s.workerCount,
          restartPolicy: "Never",
          template: { metadata: { labels: { ...labels } }, spec: { containers: [container] } },
        },
      },
    },
  };
}

const CONDITION_STATUS: Record<string, JobStatus> = {
  Created: "Created",
  Running: "Running",
  Restarting: "Restarting",
  Succeeded: "Succeeded",
  Failed: "Failed",
};

/** What `job get` says of a TFJob nobody has given a status: only the training operator writes it. */
export const NO_OPERATOR_STATUS = "no status (is the training operator installed?)";

/**
 * The status a TFJob's conditions mean: the last condition that is True. A TFJob without any
 * condition is `Submitted` with a message saying so, never a guess.
 */
export function tfJobStatus(obj: { status?: { conditions?: { type?: string; status?: string; message?: string }[] } }): {
  status: JobStatus;
  message?: string;
} {
  const all = obj.status?.conditions ?? [];
  if (all.length === 0) return { status: "Submitted", message: NO_OPERATOR_STATUS };
  const conds = all.filter((c) => c.status === "True" && c.type && c.type in CONDITION_STATUS);
  const last = conds[conds.length - 1];
  if (!last) return { status: "Submitted" };
  return { status: CONDITION_STATUS[last.type!]!, ...(last.message ? { message: last.message } : {}) };
}
