/**
 * Runs an in-cluster build: checks the registry Secret (and the PVC), creates the build Pod, streams
 * the prepare and build logs, waits for the end, reads the pushed digest and always deletes the Pod
 * (on success, failure and interruption).
 */
import { ApiException, type CoreV1Api, type V1ContainerStatus, type V1Pod } from "@kubernetes/client-node";
import { InterruptedError, SeelieError, UsageError, errorMessage } from "../errors.ts";
import { kubeError, type KubeClients } from "../kube/client.ts";
import type { ProgressSink } from "../log.ts";
import { ContainerLogFollower } from "./logs.ts";
import { renderBuildPod } from "./pod.ts";
import { DIGEST_LINE_PREFIX } from "./tools.ts";
import type { BuildTool, CloudBuildInputs } from "./types.ts";
import { sleep } from "../util/sleep.ts";

/** The outcome of a build, as `-o json` prints it. */
export interface CloudBuildResult {
  image: string;
  digest: string;
  pushed: true;
  tool: BuildTool;
  namespace: string;
  pod: string;
}

/** Options of runCloudBuild. */
export interface RunCloudBuildOptions {
  /** Build output and status lines. */
  progress: ProgressSink;
  signal?: AbortSignal;
  /** How often the Pod's status is read (ms). */
  pollMs?: number;
  /**
   * How long to wait for the Pod at most (ms). Default: the Pod's deadline plus as much again, at most
   * 5 minutes more — activeDeadlineSeconds only runs once a node has started the Pod, so an
   * unschedulable Pod would otherwise be waited for forever.
   */
  waitMs?: number;
}

const DIGEST_RE = /sha256:[0-9a-f]{64}/;
const STUCK_REASONS = new Set(["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError", "RunContainerError"]);

/** The API server's own message (a Status object's `message`), when the error carries one. */
function apiMessage(err: unknown): string | undefined {
  if (!(err instanceof ApiException)) return undefined;
  const body: unknown = err.body;
  try {
    const status = typeof body === "string" ? JSON.parse(body) : body;
    const m = (status as { message?: unknown } | undefined)?.message;
    return typeof m === "string" && m ? m : undefined;
  } catch {
    return undefined;
  }
}

function apiError(what: string, err: unknown): SeelieError {
  const detail = err instanceof ApiException ? `HTTP ${err.code}${apiMessage(err) ? ` — ${apiMessage(err)}` : ""}` : errorMessage(err);
  return new SeelieError(`${what}: ${detail}`, { hint: "check the kubeconfig context, the namespace and your RBAC permissions", cause: err });
}

/** Refuses a missing or wrongly typed registry Secret before any Pod exists (its contents are never read out). */
export async function checkRegistrySecret(api: CoreV1Api, namespace: string, name: string): Promise<void> {
  let secret;
  try {
    secret = await api.readNamespacedSecret({ name, namespace });
  } catch (err) {
    if (kubeError(err).code === 404) {
      throw new UsageError(
        `the registry secret "${name}" does not exist in namespace "${namespace}"`,
        `create it: kubectl -n ${namespace} create secret docker-registry ${name} --docker-server=REGISTRY --docker-username=USER --docker-password=...`,
      );
    }
    throw apiError(`cannot read the registry secret ${namespace}/${name}`, err);
  }
  if (secret.type !== "kubernetes.io/dockerconfigjson" || !secret.data?.[".dockerconfigjson"]) {
    throw new UsageError(
      `the secret ${namespace}/${name} is of type "${secret.type ?? "Opaque"}", not kubernetes.io/dockerconfigjson with a .dockerconfigjson key`,
      "create it with: kubectl create secret docker-registry …",
    );
  }
}

/** Refuses a missing PersistentVolumeClaim (the build context) before any Pod exists. */
export async function checkContextClaim(api: CoreV1Api, namespace: string, claim: string): Promise<void> {
  try {
    await api.readNamespacedPersistentVolumeClaim({ name: claim, namespace });
  } catch (err) {
    if (kubeError(err).code === 404) {
      throw new UsageError(`the build context volume claim "${claim}" does not exist in namespace "${namespace}"`, "check --context_pvc and --namespace (kubectl get pvc)");
    }
    throw apiError(`cannot read the volume claim ${namespace}/${claim}`, err);
  }
}

