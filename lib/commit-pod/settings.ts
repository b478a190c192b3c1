/**
 * The settings of `seelie image commit` that depend on the cluster: the committer namespace and the
 * nodes' runtime socket, per kubeconfig context (`clusters.<context>` in the config) — k3s, RKE2 and
 * MicroK8s keep containerd's socket elsewhere, and a platform may run committers in its own namespace.
 */
import type { SeelieConfig } from "../config/types.ts";
import { UsageError } from "../errors.ts";
import { platformImageName } from "../image/name.ts";
import { formatImageRef, parseImageRef } from "../image/ref.ts";

/** The namespace and socket for one cluster, with where each came from. */
export interface ClusterCommitSettings {
  committerNamespace: string;
  /** The host socket path; undefined = the runtime's default. */
  runtimeSocket?: string;
  sources: { committerNamespace: string; runtimeSocket: string };
}

/**
 * Flag and environment beat the cluster's entry, which beats the file's global value and the default:
 * `--runtime_socket` > `SEELIE_RUNTIME_SOCKET` > `clusters.<context>.runtimeSocket` > `committer.runtimeSocket`
 * > the runtime's default; `SEELIE_COMMITTER_NAMESPACE` > `clusters.<context>.committerNamespace` >
 * `committer.namespace` > `seelie-system`.
 */
export function clusterCommitSettings(
  cfg: Pick<SeelieConfig, "committerNamespace" | "runtimeSocket" | "clusters" | "sources">,
  context: string,
): ClusterCommitSettings {
  const cluster = cfg.clusters[context] ?? {};
  const strong = (k: string) => cfg.sources[k] === "flag" || cfg.sources[k] === "env";
  let runtimeSocket = cfg.runtimeSocket;
  let socketSource: string = cfg.runtimeSocket ? (cfg.sources.runtimeSocket ?? "file") : "default";
  if (!strong("runtimeSocket") && cluster.runtimeSocket) {
    runtimeSocket = cluster.runtimeSocket;
    socketSource = `clusters.${context}.runtimeSocket`;
  }
  let committerNamespace = cfg.committerNamespace;
  let nsSource: string = cfg.sources.committerNamespace ?? "default";
  if (!strong("committerNamespace") && cluster.committerNamespace) {
    committerNamespace = cluster.committerNamespace;
    nsSource = `clusters.${context}.committerNamespace`;
  }
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(committerNamespace) || committerNamespace.length > 63) {
    throw new UsageError(
      `the committer namespace "${committerNamespace}" (${nsSource}) is not a valid namespace name`,
      "set committer.namespace to a DNS label, e.g. seelie-system",
    );
  }
  return { committerNamespace, runtimeSocket, sources: { committerNamespace: nsSource, runtimeSocket: socketSource } };
}

/** The target image: `--image REF`, or the platform name from `--tag`/`--repo_type` (as image build names it). */
export function commitTargetImage(
  flags: { image?: string; tag?: string; repoType?: string },
  cfg: Pick<SeelieConfig, "registryHost" | "repo" | "username">,
): string {
  if (flags.image && (flags.tag || flags.repoType)) {
    throw new UsageError(
      "give either --image or --tag/--repo_type, not both",
      "--image names the whole reference; --tag/--repo_type build the platform's name",
    );
  }
  if (flags.image) {
    const ref = parseImageRef(flags.image, "--image");
    if (ref.digest)
      throw new UsageError(
        `--image "${flags.image}" has a digest`,
        "a commit makes a new image: give a tag, e.g. --image registry.example.com/team/env:v2",
      );
    return formatImageRef(ref);
  }
  if (!flags.tag && !flags.repoType) {
    throw new UsageError(
      "no target image",
      "pass --image REF, or --tag and --repo_type for the platform's name {registry}/{repo}/{user}-{repo_type}:{tag}",
    );
  }
  return platformImageName({
    registryHost: cfg.registryHost,
    repo: cfg.repo,
    username: cfg.username,
    repoType: flags.repoType ?? "",
    tag: flags.tag ?? "",
  });
}

/** Checks the names given on the command line that end up in the committer Pod. */
export function checkCommitNames(flags: { registrySecret?: string; committerImage: string }): void {
  if (
    flags.registrySecret !== undefined &&
    (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(flags.registrySecret) || flags.registrySecret.length > 253)
  ) {
    throw new UsageError(
      `--registry_secret "${flags.registrySecret}" is not a valid Secret name`,
      "give the name of a kubernetes.io/dockerconfigjson Secret in the committer namespace",
    );
  }
  parseImageRef(flags.committerImage, "committer image (--committer_image, SEELIE_COMMITTER_IMAGE or committer.image)");
}
