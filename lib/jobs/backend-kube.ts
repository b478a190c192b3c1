/**
 * The Kubernetes backend (`--cluster CONTEXT`): the job becomes a Kubeflow TFJob in the context's
 * cluster. client-node is imported lazily by the callers of this file (it is slow to load).
 */
import type { CustomObjectsApi } from "@kubernetes/client-node";
import { loadKube } from "../kube/client.ts";
import { SeelieError, errorMessage } from "../errors.ts";
import { checkTfJob } from "./schema-check.ts";
import { TFJOB_GROUP, TFJOB_PLURAL, TFJOB_VERSION, buildTfJob, tfJobStatus } from "./tfjob.ts";
import type { BackendRef, JobRecord, JobStatus } from "./types.ts";

/** A client for one kubeconfig context. */
export interface KubeCluster {
  context: string;
  api: CustomObjectsApi;
}

const INSTALL_HINT =
  'install the Kubeflow training operator in that cluster (kubectl apply --server-side -k "github.com/kubeflow/training-operator.git/manifests/overlays/standalone?ref=v1.8.1"), or use --cluster local';

function apiCode(err: unknown): number | undefined {
  const c = (err as { code?: unknown }).code;
  return typeof c === "number" ? c : undefined;
}

function unreachable(context: string, err: unknown): SeelieError {
  return new SeelieError(`cluster "${context}": the API server did not answer: ${errorMessage(err)}`, {
    hint: `check the context (kubectl --context '${context}' get ns) and your network`,
    cause: err,
  });
}

/** Loads the kubeconfig (KUBECONFIG honoured) and selects `context`; an unknown context is a UsageError listing the known ones. */
export function connectKube(context: string, env: Record<string, string | undefined>): KubeCluster {
  return { context, api: loadKube({ context, env, flag: "--cluster" }).custom };
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
    throw new SeelieError(`cluster "${cluster.context}" has no TFJob API (${TFJOB_GROUP}/${TFJOB_VERSION} ${TFJOB_PLURAL}): the Kubeflow training operator is not installed`, {
      hint: INSTALL_HINT,
    });
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
    if (code === 404) throw new SeelieError(`cluster "${cluster.context}": namespace ${job.spec.namespace} or the TFJob API was not found`, { hint: `check --namespace; ${INSTALL_HINT}` });
    if (code !== undefined) throw new SeelieError(`cluster "${cluster.context}" refused the TFJob (HTTP ${code}): ${errorMessage(err)}`);
    throw unreachable(cluster.context, err);
  }
}

/** The live status of a TFJob from its conditions. */
export async function kubeJobStatus(cluster: KubeCluster, ref: Extract<BackendRef, { kind: "tfjob" }>): Promise<{ status: JobStatus; message?: string }> {
  try {
    const obj = (await cluster.api.getNamespacedCustomObject({
      group: TFJOB_GROUP,
      version: TFJOB_VERSION,
      namespace: ref.namespace,
      plural: TFJOB_PLURAL,
      name: ref.name,
    })) as Parameters<typeof tfJobStatus>[0];
    return tfJobStatus(obj);
  } catch (err) {
    if (apiCode(err) === 404) return { status: "Unknown", message: `TFJob ${ref.namespace}/${ref.name} no longer exists` };
    throw unreachable(cluster.context, err);
  }
}
