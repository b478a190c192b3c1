/**
 * Where a node keeps its container runtime's socket, and what of the host the committer Pod mounts
 * to reach it: only the runtime's own socket directory, or only the socket file when the socket sits
 * in a directory shared with everything else (`/run`, `/var/run`).
 */
import { dirname, isAbsolute, normalize } from "node:path";
import { UsageError } from "../errors.ts";

/** The container runtimes the committer speaks. */
export type RuntimeName = "docker" | "containerd";

/** The default host socket of each runtime (kubeadm, minikube, most distributions). */
export const DEFAULT_RUNTIME_SOCKETS: Record<RuntimeName, string> = {
  containerd: "/run/containerd/containerd.sock",
  docker: "/var/run/docker.sock",
};

/** Directories too broad to mount: a socket in one of these is mounted as a single file. */
const SHARED_DIRS = new Set(["/", "/run", "/var/run", "/var", "/tmp", "/var/tmp", "/etc", "/home", "/root", "/usr", "/var/lib"]);

/** What the committer Pod mounts from the host, and where the committer finds the socket. */
export interface SocketMount {
  /** The host path mounted (a directory or the socket itself). */
  hostPath: string;
  /** hostPath volume type: the kubelet refuses to start the Pod when the path is not of this type. */
  type: "Directory" | "Socket";
  /** Where it is mounted in the committer container: the same path as on the host (see below). */
  mountPath: string;
  /** Read-only where nothing needs writing (connecting to a socket works through a read-only mount). */
  readOnly: boolean;
  /** The committer's `--runtime-endpoint`. */
  endpoint: string;
}

/** Checks a `--runtime_socket` value: an absolute host path, `unix://` allowed. */
export function normaliseSocketPath(value: string, what = "--runtime_socket"): string {
  const p = value.replace(/^unix:\/\//, "");
  if (!isAbsolute(p) || p.endsWith("/")) {
    throw new UsageError(
      `${what} "${value}" is not an absolute path to a socket on the node`,
      "e.g. --runtime_socket /run/k3s/containerd/containerd.sock",
    );
  }
  if (p.split("/").includes(".."))
    throw new UsageError(`${what} "${value}" must not contain ".."`, "give the socket's real path on the node");
  return normalize(p);
}

/**
 * The mount for a host socket. The directory (or file) is mounted at the same path inside the
 * committer container as on the host: containerd's task service opens the exec FIFOs the committer
 * creates by their path on the host, so paths under the socket directory must mean the same thing on
 * both sides — which is also why a containerd socket directory is mounted writable.
 */
export function socketMount(hostSocket: string, runtime: RuntimeName): SocketMount {
  const sock = normaliseSocketPath(hostSocket);
  const dir = dirname(sock);
  if (SHARED_DIRS.has(dir)) {
    return { hostPath: sock, type: "Socket", mountPath: sock, readOnly: true, endpoint: `unix://${sock}` };
  }
  return { hostPath: dir, type: "Directory", mountPath: dir, readOnly: runtime === "docker", endpoint: `unix://${sock}` };
}
