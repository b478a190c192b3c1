/**
 * `seelie job logs` for a TFJob: the `tensorflow` container's log of each worker pod (found by the
 * job's id label and the TFJob's ownership), followed until the container stops or Ctrl-C.
 */
import { Writable } from "node:stream";
import { errorMessage, InterruptedError, SeelieError } from "../errors.ts";
import { apiCode, type KubeCluster, readTfJob, type TfJobRef, tfJobPods } from "./backend-kube.ts";
import { TF_CONTAINER, workerIndex } from "./kube-workers.ts";
import { type LogSink, prefixedLines } from "./log-lines.ts";
import type { LogRequest } from "./logs.ts";

/** Writes the logs of the chosen workers of a TFJob to `sink` (pods' logs carry stdout and stderr together). */
export async function kubeLogs(cluster: KubeCluster, jobId: number, ref: TfJobRef, req: LogRequest, sink: LogSink): Promise<void> {
  const pods = await tfJobPods(cluster, ref, jobId);
  const byIndex = new Map(pods.map((p) => [workerIndex(p), p.metadata?.name ?? ""]));
  const missing = req.workers.filter((i) => !byIndex.has(i));
  if (missing.length === req.workers.length) {
    if (pods.length === 0 && !(await readTfJob(cluster, ref))) {
      throw new SeelieError(
        `job ${jobId}: TFJob ${ref.namespace}/${ref.name} no longer exists (deleted outside seelie?); its pods and logs went with it`,
        {
          hint: `seelie job delete --job_id ${jobId} --forget drops the record`,
        },
      );
    }
    throw new SeelieError(
      `job ${jobId}: TFJob ${ref.namespace}/${ref.name} has no worker pods${missing.length < pods.length ? "" : " yet"}`,
      {
        hint: `the training operator creates them; seelie job get --job_id ${jobId} shows the TFJob's status`,
      },
    );
  }
  const one = async (index: number) => {
    const pod = byIndex.get(index);
    if (!pod) return sink.stderr(new TextEncoder().encode(`worker-${index} has no pod (yet)\n`));
    const lines = prefixedLines(req.prefix ? `[worker-${index}] ` : "", (c) => sink.stdout(c));
    try {
      await podLog(cluster, ref.namespace, pod, req, (c) => lines.write(c));
    } finally {
      lines.end();
    }
  };
  if (req.follow) await Promise.all(req.workers.map(one));
  else for (const i of req.workers) await one(i);
}

/** Streams one pod's container log into `onChunk`; resolves when the API server ends it. */
async function podLog(
  cluster: KubeCluster,
  namespace: string,
  pod: string,
  req: LogRequest,
  onChunk: (c: Uint8Array) => void,
): Promise<void> {
  if (req.signal?.aborted) throw new InterruptedError("following the logs");
  let finished!: () => void;
  const ended = new Promise<void>((resolve) => (finished = resolve));
  const out = new Writable({
    write(chunk: Uint8Array, _enc, cb) {
      onChunk(chunk);
      cb();
    },
    final(cb) {
      finished();
      cb();
    },
  });
  let controller: AbortController;
  try {
    controller = await cluster.log.log(namespace, pod, TF_CONTAINER, out, {
      follow: req.follow,
      timestamps: req.timestamps,
      ...(req.tail !== undefined ? { tailLines: req.tail } : {}),
      ...(req.sinceSeconds !== undefined ? { sinceSeconds: req.sinceSeconds } : {}),
    });
  } catch (err) {
    const code = apiCode(err);
    if (code === 404)
      throw new SeelieError(`pod ${namespace}/${pod} no longer exists`, {
        hint: "the TFJob may have been deleted; seelie job get shows it",
      });
    throw new SeelieError(`cannot read the log of pod ${namespace}/${pod} in context ${cluster.context}: ${errorMessage(err)}`, {
      cause: err,
    });
  }
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      controller.abort();
      reject(new InterruptedError("following the logs"));
    };
    req.signal?.addEventListener("abort", onAbort, { once: true });
    ended.then(() => {
      req.signal?.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}
