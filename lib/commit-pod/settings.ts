/**
 * The settings of `seelie image commit` that depend on the cluster: the committer namespace, the
 * nodes' runtime socket and data root, per kubeconfig context (`clusters.<context>` in the config) — k3s,
 * RKE2 and MicroK8s keep containerd's socket and data elsewhere, and a platform may run committers in its
 * own namespace.
 */
import { SCALAR_SETTINGS } from "../config/load.ts";
import type { SeelieConfig } from "../config/types.ts";
import { UsageError } from "../errors.ts";
import { platformImageName } from "../image/name.ts";
import { formatImageRef, parseImageRef } from "../image/ref.ts";
import { normaliseRootPath } from "./storage.ts";

/** The namespace, socket and data root for one cluster, with where each came from. */
export interface ClusterCommitSettings {
  committerNamespace: string;
  /** The host socket path; undefined = the runtime's default. */
  runtimeSocket?: string;
  /** The runtime's data root on the node (dockerd's data-root, containerd's root); undefined = the runtime's default. */
  runtimeRoot?: string;
  sources: { committerNamespace: string; runtimeSocket: string; runtimeRoot: string };
}

type ClusterKey = "runtimeSocket" | "runtimeRoot" | "committerNamespace";
/** The part of the configuration the cluster settings are made from. */
export type CommitSettingsConfig = Pick<SeelieConfig, ClusterKey | "clusters" | "sources">;
const FLAGS: Partial<Record<ClusterKey, string>> = { runtimeSocket: "--runtime_socket", runtimeRoot: "--runtime_root" };

/** Where a value came from, as the user would write it: `--runtime_root`, `SEELIE_RUNTIME_ROOT`, `committer.runtimeRoot`, `default`. */
function sourceName(k: ClusterKey, source: string | undefined): string {
  if (source === "flag") return FLAGS[k] ?? "flag";
  if (source === "env") return SCALAR_SETTINGS[k].env;
  if (source === "file") return SCALAR_SETTINGS[k].file;
  return "default";
}

/**
 * Flag and environment beat the cluster's entry, which beats the file's global value and the default:
 * `--runtime_socket` > `SEELIE_RUNTIME_SOCKET` > `clusters.<context>.runtimeSocket` > `committer.runtimeSocket`
 * > the runtime's default; the same for `--runtime_root` (`SEELIE_RUNTIME_ROOT`, `runtimeRoot`);
 * `SEELIE_COMMITTER_NAMESPACE` > `clusters.<context>.committerNamespace` > `committer.namespace` > `seelie-system`.
 */
export function clusterCommitSettings(cfg: CommitSettingsConfig, context: string): ClusterCommitSettings {
  const cluster = cfg.clusters[context] ?? {};
  const pick = <K extends ClusterKey>(k: K): { value: CommitSettingsConfig[K]; source: string } => {
    const strong = cfg.sources[k] === "flag" || cfg.sources[k] === "env";
    const own = cluster[k];
    if (!strong && own) return { value: own as CommitSettingsConfig[K], source: `clusters.${context}.${k}` };
    return { value: cfg[k], source: cfg[k] ? sourceName(k, cfg.sources[k] ?? "file") : "default" };
  };
  const socket = pick("runtimeSocket");
  const root = pick("runtimeRoot");
  const ns = pick("committerNamespace");
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns.value) || ns.value.length > 63) {
    throw new UsageError(
      `the committer namespace "${ns.value}" (${ns.source}) is not a valid namespace name`,
      "set committer.namespace to a DNS label, e.g. seelie-system",
    );
  }
  return {
    committerNamespace: ns.value,
    runtimeSocket: socket.value,
    runtimeRoot: root.value === undefined ? undefined : normaliseRootPath(root.value, root.source),
    sources: { committerNamespace: ns.source, runtimeSocket: socket.source, runtimeRoot: root.source },
  };
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
