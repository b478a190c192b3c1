/**
 * The seam to the containerd runtime (`lib/containerd/`, built separately): until it is merged the
 * committer reports containerd as unavailable.
 */
import type { ContainerdFinder } from "./flow.ts";

/** Finds a container on containerd natively; undefined while the containerd client is not in this build. */
export const findContainerd: ContainerdFinder | undefined = undefined;
