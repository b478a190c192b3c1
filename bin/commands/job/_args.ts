import type { ArgsDef } from "citty";

/** `--job_id N`, shared by the job commands. */
export const jobIdArg = {
  job_id: { type: "string", description: "the job's id (seelie job list shows them)" },
} as const satisfies ArgsDef;
