/** `seelie image build`, as one call: the flags in (as given), the result and its text out. */
import { loadConfig } from "../config/load.ts";
import { UsageError } from "../errors.ts";
import { log, stderrProgress } from "../log.ts";
import { buildImage, type ImageBuildResult } from "./build.ts";
import { parseBackend } from "./engine-target.ts";

/** The command's options, as given. */
export interface ImageBuildCommandOptions {
  projectDir: string;
  baseImage?: string;
  tag: string;
  repoType: string;
  /** `local` or `remote`, checked here. */
  backend: string;
  region?: string;
  push: boolean;
  /** Every `--build-arg KEY=VALUE`, in order. */
  buildArgs: readonly string[];
  cache: boolean;
  dryRun: boolean;
  /** Overrides of the image name's parts (flag > env > file). */
  registryHost?: string;
  repo?: string;
  username?: string;
}

/** Parses `--build-arg KEY=VALUE` values (a later KEY wins). */
export function parseBuildArgs(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf("=");
    if (i <= 0) throw new UsageError(`invalid --build-arg "${v}"`, "write --build-arg KEY=VALUE");
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

/** The text a build prints: `image@digest` (or the name), or for a dry run the name and the Dockerfile. */
function buildText(result: ImageBuildResult): string {
  if (result.dryRun) return `image: ${result.image}\n\n${result.dockerfileText ?? ""}`;
  return result.digest ? `${result.image}@${result.digest}` : result.image;
}

/** Runs `seelie image build` and returns its result (`-o json`) and text. */
export async function runImageBuild(
  opts: ImageBuildCommandOptions,
  io: { env: Record<string, string | undefined>; signal?: AbortSignal },
): Promise<{ document: ImageBuildResult; text: string }> {
  const config = loadConfig({ env: io.env, flags: { registryHost: opts.registryHost, repo: opts.repo, username: opts.username } });
  const result = await buildImage(
    {
      projectDir: opts.projectDir,
      baseImage: opts.baseImage,
      tag: opts.tag,
      repoType: opts.repoType,
      backend: parseBackend(opts.backend),
      region: opts.region,
      push: opts.push,
      buildArgs: parseBuildArgs(opts.buildArgs),
      noCache: !opts.cache,
      dryRun: opts.dryRun,
    },
    { config, progress: stderrProgress, notice: (m) => log.info(m), signal: io.signal },
  );
  return { document: result, text: buildText(result) };
}
