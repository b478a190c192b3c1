/**
 * Runs an in-cluster build: checks the registry Secret (and the PVC), then runs the build Pod to its end
 * on the one Pod loop (lib/kube/pod-run.ts: create, follow the prepare and build logs, stop early on a
 * Pod that cannot start, delete it on success, failure, timeout and Ctrl-C), and reads the pushed digest.
 */
import type { CoreV1Api, V1Pod, V1Secret } from "@kubernetes/client-node";
import { InterruptedError, SeelieError, UsageError } from "../errors.ts";
import type { KubeClients } from "../kube/client.ts";
import { kubeError, kubeFailure } from "../kube/errors.ts";
import { runPodToEnd } from "../kube/pod-run.ts";
import { containerStatus } from "../kube/pod-state.ts";
import type { ProgressSink } from "../log.ts";
import { renderBuildPod } from "./pod.ts";
import { DIGEST_LINE_PREFIX } from "./tools.ts";
import type { BuildTool, CloudBuildInputs } from "./types.ts";

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
  /** How long the scheduler may call the Pod unschedulable before the build fails (ms; the loop's default otherwise). */
  unschedulableMs?: number;
}

const DIGEST_RE = /sha256:[0-9a-f]{64}/;
const CONTAINERS = ["prepare", "build"] as const;

/** Refuses a missing or wrongly typed registry Secret before any Pod exists (its contents are never read out). */
export async function checkRegistrySecret(api: CoreV1Api, namespace: string, name: string): Promise<void> {
  let secret: V1Secret;
  try {
    secret = await api.readNamespacedSecret({ name, namespace });
  } catch (err) {
    if (kubeError(err).code === 404) {
      throw new UsageError(
        `the registry secret "${name}" does not exist in namespace "${namespace}"`,
        `create it: kubectl -n ${namespace} create secret docker-registry ${name} --docker-server=REGISTRY --docker-username=USER --docker-password=...`,
      );
    }
    throw kubeFailure(`read the registry secret ${namespace}/${name}`, err);
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
      throw new UsageError(
        `the build context volume claim "${claim}" does not exist in namespace "${namespace}"`,
        "check --context_pvc and --namespace (kubectl get pvc)",
      );
    }
    throw kubeFailure(`read the volume claim ${namespace}/${claim}`, err);
  }
}

/**
 * Runs the build Pod for `inputs` to its end. Returns the pushed image and digest; throws SeelieError
 * naming the failed container (prepare or build) or why the Pod cannot start, UsageError for a missing
 * secret or claim (no Pod is created then), InterruptedError on abort. The Pod is deleted in every case.
 */
export async function runCloudBuild(kube: KubeClients, inputs: CloudBuildInputs, opts: RunCloudBuildOptions): Promise<CloudBuildResult> {
  const ns = inputs.namespace;
  await checkRegistrySecret(kube.core, ns, inputs.registrySecret);
  if ("pvc" in inputs.context) await checkContextClaim(kube.core, ns, inputs.context.pvc);
  if (opts.signal?.aborted) throw new InterruptedError("cloud build");

  const deadline = inputs.deadlineSeconds ?? 3600;
  const digestLines: string[] = [];
  const run = await runPodToEnd(kube, {
    pod: renderBuildPod(inputs) as V1Pod,
    namespace: ns,
    what: "build Pod",
    logs: CONTAINERS.map((c) => ({
      container: c,
      onLine: (line: string) => {
        if (c === "build" && line.includes(DIGEST_LINE_PREFIX)) digestLines.push(line);
        opts.progress(`[${c}] ${line}`);
      },
    })),
    timeoutMs: opts.waitMs ?? (deadline + Math.min(deadline, 300)) * 1000,
    signal: opts.signal,
    pollMs: opts.pollMs,
    unschedulableMs: opts.unschedulableMs,
    // A build holds nothing worth a graceful stop; the Pod must be gone when the command returns.
    deleteGraceSeconds: 0,
    onCreated: async (pod) =>
      opts.progress(`[cloud-build] Pod ${ns}/${pod.metadata?.name} created (${inputs.tool}, ${inputs.builderImage})`),
    onState: (state) => opts.progress(`[cloud-build] Pod ${state}`),
    hints: {
      imagePull: (image) => `check that ${image} exists and the node can pull it (pass --builder_image/--tools_image to use a mirror)`,
      timeout: `raise --timeout for long builds; kubectl -n ${ns} describe pod shows why a Pod does not start (scheduling, volume, image pulls)`,
      notFound: `check --namespace (kubectl get namespace ${ns})`,
    },
  });
  return buildOutcome(run.pod, inputs, run.name, digestLines);
}

/** The result of an ended build Pod, or the error naming the container (prepare or build) that failed. */
export function buildOutcome(pod: V1Pod, inputs: CloudBuildInputs, name: string, digestLines: readonly string[]): CloudBuildResult {
  const ns = inputs.namespace;
  if (pod.status?.phase !== "Succeeded") {
    for (const c of CONTAINERS) {
      const t = containerStatus(pod, c)?.state?.terminated;
      if (t && t.exitCode !== 0) {
        const msg = (t.message ?? "").trim().split("\n").slice(-3).join(" | ");
        const where = c === "prepare" ? "preparing the project (ml.flag, Dockerfile, base image allow list)" : `the ${inputs.tool} build`;
        throw new SeelieError(
          `the build Pod ${ns}/${name} failed while ${where}: container "${c}" exited with ${t.exitCode}${msg ? `: ${msg}` : ""}`,
          {
            hint: c === "prepare" ? "fix the project on the volume and run again" : "see the build log above",
            exitCode: c === "prepare" && t.exitCode === 2 ? 2 : 1,
          },
        );
      }
    }
    throw new SeelieError(`the build Pod ${ns}/${name} failed: ${pod.status?.reason ?? ""} ${pod.status?.message ?? ""}`.trim(), {
      hint: "kubectl describe pod shows why (e.g. DeadlineExceeded: raise --timeout)",
    });
  }
  // Kaniko writes only the digest to its termination message; the shell-based builders print it too.
  const message = containerStatus(pod, "build")?.state?.terminated?.message ?? "";
  const digest = DIGEST_RE.exec(message)?.[0] ?? DIGEST_RE.exec(digestLines.at(-1) ?? "")?.[0];
  if (!digest) {
    throw new SeelieError(`the build Pod ${ns}/${name} succeeded but reported no image digest`, {
      hint: `check ${inputs.image} in the registry`,
    });
  }
  return { image: inputs.image, digest, pushed: true, tool: inputs.tool, namespace: ns, pod: name };
}
