import { describe, expect, test } from "bun:test";
import { generateDockerfile, parseFromLines } from "../../lib/image/dockerfile.ts";

describe("generateDockerfile", () => {
  const text = generateDockerfile("nvcr.io/nvidia/pytorch:23.10-py3");
  test("has the SPEC's steps in order", () => {
    const lines = text.split("\n");
    expect(lines[0]).toBe("FROM nvcr.io/nvidia/pytorch:23.10-py3");
    expect(lines[1]).toBe("COPY . /workspace/code");
    expect(lines[2]).toBe("WORKDIR /workspace");
    expect(text.indexOf("build_script.sh")).toBeLessThan(text.indexOf("requirements.txt"));
    expect(text).toContain("set -e");
    expect(text).toContain("cd /workspace/code");
  });
  test("declares each build arg so the build steps see it", () => {
    const lines = generateDockerfile("pytorch/pytorch:2", ["PIP_INDEX_URL", "X"]).split("\n");
    expect(lines.slice(0, 4)).toEqual(["FROM pytorch/pytorch:2", "ARG PIP_INDEX_URL", "ARG X", "COPY . /workspace/code"]);
  });
});

describe("parseFromLines", () => {
  const cases: [string, string, Record<string, string>, { image: string; internal: boolean; stage?: string }[]][] = [
    ["single FROM", "FROM python:3.11\nRUN x", {}, [{ image: "python:3.11", internal: false }]],
    ["lower-case keyword and comments", "# c\nfrom a/b:1 as build\n", {}, [{ image: "a/b:1", internal: false, stage: "build" }]],
    [
      "multi-stage with an earlier stage",
      "FROM nvcr.io/nvidia/x:1 AS builder\nRUN make\nFROM builder\nFROM scratch\nCOPY --from=builder /a /a",
      {},
      [
        { image: "nvcr.io/nvidia/x:1", internal: false, stage: "builder" },
        { image: "builder", internal: true },
        { image: "scratch", internal: true },
      ],
    ],
    ["--platform flag", "FROM --platform=linux/amd64 pytorch/pytorch:2 AS t", {}, [{ image: "pytorch/pytorch:2", internal: false, stage: "t" }]],
    ["ARG default", "ARG BASE=pytorch/pytorch:2\nFROM ${BASE}", {}, [{ image: "pytorch/pytorch:2", internal: false }]],
    ["ARG overridden by a build arg", "ARG BASE=pytorch/pytorch:2\nFROM $BASE", { BASE: "evil.io/x" }, [{ image: "evil.io/x", internal: false }]],
    ["continuation lines", "FROM \\\n  tensorflow/tensorflow:2 \\\n  AS a", {}, [{ image: "tensorflow/tensorflow:2", internal: false, stage: "a" }]],
  ];
  test.each(cases)("%s", (_n, text, args, want) => {
    const got = parseFromLines(text, args).map((f) => ({ image: f.image, internal: f.internal, ...(f.stage ? { stage: f.stage } : {}) }));
    expect(got).toEqual(want);
  });
  test("an ARG without a value in FROM is an error naming the line", () => {
    expect(() => parseFromLines("ARG BASE\nFROM $BASE")).toThrow(/line 2.*BASE/);
  });
  test("a Dockerfile without FROM is an error", () => {
    expect(() => parseFromLines("RUN true")).toThrow(/no FROM/);
  });
});