function statusOf(pod: V1Pod, container: string): V1ContainerStatus | undefined {
  return [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find((s) => s.name === container);
}

// Waiting ends early on Ctrl-C; the loop then sees the aborted signal and cleans up.
const waitUnlessAborted = (ms: number, signal?: AbortSignal) => sleep(ms, signal).catch(() => undefined);

/**
 * Creates the build Pod for `inputs` and follows it to the end. Returns the pushed image and digest;
 * throws SeelieError naming the failed container (prepare or build), UsageError for a missing secret or
 * claim (no Pod is created then), InterruptedError on abort. The Pod is deleted in every case.
 */
export async function runCloudBuild(kube: KubeClients, inputs: CloudBuildInputs, opts: RunCloudBuildOptions): Promise<CloudBuildResult> {
  const api = kube.core;
  const ns = inputs.namespace;
  await checkRegistrySecret(api, ns, inputs.registrySecret);
  if ("pvc" in inputs.context) await checkContextClaim(api, ns, inputs.context.pvc);
  if (opts.signal?.aborted) throw new InterruptedError("cloud build");

  let created: V1Pod;
  try {
    created = await api.createNamespacedPod({ namespace: ns, body: renderBuildPod(inputs) as V1Pod });
  } catch (err) {
    throw apiError(`cannot create the build Pod in namespace ${ns}`, err);
  }
  const name = created.metadata?.name ?? "";
  opts.progress(`[cloud-build] Pod ${ns}/${name} created (${inputs.tool}, ${inputs.builderImage})`);
  const digestLines: string[] = [];
  const deadline = inputs.deadlineSeconds ?? 3600;
  const waitMs = opts.waitMs ?? (deadline + Math.min(deadline, 300)) * 1000;
  try {
    const pod = await follow(kube, api, ns, name, { ...opts, waitMs }, digestLines);
    return finish(pod, inputs, name, digestLines);
  } finally {
    try {
      await api.deleteNamespacedPod({ name, namespace: ns, gracePeriodSeconds: 0 });
      opts.progress(`[cloud-build] Pod ${ns}/${name} deleted`);
    } catch (err) {
      if (kubeError(err).code !== 404) opts.progress(`[cloud-build] could not delete Pod ${ns}/${name}: ${errorMessage(err)} (delete it with kubectl)`);
    }
  }
}

/** Polls the Pod, streaming each container's log once it has started, until it succeeds or fails. */
async function follow(kube: KubeClients, api: CoreV1Api, ns: string, name: string, opts: RunCloudBuildOptions & { waitMs: number }, digestLines: string[]): Promise<V1Pod> {
  const logs = kube.log;
  const progress = (msg: string) => opts.progress(`[cloud-build] ${msg}`);
  const followers = new Map(
    ["prepare", "build"].map((c) => [
      c,
      new ContainerLogFollower(
        logs,
        ns,
        name,
        c,
        (line) => {
          if (line.includes(DIGEST_LINE_PREFIX)) digestLines.push(line);
          opts.progress(`[${c}] ${line}`);
        },
        progress,
        opts.signal,
      ),
    ]),
  );
  const pollMs = opts.pollMs ?? 1000;
  const started = Date.now();
  let schedulingReported = "";
  for (;;) {
    if (opts.signal?.aborted) throw new InterruptedError("cloud build");
    if (Date.now() - started > opts.waitMs) {
      throw new SeelieError(`the build Pod ${ns}/${name} did not finish within ${Math.round(opts.waitMs / 1000)} s`, {
        hint: `kubectl -n ${ns} describe pod ${name} shows why (scheduling, volume, image pulls); raise --timeout for long builds`,
      });
    }
    let pod: V1Pod;
    try {
      pod = await api.readNamespacedPod({ name, namespace: ns });
    } catch (err) {
      if (kubeError(err).code === 404) throw new SeelieError(`the build Pod ${ns}/${name} was deleted before it finished`, { hint: "someone or something (e.g. a namespace cleanup) removed it; run the build again" });
      throw apiError(`cannot read the build Pod ${ns}/${name}`, err);
    }
    for (const [c, follower] of followers) {
      const st = statusOf(pod, c);
      const waiting = st?.state?.waiting;
      if (waiting?.reason && STUCK_REASONS.has(waiting.reason)) {
        const image = pod.spec?.initContainers?.concat(pod.spec?.containers ?? []).find((x) => x.name === c)?.image;
        throw new SeelieError(`the build Pod's "${c}" container cannot start: ${waiting.reason}${waiting.message ? ` — ${waiting.message}` : ""}`, {
          hint: `check that ${image} exists and the node can pull it (pass --builder_image/--tools_image to use a mirror)`,
        });
      }
      follower.poke(st?.state?.terminated ? "terminated" : st?.state?.running ? "running" : "waiting");
    }
    const unscheduled = pod.status?.conditions?.find((x) => x.type === "PodScheduled" && x.status === "False");
    if (unscheduled?.message && unscheduled.message !== schedulingReported) {
      schedulingReported = unscheduled.message;
      progress(`waiting for a node: ${unscheduled.reason ?? ""} ${unscheduled.message}`.trim());
    }
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") {
      const all = Promise.all([...followers.values()].map((f) => f.done()));
      await Promise.race([all, waitUnlessAborted(5000, opts.signal)]);
      return pod;
    }
    await waitUnlessAborted(pollMs, opts.signal);
  }
}

function finish(pod: V1Pod, inputs: CloudBuildInputs, name: string, digestLines: string[]): CloudBuildResult {
  const ns = inputs.namespace;
  if (pod.status?.phase === "Failed") {
    for (const c of ["prepare", "build"]) {
      const t = statusOf(pod, c)?.state?.terminated;
      if (t && t.exitCode !== 0) {
        const msg = (t.message ?? "").trim().split("\n").slice(-3).join(" | ");
        const where = c === "prepare" ? "preparing the project (ml.flag, Dockerfile, base image allow list)" : `the ${inputs.tool} build`;
        throw new SeelieError(`the build Pod ${ns}/${name} failed while ${where}: container "${c}" exited with ${t.exitCode}${msg ? `: ${msg}` : ""}`, {
          hint: c === "prepare" ? "fix the project on the volume and run again" : "see the build log above",
          exitCode: c === "prepare" && t.exitCode === 2 ? 2 : 1,
        });
      }
    }
    throw new SeelieError(`the build Pod ${ns}/${name} failed: ${pod.status?.reason ?? ""} ${pod.status?.message ?? ""}`.trim(), { hint: "kubectl describe pod shows why (e.g. DeadlineExceeded)" });
  }
  const message = statusOf(pod, "build")?.state?.terminated?.message ?? "";
  let digest = DIGEST_RE.exec(message)?.[0];
  if (!digest) {
    const line = digestLines.at(-1);
    digest = line ? DIGEST_RE.exec(line)?.[0] : undefined;
  }
  if (!digest) {
    throw new SeelieError(`the build Pod ${ns}/${name} succeeded but reported no image digest`, { hint: `check ${inputs.image} in the registry` });
  }
  return { image: inputs.image, digest, pushed: true, tool: inputs.tool, namespace: ns, pod: name };
}
