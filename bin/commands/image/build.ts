import { type ArgsDef, defineCommand } from "citty";
import { runImageBuild } from "../../../lib/image-build/command.ts";
import { repoTypeArg, tagArg } from "../_args.ts";
import { interruptSignal, outputArg, outputFormat, printData, rejectUnknownFlags, repeated } from "../_cli.ts";

const args = {
  project_dir: { type: "string", description: "the project directory (build context; must hold ml.flag)", default: "." },
  base_image: { type: "string", description: "base image for the generated Dockerfile (allow-listed)" },
  tag: { ...tagArg.tag, description: "image tag", required: true },
  repo_type: { ...repoTypeArg.repo_type, description: "repository type, e.g. training, inference", required: true },
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

/** `seelie image build`: build the platform image of a project and optionally push it. */
export default defineCommand({
  meta: {
    name: "build",
    description: "Build {RegistryHost}/{Repo}/{username}-{repo_type}:{tag} from a project, on local Docker or a remote Podman region",
  },
  args,
  async run({ args: a, rawArgs }) {
    rejectUnknownFlags(rawArgs, args);
    const format = outputFormat(a.output, ["text", "json"] as const);
    const out = await runImageBuild(
      {
        projectDir: a.project_dir,
        baseImage: a.base_image,
        tag: a.tag,
        repoType: a.repo_type,
        backend: a.backend,
        region: a.region,
        push: a.push,
        buildArgs: repeated(rawArgs, ["--build-arg", "--build_arg"]),
        cache: a.cache,
        dryRun: a["dry-run"],
        registryHost: a.registry_host,
        repo: a.repo,
        username: a.username,
      },
      { env: process.env, signal: interruptSignal() },
    );
    printData(format === "json" ? out.document : out.text, format);
  },
});
