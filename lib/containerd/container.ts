/**
 * A containerd container as the committer's RuntimeContainer: exec, changes, pause/resume and
 * commit, all natively over containerd's gRPC API.
 */
import { randomBytes } from "node:crypto";
import type { ChangedPath, CommitResult, ExecResult, RuntimeContainer } from "../commit/runtime.ts";
import type { Container } from "../../proto/gen/containerd/services/containers/v1/containers_pb.ts";
import { Status } from "../../proto/gen/containerd/types/task_pb.ts";
import { SeelieError } from "../errors.ts";
import { connectContainerd, containerdError, isNotFound, type ContainerdClient } from "./client.ts";
import { contentStream } from "./content.ts";
import { execInTask } from "./exec.ts";
import { diffContainerSnapshot, existedInLower, snapshotOverlay } from "./snapshot-diff.ts";
import { entryChange, tarEntries, type TarEntry } from "./tar-headers.ts";
import { UpperDirUnusable, walkUpperDir } from "../commit/upper-dir.ts";
import { MEDIA } from "./image-builders.ts";
import { LEASE_CONTAINER_LABEL, commitContainerdContainer } from "./commit.ts";
import { resolveBaseImageName, type AuthResolver } from "./base-image.ts";
import { imageHints, type ImageHints } from "./base-image-name.ts";

/** Options of findContainerdContainer. */
export interface FindContainerdContainerOptions {
  socketPath: string;
  /** The containerd namespace (`k8s.io` for the kubelet's containers). */
  namespace: string;
  id: string;
  /** Where the host's root is mounted when running in a pod (e.g. `/host`); the socket path includes it. */
  hostPrefix?: string;
  /** Credentials of registries other than the target's (the base image's registry). */
  resolveAuth?: AuthResolver;
  /** Use an existing client instead of connecting (it is then not closed by `close()`). */
  client?: ContainerdClient;
  /** Registry client tuning (attempts, back-off), for tests. */
  registryOptions?: { attempts?: number; backoffMs?: number; insecure?: boolean };
}

/** A RuntimeContainer on containerd, plus `close()` to drop the gRPC connection. */
export interface ContainerdRuntimeContainer extends RuntimeContainer {
  runtime: "containerd";
  namespace: string;
  /** The image the container was created from (recorded name, CRI annotation or metadata; "" when unknown). */
  image: string;
  /** Re-reads running/paused from the task service. */
  refresh(): Promise<void>;
  close(): void;
}

function parseSpec(
  container: Container,
): { process?: { env?: string[] } & Record<string, unknown>; annotations?: Record<string, string> } | undefined {
  const v = container.spec?.value;
  if (!v || v.length === 0) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(v));
  } catch {
    return undefined;
  }
}

/** The paths a layer's entries change (a path seen twice: modified wins). */
function changesOf(
  entries: Iterable<{ name: string; type: string; size: number; linkname?: string }>,
  existed: ((path: string) => boolean) | undefined,
): ChangedPath[] {
  const byPath = new Map<string, ChangedPath>();
  for (const entry of entries) {
    const ch = entryChange({ ...entry, linkname: entry.linkname ?? "" }, existed);
    if (!ch) continue;
    const prev = byPath.get(ch.path);
    if (!prev || ch.kind === "modified") byPath.set(ch.path, ch);
  }
  return [...byPath.values()];
}

async function taskStatus(c: ContainerdClient, id: string): Promise<Status> {
  try {
    return (await c.tasks.get({ containerId: id })).process?.status ?? Status.UNKNOWN;
  } catch (err) {
    if (isNotFound(err)) return Status.STOPPED;
    throw containerdError(err, c.socketPath, `get task of container ${id}`);
  }
}

/** The container asked for does not exist in that namespace (the caller decides whether that is bad input). */
export class ContainerNotFoundError extends SeelieError {}

/**
 * Finds container `id` in `namespace` of the containerd at `socketPath` and returns it with the
 * operations the committer needs. Throws a SeelieError naming the container when it does not exist.
 */
export async function findContainerdContainer(opts: FindContainerdContainerOptions): Promise<ContainerdRuntimeContainer> {
  const c = opts.client ?? (await connectContainerd({ socketPath: opts.socketPath, namespace: opts.namespace }));
  const ownClient = !opts.client;
  let container: Container;
  try {
    container = await getContainer(c, opts);
  } catch (err) {
    if (ownClient) c.close();
    throw err;
  }
  const spec = parseSpec(container);
  const hints = imageHints(container, spec);
  const image = await resolveBaseImageName(c, hints).catch(() => container.image);
  const self = new ContainerdContainer(c, ownClient, container, spec, hints, image, opts);
  await self.refresh();
  return self;
}

/** The container record of `opts.id`; a ContainerNotFoundError when there is none. */
async function getContainer(c: ContainerdClient, opts: FindContainerdContainerOptions): Promise<Container> {
  try {
    const res = await c.containers.get({ id: opts.id });
    if (!res.container) throw new SeelieError(`containerd returned no container for ${opts.id}`);
    return res.container;
  } catch (err) {
    if (isNotFound(err)) {
      throw new ContainerNotFoundError(`no container ${opts.id} in containerd namespace ${opts.namespace} (${opts.socketPath})`, {
        hint: "check the id (crictl ps / kubectl get pod -o jsonpath='{.status.containerStatuses[*].containerID}') and the namespace",
      });
    }
    throw containerdError(err, opts.socketPath, `get container ${opts.id}`);
  }
}

