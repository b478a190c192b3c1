/**
 * The committer Pod's life around the run: refusing a concurrent commit of the same container,
 * replacing a finished leftover, creating the Pod, and deleting the Pod and its per-run Secret.
 */
import type { CoreV1Api, V1Pod } from "@kubernetes/client-node";
import { SeelieError } from "../errors.ts";
import { log } from "../log.ts";
import { kubeError, kubeFailure } from "./client.ts";
import { COMMITTER_APP, LABELS, containerKey } from "./committer-pod.ts";
import type { CommitTarget } from "./locate.ts";
import { sleep } from "../util/sleep.ts";

/** A hint for a missing committer namespace. */
export function namespaceHint(ns: string, err: unknown): string | undefined {
  return kubeError(err).code === 404 ? `the committer namespace ${ns} does not exist: kubectl apply -f pods/committer/rbac.yaml (or set committer.namespace)` : undefined;
}

/** Refuses when a committer Pod for the same container is still pending or running; deletes our finished leftover. */
export async function refuseConcurrent(core: CoreV1Api, ns: string, name: string, target: CommitTarget): Promise<void> {
  let pods: V1Pod[];
  try {
    const list = await core.listNamespacedPod({ namespace: ns, labelSelector: `${LABELS.name}=${COMMITTER_APP},${LABELS.container}=${containerKey(target)}` });
    pods = list.items;
  } catch (err) {
    throw kubeFailure(`list committer pods in namespace ${ns}`, err, namespaceHint(ns, err));
  }
  for (const p of pods) {
    if (isActive(p)) throw concurrentError(ns, p, target);
  }
  for (const p of pods) {
    if (p.metadata?.name === name) await deleteLeftover(core, ns, p);
  }
}

/** Pending, running, unknown or being deleted: a commit in progress. */
function isActive(p: V1Pod): boolean {
  const phase = p.status?.phase ?? "Pending";
  return p.metadata?.deletionTimestamp !== undefined || phase === "Pending" || phase === "Running" || phase === "Unknown";
}

/** The refusal naming the committer Pod already at work. */
function concurrentError(ns: string, p: V1Pod, target: CommitTarget): SeelieError {
  const podName = p.metadata?.name ?? "";
  const since = p.metadata?.creationTimestamp ? ` since ${new Date(p.metadata.creationTimestamp).toISOString()}` : "";
  const terminating = p.metadata?.deletionTimestamp ? " (being deleted)" : "";
  return new SeelieError(
    `container "${target.container}" of pod ${target.namespace}/${target.pod} is already being committed by committer pod ${ns}/${podName}${since}${terminating}`,
    { hint: `wait for that commit to finish (kubectl get pod -n ${ns} ${podName}), or stop it with kubectl delete pod -n ${ns} ${podName}` },
  );
}

/** Deletes a finished committer Pod and waits until its name is free. */
async function deleteLeftover(core: CoreV1Api, ns: string, p: V1Pod): Promise<void> {
  const podName = p.metadata?.name ?? "";
  log.info(`deleting the finished committer pod ${ns}/${podName} (${p.status?.phase}) left by an earlier commit`);
  try {
    await core.deleteNamespacedPod({ namespace: ns, name: podName, gracePeriodSeconds: 0 });
  } catch (err) {
    if (kubeError(err).code !== 404) throw kubeFailure(`delete the earlier committer pod ${ns}/${podName}`, err);
  }
  // Deletion is asynchronous on a real cluster: wait for the name to be free.
  for (let i = 0; i < 60; i++) {
    try {
      await core.readNamespacedPod({ namespace: ns, name: podName });
    } catch (err) {
      if (kubeError(err).code === 404) return;
    }
    await sleep(500);
  }
}

/** Creates the Pod; AlreadyExists means a concurrent commit (refused) or a finished leftover (replaced once). */
export async function createPod(core: CoreV1Api, ns: string, body: V1Pod, target: CommitTarget): Promise<V1Pod> {
  const name = body.metadata?.name ?? "";
  for (let attempt = 0; ; attempt++) {
    try {
      return await core.createNamespacedPod({ namespace: ns, body });
    } catch (err) {
      const e = kubeError(err);
      if (e.code !== 409 || attempt > 0) throw kubeFailure(`create the committer pod ${ns}/${name}`, err, namespaceHint(ns, err));
      let existing: V1Pod;
      try {
        existing = await core.readNamespacedPod({ namespace: ns, name });
      } catch {
        continue;
      }
      if (isActive(existing)) throw concurrentError(ns, existing, target);
      await deleteLeftover(core, ns, existing);
    }
  }
}

/** Deletes the Pod and the per-run Secret (unless the Pod is kept); never throws, tells how to finish by hand. */
export async function cleanUp(core: CoreV1Api, ns: string, pod: string | undefined, secret: string | undefined, keep: boolean): Promise<void> {
  if (keep && pod) {
    log.info(`kept committer pod ${ns}/${pod}${secret ? ` and its secret ${secret}` : ""}; delete with: kubectl delete pod -n ${ns} ${pod}`);
    return;
  }
  const del = async (kind: "pod" | "secret", name: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
      log.debug(`deleted ${kind} ${ns}/${name}`);
    } catch (err) {
      if (kubeError(err).code === 404) return;
      log.warn(`could not delete ${kind} ${ns}/${name}: ${kubeError(err).message}; delete it with: kubectl delete ${kind} -n ${ns} ${name}`);
    }
  };
  if (pod) await del("pod", pod, () => core.deleteNamespacedPod({ namespace: ns, name: pod }));
  if (secret) await del("secret", secret, () => core.deleteNamespacedSecret({ namespace: ns, name: secret }));
}

