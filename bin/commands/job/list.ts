import { type ArgsDef, defineCommand } from "citty";
import { outputArg, outputFormat, rejectUnknownFlags } from "../_cli.ts";

const args = {
  status: { type: "string", description: "only jobs with this (last known) status" },
  cluster: { type: "string", description: "only jobs on this cluster (local or a context)" },
  name: { type: "string", description: "only jobs whose name contains this (any case)" },
  limit: { type: "string", description: "at most this many jobs", default: "20" },
  refresh: { type: "boolean", description: "ask the backends for the live status (and each worker's state) first" },
  show_secrets: { type: "boolean", description: "with -o json, print secret-looking -E values" },
  ...outputArg,
} as const satisfies ArgsDef;

/** `seelie job list`: recorded jobs, newest first. */
export default defineCommand({
  meta: { name: "list", description: "List recorded jobs, newest first (last known status; --refresh asks the backends)" },
  args,
  async run({ args: a, rawArgs }) {
    rejectUnknownFlags(rawArgs, args);
    const format = outputFormat(a.output, ["text", "json"] as const);
    const { runJobList } = await import("../../../lib/jobs/get.ts");
    const shown = await runJobList(
      {
        status: a.status,
        cluster: a.cluster,
        name: a.name,
        limit: a.limit,
        refresh: a.refresh === true,
        showSecrets: a.show_secrets === true,
        format,
      },
      { env: process.env },
    );
    if (shown.warnings.length) (await import("../../../lib/log.ts")).log.warn(shown.warnings.join("\n"));
    // Bun.write, not process.stdout: node:stream costs ~7 ms of start-up.
    await Bun.write(Bun.stdout, shown.stdout);
  },
});