/** A found containerd container and the committer's operations on it, natively over the gRPC API. */
class ContainerdContainer implements ContainerdRuntimeContainer {
  readonly runtime = "containerd";
  readonly id: string;
  readonly namespace: string;
  running = false;
  paused = false;
  readonly env: string[];

  constructor(
    private readonly c: ContainerdClient,
    private readonly ownClient: boolean,
    private readonly container: Container,
    private readonly spec: ReturnType<typeof parseSpec>,
    private readonly hints: ImageHints,
    readonly image: string,
    private readonly opts: FindContainerdContainerOptions,
  ) {
    this.id = opts.id;
    this.namespace = opts.namespace;
    this.env = spec?.process?.env ?? [];
  }

  async refresh(): Promise<void> {
    const s = await taskStatus(this.c, this.id);
    this.running = s === Status.RUNNING || s === Status.PAUSED || s === Status.PAUSING;
    this.paused = s === Status.PAUSED || s === Status.PAUSING;
  }

  async exec(argv: string[], signal?: AbortSignal): Promise<ExecResult> {
    const { id } = this;
    if (!this.running) {
      throw new SeelieError(`container ${id} is not running, so nothing can be run in it`, {
        hint: "start it, or commit it without the clean-up",
      });
    }
    if (this.paused) {
      throw new SeelieError(`container ${id} is paused, so nothing can run in it`, {
        hint: `resume it first (ctr -n ${this.opts.namespace} task resume ${id}), or commit it without the clean-up`,
      });
    }
    return execInTask(this.c, { containerId: id, spec: this.spec, argv, hostPrefix: this.opts.hostPrefix, signal });
  }

  async changes(signal?: AbortSignal): Promise<ChangedPath[]> {
    // From the overlay upper directory when it can be read (a walk, no copy), else from a diff.
    return (await this.changesFromUpperDir()) ?? (await this.changesFromDiff(signal));
  }

  /** The changes walked in the overlay upper directory; undefined when it cannot be read. */
  private async changesFromUpperDir(): Promise<ChangedPath[] | undefined> {
    const overlay = await snapshotOverlay(this.c, this.container, this.opts.hostPrefix).catch(() => undefined);
    if (!overlay) return undefined;
    try {
      return changesOf(walkUpperDir(overlay.upper).entries, existedInLower(overlay.mounts, this.opts.hostPrefix));
    } catch (err) {
      if (!(err instanceof UpperDirUnusable)) throw err;
      return undefined;
    }
  }

  /** The changes read from a diff of the snapshot, made under a lease that is deleted afterwards. */
  private async changesFromDiff(signal?: AbortSignal): Promise<ChangedPath[]> {
    const { c, container } = this;
    const leaseId = `seelie-changes-${randomBytes(6).toString("hex")}`;
    await c.leases
      .create({
        id: leaseId,
        labels: { "containerd.io/gc.expire": new Date(Date.now() + 600_000).toISOString(), [LEASE_CONTAINER_LABEL]: this.id },
      })
      .catch((err) => {
        throw containerdError(err, c.socketPath, "create lease");
      });
    try {
      const layer = await diffContainerSnapshot(c, container, { leaseId, mediaType: MEDIA.ociLayer, signal });
      const existed = existedInLower(layer.lowerMounts, this.opts.hostPrefix);
      const entries: TarEntry[] = [];
      for await (const entry of tarEntries(contentStream(c, layer.digest, signal))) entries.push(entry);
      return changesOf(entries, existed);
    } finally {
      await c.leases.delete({ id: leaseId, sync: true }).catch(() => undefined);
    }
  }

  async pause(): Promise<void> {
    try {
      await this.c.tasks.pause({ containerId: this.id });
    } catch (err) {
      throw containerdError(err, this.c.socketPath, `pause container ${this.id}`);
    }
    this.paused = true;
  }

  async resume(): Promise<void> {
    const { c, id } = this;
    let last: unknown;
    // Resuming matters more than anything else here: never leave the container frozen.
    for (let i = 0; i < 3; i++) {
      try {
        await c.tasks.resume({ containerId: id });
        this.paused = false;
        return;
      } catch (err) {
        last = err;
        await Bun.sleep(200 * (i + 1));
      }
    }
    throw new SeelieError(`could not resume container ${id}: it may still be paused`, {
      hint: `resume it by hand on the node: ctr -n ${this.opts.namespace} task resume ${id}`,
      cause: containerdError(last, c.socketPath, `resume container ${id}`),
    });
  }

  async commit(o: Parameters<RuntimeContainer["commit"]>[0]): Promise<CommitResult> {
    await this.refresh();
    return commitContainerdContainer(this.c, this.container, {
      ...o,
      resolveAuth: this.opts.resolveAuth,
      imageHints: this.hints,
      hostPrefix: this.opts.hostPrefix,
      registryOptions: this.opts.registryOptions,
      shouldPause: this.running && !this.paused,
      pauseTask: () => this.pause(),
      resumeTask: async () => {
        try {
          await this.resume();
        } catch (err) {
          await this.refresh().catch(() => undefined);
          if (this.paused) throw err;
        }
      },
    });
  }

  close(): void {
    if (this.ownClient) this.c.close();
  }
}
