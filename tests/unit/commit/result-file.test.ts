import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errorDocument, resultFilePath, writeResultFile } from "../../../lib/commit/result-file.ts";
import { parseCommitterOutput } from "../../../lib/commit-pod/committer-result.ts";

test("the committer's result file round-trips through the launcher's parser", () => {
  const dir = mkdtempSync(join(tmpdir(), "seelie-result-"));
  const doc = { image: "r/x:1", digest: "sha256:abc", size: 1, layers: 1, timings: { total: 5 } };
  expect(writeResultFile(join(dir, "ok"), doc)).toBeUndefined();
  expect(parseCommitterOutput(readFileSync(join(dir, "ok"), "utf8"), "")).toEqual(doc);
  expect(writeResultFile(join(dir, "err"), errorDocument({ message: "boom", hint: "h", exitCode: 2 }))).toBeUndefined();
  expect(parseCommitterOutput(readFileSync(join(dir, "err"), "utf8"), "")).toEqual({ error: { message: "boom", hint: "h", exitCode: 2 } });
  expect(writeResultFile(join(dir, "no/such/dir"), doc)).toMatch(/cannot write the result file/);
  expect(writeResultFile("/dev/termination-log", { big: "x".repeat(5000) })).toMatch(/longer than a termination message/);
  const many = {
    ...doc,
    cleanup: { skipped: false, files: 300, bytes: 9, removed: Array.from({ length: 300 }, (_, i) => `/tmp/file-${i}`) },
  };
  expect(writeResultFile(join(dir, "many"), many)).toBeUndefined();
  expect(JSON.parse(readFileSync(join(dir, "many"), "utf8")).cleanup).toEqual({ skipped: false, files: 300, bytes: 9, removed: 300 });
});

test("the result file comes from the flag, else SEELIE_RESULT_FILE", () => {
  expect(resultFilePath("/a", { SEELIE_RESULT_FILE: "/b" })).toBe("/a");
  expect(resultFilePath(undefined, { SEELIE_RESULT_FILE: "/b" })).toBe("/b");
  expect(resultFilePath(undefined, {})).toBeUndefined();
});
