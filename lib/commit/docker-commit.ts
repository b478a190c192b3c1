/**
 * Commit and push of a Docker container through the committer's one push path (push-image.ts),
 * not dockerd's: the image config is the base image's (nothing of the container's env, command or
 * the kubelet's labels), the new layer is compressed on every core while it is uploaded.
 * The new layer comes from the container's overlay2 upper directory (paused only while it is
 * walked), or — other storage drivers, an unreadable directory, `--layer-source api` — from
 * `docker commit` (dockerd pauses for its diff) read back out of `docker save`.
 */
import type Docker from "dockerode";
import { InterruptedError, SeelieError, errorMessage } from "../errors.ts";
import { formatImageRef, parseImageRef, repositoryOf, type ImageRef } from "../image/ref.ts";
import { log } from "../log.ts";
import { RegistryClient } from "../registry/distribution.ts";
import { toEngineAuth } from "../registry/credentials.ts";
import type { AuthResolver } from "../containerd/base-image.ts";
import { registryApiHost } from "../registry/host.ts";
import { DEFAULT_LEVEL, type Compression } from "./compress.ts";
import { dockerBaseFromRegistry, uploadDockerBase } from "./docker-base.ts";
import { savedTopLayer } from "./docker-save.ts";
import { buildCommittedImage, pushCommittedImage, uploadNewLayer, type UploadedLayer } from "./push-image.ts";
import type { CommitResult, RuntimeContainer } from "./runtime.ts";
import { UpperDirUnusable, hostOrPrefixed, upperDirTar, walkUpperDir, type UpperWalk } from "./upper-dir.ts";

/** What the Docker commit needs to know about the container and the node. */
export interface DockerCommitContext {
  docker: Docker;
  socket: string;
  info: Docker.ContainerInspectInfo;
  hostPrefix?: string;
  resolveAuth?: AuthResolver;
  registryOptions?: { attempts?: number; backoffMs?: number };
  pause: () => Promise<void>;
  resume: () => Promise<void>;
  removeImage: (name: string, id: string, progress: (l: string) => void) => Promise<void>;
}

/** The container's overlay2 upper directory under `hostPrefix`, or undefined for other storage drivers. */
export function dockerUpperDir(info: Docker.ContainerInspectInfo, hostPrefix = ""): string | undefined {
  const gd = info.GraphDriver as { Name?: string; Data?: Record<string, string> } | undefined;
  if (gd?.Name !== "overlay2" && gd?.Name !== "overlay") return undefined;
  const upper = gd.Data?.UpperDir;
  return upper ? hostOrPrefixed(upper, hostPrefix) : undefined;
}

async function timed<T>(timings: Record<string, number>, name: string, fn: () => Promise<T>): Promise<T> {
  const t = performance.now();
  try {
    return await fn();
  } finally {
    timings[name] = Math.round((timings[name] ?? 0) + performance.now() - t);
  }
}

type CommitOptions = Parameters<RuntimeContainer["commit"]>[0];

/** The image `docker commit` made, and the diff_id of its top layer (the container's changes). */
interface ApiCommit {
  id: string;
  topDiffId: string;
}

/** Commits and pushes; see the file comment. The local image made by the API path is always removed. */
export async function commitDockerContainer(ctx: DockerCommitContext, opts: CommitOptions): Promise<CommitResult> {
  const { info, docker, progress, signal, timings } = { ...ctx, ...opts };
  const target = parseImageRef(opts.image);
  const image = formatImageRef(target);
  const compression = opts.compression ?? { kind: "gzip" as const, level: DEFAULT_LEVEL.gzip };
  const upper = upperDirToRead(ctx, opts);
  const registry = new RegistryClient({ registry: registryApiHost(target.domain), auth: opts.auth, signal, ...ctx.registryOptions });
  const started = performance.now();
  let base = await timed(timings, "base_image", () =>
    dockerBaseFromRegistry(docker, info.Image, { resolveAuth: ctx.resolveAuth, signal, progress, registryOptions: ctx.registryOptions }),
  );

  const walk = upper ? await walkUpperDirPaused(ctx, opts, upper) : undefined;
  let committed: ApiCommit | undefined;
  try {
    if (!walk) committed = await commitThroughApi(ctx, opts, target);
    if (signal?.aborted) throw new InterruptedError("commit");
    base ??= await timed(timings, "base_upload", () =>
      uploadDockerBase(ctx.socket, info.Image, registry, target.path, compression, { progress, signal }),
    );
    const layer = await uploadChangesAsLayer(ctx, opts, { registry, repo: target.path, compression, walk, committed });
    progress(`new layer ${layer.digest} (${layer.size} bytes, ${layer.rawSize} uncompressed)`);
    const built = buildCommittedImage(base, layer, { comment: `committed from container ${info.Id}`, compression: compression.kind });
    const report = await timed(timings, "push", () =>
      pushCommittedImage({
        target,
        registry,
        manifest: built.manifest,
        manifestBytes: built.manifestBytes,
        configBytes: built.configBytes,
        base: base!,
        resolveAuth: ctx.resolveAuth,
        progress,
        signal,
      }),
    );
    if (opts.keepImage) await keepLocally(docker, image, opts, progress);
    timings.commit = Math.round(performance.now() - started) - (timings.push ?? 0);
    return {
      image,
      digest: report.digest,
      size: built.manifest.layers.reduce((n, l) => n + l.size, 0),
      layers: built.manifest.layers.length,
      layerSource: walk ? "upperdir" : "api",
    };
  } finally {
    if (committed) {
      const t = performance.now();
      await ctx.removeImage(image, committed.id, progress);
      timings.remove = Math.round(performance.now() - t);
    }
  }
}

