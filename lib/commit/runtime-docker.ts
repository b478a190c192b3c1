/**
 * The Docker runtime of the committer: `RuntimeContainer` over the Docker Engine API (dockerode).
 * exec (demultiplexed stdout/stderr), changes, pause/resume, commit, push with retries, image removal.
 */
import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import { InterruptedError, SeelieError, UsageError, errorMessage } from "../errors.ts";
import { parseImageRef, formatImageRef, repositoryOf } from "../image/ref.ts";
import type { ChangedPath, CommitResult, ExecResult, RuntimeContainer } from "./runtime.ts";
import type { AuthResolver } from "../containerd/base-image.ts";
import { commitDockerContainer } from "./docker-commit.ts";

/** Push retry policy: attempts in all, and the first back-off (doubling). */
export interface RetryPolicy {
  attempts: number;
  baseMs: number;
}

/** Default: 4 attempts, 1 s, 2 s, 4 s apart. Overridable for tests with SEELIE_PUSH_RETRIES / SEELIE_PUSH_BACKOFF_MS. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseMs: 1000 };

const REMOVE_TIMEOUT_MS = 60_000;

const KIND: Record<number, ChangedPath["kind"]> = { 0: "modified", 1: "added", 2: "deleted" };

function statusCode(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}

/** Finds a container on a Docker engine; an unknown ID is a UsageError naming it. */
export async function findDockerContainer(
  docker: Docker,
  id: string,
  opts: { endpoint: string; retry?: RetryPolicy; hostPrefix?: string; resolveAuth?: AuthResolver },
): Promise<DockerContainer> {
  let info: Docker.ContainerInspectInfo;
  try {
    info = await docker.getContainer(id).inspect();
  } catch (err) {
    if (statusCode(err) === 404) {
      throw new UsageError(
        `container "${id}" not found on Docker at ${opts.endpoint}`,
        "check the ID with 'docker ps' (or the pod's containerStatuses[].containerID) and the runtime endpoint",
      );
    }
    throw new SeelieError(`Docker at ${opts.endpoint}: cannot inspect container "${id}": ${errorMessage(err)}`, {
      hint: "check that dockerd is running and that the socket is mounted into this pod",
      cause: err,
    });
  }
  return new DockerContainer(docker, info, opts.retry ?? DEFAULT_RETRY, opts);
}

/** A Docker container as the committer sees it. */
export class DockerContainer implements RuntimeContainer {
  readonly runtime = "docker" as const;
  readonly id: string;
  readonly running: boolean;
  readonly paused: boolean;
  readonly env: string[];
  private readonly container: Docker.Container;
  private readonly info: Docker.ContainerInspectInfo;

  constructor(
    private readonly docker: Docker,
    info: Docker.ContainerInspectInfo,
    private readonly retry: RetryPolicy,
    private readonly where: { endpoint: string; hostPrefix?: string; resolveAuth?: AuthResolver } = { endpoint: "" },
  ) {
    this.info = info;
    this.id = info.Id;
    this.running = info.State.Running === true;
    this.paused = info.State.Paused === true;
    this.env = info.Config.Env ?? [];
    this.container = docker.getContainer(info.Id);
  }

  /** Runs argv as root in the container (like `docker exec -u 0`), collecting stdout and stderr. */
  async exec(argv: string[], signal?: AbortSignal): Promise<ExecResult> {
    const ex = await this.container.exec({ Cmd: argv, AttachStdout: true, AttachStderr: true, User: "0", Tty: false });
    const stream = (await ex.start({
      hijack: false,
      stdin: false,
      abortSignal: signal,
    } as Docker.ExecStartOptions)) as NodeJS.ReadableStream;
    const out = new PassThrough();
    const err = new PassThrough();
    const outChunks: Buffer[] = [];
    const errChunks: Buffer[] = [];
    out.on("data", (b: Buffer) => outChunks.push(b));
    err.on("data", (b: Buffer) => errChunks.push(b));
    this.docker.modem.demuxStream(stream, out, err);
    await new Promise<void>((resolve, reject) => {
      stream.on("end", () => resolve());
      stream.on("close", () => resolve());
      stream.on("error", reject);
    });
    if (signal?.aborted) throw new InterruptedError("exec");
    const info = await ex.inspect();
    return {
      exitCode: info.ExitCode ?? -1,
      stdout: Buffer.concat(outChunks).toString("utf8"),
      stderr: Buffer.concat(errChunks).toString("utf8"),
    };
  }

