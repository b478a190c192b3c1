/**
 * Turns the options of `seelie image cloud-build` into checked Pod inputs. Everything that can be
 * refused without a cluster is refused here, before any Pod exists.
 */
import type { SeelieConfig } from "../config/types.ts";
import { UsageError } from "../errors.ts";
import { assertBaseImageAllowed } from "../image/allowlist.ts";
import { platformImageName } from "../image/name.ts";
import { parseImageRef } from "../image/ref.ts";
import { parseBuildTool, prepareBuild } from "./prepare.ts";
import { DEFAULT_BUILDER_IMAGES } from "./tools.ts";
import type { CloudBuildInputs, ContextVolume } from "./types.ts";

/** The image carrying the compiled seelie CLI (`bun run build:cli`), for the prepare init container. */
export { DEFAULT_TOOLS_IMAGE } from "../config/load.ts";

/** The options as the command gives them (all strings, unchecked). */
export interface CloudBuildOptions {
  tool?: string;
  baseImage?: string;
  contextPvc?: string;
  contextNfs?: string;
  contextSubpath?: string;
  /** A local view of the same project (e.g. the NAS mounted on the workstation), checked before the Pod. */
  contextDir?: string;
  registrySecret?: string;
  image?: string;
  tag?: string;
  repoType?: string;
  namespace?: string;
  builderImage?: string;
  toolsImage?: string;
  name?: string;
  deadlineSeconds?: number;
  hostNetwork?: boolean;
}

const NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"; // Kubernetes' own generateName alphabet

/** A Pod name as `generateName: seelie-build-<tool>-` would give, chosen here so `kubectl apply` accepts it. */
export function generatedPodName(tool: string, random: () => number = Math.random): string {
  let suffix = "";
  for (let i = 0; i < 5; i++) suffix += NAME_CHARS[Math.floor(random() * NAME_CHARS.length)];
  return `seelie-build-${tool}-${suffix}`;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function checkName(value: string | undefined, flag: string, what: string, re = DNS_SUBDOMAIN, max = 253): string {
  if (!value) throw new UsageError(`${flag} is required`, `pass ${flag} with the name of the ${what}`);
  if (value.length > max || !re.test(value)) {
    throw new UsageError(`invalid ${flag} "${value}": not a Kubernetes object name`, "use lower-case letters, digits, '-' and '.'");
  }
  return value;
}

/** Parses `--context_nfs SERVER:/PATH`. */
export function parseNfs(value: string): { server: string; path: string } {
  const m = /^([^:/\s]+):(\/\S*)$/.exec(value);
  if (!m) throw new UsageError(`invalid --context_nfs "${value}"`, "use SERVER:/EXPORT/PATH, e.g. nas.example.com:/exports/ml");
  return { server: m[1]!, path: m[2]! };
}

/** Checks `--context_subpath`: relative, without `..`. */
export function checkSubpath(value: string | undefined): string {
  const v = (value ?? ".").trim() || ".";
  if (v.startsWith("/"))
    throw new UsageError(
      `--context_subpath "${v}" must be relative to the volume's root`,
      "drop the leading '/', e.g. --context_subpath alice/mnist",
    );
  if (v.split("/").includes(".."))
    throw new UsageError(`--context_subpath "${v}" must not contain '..'`, "give the project's path inside the volume");
  if (/[\s$`"'\\]/.test(v))
    throw new UsageError(
      `--context_subpath "${v}" has spaces or shell characters`,
      "rename the directory or mount a volume whose root is the project",
    );
  return v;
}

/** The prepare image: flag > SEELIE_TOOLS_IMAGE > `cloudBuild.toolsImage` in the config file > default. */
export function resolveToolsImage(flag: string | undefined, config: Pick<SeelieConfig, "toolsImage">): string {
  return flag || config.toolsImage;
}

/**
 * Checks every option and returns the Pod inputs: the tool, the base image (allow-listed), exactly one
 * context volume, the sub-path, the secret's name, the target image (`--image` or the platform name from
 * `--tag`/`--repo_type`), the builder and tools images. With `contextDir`, also runs the project checks
 * of the prepare step locally (ml.flag, Dockerfile FROMs), so a bad project fails before any Pod.
 */
export function resolveCloudBuildInputs(opts: CloudBuildOptions, config: SeelieConfig, notice?: (msg: string) => void): CloudBuildInputs {
  const tool = parseBuildTool(opts.tool);
  if (!opts.baseImage) throw new UsageError("--base_image is required", "pass --base_image=<registry>/<image>:<tag> from the allow list");
  parseImageRef(opts.baseImage, "--base_image");
  assertBaseImageAllowed(opts.baseImage, config.allowedBaseImages, "--base_image");

  if (opts.contextPvc && opts.contextNfs)
    throw new UsageError("--context_pvc and --context_nfs are exclusive", "give the project's volume once");
  let context: ContextVolume;
  if (opts.contextPvc) context = { pvc: checkName(opts.contextPvc, "--context_pvc", "PersistentVolumeClaim") };
  else if (opts.contextNfs) context = { nfs: parseNfs(opts.contextNfs) };
  else
    throw new UsageError(
      "no build context: --context_pvc NAME or --context_nfs SERVER:/PATH is required",
      "name the volume that holds the project",
    );
  const contextSubpath = checkSubpath(opts.contextSubpath);

  const registrySecret = checkName(opts.registrySecret, "--registry_secret", "kubernetes.io/dockerconfigjson Secret");
  // Empty only for --render without --namespace: the Pod then carries none and `kubectl -n` decides.
  const namespace = opts.namespace === "" ? "" : checkName(opts.namespace ?? "default", "--namespace", "namespace", DNS_LABEL, 63);

  let image: string;
  if (opts.image) {
    if (opts.tag || opts.repoType)
      throw new UsageError("--image cannot be combined with --tag/--repo_type", "give either --image REF or --tag and --repo_type");
    parseImageRef(opts.image, "--image");
    image = opts.image;
  } else {
    image = platformImageName({
      registryHost: config.registryHost,
      repo: config.repo,
      username: config.username,
      repoType: opts.repoType ?? "",
      tag: opts.tag ?? "",
    });
  }
  const builderImage = opts.builderImage || DEFAULT_BUILDER_IMAGES[tool];
  parseImageRef(builderImage, "--builder_image");
  const toolsImage = resolveToolsImage(opts.toolsImage, config);
  parseImageRef(toolsImage, "--tools_image");

  if (opts.contextDir) {
    // Same checks as the init container, on the workstation's view of the same project.
    prepareBuild({ projectDir: opts.contextDir, baseImage: opts.baseImage, tool, allowedBaseImages: config.allowedBaseImages, notice });
  }
  const name = opts.name ? checkName(opts.name, "--name", "Pod") : generatedPodName(tool);
  const inputs: CloudBuildInputs = {
    tool,
    baseImage: opts.baseImage,
    context,
    contextSubpath,
    registrySecret,
    image,
    namespace,
    builderImage,
    toolsImage,
    allowedBaseImages: config.allowedBaseImages,
    name,
  };
  if (opts.deadlineSeconds) inputs.deadlineSeconds = opts.deadlineSeconds;
  if (opts.hostNetwork) inputs.hostNetwork = true;
  return inputs;
}
