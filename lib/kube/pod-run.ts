/**
 * Running a Pod to its end — the one loop behind `image commit --pod` (the committer Pod) and
 * `image cloud-build` (the build Pod): create it, poll its status (a watch saves little for a Pod that
 * lives minutes, and polling survives API-server hiccups), stop early on a state that will not get
 * better (pod-state.ts), follow the chosen containers' logs with resume after a dropped stream, and
 * delete it on success, failure, timeout and Ctrl-C alike (unless asked to keep it). What the Pod
 * produced (exit codes, termination messages, logs) is the caller's to read from the result.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { InterruptedError, SeelieError } from "../errors.ts";
import { log } from "../log.ts";
import { formatDuration } from "../util/duration.ts";
import { sleep } from "../util/sleep.ts";
import type { KubeClients } from "./client.ts";
import { type KubeHints, kubeError, kubeFailure } from "./errors.ts";
import { LogFollower } from "./log-follow.ts";
import { containerPhase, describePod, isPullProblem, type PodProblem, podEnded, podProblem } from "./pod-state.ts";

/** One container whose log is followed. */
export interface FollowedLog {
  container: string;
  onLine: (line: string) => void;
  /** Keep the whole log text in the result (for a result document at its end). */
  keepText?: boolean;
}

/** What to run and how. */
export interface PodRunOptions {
  /** The Pod to create (`metadata.name` or `generateName`). */
  pod: V1Pod;
  namespace: string;
  /** What the Pod is, for messages ("committer pod", "build Pod"). */
  what: string;
  /** Logs to follow, init containers included; each starts once its container runs. */
  logs?: FollowedLog[];
  /** The container whose end ends the run even if others (sidecars) still run; default: the Pod's phase decides. */
  mainContainer?: string;
  /** For the whole run, scheduling included. */
  timeoutMs: number;
  /** Ctrl-C. */
  signal?: AbortSignal;
  /** Status poll interval (default 1 s). */
  pollMs?: number;
  /** How long the scheduler may say Unschedulable before the run fails (default 60 s; an autoscaler may add a node). */
  unschedulableMs?: number;
  /** Keep the Pod after the run (--keep-pod). */
  keep?: boolean;
  /** Grace period of the deletion (default: the Pod's own). */
  deleteGraceSeconds?: number;
  /** Creates the Pod instead of a plain create (e.g. to replace a finished leftover of the same name). */
  create?: (pod: V1Pod) => Promise<V1Pod>;
  /** Called once the Pod exists (e.g. to make a Secret owned by it). */
  onCreated?: (pod: V1Pod) => Promise<void>;
  /** Called when the Pod's one-line state changes. */
  onState?: (state: string) => void;
  /** Hints: what RBAC to grant, what a missing namespace means, what to do about an image that cannot be pulled. */
  hints?: KubeHints & { imagePull?: (image: string, container: string) => string; timeout?: string };
}

/** How the Pod ended. */
export interface PodRunResult {
  /** The Pod's last status. */
  pod: V1Pod;
  name: string;
  /** From creation until a container first ran (ms). */
  startMs: number;
  /** The followed logs kept in full (`keepText`), by container. */
  logText: Record<string, string>;
}

const LOG_DRAIN_MS = 5000;

/** Creates the Pod, waits for its end while following logs, deletes it (unless kept), and returns its last state. */
export async function runPodToEnd(kube: KubeClients, opts: PodRunOptions): Promise<PodRunResult> {
  const { core } = kube;
  const ns = opts.namespace;
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const stop = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const interrupted = () => opts.signal?.aborted === true;
  if (interrupted()) throw new InterruptedError(opts.what);

  let created: V1Pod;
  try {
    created = await (opts.create ? opts.create(opts.pod) : core.createNamespacedPod({ namespace: ns, body: opts.pod }));
  } catch (err) {
    if (err instanceof SeelieError) throw err;
    throw kubeFailure(`create the ${opts.what} in namespace ${ns}`, err, opts.hints);
  }
  const name = created.metadata?.name ?? "";
  const t0 = Date.now();
  let startMs = -1;
  let last: V1Pod = created;
  const text: Record<string, string> = {};
  const followers = (opts.logs ?? []).map((l) => {
    if (l.keepText) text[l.container] = "";
    const onLine = (line: string) => {
      if (l.keepText) text[l.container] += `${line}\n`;
      l.onLine(line);
    };
    return new LogFollower(kube.transport, ns, name, l.container, onLine, (m) => log.debug(`${opts.what} ${ns}/${name}: ${m}`));
  });
  try {
    await opts.onCreated?.(created);
    let state = "";
    let unschedulableSince: number | undefined;
    for (;;) {
      if (interrupted()) throw new InterruptedError(opts.what);
      if (timeout.aborted) throw await timeoutError(kube, opts, name, last);
      last = await readPod(kube, ns, name, opts.what);
      // Only someone else deletes it while the loop runs: its containers are being killed, their exit is not the run's.
      if (last.metadata?.deletionTimestamp) throw deletedError(opts.what, ns, name);
      const now = describePod(last);
      if (now !== state) opts.onState?.(now);
      state = now;
      const unsched = last.status?.conditions?.some(
        (c) => c.type === "PodScheduled" && c.status === "False" && c.reason === "Unschedulable",
      );
      unschedulableSince = unsched ? (unschedulableSince ?? Date.now()) : undefined;
      const problem = podProblem(last, {
        unschedulable: unschedulableSince !== undefined && Date.now() - unschedulableSince >= (opts.unschedulableMs ?? 60_000),
      });
      if (problem) throw problemError(opts, ns, name, problem);
      for (const f of followers) f.poke(containerPhase(last, f.container));
      if (
        startMs < 0 &&
        [...(last.status?.initContainerStatuses ?? []), ...(last.status?.containerStatuses ?? [])].some(
          (s) => s.state?.running || s.state?.terminated,
        )
      ) {
        startMs = Date.now() - t0;
      }
      if (podEnded(last, opts.mainContainer)) break;
      await sleep(opts.pollMs ?? 1000, stop).catch(() => undefined);
    }
    await Promise.all(followers.map((f) => f.finish(LOG_DRAIN_MS)));
    return { pod: last, name, startMs: Math.max(startMs, 0), logText: text };
  } catch (err) {
    if (interrupted()) throw new InterruptedError(opts.what);
    if (timeout.aborted && !(err instanceof SeelieError)) throw await timeoutError(kube, opts, name, last);
    throw err;
  } finally {
    for (const f of followers) f.stop();
    await removePod(kube, ns, name, opts);
  }
}

