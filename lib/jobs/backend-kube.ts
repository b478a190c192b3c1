/**
 * The Kubernetes backend (`--cluster CONTEXT`): the job becomes a Kubeflow TFJob in the context's
 * cluster. client-node is imported lazily by the callers of this file (it is slow to load).
 */
import type { CoreV1Api, CustomObjectsApi, Log } from "@kubernetes/client-node";
import { errorMessage, SeelieError } from "../errors.ts";
import { loadKube } from "../kube/client.ts";
import { type PodLike, workersFromPods } from "./kube-workers.ts";
import { checkTfJob } from "./schema-check.ts";
import { buildTfJob, JOB_ID_LABEL, TFJOB_GROUP, TFJOB_PLURAL, TFJOB_VERSION, tfJobStatus } from "./tfjob.ts";
import type { BackendRef, JobRecord, LiveStatus } from "./types.ts";

/** A client for one kubeconfig context. */
export interface KubeCluster {
  context: string;
  api: CustomObjectsApi;
  core: CoreV1Api;
  /** Pod logs, sent through the kube transport. */
  log: Log;
}

/** Where a TFJob lives. */
export type TfJobRef = Extract<BackendRef, { kind: "tfjob" }>;

const INSTALL_HINT =
  'install the Kubeflow training operator in that cluster (kubectl apply --server-side -k "github.com/kubeflow/training-operator.git/manifests/overlays/standalone?ref=v1.8.1"), or use --cluster local';

/** The HTTP status of an API error, if it is one. */
export function apiCode(err: unknown): number | undefined {
  const c = (err as { code?: unknown }).code;
  return typeof c === "number" ? c : undefined;
}

/** A connection failure to a context's API server. */
export function unreachable(context: string, err: unknown): SeelieError {
  return new SeelieError(`cluster "${context}": the API server did not answer: ${errorMessage(err)}`, {
    hint: `check the context (kubectl --context '${context}' get ns) and your network`,
    cause: err,
  });
}

/** Loads the kubeconfig (KUBECONFIG honoured) and selects `context`; an unknown context is a UsageError listing the known ones. */
export function connectKube(context: string, env: Record<string, string | undefined>): KubeCluster {
  const k = loadKube({ context, env, flag: "--cluster" });
  return { context, api: k.custom, core: k.core, log: k.log };
}

/** Checks that the cluster serves TFJobs (kubeflow.org/v1 tfjobs); says to install the training operator when not. */
export async function checkTfJobApi(cluster: KubeCluster): Promise<void> {
  let resources: { name?: string }[];
  try {
    resources = (await cluster.api.getAPIResources({ group: TFJOB_GROUP, version: TFJOB_VERSION })).resources ?? [];
  } catch (err) {
    if (apiCode(err) === 404) resources = [];
    else throw unreachable(cluster.context, err);
  }
  if (!resources.some((r) => r.name === TFJOB_PLURAL)) {
    throw new SeelieError(
      `cluster "${cluster.context}" has no TFJob API (${TFJOB_GROUP}/${TFJOB_VERSION} ${TFJOB_PLURAL}): the Kubeflow training operator is not installed`,
      {
        hint: INSTALL_HINT,
      },
    );
  }
}

/** Creates the job's TFJob (checked against the TFJob schema first) and returns where it lives. */
export async function createTfJob(cluster: KubeCluster, job: JobRecord): Promise<BackendRef> {
  const obj = buildTfJob(job);
  const problems = checkTfJob(obj);
  if (problems.length) throw new SeelieError(`the TFJob for job ${job.id} does not match the TFJob schema: ${problems.join("; ")}`);
  try {
    const created = (await cluster.api.createNamespacedCustomObject({
      group: TFJOB_GROUP,
      version: TFJOB_VERSION,
      namespace: job.spec.namespace,
      plural: TFJOB_PLURAL,
      body: obj,
    })) as { metadata?: { name?: string } };
    const name = created.metadata?.name;
    if (!name) throw new Error("the API server returned no name");
    return { kind: "tfjob", context: cluster.context, namespace: job.spec.namespace, name };
  } catch (err) {
    const code = apiCode(err);
    if (code === 403 || code === 401) {
      throw new SeelieError(`cluster "${cluster.context}" refused to create a TFJob in namespace ${job.spec.namespace} (HTTP ${code})`, {
        hint: "ask for permission to create tfjobs.kubeflow.org in that namespace, or use another --namespace",
      });
    }
    if (code === 404)
      throw new SeelieError(`cluster "${cluster.context}": namespace ${job.spec.namespace} or the TFJob API was not found`, {
        hint: `check --namespace; ${INSTALL_HINT}`,
      });
    if (code !== undefined) throw new SeelieError(`cluster "${cluster.context}" refused the TFJob (HTTP ${code}): ${errorMessage(err)}`);
    throw unreachable(cluster.context, err);
  }
}

