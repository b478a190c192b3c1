import { type ArgsDef, defineCommand } from "citty";
import { showConfig } from "../../lib/config/show.ts";
import { outputArg, outputFormat, printData, rejectUnknownFlags } from "./_cli.ts";

const args = { ...outputArg } as const satisfies ArgsDef;

/** `seelie config`: the effective configuration, where each value came from, secrets masked. */
export default defineCommand({
  meta: { name: "config", description: "Show the effective configuration and where each value came from (secrets masked)" },
  args,
  run({ args: a, rawArgs }) {
    rejectUnknownFlags(rawArgs, args);
    const format = outputFormat(a.output, ["text", "json"] as const);
    const shown = showConfig({ env: process.env });
    printData(format === "json" ? shown.json : shown.text, format);
  },
});
