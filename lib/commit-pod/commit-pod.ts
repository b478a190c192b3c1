/**
 * `seelie image commit --pod`: find the pod's container and node, run the committer there as a Pod
 * (with a per-run registry Secret owned by it) through the one Pod-run loop (pod-run.ts), relay its
 * log, read its result, and delete what it made — on success, failure, timeout and Ctrl-C alike
 * (unless asked to keep the Pod).
 */
import { PatchStrategy, setHeaderOptions, type V1Pod } from "@kubernetes/client-node";
import { InterruptedError, SeelieError } from "../errors.ts";
import { parseImageRef } from "../image/ref.ts";
import { log, type ProgressSink, stderrProgress } from "../log.ts";
import type { RegistryAuth } from "../registry/credentials.ts";
import { formatDuration } from "../util/duration.ts";
import type { KubeClients } from "../kube/client.ts";
import { committerHints, createPod, refuseConcurrent, removeSecret } from "./committer-lifecycle.ts";
import { podOutcome } from "./committer-outcome.ts";
import {
  buildCommitterPod,
  buildRegistrySecret,
  COMMITTER_CONTAINER,
  committerLabels,
  committerPodName,
  ownerPatch,
} from "./committer-pod.ts";
import { type CommitPodResult, LogRelay } from "./committer-result.ts";
import { kubeError, kubeFailure } from "../kube/errors.ts";
import { type CommitTarget, findTarget } from "./locate.ts";
import { runPodToEnd } from "../kube/pod-run.ts";
import { DEFAULT_RUNTIME_SOCKETS, normaliseSocketPath, type SocketMount, socketMount } from "./socket.ts";
import { type StorageMount, storageMount } from "./storage.ts";
import type { Compression } from "../commit/compress.ts";
import type { LayerSource } from "../commit/runtime.ts";

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
  /** The runtime's data root on the node (default per runtime), and where that setting came from (for messages). */
  runtimeRoot?: { path?: string; source: string };
  hostNetwork: boolean;
  /** The committer's `--layer-source`; undefined: its default (auto). */
  layerSource?: LayerSource;
  /** The committer's `--compression`/`--compression-level`; undefined: its defaults. */
  compression?: { kind: Compression; level: number };
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

const TIMEOUT_HINT = "raise --timeout, or keep the pod to look at it (--keep-pod, then kubectl describe pod -n NAMESPACE NAME)";

/** Runs a commit through a committer Pod and returns its result. */
export async function commitPod(opts: CommitPodOptions, deps: CommitPodDeps): Promise<CommitPodResult> {
  const t0 = Date.now();
  const deadline = t0 + opts.timeoutMs;
  const check = () => {
    if (opts.signal?.aborted) throw new InterruptedError("commit");
    if (Date.now() >= deadline) {
      throw new SeelieError(`the commit timed out after ${formatDuration(opts.timeoutMs)} before the committer pod was created`, {
        hint: TIMEOUT_HINT,
      });
    }
  };

  const { target, name, socket, storage } = await locateContainer(opts, deps, check);
  let secretName: string | undefined;
  try {
    const secret = opts.registrySecret ? { mount: opts.registrySecret } : await perRunSecret(opts, deps, target, name);
    secretName = secret.created;
    check();
    const result = await runCommitter(opts, deps, {
      target,
      name,
      socket,
      storage,
      registrySecret: secret.mount,
      perRunSecret: secretName,
      deadline,
      t0,
    });
    warnIfFellBack(opts, target, storage, result);
    return result;
  } finally {
    await removeSecret(deps.kube.core, opts.committerNamespace, secretName, opts.keepPod);
  }
}

