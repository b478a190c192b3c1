/**
 * `seelie image commit --pod`: find the pod's container and node, run the committer there as a Pod
 * (with a per-run registry Secret owned by it), stream its log, read its result, and delete what it
 * made — on success, failure, timeout and Ctrl-C alike (unless asked to keep the Pod).
 */
import { PatchStrategy, setHeaderOptions, type CoreV1Api, type V1Pod } from "@kubernetes/client-node";
import { Writable } from "node:stream";
import { InterruptedError, SeelieError } from "../errors.ts";
import { parseImageRef } from "../image/ref.ts";
import { log, stderrProgress, type ProgressSink } from "../log.ts";
import type { RegistryAuth } from "../registry/credentials.ts";
import { formatDuration } from "../util/duration.ts";
import { kubeError, kubeFailure, type KubeClients } from "./client.ts";
import { cleanUp, createPod, namespaceHint, refuseConcurrent } from "./committer-lifecycle.ts";
import { COMMITTER_CONTAINER, buildCommitterPod, buildRegistrySecret, committerLabels, committerPodName, ownerPatch } from "./committer-pod.ts";
import { LogRelay, type CommitPodResult } from "./committer-result.ts";
import { podOutcome } from "./committer-outcome.ts";
import { findTarget } from "./locate.ts";
import { describePod, recentWarnings, waitForEnd, waitForStart } from "./pod-wait.ts";
import { DEFAULT_RUNTIME_SOCKETS, normaliseSocketPath, socketMount } from "./socket.ts";

/** What to commit, where to, and how. */
export interface CommitPodOptions {
  pod: string;
  /** The pod's namespace; default the kubeconfig context's. */
  namespace?: string;
  container?: string;
  /** The target image reference (already validated). */
  image: string;
  /** An existing `kubernetes.io/dockerconfigjson` Secret in the committer namespace. */
  registrySecret?: string;
  clean: boolean;
  keepPod: boolean;
  /** For the whole commit; the Pod's activeDeadlineSeconds is this plus a minute. */
  timeoutMs: number;
  committerImage: string;
  committerNamespace: string;
  /** The runtime socket's path on the node; default per runtime. */
  runtimeSocket?: string;
  hostNetwork: boolean;
  /** Who asked (recorded in an annotation). */
  requestedBy?: string;
  signal?: AbortSignal;
  /** Status poll interval (default 500 ms). */
  pollMs?: number;
}

/** What the commit reaches out to. */
export interface CommitPodDeps {
  kube: KubeClients;
  /** The user's own credentials for a registry (`resolveRegistryAuth`); undefined = anonymous. */
  resolveAuth: (registry: string) => Promise<RegistryAuth | undefined>;
  /** Where the committer's log lines go (default stderr, each line marked `  committer | `). */
  progress?: ProgressSink;
}

const WHAT = "committer pod";

