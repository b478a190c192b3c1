import { UsageError } from "../errors.ts";
import { parseImageRef, repositoryOf } from "./ref.ts";

/** The default allow list: the platform registry, NVIDIA's official images, TF and PyTorch on Docker Hub. */
export function defaultAllowedBaseImages(registryHost: string): string[] {
  const list = ["nvcr.io/nvidia/", "docker.io/tensorflow/tensorflow", "docker.io/pytorch/pytorch"];
  return registryHost ? [`${registryHost.replace(/\/+$/, "")}/`, ...list] : list;
}

/**
 * Normalises an allow-list entry. An entry ending in `/` allows every repository under that
 * registry or namespace; any other entry allows exactly one repository (any tag or digest).
 */
export function normaliseAllowEntry(entry: string): { prefix: string; exact: boolean } {
  const e = entry.trim();
  if (e.endsWith("/")) {
    const body = e.replace(/\/+$/, "");
    // A bare host (`registry.example.com/`) stays as it is; a namespace gets Docker Hub's normalisation.
    if (!body.includes("/") && (body.includes(".") || body.includes(":") || body === "localhost")) {
      return { prefix: `${body}/`, exact: false };
    }
    const ref = parseImageRef(`${body}/x`, "allow-list entry");
    return { prefix: `${repositoryOf(ref).slice(0, -2)}/`, exact: false };
  }
  return { prefix: repositoryOf(parseImageRef(e, "allow-list entry")), exact: true };
}

/** True when the base image's repository is allowed by one of `allowed` (see normaliseAllowEntry). */
export function isBaseImageAllowed(image: string, allowed: readonly string[]): boolean {
  const repo = repositoryOf(parseImageRef(image, "base image"));
  return allowed.some((entry) => {
    const { prefix, exact } = normaliseAllowEntry(entry);
    return exact ? repo === prefix : repo.startsWith(prefix);
  });
}

/** Throws a UsageError naming the image and the allowed prefixes when the image is not allowed. */
export function assertBaseImageAllowed(image: string, allowed: readonly string[], where = "base image"): void {
  if (!isBaseImageAllowed(image, allowed)) {
    throw new UsageError(
      `${where} "${image}" is not allowed: it must come from one of ${allowed.join(", ")}`,
      "use an image from an allowed registry, or add its prefix to allowedBaseImages in ~/.seelie/config.yaml",
    );
  }
}
