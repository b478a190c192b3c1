import { describe, expect, test } from "bun:test";
import { isIgnored, parseDockerignore } from "../../../lib/image-build/dockerignore.ts";

describe(".dockerignore matching (docker CLI semantics)", () => {
  const cases: [string, string, boolean][] = [
    ["*.pyc", "a.pyc", true],
    ["*.pyc", "dir/a.pyc", false],
    ["**/*.pyc", "dir/sub/a.pyc", true],
    ["**/*.pyc", "a.pyc", true],
    ["data", "data/big.bin", true],
    ["/data", "data/x", true],
    ["data/", "data/x", true],
    ["data", "mydata/x", false],
    ["d?ta", "data", true],
    ["[a-c]*", "bfile", true],
    ["[a-c]*", "dfile", false],
    ["*\n!keep.pyc", "keep.pyc", false],
    ["*\n!keep.pyc", "other", true],
    ["logs\n!logs/important.log", "logs/important.log", false],
    ["logs\n!logs/important.log", "logs/debug.log", true],
    ["# comment\n\n  .git  ", ".git/config", true],
    ["./build/../out", "out/a", true],
    ["!x\nx", "x", true],
  ];
  test.each(cases)("%p ~ %s → %p", (patterns, path, want) => {
    expect(isIgnored(path, parseDockerignore(patterns))).toBe(want);
  });
});
