import { type ArgsDef, defineCommand } from "citty";
import { log } from "../../../lib/log.ts";
import { jobIdArg } from "../_args.ts";
import { outputFormat, rejectUnknownFlags } from "../_cli.ts";

const args = {
  ...jobIdArg,
  output: {
    type: "string",
    alias: "o",
    description: "text, json, yaml, or cmd (the submit command that reproduces the job)",
    default: "text",
  },
  show_secrets: { type: "boolean", description: "print secret-looking -E values instead of masking them / ${KEY} references" },
} as const satisfies ArgsDef;

/** `seelie job get`: one job, with its live status, or the command that resubmits it. */
export default defineCommand({
  meta: { name: "get", description: "Show a job (live status), or with -o cmd the seelie command that resubmits it" },
  args,
  async run({ args: a, rawArgs }) {
    rejectUnknownFlags(rawArgs, args);
    const format = outputFormat(a.output, ["text", "json", "yaml", "cmd"] as const);
    const { runJobGet } = await import("../../../lib/jobs/get.ts");
    const shown = await runJobGet({ jobId: a.job_id, format, showSecrets: a.show_secrets === true }, { env: process.env });
    for (const w of shown.warnings) log.warn(w);
    // Bun.write, not process.stdout: node:stream costs ~7 ms of start-up.
    await Bun.write(Bun.stdout, shown.stdout);
  },
});
