/**
 * The seam to the containerd runtime (`lib/containerd/`): finds the container natively over gRPC and
 * maps "no such container" to bad input (exit 2) as for Docker.
 */
import { ContainerNotFoundError, findContainerdContainer } from "../containerd/container.ts";
import { UsageError } from "../errors.ts";
import type { ContainerdFinder } from "./flow.ts";

/** Finds a container on containerd natively (namespace, host prefix as given). */
export const findContainerd: ContainerdFinder = async (opts) => {
  try {
    return await findContainerdContainer(opts);
  } catch (err) {
    if (err instanceof ContainerNotFoundError) {
      throw new UsageError(err.message, err.hint);
    }
    throw err;
  }
};
