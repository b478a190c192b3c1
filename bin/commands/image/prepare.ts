import { defineCommand } from "citty";
import { prepareBuild } from "../../../lib/cloud-build/prepare.ts";
import { loadConfig } from "../../../lib/config/load.ts";
import { log } from "../../../lib/log.ts";
import { outputArg, outputFormat, printData, rejectUnknownFlags } from "../_cli.ts";

const args = {
  project_dir: { type: "string", description: "the project (build context) to check, e.g. the mounted volume's sub-path", required: true },
  base_image: { type: "string", description: "base image (allow-listed); for --tool buildpacks the run image", required: true },
  tool: { type: "string", description: "kaniko|buildkit|buildah|buildpacks (what to write for the builder)", default: "buildkit" },
  out: { type: "string", description: "scratch directory to write the Dockerfile (or the Buildpacks app copy) into; omit to only check" },
  ...outputArg,
} as const;

/** `seelie image prepare`: the in-cluster build's init step — the same project checks as image build, output into a scratch dir. */
export default defineCommand({
  meta: {
    name: "prepare",
    description: "Check a project (ml.flag, Dockerfile, base-image allow list) and write the build's Dockerfile into a scratch directory",
  },
  args,
  run({ args: a, rawArgs }) {
    rejectUnknownFlags(rawArgs, args);
    const format = outputFormat(a.output, ["text", "json"] as const);
    const cfg = loadConfig({ env: process.env });
    const result = prepareBuild({
      projectDir: String(a.project_dir),
      baseImage: String(a.base_image),
      tool: String(a.tool),
      outDir: a.out ? String(a.out) : undefined,
      allowedBaseImages: cfg.allowedBaseImages,
      notice: (m) => log.warn(m),
    });
    log.info(
      `project ${result.projectDir} is ready for ${result.tool}: ${result.generated ? "generated Dockerfile" : "project Dockerfile"}, base ${result.baseImages.join(", ")}${result.written.length ? `; wrote ${result.written.join(", ")} into ${a.out}` : ""}`,
    );
    printData(format === "json" ? result : `ok ${result.tool} ${result.projectDir}`, format);
  },
});
