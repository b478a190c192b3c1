import { defineCommand, type ArgsDef } from "citty";
import { buildImage } from "../../../lib/image-build/build.ts";
import { parseBackend } from "../../../lib/image-build/engine-target.ts";
import { loadConfig } from "../../../lib/config/load.ts";
import { UsageError } from "../../../lib/errors.ts";
import { log, stderrProgress } from "../../../lib/log.ts";
import { interruptSignal, outputArg, outputFormat, printData, rejectUnknownFlags, repeated } from "../_cli.ts";

const args = {
  project_dir: { type: "string", description: "the project directory (build context; must hold ml.flag)", default: "." },
  base_image: { type: "string", description: "base image for the generated Dockerfile (allow-listed)" },
  tag: { type: "string", description: "image tag", required: true },
  repo_type: { type: "string", description: "repository type, e.g. training, inference", required: true },
  backend: { type: "string", description: "local (Docker here) or remote (a regional Podman server)", default: "local" },
  region: { type: "string", description: "remote region (default: the config's defaultRegion)" },
  push: { type: "boolean", description: "push the image after building", default: false },
  "build-arg": { type: "string", description: "KEY=VALUE build argument (repeatable)" },
  cache: { type: "boolean", description: "use the build cache (--no-cache to disable)", default: true },
  "dry-run": { type: "boolean", description: "print the image name and Dockerfile, build nothing", default: false },
  registry_host: { type: "string", description: "registry host of the image name (overrides config)" },
  repo: { type: "string", description: "registry repo/namespace of the image name (overrides config)" },
  username: { type: "string", description: "username in the image name (overrides config)" },
  ...outputArg,
} as const satisfies ArgsDef;

function parseBuildArgs(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf("=");
    if (i <= 0) throw new UsageError(`invalid --build-arg "${v}"`, "write --build-arg KEY=VALUE");
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

/** `seelie image build`: build the platform image of a project and optionally push it. */
export default defineCommand({
  meta: { name: "build", description: "Build {RegistryHost}/{Repo}/{username}-{repo_type}:{tag} from a project, on local Docker or a remote Podman region" },
  args,
  async run({ args: a, rawArgs }) {
    rejectUnknownFlags(rawArgs, args);
    const format = outputFormat(a.output, ["text", "json"] as const);
    const config = loadConfig({ flags: { registryHost: a.registry_host, repo: a.repo, username: a.username } });
    const result = await buildImage(
      {
        projectDir: a.project_dir,
        baseImage: a.base_image,
        tag: a.tag,
        repoType: a.repo_type,
        backend: parseBackend(a.backend),
        region: a.region,
        push: a.push,
        buildArgs: parseBuildArgs(repeated(rawArgs, ["--build-arg", "--build_arg"])),
        noCache: a.cache === false,
        dryRun: a["dry-run"],
      },
      { config, progress: stderrProgress, notice: (m) => log.info(m), signal: interruptSignal() },
    );
    if (format === "json") return printData(result, "json");
    if (result.dryRun) return printData(`image: ${result.image}\n\n${result.dockerfileText ?? ""}`, "text");
    printData(result.digest ? `${result.image}@${result.digest}` : result.image, "text");
  },
});
