import { defineCommand } from "citty";
import { log } from "../../../lib/log.ts";
import { outputArg, outputFormat, printData, rejectUnknownFlags } from "../_cli.ts";
import { jobIdArg } from "./_args.ts";

const args = {
  ...jobIdArg,
  forget: { type: "boolean", description: "remove the job's record too (else it stays, status Deleted, so -o cmd can resubmit it)" },
  ...outputArg,
} as const;

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
    const [{ parseJobId }, { deleteJob }, { jobStorePath }] = await Promise.all([
      import("../../../lib/jobs/validate.ts"),
      import("../../../lib/jobs/delete.ts"),
      import("../../../lib/jobs/store-path.ts"),
    ]);
    const done = await deleteJob({
      id: parseJobId(a.job_id),
      forget: a.forget === true,
      jobStore: await jobStorePath(process.env),
      config: async () => (await import("../../../lib/config/load.ts")).loadConfig({ env: process.env }),
      env: process.env,
    });
    const what = done.removed.length ? `removed ${done.removed.join(", ")}` : "nothing was left to remove";
    log.success(`job ${done.job_id} deleted (${what})${done.forgotten ? "; its record is gone too" : ""}`);
    if (format === "json") printData(done, format);
  },
});