/** Finds the pod's container and its node, and refuses a second commit of the same container. */
async function locateContainer(
  opts: CommitPodOptions,
  deps: CommitPodDeps,
  check: () => void,
): Promise<{ target: CommitTarget; name: string; socket: SocketMount; storage: StorageMount }> {
  const { core } = deps.kube;
  const target = await findTarget(core, opts.namespace ?? deps.kube.namespace, opts.pod, opts.container);
  check();
  const { socket, storage } = nodeMounts(opts, target);
  const name = committerPodName(target);
  log.info(
    `committing container "${target.container}" of pod ${target.namespace}/${target.pod} (${target.runtime}://${target.containerId.slice(0, 12)}) on node ${target.node} to ${opts.image}`,
  );
  await refuseConcurrent(core, opts.committerNamespace, name, target);
  check();
  return { target, name, socket, storage };
}

/** What the committer mounts of the node: the runtime's socket and its overlay storage (default paths per runtime). */
function nodeMounts(opts: CommitPodOptions, target: CommitTarget): { socket: SocketMount; storage: StorageMount } {
  const hostSocket = opts.runtimeSocket ? normaliseSocketPath(opts.runtimeSocket) : DEFAULT_RUNTIME_SOCKETS[target.runtime];
  return { socket: socketMount(hostSocket, target.runtime), storage: storageMount(target.runtime, opts.runtimeRoot?.path) };
}

/**
 * A per-run registry Secret from the user's own credentials for the target registry (`created` names
 * it, for the clean-up); none, and an anonymous push, when there are no credentials.
 */
async function perRunSecret(
  opts: CommitPodOptions,
  deps: CommitPodDeps,
  target: CommitTarget,
  name: string,
): Promise<{ mount?: string; created?: string }> {
  const cns = opts.committerNamespace;
  const registry = parseImageRef(opts.image).domain;
  const auth = await deps.resolveAuth(registry);
  if (!auth) {
    log.warn(
      `no credentials for ${registry} found: the committer will push anonymously (pass --registry_secret, or docker login ${registry})`,
    );
    return {};
  }
  const secret = buildRegistrySecret(name, cns, committerLabels(target, opts.image), auth);
  let created: string | undefined;
  try {
    const made = await deps.kube.core.createNamespacedSecret({ namespace: cns, body: secret });
    created = made.metadata?.name;
  } catch (err) {
    throw kubeFailure(`create the registry secret in namespace ${cns}`, err, committerHints(cns));
  }
  log.info(`registry credentials for ${auth.serveraddress} (from ${auth.source}) go to the committer as secret ${cns}/${created}`);
  return { mount: created, created };
}

/** The committer Pod for this commit (pure: the same for a run and for `--render`). */
function committerPod(
  opts: CommitPodOptions,
  run: { target: CommitTarget; name: string; socket: SocketMount; storage: StorageMount; registrySecret?: string },
): V1Pod {
  return buildCommitterPod({
    name: run.name,
    namespace: opts.committerNamespace,
    committerImage: opts.committerImage,
    target: run.target,
    image: opts.image,
    socket: run.socket,
    storage: run.storage,
    layerSource: opts.layerSource,
    compression: opts.compression,
    registrySecret: run.registrySecret,
    clean: opts.clean,
    hostNetwork: opts.hostNetwork,
    activeDeadlineSeconds: Math.ceil(opts.timeoutMs / 1000) + 60,
    requestedBy: opts.requestedBy,
  });
}

/**
 * `--render`: the committer Pod this commit would run, found the same way (the source pod is read) but
 * nothing created. The per-run registry Secret is made only by a run: the Pod mounts `--registry_secret`
 * when given, else none (an anonymous push), which a warning says.
 */
export async function renderCommitPod(opts: CommitPodOptions, deps: Pick<CommitPodDeps, "kube">): Promise<V1Pod> {
  const target = await findTarget(deps.kube.core, opts.namespace ?? deps.kube.namespace, opts.pod, opts.container);
  if (opts.signal?.aborted) throw new InterruptedError("commit");
  if (!opts.registrySecret) {
    log.warn(
      "the rendered Pod mounts no registry Secret (seelie makes the per-run one from your credentials only when it runs the Pod): pass --registry_secret NAME to mount one",
    );
  }
  return committerPod(opts, { target, name: committerPodName(target), ...nodeMounts(opts, target), registrySecret: opts.registrySecret });
}

