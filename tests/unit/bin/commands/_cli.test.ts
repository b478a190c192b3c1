import { describe, expect, test } from "bun:test";
import { rejectUnknownFlags, repeated } from "../../../../bin/commands/_cli.ts";

const args = {
  project_dir: { type: "string" },
  cpu: { type: "string" },
  push: { type: "boolean" },
  cache: { type: "boolean", default: true },
  output: { type: "string", alias: "o" },
  env: { type: "string", alias: "E" },
} as const;

describe("rejectUnknownFlags", () => {
  const ok: string[][] = [
    ["--project_dir", "x"],
    ["--project-dir=x", "--push"],
    ["--no-cache", "-o", "json"],
    ["--cpu", "-1"],
    ["-E", "-x=1", "--env", "--weird"],
    ["--", "--anything"],
  ];
  test.each(ok)("accepts %p", (...argv) => expect(() => rejectUnknownFlags(argv, args)).not.toThrow());
  const bad: [string[], string][] = [
    [["--projectdir", "x"], "--projectdir"],
    [["--push", "--bogus=1"], "--bogus"],
    [["-x"], "-x"],
    [["--no-such"], "--no-such"],
  ];
  test.each(bad)("refuses %p naming %s", (argv, name) => expect(() => rejectUnknownFlags(argv, args)).toThrow(`unknown flag ${name}`));
});

describe("repeated", () => {
  test("collects every value in order, in both spellings", () => {
    expect(repeated(["--build-arg", "A=1", "-E", "X=2", "--build-arg=B=2", "--", "--build-arg", "C"], ["--build-arg"])).toEqual([
      "A=1",
      "B=2",
    ]);
  });
  test("a flag without its value is an error", () => {
    expect(() => repeated(["--build-arg"], ["--build-arg"])).toThrow(/needs a value/);
  });
});
