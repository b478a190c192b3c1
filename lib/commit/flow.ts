/**
 * The committer's flow: find the container on its runtime, clean it, commit it (paused per option and
 * always resumed), push the image, remove the local copy. One function for both runtimes; each runtime
 * implements `RuntimeContainer`.
 */
import { statSync } from "node:fs";
import { homedir } from "node:os";
import { loadConfig } from "../config/load.ts";
import { InterruptedError, SeelieError, UsageError, errorMessage } from "../errors.ts";
import { platformImageName } from "../image/name.ts";
import { formatImageRef, parseImageRef } from "../image/ref.ts";
import { authFromDockerConfig, readDockerConfigFile, type RegistryAuth } from "../registry/credentials.ts";
import { cleanContainer, type CleanupReport } from "./cleanup.ts";
import { DEFAULT_RETRY, findDockerContainer, type RetryPolicy } from "./runtime-docker.ts";
import type { LayerSource, RuntimeContainer } from "./runtime.ts";
import { type Compression, DEFAULT_LEVEL } from "./compress.ts";
import { dockerConfigPath, parseContainerTarget, resolveSocket, type RuntimeName } from "./target.ts";

/** What the committer is asked to do (the CLI's flags, parsed). */
export interface CommitContainerOptions {
  /** `docker://ID`, `containerd://ID`, or a bare ID with `runtime`. */
  containerId: string;
  runtime?: string;
  /** The target image; or `tag` + `repoType` with the platform naming rule. */
  image?: string;
  tag?: string;
  repoType?: string;
  registryHost?: string;
  repo?: string;
  username?: string;
  /** `unix:///…`; probed when absent. */
  runtimeEndpoint?: string;
  hostPrefix?: string;
  /** containerd namespace (default `k8s.io`). */
  namespace?: string;
  clean: boolean;
  pause: boolean;
  keepImage: boolean;
  push: boolean;
  /** A Docker config file or a directory holding config.json. */
  dockerConfig?: string;
  /** Where the new layer is read from (default auto). */
  layerSource?: LayerSource;
  /** Compression of the new layer (default gzip 6). */
  compression?: { kind: Compression; level: number };
  signal?: AbortSignal;
  progress?: (line: string) => void;
}

/** Finds a container on containerd (delivered by the containerd runtime in `lib/containerd/`). */
export type ContainerdFinder = (opts: {
  socketPath: string;
  namespace: string;
  id: string;
  hostPrefix?: string;
  /** Credentials for the base image's registry (when its layers must be copied from there). */
  resolveAuth?: (registry: string) => Promise<RegistryAuth | undefined>;
  registryOptions?: { attempts?: number; backoffMs?: number };
}) => Promise<RuntimeContainer>;

/** The outside world the flow touches; `defaultCommitDeps()` gives the real one. */
export interface CommitDeps {
  env: Record<string, string | undefined>;
  home: string;
  isSocket: (path: string) => boolean;
  isDirectory: (path: string) => boolean;
  findContainerd?: ContainerdFinder;
  retry?: RetryPolicy;
}

/** The result document of `seelie-committer -o json`. */
export interface CommitReport {
  image: string;
  digest: string;
  size: number;
  layers: number;
  runtime: RuntimeName;
  containerId: string;
  pushed: boolean;
  /** Where the new layer was read from (`upperdir`: the overlay upper directory; `api`: the runtime's diff). */
  layerSource?: "upperdir" | "api";
  compression: Compression;
  compressionLevel: number;
  cleanup: CleanupReport;
  /** Milliseconds per step; `paused`: how long the container was paused for the commit. */
  timings: { clean: number; commit: number; push: number; remove: number; total: number; paused: number };
}

/** containerd's client, loaded on first use: its gRPC stack is memory a Docker commit does not need. */
const findContainerdLazily: ContainerdFinder = async (o) => (await import("./runtime-containerd.ts")).findContainerd(o);

