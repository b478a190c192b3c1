import { UsageError } from "../errors.ts";

/** A parsed container image reference, normalised as the docker CLI does. */
export interface ImageRef {
  /** Registry host (with port), `docker.io` for Docker Hub. */
  domain: string;
  /** Repository path inside the registry, `library/x` for Docker Hub's official images. */
  path: string;
  tag?: string;
  digest?: string;
}

export const DOCKER_HUB = "docker.io";
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/;
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_RE =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/;

/** True when `tag` is a valid image tag (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`). */
export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

/**
 * Parses `[domain/]path[:tag][@digest]` as the docker CLI does (Docker Hub when the first component
 * has no `.`/`:` and is not `localhost`). Throws a UsageError naming the reference when it is invalid.
 */
export function parseImageRef(input: string, what = "image reference"): ImageRef {
  const bad = (why: string) =>
    new UsageError(`invalid ${what} "${input}": ${why}`, "use the form [registry/]name[:tag][@sha256:digest], all lower case");
  if (!input || input !== input.trim()) throw bad("empty or surrounded by spaces");
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw bad(`digest "${digest}" is not algorithm:hex`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isValidTag(tag)) throw bad(`tag "${tag}" must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`);
  }
  const parts = rest.split("/");
  let domain = DOCKER_HUB;
  const first = parts[0] ?? "";
  if (parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost" || first.startsWith("["))) {
    if (!DOMAIN_RE.test(first)) throw bad(`registry "${first}" is not a host name`);
    domain = first;
    parts.shift();
  }
  if (parts.length === 0) throw bad("no repository name");
  for (const p of parts) {
    if (!PATH_COMPONENT_RE.test(p)) throw bad(`name component "${p}" must be lower-case letters, digits and separators`);
  }
  if (domain === "index.docker.io") domain = DOCKER_HUB;
  let path = parts.join("/");
  if (domain === DOCKER_HUB && parts.length === 1) path = `library/${path}`;
  if (path.length > 255) throw bad("repository name longer than 255 characters");
  return { domain, path, tag, digest };
}

/** The fully qualified name `domain/path[:tag][@digest]`, adding `:latest` when neither is given and `withDefaultTag`. */
export function formatImageRef(ref: ImageRef, withDefaultTag = true): string {
  let s = `${ref.domain}/${ref.path}`;
  if (ref.tag) s += `:${ref.tag}`;
  else if (!ref.digest && withDefaultTag) s += ":latest";
  if (ref.digest) s += `@${ref.digest}`;
  return s;
}

/** The repository without tag or digest, e.g. `docker.io/library/busybox`. */
export function repositoryOf(ref: ImageRef): string {
  return `${ref.domain}/${ref.path}`;
}

/** The tag or digest a registry's manifest endpoint takes (`latest` by default). */
export function referenceOf(ref: ImageRef): string {
  return ref.digest ?? ref.tag ?? "latest";
}
