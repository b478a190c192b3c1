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
import { imageHints } from "./base-image-name.ts";

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
    const res = await c.containers.get({ id: opts.id });
    if (!res.container) throw new SeelieError(`containerd returned no container for ${opts.id}`);
    container = res.container;
  } catch (err) {
    if (ownClient) c.close();
    if (isNotFound(err)) {
      throw new ContainerNotFoundError(`no container ${opts.id} in containerd namespace ${opts.namespace} (${opts.socketPath})`, {
        hint: "check the id (crictl ps / kubectl get pod -o jsonpath='{.status.containerStatuses[*].containerID}') and the namespace",
      });
    }
    throw containerdError(err, opts.socketPath, `get container ${opts.id}`);
  }
  const spec = parseSpec(container);
  const id = opts.id;
  const hints = imageHints(container, spec);
  const image = await resolveBaseImageName(c, hints).catch(() => container.image);

  const self: ContainerdRuntimeContainer = {
    runtime: "containerd",
    id,
    namespace: opts.namespace,
    image,
    running: false,
    paused: false,
    env: spec?.process?.env ?? [],

    async refresh() {
      const s = await taskStatus(c, id);
      self.running = s === Status.RUNNING || s === Status.PAUSED || s === Status.PAUSING;
      self.paused = s === Status.PAUSED || s === Status.PAUSING;
    },

    async exec(argv: string[], signal?: AbortSignal): Promise<ExecResult> {
      if (!self.running) {
        throw new SeelieError(`container ${id} is not running, so nothing can be run in it`, {
          hint: "start it, or commit it without the clean-up",
        });
      }
      if (self.paused) {
        throw new SeelieError(`container ${id} is paused, so nothing can run in it`, {
          hint: `resume it first (ctr -n ${opts.namespace} task resume ${id}), or commit it without the clean-up`,
        });
      }
      return execInTask(c, { containerId: id, spec, argv, hostPrefix: opts.hostPrefix, signal });
    },

    async changes(signal?: AbortSignal): Promise<ChangedPath[]> {
      // From the overlay upper directory when it can be read (a walk, no copy), else from a diff.
      const overlay = await snapshotOverlay(c, container, opts.hostPrefix).catch(() => undefined);
      if (overlay) {
        try {
          return changesOf(walkUpperDir(overlay.upper).entries, existedInLower(overlay.mounts, opts.hostPrefix));
        } catch (err) {
          if (!(err instanceof UpperDirUnusable)) throw err;
        }
      }
      const leaseId = `seelie-changes-${randomBytes(6).toString("hex")}`;
      await c.leases
        .create({
          id: leaseId,
          labels: { "containerd.io/gc.expire": new Date(Date.now() + 600_000).toISOString(), [LEASE_CONTAINER_LABEL]: id },
        })
        .catch((err) => {
          throw containerdError(err, c.socketPath, "create lease");
        });
      try {
        const layer = await diffContainerSnapshot(c, container, { leaseId, mediaType: MEDIA.ociLayer, signal });
        const existed = existedInLower(layer.lowerMounts, opts.hostPrefix);
        const entries: TarEntry[] = [];
        for await (const entry of tarEntries(contentStream(c, layer.digest, signal))) entries.push(entry);
        return changesOf(entries, existed);
      } finally {
        await c.leases.delete({ id: leaseId, sync: true }).catch(() => undefined);
      }
    },

    async pause() {
      try {
        await c.tasks.pause({ containerId: id });
      } catch (err) {
        throw containerdError(err, c.socketPath, `pause container ${id}`);
      }
      self.paused = true;
    },

    async resume() {
      let last: unknown;
      // Resuming matters more than anything else here: never leave the container frozen.
      for (let i = 0; i < 3; i++) {
        try {
          await c.tasks.resume({ containerId: id });
          self.paused = false;
          return;
        } catch (err) {
          last = err;
          await Bun.sleep(200 * (i + 1));
        }
      }
      throw new SeelieError(`could not resume container ${id}: it may still be paused`, {
        hint: `resume it by hand on the node: ctr -n ${opts.namespace} task resume ${id}`,
        cause: containerdError(last, c.socketPath, `resume container ${id}`),
      });
    },

    async commit(o): Promise<CommitResult> {
      await self.refresh();
      return commitContainerdContainer(c, container, {
        ...o,
        resolveAuth: opts.resolveAuth,
        imageHints: hints,
        hostPrefix: opts.hostPrefix,
        registryOptions: opts.registryOptions,
        shouldPause: self.running && !self.paused,
        pauseTask: () => self.pause(),
        resumeTask: async () => {
          try {
            await self.resume();
          } catch (err) {
            await self.refresh().catch(() => undefined);
            if (self.paused) throw err;
          }
        },
      });
    },

    close() {
      if (ownClient) c.close();
    },
  };
  await self.refresh();
  return self;
}