/** The TFJob, or undefined when it no longer exists. */
export async function readTfJob(cluster: KubeCluster, ref: TfJobRef): Promise<Parameters<typeof tfJobStatus>[0] | undefined> {
  try {
    return (await cluster.api.getNamespacedCustomObject({
      group: TFJOB_GROUP,
      version: TFJOB_VERSION,
      namespace: ref.namespace,
      plural: TFJOB_PLURAL,
      name: ref.name,
    })) as Parameters<typeof tfJobStatus>[0];
  } catch (err) {
    if (apiCode(err) === 404) return undefined;
    throw unreachable(cluster.context, err);
  }
}

/** The worker pods of a TFJob: those carrying the job's id label that the TFJob owns. */
export async function tfJobPods(cluster: KubeCluster, ref: TfJobRef, jobId: number): Promise<PodLike[]> {
  try {
    const list = await cluster.core.listNamespacedPod({ namespace: ref.namespace, labelSelector: `${JOB_ID_LABEL}=${jobId}` });
    return (list.items as PodLike[]).filter((p) => workersFromPods([p], ref.name).length > 0);
  } catch (err) {
    if (apiCode(err) === 403) {
      throw new SeelieError(`cluster "${cluster.context}" does not let you list pods in namespace ${ref.namespace}`, {
        hint: "ask for permission to get and list pods (and pods/log) in that namespace",
      });
    }
    throw unreachable(cluster.context, err);
  }
}

/** The live status of a TFJob from its conditions, and each worker pod's state. */
export async function kubeJobStatus(cluster: KubeCluster, ref: TfJobRef, jobId: number): Promise<LiveStatus> {
  const obj = await readTfJob(cluster, ref);
  if (!obj)
    return { status: "Unknown", message: `TFJob ${ref.namespace}/${ref.name} no longer exists (deleted outside seelie?)`, workers: [] };
  const workers = workersFromPods(await tfJobPods(cluster, ref, jobId), ref.name);
  return { ...tfJobStatus(obj), workers };
}

/**
 * Deletes the TFJob; its pods go with it (background propagation: the garbage collector removes
 * what the TFJob owns). False when it was already gone.
 */
export async function deleteTfJob(cluster: KubeCluster, ref: TfJobRef): Promise<boolean> {
  try {
    await cluster.api.deleteNamespacedCustomObject({
      group: TFJOB_GROUP,
      version: TFJOB_VERSION,
      namespace: ref.namespace,
      plural: TFJOB_PLURAL,
      name: ref.name,
      propagationPolicy: "Background",
    });
    return true;
  } catch (err) {
    const code = apiCode(err);
    if (code === 404) return false;
    if (code === 403 || code === 401) {
      throw new SeelieError(`cluster "${cluster.context}" refused to delete TFJob ${ref.namespace}/${ref.name} (HTTP ${code})`, {
        hint: "ask for permission to delete tfjobs.kubeflow.org in that namespace",
      });
    }
    if (code !== undefined)
      throw new SeelieError(
        `cluster "${cluster.context}" refused to delete TFJob ${ref.namespace}/${ref.name} (HTTP ${code}): ${errorMessage(err)}`,
      );
    throw unreachable(cluster.context, err);
  }
}