async function readPod(kube: KubeClients, ns: string, name: string, what: string): Promise<V1Pod> {
  try {
    return await kube.core.readNamespacedPod({ namespace: ns, name });
  } catch (err) {
    if (kubeError(err).code === 404) {
      throw new SeelieError(`the ${what} ${ns}/${name} was deleted before it finished`, {
        hint: "someone or something (e.g. a namespace clean-up) deleted it; run again",
      });
    }
    throw kubeFailure(`read the ${what} ${ns}/${name}`, err);
  }
}

function deletedError(what: string, ns: string, name: string): SeelieError {
  return new SeelieError(`the ${what} ${ns}/${name} was deleted before it finished`, {
    hint: "someone or something (e.g. a namespace clean-up) deleted it; run again",
  });
}

function problemError(opts: PodRunOptions, ns: string, name: string, p: PodProblem): SeelieError {
  const where = p.container ? `its container "${p.container}" ` : "";
  const msg = `the ${opts.what} ${ns}/${name} cannot run: ${where}${p.reason}${p.message ? `: ${p.message}` : ""}`;
  let hint: string;
  if (isPullProblem(p))
    hint =
      opts.hints?.imagePull?.(p.image ?? "", p.container ?? "") ??
      `check that the node can pull ${p.image} (the name, and the registry's credentials)`;
  else if (p.reason === "CreateContainerConfigError")
    hint = `a Secret or ConfigMap (or a key in it) the Pod uses is missing: kubectl describe pod -n ${ns} ${name}`;
  else if (p.reason === "CrashLoopBackOff")
    hint = `the container keeps exiting: kubectl logs -n ${ns} ${name} -c ${p.container} --previous`;
  else if (p.reason === "Unschedulable")
    hint = "no node can take the Pod (resources, taints, node selector): kubectl describe pod shows the scheduler's reasons";
  else hint = `kubectl describe pod -n ${ns} ${name}`;
  if (!opts.keep) hint += " (keep the Pod to look at it: --keep-pod)";
  return new SeelieError(msg, { hint });
}

async function timeoutError(kube: KubeClients, opts: PodRunOptions, name: string, last: V1Pod): Promise<SeelieError> {
  const warnings = await recentWarnings(kube, opts.namespace, name);
  const started = last.status?.phase !== "Pending" || [...(last.status?.containerStatuses ?? [])].some((s) => s.state?.running);
  return new SeelieError(
    `the ${opts.what} ${opts.namespace}/${name} did not finish within ${formatDuration(opts.timeoutMs)} (${started ? "it was running" : "it never started"}: ${describePod(last)})${warnings.length ? `; events: ${warnings.join("; ")}` : ""}`,
    { hint: opts.hints?.timeout ?? `raise --timeout, or keep the Pod to look at it (kubectl describe pod -n ${opts.namespace} ${name})` },
  );
}

/** The last warning events of a Pod, best effort. */
export async function recentWarnings(kube: KubeClients, ns: string, name: string): Promise<string[]> {
  try {
    const list = await kube.core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name}` });
    return list.items
      .filter((e) => e.type === "Warning" && e.involvedObject?.name === name)
      .slice(-3)
      .map((e) => `${e.reason ?? ""}: ${e.message ?? ""}`.trim());
  } catch (err) {
    log.debug(`cannot list events of ${ns}/${name}: ${kubeError(err).message}`);
    return [];
  }
}

async function removePod(kube: KubeClients, ns: string, name: string, opts: PodRunOptions): Promise<void> {
  if (opts.keep) {
    log.info(`kept the ${opts.what} ${ns}/${name}; delete it with: kubectl delete pod -n ${ns} ${name}`);
    return;
  }
  try {
    await kube.core.deleteNamespacedPod({ namespace: ns, name, gracePeriodSeconds: opts.deleteGraceSeconds });
    log.debug(`deleted the ${opts.what} ${ns}/${name}`);
  } catch (err) {
    if (kubeError(err).code === 404) return;
    log.warn(
      `could not delete the ${opts.what} ${ns}/${name}: ${kubeError(err).message}; delete it with: kubectl delete pod -n ${ns} ${name}`,
    );
  }
}