/** The real dependencies: the process environment, the file system, retry settings from the env. */
export function defaultCommitDeps(findContainerd: ContainerdFinder = findContainerdLazily): CommitDeps {
  const env = process.env;
  const retries = Number(env.SEELIE_PUSH_RETRIES);
  const backoff = Number(env.SEELIE_PUSH_BACKOFF_MS);
  return {
    env,
    home: env.HOME ?? homedir(),
    isSocket: (p) => {
      try {
        return statSync(p).isSocket();
      } catch {
        return false;
      }
    },
    isDirectory: (p) => {
      try {
        return statSync(p).isDirectory();
      } catch {
        return false;
      }
    },
    findContainerd,
    retry: {
      attempts: Number.isInteger(retries) && retries > 0 ? retries : DEFAULT_RETRY.attempts,
      baseMs: Number.isFinite(backoff) && backoff >= 0 && env.SEELIE_PUSH_BACKOFF_MS ? backoff : DEFAULT_RETRY.baseMs,
    },
  };
}

/** The target image: `--image`, or the platform name from `--tag`/`--repo_type` and the config. */
export function resolveTargetImage(opts: CommitContainerOptions, deps: Pick<CommitDeps, "env" | "home">): string {
  if (opts.image) {
    if (opts.tag || opts.repoType)
      throw new UsageError("--image and --tag/--repo_type both given", "pass either --image REF or --tag T --repo_type R");
    return formatImageRef(parseImageRef(opts.image, "--image"));
  }
  if (!opts.tag && !opts.repoType)
    throw new UsageError(
      "no target image",
      "pass --image REF, or --tag T --repo_type R (with the registry host, repo and username from the config)",
    );
  const cfg = loadConfig({
    env: deps.env,
    home: deps.home,
    flags: { registryHost: opts.registryHost, repo: opts.repo, username: opts.username },
  });
  return platformImageName({
    registryHost: cfg.registryHost,
    repo: cfg.repo,
    username: cfg.username,
    repoType: opts.repoType ?? "",
    tag: opts.tag ?? "",
  });
}

async function registryAuth(
  image: string,
  opts: CommitContainerOptions,
  deps: CommitDeps,
  progress: (l: string) => void,
): Promise<RegistryAuth | undefined> {
  const registry = parseImageRef(image).domain;
  const path = dockerConfigPath(opts.dockerConfig, deps.isDirectory, deps.env, deps.home);
  const cfg = readDockerConfigFile(path);
  if (opts.dockerConfig && !deps.isDirectory(opts.dockerConfig) && !cfg) {
    throw new UsageError(
      `--docker-config ${opts.dockerConfig} does not exist`,
      "pass the mounted secret's .dockerconfigjson file or a directory with config.json",
    );
  }
  const auth = cfg ? await authFromDockerConfig(cfg, registry, path) : undefined;
  progress(auth ? `credentials for ${registry} from ${auth.source}` : `no credentials for ${registry} in ${path}; pushing anonymously`);
  return auth;
}

async function findContainer(
  target: { runtime: RuntimeName; id: string },
  socket: string,
  opts: CommitContainerOptions,
  deps: CommitDeps,
): Promise<RuntimeContainer> {
  const path = dockerConfigPath(opts.dockerConfig, deps.isDirectory, deps.env, deps.home);
  const resolveAuth = async (registry: string) => {
    const cfg = readDockerConfigFile(path);
    return cfg ? authFromDockerConfig(cfg, registry, path) : undefined;
  };
  if (target.runtime === "docker") {
    const ep = { url: `unix://${socket}`, label: "Docker" };
    // Loaded here, not at start: dockerode is memory a containerd commit does not need.
    const { engineClient } = await import("../engine/connect.ts");
    const docker = engineClient(ep);
    try {
      await docker.ping();
    } catch (err) {
      throw new SeelieError(`Docker at ${socket} is not answering: ${errorMessage(err)}`, {
        hint: "check that dockerd runs on this node and --runtime-endpoint points at its socket (a containerd socket needs containerd://ID)",
        cause: err,
      });
    }
    return findDockerContainer(docker, target.id, { endpoint: socket, retry: deps.retry, hostPrefix: opts.hostPrefix, resolveAuth });
  }
  if (!deps.findContainerd) {
    throw new SeelieError("the containerd runtime is not available in this build", {
      hint: "use a docker:// container, or a build of seelie-committer with the containerd client",
      exitCode: 2,
    });
  }
  return deps.findContainerd({
    socketPath: socket,
    namespace: opts.namespace || "k8s.io",
    id: target.id,
    hostPrefix: opts.hostPrefix,
    resolveAuth,
    registryOptions: deps.retry ? { attempts: deps.retry.attempts, backoffMs: deps.retry.baseMs } : undefined,
  });
}

