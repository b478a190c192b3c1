#!/usr/bin/env bun
/**
 * seelie-committer — runs in the committer pod on the node of the target container: clean, commit,
 * push, remove. The same command as `seelie image commit-container`; compiled by `bun run build:committer`.
 */
import { runCommand } from "citty";
import pkg from "../package.json" with { type: "json" };
import command from "./commands/image/commit-container.ts";
import { reportError, showUsage } from "./commands/_cli.ts";

const main = { ...command, meta: { ...command.meta, name: "seelie-committer", version: pkg.version } };
const argv = process.argv.slice(2);
if (argv.includes("--help") || argv.includes("-h")) {
  await showUsage(main);
} else if (argv.length === 1 && argv[0] === "--version") {
  process.stdout.write(`${pkg.version}\n`);
} else {
  try {
    await runCommand(main, { rawArgs: argv });
    process.exit(0);
  } catch (err) {
    process.exit(reportError(err));
  }
}
