import { type ArgsDef, defineCommand } from "citty";
import { log } from "../../../lib/log.ts";
import { jobIdArg } from "../_args.ts";
import { outputArg, outputFormat, printData, rejectUnknownFlags } from "../_cli.ts";

const args = {
  ...jobIdArg,
  forget: { type: "boolean", description: "remove the job's record too (else it stays, status Deleted, so -o cmd can resubmit it)" },
  ...outputArg,
} as const satisfies ArgsDef;

/** `seelie job delete`: removes what a job runs on (containers and network, or the TFJob and its pods). */
export default defineCommand({
  meta: {
    name: "delete",
    description: "Delete a job: its local containers and network, or its TFJob and pods; --forget removes the record too",
  },
  args,
  async run({ args: a, rawArgs }) {
    rejectUnknownFlags(rawArgs, args);
    const format = outputFormat(a.output, ["text", "json"] as const);
    const { runJobDelete } = await import("../../../lib/jobs/delete.ts");
    const done = await runJobDelete({ jobId: a.job_id, forget: a.forget === true }, { env: process.env });
    log.success(done.text);
    if (format === "json") printData(done.document, format);
  },
});
