/**
 * Waiting on a Pod by polling its status (a watch would save little for a Pod that lives minutes, and
 * polling survives API-server hiccups): until it runs, then until it ends. Both stop on the run's
 * AbortSignal (Ctrl-C or the deadline); pod states that will never get better end the wait early.
 */
import type { CoreV1Api, V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import { SeelieError } from "../errors.ts";
import { log } from "../log.ts";
import { kubeError, kubeFailure } from "./client.ts";
import { sleep } from "../util/sleep.ts";

/**
 * Waiting reasons that will not resolve by themselves. `ErrImagePull` is not one: a first pull can fail
 * for a passing reason and the kubelet retries; after that failure the state is `ImagePullBackOff`.
 */
const FATAL_WAITING = new Set(["ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "CreateContainerConfigError", "CreateContainerError", "RunContainerError"]);

/** The status of a Pod's container, by name. */
export function containerStatus(pod: V1Pod, name: string): V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((s) => s.name === name);
}

/** A one-line description of where a Pod is (`Pending (ContainerCreating)`). */
export function describePod(pod: V1Pod, container: string): string {
  const st = containerStatus(pod, container);
  const w = st?.state?.waiting;
  const sched = pod.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
  const why = w?.reason ?? sched?.reason ?? pod.status?.reason;
  return `${pod.status?.phase ?? "Pending"}${why ? ` (${why}${w?.message ? `: ${w.message}` : sched?.message ? `: ${sched.message}` : ""})` : ""}`;
}

async function read(core: CoreV1Api, namespace: string, name: string, what: string): Promise<V1Pod> {
  try {
    return await core.readNamespacedPod({ namespace, name });
  } catch (err) {
    if (kubeError(err).code === 404) throw new SeelieError(`the ${what} ${namespace}/${name} was deleted while seelie waited for it`, { hint: "someone (or something) deleted it; run the commit again" });
    throw kubeFailure(`read the ${what} ${namespace}/${name}`, err);
  }
}

/** Polls until the Pod's container runs or the Pod ended; throws on a state that cannot recover. */
export async function waitForStart(
  core: CoreV1Api,
  namespace: string,
  name: string,
  container: string,
  opts: { signal: AbortSignal; pollMs: number; what: string; onState?: (state: string) => void },
): Promise<V1Pod> {
  let last = "";
  for (;;) {
    const pod = await read(core, namespace, name, opts.what);
    const phase = pod.status?.phase;
    const st = containerStatus(pod, container);
    const state = describePod(pod, container);
    if (state !== last) opts.onState?.(state);
    last = state;
    if (phase === "Running" || phase === "Succeeded" || phase === "Failed" || st?.state?.running || st?.state?.terminated) return pod;
    const w = st?.state?.waiting;
    if (w?.reason && FATAL_WAITING.has(w.reason)) {
      const image = pod.spec?.containers.find((c) => c.name === container)?.image ?? "";
      const pull = /Image/.test(w.reason);
      throw new SeelieError(`the ${opts.what} ${namespace}/${name} cannot start: ${w.reason}${w.message ? `: ${w.message}` : ""}`, {
        hint: pull
          ? `check that the node can pull ${image} (--committer_image, SEELIE_COMMITTER_IMAGE or committer.image; pods/committer/README.md builds and pushes it)`
          : `kubectl describe pod -n ${namespace} ${name} (use --keep-pod to keep it)`,
      });
    }
    await sleep(opts.pollMs, opts.signal);
  }
}

/** Polls until the Pod has ended (phase Succeeded/Failed, or its container terminated). */
export async function waitForEnd(
  core: CoreV1Api,
  namespace: string,
  name: string,
  container: string,
  opts: { signal: AbortSignal; pollMs: number; what: string },
): Promise<V1Pod> {
  for (;;) {
    const pod = await read(core, namespace, name, opts.what);
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed" || containerStatus(pod, container)?.state?.terminated) return pod;
    await sleep(opts.pollMs, opts.signal);
  }
}

/** The last warning events of an object, best effort (for messages about a Pod that never started). */
export async function recentWarnings(core: CoreV1Api, namespace: string, name: string): Promise<string[]> {
  try {
    const list = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` });
    return list.items
      .filter((e) => e.type === "Warning" && e.involvedObject?.name === name)
      .slice(-3)
      .map((e) => `${e.reason ?? ""}: ${e.message ?? ""}`.trim());
  } catch (err) {
    log.debug(`cannot list events of ${namespace}/${name}: ${kubeError(err).message}`);
    return [];
  }
}
