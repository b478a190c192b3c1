/**
 * Where a node's container runtime keeps its containers' overlay upper directories, and how the
 * committer Pod mounts them: read-only, at the same path as on the host, because the runtime reports
 * a container's upper directory by its host path (Docker's `GraphDriver.Data.UpperDir`, containerd's
 * snapshot mount `upperdir=`) and the committer reads it there (lib/commit/upper-dir.ts).
 */
import { isAbsolute, join, normalize } from "node:path";
import { UsageError } from "../errors.ts";
import type { RuntimeName } from "./socket.ts";

/** Each runtime's default data root: dockerd's `data-root`, containerd's `root`. */
export const DEFAULT_RUNTIME_ROOTS: Record<RuntimeName, string> = {
  docker: "/var/lib/docker",
  containerd: "/var/lib/containerd",
};

/** The directory under the data root that holds the overlay snapshots (the upper directories). */
const STORAGE_DIR: Record<RuntimeName, string> = {
  docker: "overlay2",
  containerd: "io.containerd.snapshotter.v1.overlayfs",
};

/**
 * The storage mount's propagation. Docker mounts each container's rootfs (`merged`) inside overlay2, so
 * its unmounts must reach the committer's mount namespace (HostToContainer). containerd's overlayfs
 * snapshotter keeps no mounts there (rootfs mounts live in the task bundle), and containerd's CRI refuses
 * HostToContainer when the node's root mount is private: none.
 */
const PROPAGATION: Record<RuntimeName, "HostToContainer" | undefined> = {
  docker: "HostToContainer",
  containerd: undefined,
};

/** What the committer Pod mounts of the runtime's storage. */
export interface StorageMount {
  /** The host directory, mounted read-only at the same path in the committer. */
  hostPath: string;
  mountPropagation?: "HostToContainer";
}

/** Checks a `--runtime_root` value: an absolute directory on the node, not `/`, no `..`. */
export function normaliseRootPath(value: string, what = "--runtime_root"): string {
  const example = "e.g. --runtime_root /var/lib/rancher/k3s/agent/containerd (containerd's root, dockerd's data-root)";
  if (!isAbsolute(value)) throw new UsageError(`${what} "${value}" is not an absolute path on the node`, example);
  if (value.split("/").includes(".."))
    throw new UsageError(`${what} "${value}" must not contain ".."`, "give the data root's real path on the node");
  const p = normalize(value).replace(/\/+$/, "");
  if (!p) throw new UsageError(`${what} "${value}" is the node's whole file system`, example);
  return p;
}

/** The storage directory of `runtime` under its data root (default: the runtime's own default). */
export function storageMount(runtime: RuntimeName, root?: string): StorageMount {
  const base = root === undefined ? DEFAULT_RUNTIME_ROOTS[runtime] : normaliseRootPath(root);
  const propagation = PROPAGATION[runtime];
  return { hostPath: join(base, STORAGE_DIR[runtime]), ...(propagation ? { mountPropagation: propagation } : {}) };
}
