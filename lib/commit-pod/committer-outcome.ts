/** The outcome of an ended committer Pod: its result, or the committer's own error. */
import type { V1Pod } from "@kubernetes/client-node";
import { SeelieError } from "../errors.ts";
import { COMMITTER_CONTAINER } from "./committer-pod.ts";
import { errorFromLog, isCommitterError, parseCommitterOutput, timingsInSeconds, type CommitPodResult } from "./committer-result.ts";
import type { CommitTarget } from "./locate.ts";
import { containerStatus } from "../kube/pod-state.ts";

/** Turns the ended Pod (and its log) into the result, or into the committer's own error. */
export function podOutcome(
  pod: V1Pod,
  logText: string,
  ctx: {
    target: CommitTarget;
    opts: { committerNamespace: string; committerImage: string; keepPod: boolean };
    name: string;
    podStart: number;
    t0: number;
  },
): CommitPodResult {
  const { target, opts, name } = ctx;
  const term = containerStatus(pod, COMMITTER_CONTAINER)?.state?.terminated;
  const out = parseCommitterOutput(term?.message, logText);
  const where = `the committer on node ${target.node}`;
  if (!term) {
    const why =
      pod.status?.reason === "DeadlineExceeded"
        ? "it ran longer than its activeDeadlineSeconds"
        : `${pod.status?.reason ?? "no reason given"}${pod.status?.message ? `: ${pod.status.message}` : ""}`;
    throw new SeelieError(`${where} did not finish: pod ${opts.committerNamespace}/${name} is ${pod.status?.phase} (${why})`, {
      hint: "raise --timeout, or run again with --keep-pod and kubectl describe the pod",
    });
  }
  if (term.exitCode !== 0) {
    const err = isCommitterError(out)
      ? out.error
      : (errorFromLog(logText) ?? (term.message ? { message: term.message.trim().split("\n").at(-1) ?? "" } : undefined));
    const oom = term.reason === "OOMKilled" ? " (out of memory: the pod's limit is 1Gi)" : "";
    throw new SeelieError(`${where} failed (exit code ${term.exitCode}${oom}): ${err?.message || term.reason || "no message"}`, {
      hint: err?.hint ?? "see the committer's log above; --keep-pod keeps the pod for kubectl logs/describe",
      // Whatever the committer's own code (2 = bad input to it), its input came from seelie: the commit failed.
      exitCode: 1,
    });
  }
  if (!out || isCommitterError(out)) {
    throw new SeelieError(`${where} finished but reported no result`, {
      hint: `is ${opts.committerImage} an older committer? it must support -o json and --result-file (see pods/committer/README.md)`,
    });
  }
  return {
    image: out.image,
    digest: out.digest,
    size: out.size,
    layers: out.layers,
    node: target.node,
    runtime: target.runtime,
    containerId: target.containerId,
    source: { namespace: target.namespace, pod: target.pod, container: target.container },
    committerPod: { namespace: opts.committerNamespace, name, kept: opts.keepPod },
    layerSource: out.layerSource,
    compression: out.compression,
    compressionLevel: out.compressionLevel,
    cleanup: out.cleanup,
    timings: timingsInSeconds(out.timings, { podStart: ctx.podStart, overall: Date.now() - ctx.t0 }),
  };
}
