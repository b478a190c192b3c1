/**
 * Reading a Pod's status: where it is (one line for the user), whether it has ended, and whether it is
 * stuck in a state that will not get better by itself. Pure functions over V1Pod.
 */
import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import type { ContainerPhase } from "./log-follow.ts";

/**
 * Waiting reasons that will not resolve by themselves. `ErrImagePull` counts when the registry said
 * the image is not there or not for us (a transient pull error turns into `ImagePullBackOff` within
 * seconds and counts then); `CreateContainerConfigError` is a missing Secret/ConfigMap or key.
 */
const FATAL_WAITING = new Set([
  "ImagePullBackOff",
  "InvalidImageName",
  "ErrImageNeverPull",
  "CreateContainerConfigError",
  "CreateContainerError",
  "RunContainerError",
  "CrashLoopBackOff",
]);
const PERMANENT_PULL = /not found|manifest unknown|unauthorized|denied|forbidden|no such host|does not exist|40[134]/i;

/** The status of a container (init or regular) by name. */
export function containerStatus(pod: V1Pod, name: string): V1ContainerStatus | undefined {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find((s) => s.name === name);
}

/** waiting / running / terminated, as the log follower needs it. */
export function containerPhase(pod: V1Pod, name: string): ContainerPhase {
  const st = containerStatus(pod, name)?.state;
  return st?.terminated ? "terminated" : st?.running ? "running" : "waiting";
}

/** The image of a container (init or regular) by name. */
export function containerImage(pod: V1Pod, name: string): string | undefined {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === name)?.image;
}

/** Ended: phase Succeeded/Failed, or (when given) the main container terminated. */
export function podEnded(pod: V1Pod, main?: string): boolean {
  const phase = pod.status?.phase;
  return phase === "Succeeded" || phase === "Failed" || (main !== undefined && containerPhase(pod, main) === "terminated");
}

/** A one-line description of where a Pod is: `Pending (ContainerCreating)`, `Pending (Unschedulable: 0/2 nodes …)`. */
export function describePod(pod: V1Pod): string {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const w = statuses.find((s) => s.state?.waiting?.reason && s.state.waiting.reason !== "PodInitializing")?.state?.waiting;
  const sched = pod.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
  const why = w?.reason ?? sched?.reason ?? pod.status?.reason;
  const msg = w?.reason ? w.message : sched?.reason ? sched.message : pod.status?.message;
  return `${pod.status?.phase ?? "Pending"}${why ? ` (${why}${msg ? `: ${msg}` : ""})` : ""}`;
}

/** Why a Pod cannot get further. */
export interface PodProblem {
  /** The container stuck, when it is one. */
  container?: string;
  reason: string;
  message: string;
  /** The container's image, for pull errors. */
  image?: string;
}

/** The state that will not get better by itself, if any (`unschedulable`: the scheduler's verdict counts). */
export function podProblem(pod: V1Pod, opts: { unschedulable: boolean }): PodProblem | undefined {
  for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const w = s.state?.waiting;
    if (!w?.reason) continue;
    const fatal = FATAL_WAITING.has(w.reason) || (w.reason === "ErrImagePull" && PERMANENT_PULL.test(w.message ?? ""));
    if (fatal) return { container: s.name, reason: w.reason, message: w.message ?? "", image: containerImage(pod, s.name) };
  }
  const sched = pod.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False");
  if (opts.unschedulable && sched?.reason === "Unschedulable") return { reason: "Unschedulable", message: sched.message ?? "" };
  return undefined;
}

/** Whether a problem is about pulling the image. */
export function isPullProblem(p: PodProblem): boolean {
  return /Image/.test(p.reason);
}
