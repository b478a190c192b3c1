#!/usr/bin/env bun
/**
 * seelie — the ML platform's command-line client. Commands load lazily: only the one you run is
 * imported (literal import paths, so `bun build --compile` bundles them all).
 */
import { defineCommand, runCommand, runMain } from "citty";
import pkg from "../package.json" with { type: "json" };
import { useLeanEngineModules } from "../lib/engine/lean-modules.ts";
import { reportError, showUsage } from "./commands/_cli.ts";

useLeanEngineModules();

const main = defineCommand({
  meta: {
    name: "seelie",
    version: pkg.version,
    description: "Build, commit and push images; submit and reproduce jobs on the seelie ML platform",
  },
  subCommands: {
    image: () => import("./commands/image.ts").then((m) => m.default),
    submit: () => import("./commands/submit.ts").then((m) => m.default),
    job: () => import("./commands/job.ts").then((m) => m.default),
    config: () => import("./commands/config.ts").then((m) => m.default),
  },
});

const argv = process.argv.slice(2);
if (argv.length === 0 || argv.includes("--help") || argv.includes("-h") || (argv.length === 1 && argv[0] === "--version")) {
  await runMain(main, { rawArgs: argv, showUsage });
} else {
  try {
    await runCommand(main, { rawArgs: argv });
  } catch (err) {
    process.exitCode = reportError(err);
  }
}
