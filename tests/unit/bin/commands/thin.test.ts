/**
 * Every command file stays thin (docs/DEVELOPING.md): it parses flags and calls ONE lib/ entry point.
 * Read from the source: the lib/ modules a command imports, besides lib/log.ts (stderr) and the
 * defaults it shows in its help, must be exactly one. commit-container.ts is the committer's contract
 * and is left out until it has its own entry point (issue 11).
 */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const ROOT = join(import.meta.dir, "../../../..");
const COMMANDS = join(ROOT, "bin/commands");
const NOT_CALLED = new Set(["lib/log.ts"]);
/** Imports for a help text only (a value shown as a flag's default), never called. */
const HELP_ONLY: Record<string, string> = { "submit/tfjob.ts": "lib/jobs/validate.ts" };
const MAPS = new Set(["image.ts", "job.ts", "submit.ts"]);

function commandFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return commandFiles(p);
    return e.name.startsWith("_") || (dir === COMMANDS && MAPS.has(e.name)) ? [] : [p];
  });
}

const files = commandFiles(COMMANDS)
  .map((f) => relative(COMMANDS, f))
  .filter((f) => f !== "image/commit-container.ts")
  .sort();

test("the command files are found", () => {
  expect(files).toContain("image/commit.ts");
  expect(files).toContain("job/wait.ts");
  expect(files.length).toBeGreaterThanOrEqual(11);
});

test.each(files)("%s calls one lib/ entry point", (file) => {
  const text = readFileSync(join(COMMANDS, file), "utf8");
  const specs = [...text.matchAll(/(?:from\s+|import\()\s*"([^"]+)"/g)].map((m) => m[1] ?? "");
  const libs = new Set(
    specs
      .filter((s) => s.startsWith("."))
      .map((s) => relative(ROOT, join(COMMANDS, file, "..", s)))
      .filter((p) => p.startsWith("lib/") && !NOT_CALLED.has(p) && p !== HELP_ONLY[file]),
  );
  expect([...libs]).toHaveLength(1);
});