/** The overlay2 upper directory to read the layer from; undefined: `docker commit` makes it. */
function upperDirToRead({ info, hostPrefix }: DockerCommitContext, opts: CommitOptions): string | undefined {
  const upper = opts.layerSource === "api" ? undefined : dockerUpperDir(info, hostPrefix);
  if (opts.layerSource === "upperdir" && !upper) {
    throw new UpperDirUnusable(
      `container ${info.Id.slice(0, 12)} is on the storage driver "${info.GraphDriver?.Name}", which has no upper directory`,
      {
        hint: "use --layer-source api (or auto) with this storage driver",
      },
    );
  }
  return upper;
}

/** Walks the upper directory, paused when asked and always resumed; undefined when it is unusable and the API may stand in. */
async function walkUpperDirPaused(ctx: DockerCommitContext, opts: CommitOptions, upper: string): Promise<UpperWalk | undefined> {
  const { progress, timings } = opts;
  const pausedAt = performance.now();
  try {
    if (opts.pause) await ctx.pause();
    const walk = walkUpperDir(upper);
    progress(`walked ${upper}: ${walk.files} files, ${walk.bytes} bytes, ${walk.whiteouts} deletions${opts.pause ? " (paused)" : ""}`);
    return walk;
  } catch (err) {
    if (!(err instanceof UpperDirUnusable) || opts.layerSource === "upperdir") throw err;
    log.warn(`${err.message}; falling back to docker commit (slower)${err.hint ? ` (${err.hint})` : ""}`);
    return undefined;
  } finally {
    if (opts.pause) {
      await ctx.resume();
      timings.paused = Math.round(performance.now() - pausedAt);
    }
  }
}

/** `docker commit` of the container (dockerd pauses it for the whole of its commit). */
async function commitThroughApi({ docker, info }: DockerCommitContext, opts: CommitOptions, target: ImageRef): Promise<ApiCommit> {
  const { timings } = opts;
  const t0 = performance.now();
  let committed: ApiCommit;
  try {
    // Not aborted mid-way: dockerd would finish the commit anyway and leave an image behind.
    const res = (await docker
      .getContainer(info.Id)
      .commit({ repo: repositoryOf(target), tag: target.tag ?? "latest", pause: opts.pause, comment: "seelie-committer" })) as {
      Id: string;
    };
    const layers = (await docker.getImage(res.Id).inspect()).RootFS?.Layers ?? [];
    committed = { id: res.Id, topDiffId: layers.at(-1) ?? "" };
  } catch (err) {
    throw new SeelieError(`Docker: committing container ${info.Id.slice(0, 12)} failed: ${errorMessage(err)}`, {
      hint: "check the container still exists and dockerd's log; the source container was left running",
      cause: err,
    });
  }
  // dockerd pauses the container for the whole of its commit.
  timings.commit_api = Math.round(performance.now() - t0);
  if (opts.pause) timings.paused = timings.commit_api;
  return committed;
}

/** Compresses the changes (the walk, or the committed top layer out of `docker save`) into one streamed upload. */
async function uploadChangesAsLayer(
  ctx: DockerCommitContext,
  opts: CommitOptions,
  from: {
    registry: RegistryClient;
    repo: string;
    compression: { kind: Compression; level: number };
    walk?: UpperWalk;
    committed?: ApiCommit;
  },
): Promise<UploadedLayer> {
  const { progress, signal, timings } = opts;
  const { registry, repo, compression, walk: w, committed: c } = from;
  const changed = new Set<string>();
  const open = () => (w ? upperDirTar(w, { onChanged: (p) => changed.add(p) }) : savedTopLayer(ctx.socket, c!.id, c!.topDiffId, signal));
  progress(`compressing (${compression.kind}) and uploading the new layer`);
  const layer = await timed(timings, "compress_upload", () => uploadNewLayer(registry, repo, open, compression));
  if (c && layer.diffId !== c.topDiffId) {
    throw new SeelieError(`the layer read from docker save (${layer.diffId}) is not the committed one (${c.topDiffId})`, {
      hint: "use --layer-source upperdir, or report the Docker version",
    });
  }
  if (changed.size)
    log.warn(
      `changed while being read (committed as read, after the pause): ${[...changed].slice(0, 20).join(", ")}${changed.size > 20 ? " …" : ""}`,
    );
  return layer;
}

/** `--keep-image` with a push: the pushed image is pulled, so the node holds exactly what was pushed. */
async function keepLocally(
  docker: Docker,
  image: string,
  opts: Parameters<RuntimeContainer["commit"]>[0],
  progress: (l: string) => void,
): Promise<void> {
  const authconfig = opts.auth ? toEngineAuth(opts.auth) : undefined;
  try {
    const stream = (await docker.pull(image, { authconfig })) as NodeJS.ReadableStream;
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())),
    );
    progress(`kept ${image} on the node`);
  } catch (err) {
    log.warn(`pushed, but could not pull ${image} back to keep it on the node: ${errorMessage(err)}`);
  }
}
