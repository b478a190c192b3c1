/**
 * Pure input handling of the committer: the container ID with its runtime prefix, the runtime socket
 * to use (given, or probed among the usual paths, also under a host mount prefix), and the Docker
 * config path the credentials come from.
 */
import { join } from "node:path";
import { UsageError } from "../errors.ts";

export type RuntimeName = "docker" | "containerd";

/** A container ID with the runtime it lives on. */
export interface ContainerTarget {
  runtime: RuntimeName;
  id: string;
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Infers the runtime from a socket path (`…containerd.sock` or `…docker.sock`), or undefined. */
export function runtimeOfEndpoint(endpoint: string | undefined): RuntimeName | undefined {
  if (!endpoint) return undefined;
  if (/containerd/.test(endpoint)) return "containerd";
  if (/docker/.test(endpoint)) return "docker";
  return undefined;
}

/**
 * Parses `docker://ID`, `containerd://ID`, or a bare ID with `runtime` (or a runtime the endpoint's
 * path names). Throws a UsageError when the runtime is unknown or disagrees with `--runtime`.
 */
export function parseContainerTarget(input: string, runtime?: string, endpoint?: string): ContainerTarget {
  const raw = (input ?? "").trim();
  if (!raw)
    throw new UsageError(
      "--container-id is required",
      "pass --container-id containerd://ID or docker://ID (the pod's status.containerStatuses[].containerID)",
    );
  if (runtime !== undefined && runtime !== "" && runtime !== "docker" && runtime !== "containerd") {
    throw new UsageError(`unknown --runtime "${runtime}"`, "use --runtime docker or --runtime containerd");
  }
  const m = /^([a-z0-9.+-]+):\/\/(.*)$/.exec(raw);
  let rt: RuntimeName | undefined;
  let id = raw;
  if (m) {
    const scheme = m[1] ?? "";
    if (scheme !== "docker" && scheme !== "containerd") {
      throw new UsageError(
        `container ID "${raw}" has runtime prefix "${scheme}://", which the committer does not support`,
        "use a docker:// or containerd:// container (CRI-O and others have no commit)",
      );
    }
    rt = scheme;
    id = m[2] ?? "";
    if (runtime && runtime !== rt)
      throw new UsageError(`--container-id says ${rt} but --runtime says ${runtime}`, "drop --runtime or make them agree");
  } else {
    rt = (runtime || undefined) as RuntimeName | undefined;
    rt ??= runtimeOfEndpoint(endpoint);
    if (!rt)
      throw new UsageError(
        `container ID "${raw}" has no runtime prefix`,
        "write containerd://ID or docker://ID, or pass --runtime docker|containerd",
      );
  }
  if (!ID_RE.test(id))
    throw new UsageError(
      `container ID "${id}" is not a valid ID`,
      "pass the full ID from the pod's status.containerStatuses[].containerID",
    );
  return { runtime: rt, id };
}

/** The socket paths tried for a runtime, in order: the usual ones, then the same under `hostPrefix`. */
export function candidateSockets(runtime: RuntimeName, hostPrefix?: string): string[] {
  const base =
    runtime === "docker"
      ? ["/var/run/docker.sock", "/run/docker.sock"]
      : ["/run/containerd/containerd.sock", "/var/run/containerd/containerd.sock"];
  const prefix = (hostPrefix ?? "").replace(/\/+$/, "");
  return prefix ? [...base, ...base.map((p) => `${prefix}${p}`)] : base;
}

/** The socket path of a `unix://` endpoint (a bare absolute path is accepted too). */
export function socketPathOf(endpoint: string): string {
  if (endpoint.startsWith("unix://")) return endpoint.slice("unix://".length);
  if (endpoint.startsWith("/")) return endpoint;
  throw new UsageError(
    `--runtime-endpoint "${endpoint}" is not a unix socket`,
    "write it as unix:///run/containerd/containerd.sock or unix:///var/run/docker.sock",
  );
}

/**
 * The socket to use: the given endpoint (which must exist), else the first candidate that exists.
 * Throws a UsageError listing what was tried.
 */
export function resolveSocket(
  runtime: RuntimeName,
  opts: { endpoint?: string; hostPrefix?: string; isSocket: (p: string) => boolean },
): string {
  if (opts.endpoint) {
    const p = socketPathOf(opts.endpoint);
    if (!opts.isSocket(p)) {
      throw new UsageError(
        `no ${runtime} socket at ${p} (from --runtime-endpoint)`,
        "check the path, and that the pod mounts the host's runtime socket (hostPath)",
      );
    }
    return p;
  }
  const tried = candidateSockets(runtime, opts.hostPrefix);
  const found = tried.find((p) => opts.isSocket(p));
  if (!found) {
    throw new UsageError(
      `no ${runtime} socket found (tried ${tried.join(", ")})`,
      "pass --runtime-endpoint unix:///path/to.sock, or --host-prefix where the host's / is mounted",
    );
  }
  return found;
}

/**
 * The Docker config file: `--docker-config` as a file (e.g. a mounted secret's `.dockerconfigjson`) or a
 * directory holding config.json; else `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
 */
export function dockerConfigPath(
  flag: string | undefined,
  isDirectory: (p: string) => boolean,
  env: Record<string, string | undefined>,
  home: string,
): string {
  if (flag) return isDirectory(flag) ? join(flag, "config.json") : flag;
  return join(env.DOCKER_CONFIG || join(home, ".docker"), "config.json");
}

/** Validates `--layer-source` (default auto). */
export function parseLayerSource(v: string | undefined): "auto" | "upperdir" | "api" {
  const s = (v ?? "auto").toLowerCase();
  if (s === "auto" || s === "upperdir" || s === "api") return s;
  throw new UsageError(`unknown --layer-source "${v}"`, "use --layer-source auto, upperdir or api");
}
