/**
 * Colour only on a terminal, NO_COLOR and FORCE_COLOR honoured: the decision as a table, and the real
 * CLI entry points spawned with stdout/stderr piped (as `seelie --help > file` or `| less` run them).
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { colourEnabled, stripColour } from "../../lib/log.ts";

const ROOT = join(import.meta.dir, "../..");
const ESC = "\u001B[";

describe("colourEnabled", () => {
  const cases: [string, boolean | undefined, Record<string, string>, boolean][] = [
    ["terminal", true, {}, true],
    ["pipe or file", false, {}, false],
    ["unknown stream", undefined, {}, false],
    ["terminal, NO_COLOR=1", true, { NO_COLOR: "1" }, false],
    ["terminal, NO_COLOR=yes (any non-empty value)", true, { NO_COLOR: "yes" }, false],
    ["terminal, NO_COLOR empty (ignored, as no-color.org says)", true, { NO_COLOR: "" }, true],
    ["terminal, TERM=dumb", true, { TERM: "dumb" }, false],
    ["pipe, FORCE_COLOR=1", false, { FORCE_COLOR: "1" }, true],
    ["pipe, FORCE_COLOR empty", false, { FORCE_COLOR: "" }, true],
    ["pipe, FORCE_COLOR=1 beats NO_COLOR", false, { FORCE_COLOR: "1", NO_COLOR: "1" }, true],
    ["terminal, FORCE_COLOR=0", true, { FORCE_COLOR: "0" }, false],
    ["terminal, FORCE_COLOR=false", true, { FORCE_COLOR: "false" }, false],
  ];
  test.each(cases)("%s", (_name, tty, env, want) => expect(colourEnabled(tty, env)).toBe(want));

  test("stripColour drops SGR escapes only", () => {
    expect(stripColour(`${ESC}4m${ESC}1mUSAGE${ESC}22m${ESC}24m ${ESC}36mx${ESC}39m ✔`)).toBe("USAGE x ✔");
  });
});

/** The environment of a user's shell: none of the variables that would turn citty's colours off. */
function userEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !["NO_COLOR", "FORCE_COLOR", "CI", "TEST", "TERM"].includes(k)) env[k] = v;
  return { ...env, TERM: "xterm-256color", ...extra };
}

async function spawn(argv: string[], env: Record<string, string>): Promise<{ stdout: string; stderr: string; code: number }> {
  const p = Bun.spawn(["bun", ...argv], { cwd: ROOT, env, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { stdout, stderr, code };
}

describe("the CLI with its output piped", () => {
  const helps: string[][] = [
    ["bin/seelie.ts", "--help"],
    ["bin/seelie.ts", "image", "build", "--help"],
    ["bin/seelie.ts", "image", "--help"],
    ["bin/seelie-committer.ts", "--help"],
  ];
  test.each(helps)(
    "%s %s …: no escapes; FORCE_COLOR=1 brings them back",
    async (...argv) => {
      const plain = await spawn(argv, userEnv());
      expect(plain.code).toBe(0);
      expect(plain.stdout).toContain("USAGE");
      expect(plain.stdout).not.toContain(ESC);
      const forced = await spawn(argv, userEnv({ FORCE_COLOR: "1" }));
      expect(forced.stdout).toContain(ESC);
      expect(stripColour(forced.stdout)).toBe(plain.stdout);
    },
    30_000,
  );

  test("errors on stderr: plain in a pipe, coloured with FORCE_COLOR, plain with NO_COLOR", async () => {
    const argv = ["bin/seelie.ts", "image", "build", "--tag", "x"];
    const plain = await spawn(argv, userEnv());
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain("ERROR Missing required argument: --repo_type");
    expect(plain.stderr).not.toContain(ESC);
    const forced = await spawn(argv, userEnv({ FORCE_COLOR: "1" }));
    expect(forced.stderr).toContain(`${ESC}31mERROR `);
    const none = await spawn(argv, userEnv({ NO_COLOR: "1" }));
    expect(none.stderr).not.toContain(ESC);
  }, 30_000);
});