/** Runs a commit through a committer Pod and returns its result. */
export async function commitPod(opts: CommitPodOptions, deps: CommitPodDeps): Promise<CommitPodResult> {
  const t0 = Date.now();
  const { core } = deps.kube;
  const pollMs = opts.pollMs ?? 500;
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const stop = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  const cns = opts.committerNamespace;
  const interrupted = () => opts.signal?.aborted === true;
  let phaseWhenStopped = "before the committer pod started";
  const check = () => {
    if (interrupted()) throw new InterruptedError("commit");
    if (timeout.aborted) throw timeoutError(opts.timeoutMs, phaseWhenStopped);
  };

  const target = await findTarget(core, opts.namespace ?? deps.kube.namespace, opts.pod, opts.container);
  check();
  const hostSocket = opts.runtimeSocket ? normaliseSocketPath(opts.runtimeSocket) : DEFAULT_RUNTIME_SOCKETS[target.runtime];
  const socket = socketMount(hostSocket, target.runtime);
  const name = committerPodName(target);
  log.info(
    `committing container "${target.container}" of pod ${target.namespace}/${target.pod} (${target.runtime}://${target.containerId.slice(0, 12)}) on node ${target.node} to ${opts.image}`,
  );
  await refuseConcurrent(core, cns, name, target);
  check();

  let pod: V1Pod | undefined;
  let secretName: string | undefined;
  let stopLog: (() => void) | undefined;
  let finished = false;
  try {
    let mountSecret = opts.registrySecret;
    if (!mountSecret) {
      const registry = parseImageRef(opts.image).domain;
      const auth = await deps.resolveAuth(registry);
      if (auth) {
        const secret = buildRegistrySecret(name, cns, committerLabels(target, opts.image), auth);
        try {
          const made = await core.createNamespacedSecret({ namespace: cns, body: secret });
          secretName = made.metadata?.name;
        } catch (err) {
          throw kubeFailure(`create the registry secret in namespace ${cns}`, err, namespaceHint(cns, err));
        }
        mountSecret = secretName;
        log.info(`registry credentials for ${auth.serveraddress} (from ${auth.source}) go to the committer as secret ${cns}/${secretName}`);
      } else {
        log.warn(`no credentials for ${registry} found: the committer will push anonymously (pass --registry_secret, or docker login ${registry})`);
      }
    }
    check();

    const body = buildCommitterPod({
      name,
      namespace: cns,
      committerImage: opts.committerImage,
      target,
      image: opts.image,
      socket,
      registrySecret: mountSecret,
      clean: opts.clean,
      hostNetwork: opts.hostNetwork,
      activeDeadlineSeconds: Math.ceil(opts.timeoutMs / 1000) + 60,
      requestedBy: opts.requestedBy,
    });
    pod = await createPod(core, cns, body, target);
    const created = Date.now();
    if (secretName && pod.metadata?.uid) {
      try {
        await core.patchNamespacedSecret(
          { namespace: cns, name: secretName, body: ownerPatch({ name, uid: pod.metadata.uid }) },
          setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
        );
      } catch (err) {
        log.warn(`cannot make secret ${cns}/${secretName} owned by the committer pod (${kubeError(err).message}); seelie deletes it itself`);
      }
    }
    log.info(`committer pod ${cns}/${name} created (image ${opts.committerImage})`);
    check();

    const started = await waitForStart(core, cns, name, COMMITTER_CONTAINER, {
      signal: stop,
      pollMs,
      what: WHAT,
      onState: (s) => log.info(`committer pod ${cns}/${name}: ${s}`),
    });
    const podStart = Date.now() - created;
    phaseWhenStopped = "while the committer was running";

    const relay = new LogRelay(deps.progress ?? ((line) => stderrProgress(`  committer | ${line}`)));
    const decoder = new TextDecoder();
    let relayClosed = false;
    const sink = new Writable({
      write(chunk, _enc, cb) {
        if (!relayClosed) relay.push(decoder.decode(chunk as Buffer, { stream: true }));
        cb();
      },
    });
    const streamEnded = new Promise<void>((resolve) => {
      sink.on("finish", () => resolve());
      // client-node pipes the response into the sink without handling the response stream's errors:
      // stopping the follow (abort) would otherwise be an uncaught 'error' that kills the process.
      sink.on("pipe", (src: NodeJS.ReadableStream) => src.on("error", (err) => {
        log.debug(`committer log stream: ${kubeError(err).message}`);
        resolve();
      }));
      sink.on("error", () => resolve());
    });
    // Following is best effort and never holds the run up: the API server may be slow to answer
    // (or answer only once the container writes), and whatever it missed is read when the Pod ends.
    const following = deps.kube.followLog(cns, name, COMMITTER_CONTAINER, sink).then(
      (stopFn) => {
        if (relayClosed || finished) return stopFn(); // connected only after the run: not needed any more
        stopLog = stopFn;
        return streamEnded;
      },
      (err) => log.debug(`cannot follow the committer's log: ${kubeError(err).message}; it is read when the pod ends`),
    );
    const ended =
      started.status?.phase === "Succeeded" || started.status?.phase === "Failed"
        ? started
        : await waitForEnd(core, cns, name, COMMITTER_CONTAINER, { signal: stop, pollMs, what: WHAT });
    await within(following, 3000);
    stopLog?.();
    stopLog = undefined;
    relayClosed = true;
    try {
      const full = await core.readNamespacedPodLog({ namespace: cns, name, container: COMMITTER_CONTAINER });
      if (typeof full === "string" && full.length > relay.text.length && full.startsWith(relay.text)) relay.push(full.slice(relay.text.length));
    } catch (err) {
      log.debug(`cannot read the committer's log: ${kubeError(err).message}`);
    }
    relay.end();
    return podOutcome(ended, relay.text, { target, opts, name, podStart, t0 });
  } catch (err) {
    if (interrupted()) throw new InterruptedError("commit");
    if (timeout.aborted && !(err instanceof SeelieError)) {
      const warnings = pod ? await recentWarnings(core, cns, name) : [];
      const state = pod ? await lastState(core, cns, name) : "";
      throw timeoutError(opts.timeoutMs, `${phaseWhenStopped}${state ? ` (${state})` : ""}${warnings.length ? `; events: ${warnings.join("; ")}` : ""}`);
    }
    throw err;
  } finally {
    finished = true;
    stopLog?.();
    await cleanUp(core, cns, pod ? name : undefined, secretName, opts.keepPod);
  }
}

/** Waits for `p` at most `ms` (without leaving a timer behind that would keep the process alive). */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function timeoutError(ms: number, when: string): SeelieError {
  return new SeelieError(`the commit timed out after ${formatDuration(ms)} ${when}`, {
    hint: "raise --timeout, or keep the pod to look at it (--keep-pod, then kubectl describe pod -n NAMESPACE NAME)",
  });
}


async function lastState(core: CoreV1Api, ns: string, name: string): Promise<string> {
  try {
    return describePod(await core.readNamespacedPod({ namespace: ns, name }), COMMITTER_CONTAINER);
  } catch {
    return "";
  }
}