/** Runs the committer Pod on the container's node to its end, relaying its log, and reads its result. */
async function runCommitter(
  opts: CommitPodOptions,
  deps: CommitPodDeps,
  run: {
    target: CommitTarget;
    name: string;
    socket: SocketMount;
    storage: StorageMount;
    registrySecret?: string;
    perRunSecret?: string;
    deadline: number;
    t0: number;
  },
): Promise<CommitPodResult> {
  const { core } = deps.kube;
  const { target, name } = run;
  const cns = opts.committerNamespace;
  const body = committerPod(opts, run);
  const relay = new LogRelay(deps.progress ?? ((line) => stderrProgress(`  committer | ${line}`)));
  const ended = await runPodToEnd(deps.kube, {
    pod: body,
    namespace: cns,
    what: "committer pod",
    logs: [{ container: COMMITTER_CONTAINER, onLine: (line) => relay.push(`${line}\n`) }],
    mainContainer: COMMITTER_CONTAINER,
    timeoutMs: Math.max(1, run.deadline - Date.now()),
    signal: opts.signal,
    pollMs: opts.pollMs ?? 500,
    // The committer Pod is bound to its node (nodeName): the scheduler never sees it.
    unschedulableMs: 0,
    keep: opts.keepPod,
    create: (pod) => createPod(core, cns, pod, target),
    onCreated: async (pod) => {
      log.info(`committer pod ${cns}/${name} created (image ${opts.committerImage})`);
      if (run.perRunSecret && pod.metadata?.uid) await ownSecret(deps.kube, cns, run.perRunSecret, { name, uid: pod.metadata.uid });
    },
    onState: (s) => log.info(`committer pod ${cns}/${name}: ${s}`),
    hints: {
      ...committerHints(cns),
      imagePull: (image) =>
        `check that the node can pull ${image} (--committer_image, SEELIE_COMMITTER_IMAGE or committer.image; pods/committer/README.md builds and pushes it)`,
      timeout: TIMEOUT_HINT,
    },
  });
  relay.end();
  return podOutcome(ended.pod, relay.text, { target, opts, name, podStart: ended.startMs, t0: run.t0 });
}

/**
 * The committer chose the runtime's API although the upper directory was allowed: the layer was read the
 * slow way (a full diff, a longer pause). Most often the node's runtime keeps its data elsewhere than the
 * mounted root, so the reported upper directory was not in the committer's view: say which setting to fix.
 */
function warnIfFellBack(opts: CommitPodOptions, target: CommitTarget, storage: StorageMount, result: CommitPodResult): void {
  if (result.layerSource !== "api" || (opts.layerSource ?? "auto") !== "auto") return;
  const setting = opts.runtimeRoot?.source ?? "default";
  log.warn(
    `the committer read the new layer through the ${target.runtime} API, not from the container's upper directory (slower, and the container stays paused longer): ` +
      `the committer mounted ${storage.hostPath} from node ${target.node} (runtime root from ${setting}). ` +
      `If the node's ${target.runtime} keeps its data elsewhere, set --runtime_root (SEELIE_RUNTIME_ROOT, clusters.<context>.runtimeRoot) to its ${target.runtime === "docker" ? "data-root" : "root"}; the committer's log above says why`,
  );
}

/** Makes the per-run Secret owned by the committer Pod, so the cluster deletes it with the Pod if seelie cannot. */
async function ownSecret(kube: KubeClients, ns: string, secret: string, owner: { name: string; uid: string }): Promise<void> {
  try {
    await kube.core.patchNamespacedSecret(
      { namespace: ns, name: secret, body: ownerPatch(owner) },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  } catch (err) {
    log.warn(`cannot make secret ${ns}/${secret} owned by the committer pod (${kubeError(err).message}); seelie deletes it itself`);
  }
}
