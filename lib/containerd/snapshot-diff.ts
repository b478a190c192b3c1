/**
 * The container's own changes as a layer: the diff service between a read-only view of the
 * container snapshot's parent and the container's active snapshot, written to the content store
 * under a lease.
 */
import { lstatSync, existsSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { Container } from "../../proto/gen/containerd/services/containers/v1/containers_pb.ts";
import type { Mount } from "../../proto/gen/containerd/types/mount_pb.ts";
import { SeelieError } from "../errors.ts";
import { containerdError, type ContainerdClient } from "./client.ts";
import { hostOrPrefixed } from "../commit/upper-dir.ts";

/** The new layer's descriptor and the parent's mounts (for telling additions from modifications). */
export interface SnapshotDiff {
  mediaType: string;
  digest: string;
  size: number;
  lowerMounts: Mount[];
}

/**
 * Diffs `container`'s snapshot against its parent with the diff service; the blob is created under
 * `leaseId` (so deleting the lease lets GC reclaim it). The temporary view is always removed.
 */
export async function diffContainerSnapshot(
  c: ContainerdClient,
  container: Container,
  opts: { leaseId: string; mediaType: string; labels?: Record<string, string>; signal?: AbortSignal },
): Promise<SnapshotDiff> {
  const { snapshotter, snapshotKey } = container;
  if (!snapshotter || !snapshotKey) {
    throw new SeelieError(`container ${container.id} has no snapshot (snapshotter "${snapshotter}", key "${snapshotKey}")`, {
      hint: "only containers with a root filesystem snapshot (as the kubelet creates them) can be committed",
    });
  }
  const call = c.leased(opts.leaseId, { signal: opts.signal });
  let parent: string;
  try {
    parent = (await c.snapshots.stat({ snapshotter, key: snapshotKey }, call)).info?.parent ?? "";
  } catch (err) {
    throw containerdError(err, c.socketPath, `stat snapshot ${snapshotKey} of container ${container.id}`);
  }
  const viewKey = `seelie-view-${randomBytes(6).toString("hex")}`;
  let viewCreated = false;
  try {
    let lower: Mount[] = [];
    let upper: Mount[];
    try {
      if (parent) {
        lower = (await c.snapshots.view({ snapshotter, key: viewKey, parent }, call)).mounts;
        viewCreated = true;
      }
      upper = (await c.snapshots.mounts({ snapshotter, key: snapshotKey }, call)).mounts;
    } catch (err) {
      throw containerdError(err, c.socketPath, `mounts of snapshot ${snapshotKey}`);
    }
    try {
      const res = await c.diff.diff(
        {
          left: lower,
          right: upper,
          mediaType: opts.mediaType,
          ref: `seelie-diff-${randomBytes(6).toString("hex")}`,
          labels: opts.labels ?? {},
        },
        call,
      );
      const d = res.diff;
      if (!d) throw new SeelieError(`containerd's diff service returned no layer for container ${container.id}`);
      return { mediaType: d.mediaType, digest: d.digest, size: Number(d.size), lowerMounts: lower };
    } catch (err) {
      throw containerdError(err, c.socketPath, `diff of container ${container.id}`);
    }
  } finally {
    if (viewCreated) await c.snapshots.remove({ snapshotter, key: viewKey }).catch(() => undefined);
  }
}

/** The directories (as the host sees them) of a parent snapshot's mounts: bind sources and overlay lowerdirs. */
export function lowerDirs(mounts: Mount[]): string[] {
  const dirs: string[] = [];
  for (const m of mounts) {
    if (m.type === "bind" || m.type === "rbind") dirs.push(m.source);
    else if (m.type === "overlay") {
      for (const o of m.options) if (o.startsWith("lowerdir=")) dirs.push(...o.slice("lowerdir=".length).split(":"));
    }
  }
  return dirs;
}

/**
 * A test "did this path exist in the image?" over the parent's directories, when they are readable
 * here (under `hostPrefix`); undefined when they are not (then every non-deletion counts as added).
 */
export function existedInLower(mounts: Mount[], hostPrefix = ""): ((path: string) => boolean) | undefined {
  const dirs = lowerDirs(mounts).map((d) => join(hostPrefix, d));
  if (dirs.length === 0 || !dirs.every((d) => existsSync(d))) return undefined;
  return (path) =>
    dirs.some((d) => {
      try {
        lstatSync(join(d, path));
        return true;
      } catch {
        return false;
      }
    });
}

/**
 * The overlay mount of `container`'s active snapshot when its snapshotter is overlayfs: its upper
 * directory (as seen from here: under `hostPrefix`, or at its host path) and the mounts (whose
 * `lowerdir=` names the image's layers). Undefined for other snapshotters and for a snapshot without
 * parent (a bind mount of the whole tree).
 */
export async function snapshotOverlay(
  c: ContainerdClient,
  container: Container,
  hostPrefix = "",
): Promise<{ upper: string; mounts: Mount[] } | undefined> {
  const { snapshotter, snapshotKey } = container;
  if (!snapshotter || !snapshotKey) return undefined;
  let mounts: Mount[];
  try {
    mounts = (await c.snapshots.mounts({ snapshotter, key: snapshotKey })).mounts;
  } catch (err) {
    throw containerdError(err, c.socketPath, `mounts of snapshot ${snapshotKey}`);
  }
  const m = mounts.find((x) => x.type === "overlay");
  const upper = m?.options.find((o) => o.startsWith("upperdir="))?.slice("upperdir=".length);
  return upper ? { upper: hostOrPrefixed(upper, hostPrefix), mounts } : undefined;
}

/** The upper directory of `container`'s overlayfs snapshot (see snapshotOverlay), or undefined. */
export async function snapshotUpperDir(c: ContainerdClient, container: Container, hostPrefix = ""): Promise<string | undefined> {
  return (await snapshotOverlay(c, container, hostPrefix))?.upper;
}
