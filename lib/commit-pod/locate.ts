/**
 * Finding the container to commit in a pod: which container (never a sidecar by accident), whether
 * it runs, its runtime and id, and the node it runs on. The choice is pure; `findTarget` reads the pod.
 */
import type { CoreV1Api, V1Pod } from "@kubernetes/client-node";
import { SeelieError, UsageError } from "../errors.ts";
import { COMMIT_RBAC } from "./committer-pod.ts";
import { kubeError, kubeFailure } from "../kube/errors.ts";
import type { RuntimeName } from "./socket.ts";

/** The annotation kubectl reads for the default container of `kubectl exec/logs`. */
export const DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container";

/** The container to commit, as found in the pod. */
export interface CommitTarget {
  namespace: string;
  pod: string;
  container: string;
  node: string;
  runtime: RuntimeName;
  /** The runtime's container id (no `runtime://` prefix). */
  containerId: string;
  /** The image the container runs (for messages). */
  image?: string;
}

/** Splits a status `containerID` (`containerd://ID`, `docker://ID`) into runtime and id. */
export function parseContainerId(value: string, where = "containerID"): { runtime: RuntimeName; id: string } {
  const m = /^([a-z0-9-]+):\/\/([A-Za-z0-9._-]+)$/.exec(value);
  if (!m)
    throw new SeelieError(`${where} "${value}" is not of the form runtime://id`, {
      hint: "is the kubelet reporting container ids? check kubectl get pod -o yaml",
    });
  const runtime = m[1]!;
  if (runtime !== "containerd" && runtime !== "docker") {
    throw new SeelieError(`${where} uses the runtime "${runtime}", which the committer cannot commit`, {
      hint: "the committer supports Docker (docker://) and containerd (containerd://) nodes",
    });
  }
  return { runtime, id: m[2]! };
}

/**
 * Picks the container to commit: the one named; else the pod's only container; else the one named
 * by the default-container annotation; else an error listing the names. Init and ephemeral
 * containers are candidates only when named.
 */
export function chooseContainer(pod: V1Pod, name?: string): string {
  const podName = `${pod.metadata?.namespace ?? ""}/${pod.metadata?.name ?? ""}`;
  const regular = (pod.spec?.containers ?? []).map((c) => c.name);
  const others = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.ephemeralContainers ?? [])].map((c) => c.name);
  if (name) {
    if (regular.includes(name) || others.includes(name)) return name;
    throw new UsageError(`pod ${podName} has no container "${name}"`, `its containers: ${regular.join(", ") || "(none)"}`);
  }
  if (regular.length === 1) return regular[0]!;
  const annotated = pod.metadata?.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  if (annotated) {
    if (regular.includes(annotated)) return annotated;
    throw new UsageError(
      `pod ${podName} names "${annotated}" as its default container (${DEFAULT_CONTAINER_ANNOTATION}), but has no such container`,
      `choose one with -c: ${regular.join(", ")}`,
    );
  }
  if (regular.length === 0) throw new SeelieError(`pod ${podName} has no containers`);
  throw new UsageError(
    `pod ${podName} has ${regular.length} containers: ${regular.join(", ")}`,
    `choose the one to commit with -c NAME (e.g. -c ${regular[0]})`,
  );
}

/** Checks that the chosen container runs on a node and returns what the committer Pod needs. */
export function targetFromPod(pod: V1Pod, name?: string): CommitTarget {
  const namespace = pod.metadata?.namespace ?? "default";
  const podName = pod.metadata?.name ?? "";
  const where = `pod ${namespace}/${podName}`;
  const container = chooseContainer(pod, name);
  const node = pod.spec?.nodeName;
  const phase = pod.status?.phase ?? "Unknown";
  if (!node) {
    throw new SeelieError(`${where} is ${phase} and not scheduled to a node yet`, {
      hint: `wait until it runs (kubectl get pod -n ${namespace} ${podName}), then commit again`,
    });
  }
  const statuses = [
    ...(pod.status?.containerStatuses ?? []),
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.ephemeralContainerStatuses ?? []),
  ];
  const st = statuses.find((s) => s.name === container);
  if (!st?.state?.running) {
    const waiting = st?.state?.waiting;
    const term = st?.state?.terminated;
    const state = waiting
      ? `waiting (${waiting.reason ?? "unknown reason"})`
      : term
        ? `terminated (${term.reason ?? `exit code ${term.exitCode}`})`
        : phase === "Running"
          ? "not started"
          : phase;
    throw new SeelieError(`container "${container}" of ${where} is not running: ${state}`, {
      hint: "only a running container can be committed; start the pod again (its changes live only as long as the container)",
    });
  }
  if (!st.containerID)
    throw new SeelieError(`container "${container}" of ${where} reports no containerID yet`, { hint: "try again in a few seconds" });
  const { runtime, id } = parseContainerId(st.containerID, `the containerID of "${container}" in ${where}`);
  return { namespace, pod: podName, container, node, runtime, containerId: id, image: st.image };
}

/** Reads the pod and returns the container to commit (see `targetFromPod`). */
export async function findTarget(core: CoreV1Api, namespace: string, pod: string, container?: string): Promise<CommitTarget> {
  let p: V1Pod;
  try {
    p = await core.readNamespacedPod({ namespace, name: pod });
  } catch (err) {
    const e = kubeError(err);
    if (e.code === 404)
      throw new UsageError(
        `pod "${pod}" not found in namespace "${namespace}"`,
        "check the name and -n NAMESPACE (kubectl get pods -n NAMESPACE)",
      );
    throw kubeFailure(`read pod ${namespace}/${pod}`, err, { rbac: COMMIT_RBAC });
  }
  return targetFromPod(p, container);
}