  /** `GET /containers/{id}/changes`: the container's writable layer. */
  async changes(signal?: AbortSignal): Promise<ChangedPath[]> {
    const list = ((await this.container.changes({ abortSignal: signal } as object)) ?? []) as { Path: string; Kind: number }[];
    return list.map((c) => ({ path: c.Path, kind: KIND[c.Kind] ?? "modified" }));
  }

  async pause(): Promise<void> {
    await this.container.pause();
  }

  async resume(): Promise<void> {
    await this.container.unpause();
  }

  /** True when the engine says the container is paused right now. */
  async isPaused(): Promise<boolean> {
    return (await this.container.inspect()).State.Paused === true;
  }

  /**
   * Commits and pushes through the committer's own push path (commit-docker.ts). Without a push,
   * `docker commit` makes a local image (dockerd pauses and resumes itself when `pause`).
   */
  async commit(opts: Parameters<RuntimeContainer["commit"]>[0]): Promise<CommitResult> {
    if (opts.push) {
      return commitDockerContainer(
        {
          docker: this.docker,
          socket: this.where.endpoint,
          info: this.info,
          hostPrefix: this.where.hostPrefix,
          resolveAuth: this.where.resolveAuth,
          registryOptions: { attempts: this.retry.attempts, backoffMs: this.retry.baseMs },
          pause: () => this.pause(),
          resume: () => this.resume(),
          removeImage: (name, id, progress) => this.removeImage(name, id, progress),
        },
        { ...opts, pause: opts.pause && this.running && !this.paused },
      );
    }
    return this.commitLocal(opts);
  }

  /** `docker commit` only (no push): the local image, with the config dockerd makes. */
  private async commitLocal(opts: Parameters<RuntimeContainer["commit"]>[0]): Promise<CommitResult> {
    const ref = parseImageRef(opts.image);
    const image = formatImageRef(ref);
    const t0 = performance.now();
    let imageId: string;
    try {
      // Not aborted mid-way: dockerd would finish the commit anyway and leave an image behind.
      const res = (await this.container.commit({
        repo: repositoryOf(ref),
        tag: ref.tag ?? "latest",
        pause: opts.pause,
        comment: "seelie-committer: snapshot of a running container",
        author: "seelie-committer",
      })) as { Id: string };
      imageId = res.Id;
    } catch (err) {
      await this.ensureNotPausedByUs(opts.pause && !this.paused);
      throw new SeelieError(`Docker: committing container ${this.id.slice(0, 12)} to ${image} failed: ${errorMessage(err)}`, {
        hint: "check the container still exists and dockerd's log; the source container was left running",
        cause: err,
      });
    }
    opts.timings.commit = Math.round(performance.now() - t0);
    opts.progress(`committed ${this.id.slice(0, 12)} as ${image} (${imageId.slice(0, 19)})`);
    let result: CommitResult | undefined;
    try {
      if (opts.signal?.aborted) throw new InterruptedError("commit");
      const inspect = await this.docker.getImage(imageId).inspect();
      result = { image, digest: imageId, size: inspect.Size, layers: inspect.RootFS?.Layers?.length ?? 0 };
    } finally {
      if (!opts.keepImage || !result) {
        const t2 = performance.now();
        await this.removeImage(image, imageId, opts.progress);
        opts.timings.remove = Math.round(performance.now() - t2);
      }
    }
    return result;
  }

  private async ensureNotPausedByUs(wePaused: boolean): Promise<void> {
    if (!wePaused) return;
    try {
      if (await this.isPaused()) await this.resume();
    } catch {
      // The container may be gone; nothing left to resume.
    }
  }

  /** Removes the committed image (by tag, then by id); a missing image is fine. */
  private async removeImage(image: string, imageId: string, progress: (l: string) => void): Promise<void> {
    for (const name of [image, imageId]) {
      try {
        // Bounded: a dockerd busy deleting layers has been seen to answer never; the push is done by then.
        await Promise.race([
          this.docker.getImage(name).remove({ noprune: false }),
          Bun.sleep(REMOVE_TIMEOUT_MS).then(() => {
            throw new Error(`no answer within ${REMOVE_TIMEOUT_MS / 1000} s`);
          }),
        ]);
        progress(`removed local image ${name}`);
        return;
      } catch (err) {
        if (statusCode(err) === 404) continue;
        progress(`warning: could not remove local image ${name}: ${errorMessage(err)}`);
      }
    }
  }
}
