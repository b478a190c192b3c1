import { UsageError } from "../errors.ts";
import { isValidTag, parseImageRef } from "./ref.ts";

/** What makes up a platform image name. */
export interface ImageNameParts {
  registryHost: string;
  repo: string;
  username: string;
  repoType: string;
  tag: string;
}

const NAME_PART_RE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/**
 * The platform's image name `{RegistryHost}/{Repo}/{username}-{repo_type}:{tag}`.
 * Throws a UsageError naming the part that is invalid.
 */
export function platformImageName(p: ImageNameParts): string {
  const check = (value: string, what: string, hint: string) => {
    if (!value) throw new UsageError(`${what} is not set`, hint);
  };
  check(p.registryHost, "the registry host", "set registry.host in ~/.seelie/config.yaml or SEELIE_REGISTRY_HOST");
  check(p.repo, "the registry repo (namespace)", "set registry.repo in ~/.seelie/config.yaml or SEELIE_REPO");
  check(p.username, "the username", "set username in ~/.seelie/config.yaml or SEELIE_USERNAME");
  check(p.repoType, "--repo_type", "pass --repo_type, e.g. --repo_type=training");
  check(p.tag, "--tag", "pass --tag, e.g. --tag=v1");
  if (!NAME_PART_RE.test(p.repoType)) {
    throw new UsageError(`invalid --repo_type "${p.repoType}"`, "use lower-case letters, digits, '.', '_' or '-', e.g. training");
  }
  if (!NAME_PART_RE.test(p.username)) {
    throw new UsageError(`invalid username "${p.username}"`, "use lower-case letters, digits, '.', '_' or '-' (SEELIE_USERNAME)");
  }
  if (!isValidTag(p.tag)) {
    throw new UsageError(
      `invalid --tag "${p.tag}"`,
      "a tag is 1-128 characters of letters, digits, '_', '.', '-', not starting with '.' or '-'",
    );
  }
  const name = `${p.registryHost.replace(/\/+$/, "")}/${p.repo.replace(/^\/+|\/+$/g, "")}/${p.username}-${p.repoType}:${p.tag}`;
  parseImageRef(name, "image name");
  return name;
}
