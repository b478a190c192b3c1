/**
 * `seelie image commit --pod`, as one call: the flags in, the result out. Settles the configuration,
 * the target name and the cluster's settings (everything refusable before a request), then commits.
 */
import { parseCompression } from "../commit/compress.ts";
import { parseLayerSource } from "../commit/target.ts";
import { loadConfig } from "../config/load.ts";
import { UsageError } from "../errors.ts";
import { loadKube } from "../kube/client.ts";
import { resolveRegistryAuth } from "../registry/credentials.ts";
import { parseDuration } from "../util/duration.ts";
import { podYaml } from "../kube/pod-yaml.ts";
import { type CommitPodOptions, commitPod, renderCommitPod } from "./commit-pod.ts";
import { type CommitPodResult, formatCommitResult } from "./committer-result.ts";
import { checkCommitNames, clusterCommitSettings, commitTargetImage } from "./settings.ts";

/** The command's options, as given (unchecked). */
export interface ImageCommitOptions {
  pod: string;
  namespace?: string;
  container?: string;
  image?: string;
  tag?: string;
  repoType?: string;
  /** The kubeconfig context (`--cluster`); default the current one. */
  cluster?: string;
  /** The same, spelled `--context` as in the first release. */
  context?: string;
  registrySecret?: string;
  clean: boolean;
  keepPod: boolean;
  /** A duration, e.g. `30m` (lib/util/duration.ts). */
  timeout: string;
  committerImage?: string;
  runtimeSocket?: string;
  /** The runtime's data root on the node (`--runtime_root`). */
  runtimeRoot?: string;
  hostNetwork: boolean;
  /** The committer's `--layer-source`, `--compression`, `--compression-level`; undefined: its defaults. */
  layerSource?: string;
  compression?: string;
  compressionLevel?: string;
  /** Print the committer Pod's YAML instead of running it (the source pod is read, nothing is created). */
  render?: boolean;
}

/** The command's output: the result (`-o json`) and its text form, or the Pod's YAML (`--render`). */
export type ImageCommitOutput = { document: CommitPodResult; text: string } | { rendered: string };

/** The context and the flag that named it (for messages): `--cluster`, or `--context` as first released. */
function kubeContext(opts: Pick<ImageCommitOptions, "cluster" | "context">): { context?: string; flag: string } {
  if (opts.cluster !== undefined && opts.context !== undefined && opts.cluster !== opts.context) {
    throw new UsageError(
      `--cluster "${opts.cluster}" and --context "${opts.context}" disagree`,
      "give one of them: --context is the old spelling of --cluster",
    );
  }
  return opts.cluster === undefined && opts.context !== undefined
    ? { context: opts.context, flag: "--context" }
    : { context: opts.cluster, flag: "--cluster" };
}

/** Runs `seelie image commit --pod` and returns its result. */
export async function runImageCommit(
  opts: ImageCommitOptions,
  io: { env: Record<string, string | undefined>; signal?: AbortSignal },
): Promise<ImageCommitOutput> {
  const timeoutMs = parseDuration(opts.timeout, "--timeout");
  // The committer's own parsers: what it would refuse is refused here, before anything is made.
  const layerSource = opts.layerSource === undefined ? undefined : parseLayerSource(opts.layerSource);
  const compression =
    opts.compression === undefined && opts.compressionLevel === undefined
      ? undefined
      : parseCompression(opts.compression, opts.compressionLevel);
  const cfg = loadConfig({
    env: io.env,
    flags: { committerImage: opts.committerImage, runtimeSocket: opts.runtimeSocket, runtimeRoot: opts.runtimeRoot },
  });
  const image = commitTargetImage({ image: opts.image, tag: opts.tag, repoType: opts.repoType }, cfg);
  checkCommitNames({ registrySecret: opts.registrySecret, committerImage: cfg.committerImage });
  const kube = loadKube({ ...kubeContext(opts), env: io.env });
  const cluster = clusterCommitSettings(cfg, kube.context);
  const commit: CommitPodOptions = {
    pod: opts.pod,
    namespace: opts.namespace,
    container: opts.container,
    image,
    registrySecret: opts.registrySecret,
    clean: opts.clean,
    keepPod: opts.keepPod,
    timeoutMs,
    committerImage: cfg.committerImage,
    committerNamespace: cluster.committerNamespace,
    runtimeSocket: cluster.runtimeSocket,
    runtimeRoot: { path: cluster.runtimeRoot, source: cluster.sources.runtimeRoot },
    hostNetwork: opts.hostNetwork,
    layerSource,
    compression,
    requestedBy: cfg.username || undefined,
    signal: io.signal,
  };
  if (opts.render) return { rendered: podYaml(await renderCommitPod(commit, { kube })) };
  const result = await commitPod(commit, { kube, resolveAuth: (registry) => resolveRegistryAuth(registry, cfg) });
  return { document: result, text: formatCommitResult(result) };
}