/** Maps a runtime's step timings onto commit/push/remove (containerd's: base_image+diff+image, push, cleanup). */
export function stepTimings(t: Record<string, number>): { commit: number; push: number; remove: number } {
  const sum = (...k: string[]) => k.reduce((n, x) => n + (t[x] ?? 0), 0);
  return {
    commit: t.commit ?? sum("base_image", "diff", "compress_upload", "compress", "image"),
    push: t.push ?? 0,
    remove: t.remove ?? t.cleanup ?? 0,
  };
}

function skipReason(c: RuntimeContainer, clean: boolean): string | undefined {
  if (!clean) return "--no-clean";
  if (!c.running) return "container is not running (stopped): committed without the clean-up";
  if (c.paused) return "container is paused: committed without the clean-up (and left paused)";
  return undefined;
}

/**
 * Commits a running container to an image: clean-up (unless skipped), commit, push, remove the local
 * image. Bad input throws UsageError; Ctrl-C (the signal) throws InterruptedError after resuming the
 * container and removing the local image.
 */
export async function commitContainer(opts: CommitContainerOptions, deps: CommitDeps): Promise<CommitReport> {
  const t0 = performance.now();
  const progress = opts.progress ?? (() => {});
  const image = resolveTargetImage(opts, deps);
  const target = parseContainerTarget(opts.containerId, opts.runtime, opts.runtimeEndpoint);
  const socket = resolveSocket(target.runtime, { endpoint: opts.runtimeEndpoint, hostPrefix: opts.hostPrefix, isSocket: deps.isSocket });
  progress(`${target.runtime} at ${socket}: container ${target.id} → ${image}`);
  const auth = opts.push ? await registryAuth(image, opts, deps, progress) : undefined;
  const c = await findContainer(target, socket, opts, deps);
  try {
    return await commitFound(c, target.runtime, image, auth, opts, t0);
  } finally {
    // The containerd runtime holds a gRPC connection.
    (c as { close?: () => void }).close?.();
  }
}

async function commitFound(
  c: RuntimeContainer,
  runtime: RuntimeName,
  image: string,
  auth: RegistryAuth | undefined,
  opts: CommitContainerOptions,
  t0: number,
): Promise<CommitReport> {
  const progress = opts.progress ?? (() => {});
  const signal = opts.signal;
  const timings = { clean: 0, commit: 0, push: 0, remove: 0, total: 0, paused: 0 };
  const interrupted = (what: string) => {
    if (signal?.aborted) throw new InterruptedError(what);
  };

  interrupted("commit");
  let cleanup: CleanupReport;
  const reason = skipReason(c, opts.clean);
  if (reason) {
    cleanup = { skipped: true, reason, files: 0, bytes: 0, removed: [] };
    progress(`clean-up skipped: ${reason}`);
  } else {
    const tc = performance.now();
    try {
      cleanup = await cleanContainer(c, { signal, progress });
    } catch (err) {
      if (signal?.aborted) throw new InterruptedError("clean-up");
      throw err;
    }
    timings.clean = Math.round(performance.now() - tc);
    progress(`clean-up removed ${cleanup.files} files, ${cleanup.bytes} bytes`);
  }
  interrupted("commit");

  const pause = opts.pause && c.running && !c.paused;
  const stepTimes: Record<string, number> = {};
  let result: Awaited<ReturnType<typeof c.commit>>;
  try {
    result = await c.commit({
      image,
      push: opts.push,
      auth,
      keepImage: opts.keepImage,
      pause,
      progress,
      signal,
      timings: stepTimes,
      layerSource: opts.layerSource,
      compression: opts.compression,
    });
  } catch (err) {
    // The runtimes resume themselves; this is the last guard against a container left frozen.
    if (pause && c.paused) await c.resume().catch(() => {});
    if (signal?.aborted && !(err instanceof InterruptedError)) throw new InterruptedError("commit");
    throw err;
  }
  Object.assign(timings, stepTimings(stepTimes));
  timings.paused = stepTimes.paused ?? 0;
  timings.total = Math.round(performance.now() - t0);
  const compression = opts.compression ?? { kind: "gzip", level: DEFAULT_LEVEL.gzip };
  return {
    ...result,
    runtime,
    containerId: c.id,
    pushed: opts.push,
    compression: compression.kind,
    compressionLevel: compression.level,
    cleanup,
    timings,
  };
}
