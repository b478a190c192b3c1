import { type ArgsDef, defineCommand } from "citty";
import { jobIdArg } from "../_args.ts";
import { interruptSignal, rejectUnknownFlags } from "../_cli.ts";

const args = {
  ...jobIdArg,
  worker: { type: "string", description: "only this worker (its index, 0 for worker-0); default: all, each line prefixed with its worker" },
  follow: { type: "boolean", alias: "f", description: "keep printing new output until the job's workers stop (Ctrl-C to stop earlier)" },
  tail: { type: "string", description: "only the last K lines of each worker" },
  since: { type: "string", description: "only output newer than this, e.g. 10m, 1h30m" },
  timestamps: { type: "boolean", description: "start each line with its time (RFC 3339)" },
} as const satisfies ArgsDef;

/** `seelie job logs`: what a job's workers print. */
export default defineCommand({
  meta: { name: "logs", description: "Print a job's worker output (local containers or the TFJob's pods)" },
  args,
  async run({ args: a, rawArgs }) {
    rejectUnknownFlags(rawArgs, args);
    const { runJobLogs } = await import("../../../lib/jobs/logs.ts");
    await runJobLogs(
      { jobId: a.job_id, worker: a.worker, follow: a.follow === true, tail: a.tail, since: a.since, timestamps: a.timestamps === true },
      {
        env: process.env,
        sink: { stdout: (c) => process.stdout.write(c), stderr: (c) => process.stderr.write(c) },
        signal: interruptSignal(),
      },
    );
  },
});
