/**
 * A TFJob's worker pods as seelie reports them (pure, unit-tested): which pods belong to the TFJob
 * (its owner reference, or the operator's job-name label), their worker index (the operator's
 * replica-index label, else the `-worker-<i>` name suffix) and the `tensorflow` container's state.
 */
import type { WorkerStatus } from "./types.ts";

/** The parts of a Pod this reads. */
export interface PodLike {
  metadata?: {
    name?: string;
    labels?: Record<string, string>;
    ownerReferences?: { kind?: string; name?: string }[];
    deletionTimestamp?: unknown;
  };
  status?: {
    phase?: string;
    reason?: string;
    containerStatuses?: {
      name?: string;
      restartCount?: number;
      state?: {
        running?: object;
        waiting?: { reason?: string };
        terminated?: { exitCode?: number; reason?: string };
      };
    }[];
  };
}

/** The container the TFJob's workers run in. */
export const TF_CONTAINER = "tensorflow";

/** Labels the training operator sets on the pods it makes (v1.x; older releases used the tf-* ones). */
const JOB_NAME_LABELS = ["training.kubeflow.org/job-name", "job-name"];
const REPLICA_TYPE_LABELS = ["training.kubeflow.org/replica-type", "tf-replica-type"];
const REPLICA_INDEX_LABELS = ["training.kubeflow.org/replica-index", "tf-replica-index"];

function label(pod: PodLike, keys: readonly string[]): string | undefined {
  for (const k of keys) {
    const v = pod.metadata?.labels?.[k];
    if (v !== undefined) return v;
  }
  return undefined;
}

/** True when the pod is one of the TFJob's workers. */
export function isWorkerPodOf(pod: PodLike, tfJobName: string): boolean {
  const owned =
    (pod.metadata?.ownerReferences ?? []).some((o) => o.kind === "TFJob" && o.name === tfJobName) ||
    label(pod, JOB_NAME_LABELS) === tfJobName;
  const type = label(pod, REPLICA_TYPE_LABELS);
  return owned && (type === undefined || type.toLowerCase() === "worker");
}

/** The worker index of a pod, or undefined when neither its labels nor its name say. */
export function workerIndex(pod: PodLike): number | undefined {
  const raw = label(pod, REPLICA_INDEX_LABELS) ?? /-worker-([0-9]+)$/.exec(pod.metadata?.name ?? "")?.[1];
  return raw !== undefined && /^[0-9]+$/.test(raw) ? Number(raw) : undefined;
}

/** One worker pod's status, from its `tensorflow` container (else the pod's phase). */
export function workerFromPod(pod: PodLike, index: number): WorkerStatus {
  const name = pod.metadata?.name ?? "";
  const cs = pod.status?.containerStatuses?.find((c) => c.name === TF_CONTAINER) ?? pod.status?.containerStatuses?.[0];
  const w: WorkerStatus = {
    worker: `worker-${index}`,
    name,
    state: (pod.status?.phase ?? "pending").toLowerCase(),
    restarts: cs?.restartCount ?? 0,
  };
  if (cs?.state?.running) w.state = "running";
  else if (cs?.state?.terminated) {
    w.state = "terminated";
    w.exitCode = cs.state.terminated.exitCode;
    if (cs.state.terminated.reason) w.reason = cs.state.terminated.reason;
  } else if (cs?.state?.waiting) {
    w.state = "waiting";
    if (cs.state.waiting.reason) w.reason = cs.state.waiting.reason;
  } else if (pod.status?.reason) w.reason = pod.status.reason;
  if (pod.metadata?.deletionTimestamp) w.reason = w.reason ? `${w.reason}, deleting` : "deleting";
  return w;
}

/** The TFJob's workers from a list of pods (others ignored), by index. */
export function workersFromPods(pods: readonly PodLike[], tfJobName: string): WorkerStatus[] {
  const out: WorkerStatus[] = [];
  for (const pod of pods) {
    if (!isWorkerPodOf(pod, tfJobName)) continue;
    const i = workerIndex(pod);
    if (i !== undefined) out.push(workerFromPod(pod, i));
  }
  return out.sort((a, b) => Number(a.worker.slice(7)) - Number(b.worker.slice(7)));
}
