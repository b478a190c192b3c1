import { defineCommand } from "citty";
import { interruptSignal, outputArg, outputFormat, printData, rejectUnknownFlags } from "../_cli.ts";
import { jobIdArg } from "./_args.ts";

const args = {
  ...jobIdArg,
  for: { type: "string", description: "the status to wait for: Succeeded, Failed or Running", default: "Succeeded" },
  timeout: { type: "string", description: "give up after this long, e.g. 30m (default: no limit; 0s looks once)" },
  ...outputArg,
} as const;

/** `seelie job wait`: exits 0 when the job reaches --for, 1 when it ends otherwise or times out (as kubectl wait). */
export default defineCommand({
  meta: {
    name: "wait",
    description:
      "Wait until a job is Succeeded (or --for Failed|Running): exit 0 when reached, 1 when it ends otherwise or --timeout passes",
  },
  args,
  async run({ args: a, rawArgs }) {
    rejectUnknownFlags(rawArgs, args);
    const format = outputFormat(a.output, ["text", "json"] as const);
    const [{ parseJobId }, { waitJob }, { jobStorePath }] = await Promise.all([
      import("../../../lib/jobs/validate.ts"),
      import("../../../lib/jobs/wait.ts"),
      import("../../../lib/jobs/store-path.ts"),
    ]);
    const waited = await waitJob({
      id: parseJobId(a.job_id),
      for: a.for,
      timeout: a.timeout,
      jobStore: await jobStorePath(process.env),
      config: async () => (await import("../../../lib/config/load.ts")).loadConfig({ env: process.env }),
      env: process.env,
      signal: interruptSignal(),
    });
    printData(format === "json" ? waited.document : waited.text, format);
    if (waited.error) throw waited.error;
  },
});
