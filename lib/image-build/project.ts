import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { UsageError, errorMessage } from "../errors.ts";
import { assertBaseImageAllowed } from "../image/allowlist.ts";
import { generateDockerfile, parseFromLines } from "../image/dockerfile.ts";
import { parseImageRef } from "../image/ref.ts";

/** The marker file that makes a directory a seelie project. */
export const PROJECT_MARKER = "ml.flag";

/** What a build needs to know about a project, checked (SPEC §1 build logic). */
export interface PreparedProject {
  /** Absolute path of the build context. */
  contextDir: string;
  /** The Dockerfile's text: the project's own or the generated one. */
  dockerfile: string;
  /** True when seelie generated the Dockerfile (the project has none). */
  generated: boolean;
  /** The images the build pulls (every FROM that is not an earlier stage or scratch), allow-listed. */
  baseImages: string[];
  /** Build args to pass (the user's, plus BASE_IMAGE when --base_image is given with a project Dockerfile). */
  buildArgs: Record<string, string>;
}

/** Inputs of prepareProject. */
export interface PrepareOptions {
  projectDir: string;
  baseImage?: string;
  allowedBaseImages: readonly string[];
  buildArgs?: Record<string, string>;
  /** Called with notes worth telling the user (e.g. how --base_image is used with a project Dockerfile). */
  notice?: (msg: string) => void;
}

/**
 * Checks a project and decides its Dockerfile: the directory exists and holds `ml.flag`; the project's
 * `Dockerfile` is used when present (every external FROM must be allow-listed), else one is generated
 * from `baseImage` (required then, and allow-listed). Pure apart from reading the project directory.
 */
export function prepareProject(opts: PrepareOptions): PreparedProject {
  const contextDir = resolve(opts.projectDir);
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(contextDir);
  } catch (err) {
    throw new UsageError(
      `project_dir ${contextDir} cannot be read: ${errorMessage(err)}`,
      "pass --project_dir pointing at your project directory",
    );
  }
  if (!st.isDirectory())
    throw new UsageError(`project_dir ${contextDir} is not a directory`, "pass --project_dir pointing at your project directory");
  let marker: ReturnType<typeof statSync>;
  try {
    marker = statSync(join(contextDir, PROJECT_MARKER));
  } catch {
    throw new UsageError(
      `${contextDir} has no ${PROJECT_MARKER} at its root, so it is not a seelie project; nothing was built`,
      `check --project_dir, or mark the project with: touch ${join(contextDir, PROJECT_MARKER)}`,
    );
  }
  if (!marker.isFile())
    throw new UsageError(`${join(contextDir, PROJECT_MARKER)} is not a regular file`, `make ${PROJECT_MARKER} a plain (even empty) file`);

  const buildArgs = { ...(opts.buildArgs ?? {}) };
  const dockerfilePath = join(contextDir, "Dockerfile");
  let own: string | undefined;
  try {
    if (statSync(dockerfilePath).isFile()) own = readFileSync(dockerfilePath, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new UsageError(`cannot read ${dockerfilePath}: ${errorMessage(err)}`, "check the file's permissions");
    }
  }

  if (own !== undefined) {
    if (opts.baseImage) {
      parseImageRef(opts.baseImage, "--base_image");
      if (buildArgs.BASE_IMAGE === undefined) buildArgs.BASE_IMAGE = opts.baseImage;
      opts.notice?.(`${dockerfilePath} is used; --base_image is passed to it as the build arg BASE_IMAGE`);
    }
    const froms = parseFromLines(own, buildArgs);
    const baseImages: string[] = [];
    for (const f of froms) {
      if (f.internal) continue;
      parseImageRef(f.image, `image in FROM (Dockerfile line ${f.line})`);
      assertBaseImageAllowed(f.image, opts.allowedBaseImages, `the base image of ${dockerfilePath} line ${f.line}`);
      if (!baseImages.includes(f.image)) baseImages.push(f.image);
    }
    return { contextDir, dockerfile: own, generated: false, baseImages, buildArgs };
  }

  if (!opts.baseImage) {
    throw new UsageError(
      `${contextDir} has no Dockerfile, so --base_image is required`,
      "pass --base_image=<registry>/<image>:<tag>, or add a Dockerfile to the project",
    );
  }
  parseImageRef(opts.baseImage, "--base_image");
  assertBaseImageAllowed(opts.baseImage, opts.allowedBaseImages, "--base_image");
  return {
    contextDir,
    dockerfile: generateDockerfile(opts.baseImage, Object.keys(buildArgs)),
    generated: true,
    baseImages: [opts.baseImage],
    buildArgs,
  };
}
