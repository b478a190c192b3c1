import { defineCommand } from "citty";
import { log } from "../../../lib/log.ts";
import { outputFormat, rejectUnknownFlags } from "../_cli.ts";
import { jobIdArg } from "./_args.ts";

const args = {
  ...jobIdArg,
  output: {
    type: "string",
    alias: "o",
    description: "text, json, yaml, or cmd (the submit command that reproduces the job)",
    default: "text",
  },
  show_secrets: { type: "boolean", description: "print secret-looking -E values instead of masking them / ${KEY} references" },
} as const;

/** `seelie job get`: one job, with its live status, or the command that resubmits it. */
export default defineCommand({
  meta: { name: "get", description: "Show a job (live status), or with -o cmd the seelie command that resubmits it" },
  args,
  async run({ args: a, rawArgs }) {
    rejectUnknownFlags(rawArgs, args);
    const format = outputFormat(a.output, ["text", "json", "yaml", "cmd"] as const);
    const { parseJobId } = await import("../../../lib/jobs/validate.ts");
    const id = parseJobId(a.job_id);
    const [{ getJob }, { jobStorePath }] = await Promise.all([
      import("../../../lib/jobs/get.ts"),
      import("../../../lib/jobs/store-path.ts"),
    ]);
    const shown = await getJob({
      id,
      format,
      showSecrets: a.show_secrets === true,
      jobStore: await jobStorePath(process.env),
      config: async () => (await import("../../../lib/config/load.ts")).loadConfig({ env: process.env }),
      env: process.env,
    });
    for (const w of shown.warnings) log.warn(w);
    // Bun.write, not process.stdout: node:stream costs ~7 ms of start-up.
    await Bun.write(Bun.stdout, shown.stdout);
  },
});
