import { describe, expect, test } from "bun:test";
import {
  LogRelay,
  errorFromLog,
  formatCommitResult,
  parseCommitterOutput,
  timingsInSeconds,
  trailingJson,
} from "../../../lib/commit-pod/committer-result.ts";

const result = {
  image: "r/x:1",
  digest: "sha256:abc",
  size: 2048,
  layers: 3,
  runtime: "docker",
  containerId: "abc",
  cleanup: { skipped: false, files: 2, bytes: 10, removed: [] },
  timings: { clean: 100, commit: 900, push: 500, remove: 20, total: 1520 },
};
const pretty = JSON.stringify(result, null, 2);

describe("parseCommitterOutput", () => {
  test("the termination message wins", () => {
    expect(parseCommitterOutput(JSON.stringify(result), "garbage")).toEqual(result);
  });
  test("else the JSON document that ends the log, pretty or one line", () => {
    const log = `ℹ cleaning\nℹ committing\n${pretty}\n`;
    expect(parseCommitterOutput(undefined, log)).toEqual(result);
    expect(parseCommitterOutput("", `x\n${JSON.stringify(result)}\n`)).toEqual(result);
    expect(trailingJson(`a\n{ not json\n${pretty}`)).toBe(pretty);
  });
  test("a fallback-to-logs termination message is not JSON: the log is used", () => {
    expect(parseCommitterOutput("ℹ pushing\n ERROR  boom", `ℹ pushing\n${pretty}`)).toEqual(result);
  });
  test("an error document", () => {
    expect(parseCommitterOutput(JSON.stringify({ error: { message: "no such container", hint: "h", exitCode: 1 } }), "")).toEqual({
      error: { message: "no such container", hint: "h", exitCode: 1 },
    });
  });
  test("nothing", () => expect(parseCommitterOutput(undefined, "ℹ hello\n")).toBeUndefined());
});

test("errorFromLog takes the last consola error and its hint", () => {
  const log = "ℹ connecting\n\n ERROR  container docker://abc not found\n\nℹ hint: check the id\n";
  expect(errorFromLog(log)).toEqual({ message: "container docker://abc not found", hint: "check the id" });
  expect(errorFromLog("just a line\n")).toEqual({ message: "just a line" });
  expect(errorFromLog("")).toBeUndefined();
});

describe("LogRelay", () => {
  const run = (chunks: string[]) => {
    const lines: string[] = [];
    const r = new LogRelay((l) => lines.push(l));
    for (const c of chunks) r.push(c);
    r.end();
    return { lines, text: r.text };
  };
  test("passes progress through, split across chunks, and drops the trailing result", () => {
    const { lines, text } = run(["ℹ clea", "ning\nℹ push", "ing\n", pretty.slice(0, 20), `${pretty.slice(20)}\n`]);
    expect(lines).toEqual(["ℹ cleaning", "ℹ pushing"]);
    expect(text).toContain(pretty);
  });
  test("shows a held block that is not the result", () => {
    expect(run(["{ hello\nworld\n"]).lines).toEqual(["{ hello", "world"]);
  });
  test("a last line without newline", () => {
    expect(run(["a\nb"]).lines).toEqual(["a", "b"]);
  });
});

test("timings in seconds and the text report", () => {
  const t = timingsInSeconds(result.timings, { podStart: 1234, overall: 4000 });
  expect(t).toEqual({ clean: 0.1, commit: 0.9, push: 0.5, remove: 0.02, total: 1.52, podStart: 1.234, overall: 4 });
  const text = formatCommitResult({
    image: "r/x:1",
    digest: "sha256:abc",
    size: 2048,
    layers: 3,
    node: "node-1",
    runtime: "docker",
    containerId: "abcdef0123456789",
    source: { namespace: "ns", pod: "p", container: "c" },
    committerPod: { namespace: "seelie-system", name: "seelie-commit-x", kept: false },
    cleanup: result.cleanup,
    timings: t,
  });
  expect(text).toContain("image    r/x:1");
  expect(text).toContain("digest   sha256:abc");
  expect(text).toContain("node     node-1");
  expect(text).toContain("runtime  docker abcdef012345");
  expect(text).toContain("cleanup  2 files, 10 B removed");
  expect(text).toContain("size     2.0 KiB, 3 layers");
  expect(text).toContain("commit 0.9s");
  expect(text).toContain("layer    ?"); // an older committer says nothing of its layer
});

test.each([
  [{ layerSource: "upperdir", compression: "zstd", compressionLevel: 3 }, "layer    from the upper directory, zstd level 3"],
  [{ layerSource: "api", compression: "gzip", compressionLevel: 6 }, "layer    through the runtime's API, gzip level 6"],
  [{ layerSource: "upperdir", compression: "gzip" }, "layer    from the upper directory, gzip\n"],
] as const)("the text report says where the layer came from: %p", (layer, line) => {
  const text = formatCommitResult({
    image: "r/x:1",
    digest: "sha256:abc",
    node: "node-1",
    runtime: "containerd",
    containerId: "abcdef0123456789",
    source: { namespace: "ns", pod: "p", container: "c" },
    committerPod: { namespace: "seelie-system", name: "seelie-commit-x", kept: false },
    timings: {},
    ...layer,
  });
  expect(`${text}\n`).toContain(line);
});
