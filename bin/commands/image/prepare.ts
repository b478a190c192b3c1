import { type ArgsDef, defineCommand } from "citty";
import { runPrepare } from "../../../lib/cloud-build/prepare.ts";
import { outputArg, outputFormat, printData, rejectUnknownFlags } from "../_cli.ts";

const args = {
  project_dir: { type: "string", description: "the project (build context) to check, e.g. the mounted volume's sub-path", required: true },
  base_image: { type: "string", description: "base image (allow-listed); for --tool buildpacks the run image", required: true },
  tool: { type: "string", description: "kaniko|buildkit|buildah|buildpacks (what to write for the builder)", default: "buildkit" },
  out: { type: "string", description: "scratch directory to write the Dockerfile (or the Buildpacks app copy) into; omit to only check" },
  ...outputArg,
} as const satisfies ArgsDef;

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
    const out = runPrepare({ projectDir: a.project_dir, baseImage: a.base_image, tool: a.tool, outDir: a.out }, { env: process.env });
    printData(format === "json" ? out.document : out.text, format);
  },
});
