/**
 * The committer Pod's life around the run: refusing a concurrent commit of the same container,
 * replacing a finished leftover, creating the Pod, and deleting its per-run Secret.
 */
import type { CoreV1Api, V1Pod } from "@kubernetes/client-node";
import { SeelieError } from "../errors.ts";
import { log } from "../log.ts";
import { sleep } from "../util/sleep.ts";
import { COMMIT_RBAC, COMMITTER_APP, containerKey, LABELS } from "./committer-pod.ts";
import { type KubeHints, kubeError, kubeFailure } from "./errors.ts";
import type { CommitTarget } from "./locate.ts";

/** Hints for API failures in the committer namespace: the RBAC file, and what a 404 there means. */
export function committerHints(ns: string): KubeHints {
  return {
    rbac: COMMIT_RBAC,
    notFound: `the committer namespace ${ns} does not exist: kubectl apply -f ${COMMIT_RBAC} (or set committer.namespace)`,
  };
}

/** Refuses when a committer Pod for the same container is still pending or running; deletes our finished leftover. */
export async function refuseConcurrent(core: CoreV1Api, ns: string, name: string, target: CommitTarget): Promise<void> {
  let pods: V1Pod[];
  try {
    const list = await core.listNamespacedPod({
      namespace: ns,
      labelSelector: `${LABELS.name}=${COMMITTER_APP},${LABELS.container}=${containerKey(target)}`,
    });
    pods = list.items;
  } catch (err) {
    throw kubeFailure(`list committer pods in namespace ${ns}`, err, committerHints(ns));
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
    {
      hint: `wait for that commit to finish (kubectl get pod -n ${ns} ${podName}), or stop it with kubectl delete pod -n ${ns} ${podName}`,
    },
  );
}

/** Deletes a finished committer Pod and waits until its name is free. */
async function deleteLeftover(core: CoreV1Api, ns: string, p: V1Pod): Promise<void> {
  const podName = p.metadata?.name ?? "";
  log.info(`deleting the finished committer pod ${ns}/${podName} (${p.status?.phase}) left by an earlier commit`);
  try {
    await core.deleteNamespacedPod({ namespace: ns, name: podName, gracePeriodSeconds: 0 });
  } catch (err) {
    if (kubeError(err).code !== 404) throw kubeFailure(`delete the earlier committer pod ${ns}/${podName}`, err, committerHints(ns));
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
      if (e.code !== 409 || attempt > 0) throw kubeFailure(`create the committer pod ${ns}/${name}`, err, committerHints(ns));
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

/** Deletes the per-run registry Secret (unless the Pod is kept); never throws, tells how to finish by hand. */
export async function removeSecret(core: CoreV1Api, ns: string, secret: string | undefined, keep: boolean): Promise<void> {
  if (!secret) return;
  if (keep) {
    log.info(
      `kept the committer's registry secret ${ns}/${secret} (owned by the kept pod); delete with: kubectl delete secret -n ${ns} ${secret}`,
    );
    return;
  }
  try {
    await core.deleteNamespacedSecret({ namespace: ns, name: secret });
    log.debug(`deleted secret ${ns}/${secret}`);
  } catch (err) {
    if (kubeError(err).code === 404) return;
    log.warn(
      `could not delete secret ${ns}/${secret}: ${kubeError(err).message}; delete it with: kubectl delete secret -n ${ns} ${secret}`,
    );
  }
}
