import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateDockerfile, parseFromLines } from "../../../lib/image/dockerfile.ts";

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
  const lines = text.split("\n");
  const rules: [string, (t: string) => boolean][] = [
    ["no ENV: nothing of the build's pip settings stays in the image", (t) => !/^ENV /m.test(t)],
    [
      "PIP_BREAK_SYSTEM_PACKAGES only on the pip command itself",
      (t) =>
        t.split("PIP_BREAK_SYSTEM_PACKAGES").length === 2 &&
        /PIP_BREAK_SYSTEM_PACKAGES=1 \$pip install --no-cache-dir -r requirements.txt/.test(t),
    ],
    [
      "the image's python3 first (packages importable by python3 at run time), pip as the fall-back",
      (t) => t.indexOf("python3 -m pip --version") < t.indexOf("command -v pip"),
    ],
    ["no venv (it would hide the packages from the image's python3)", (t) => !/venv/.test(t)],
    ["pip only when requirements.txt lists something", (t) => t.includes("grep -qvE '^[[:space:]]*(#|$)' ./requirements.txt")],
    ["a clear error when there is no pip", (t) => t.includes("has no pip")],
    [
      "every RUN line but the last continues",
      (t) =>
        t
          .split("\n")
          .filter((l) => l.startsWith("    ") || l.startsWith("RUN"))
          .slice(0, -1)
          .every((l) => l.endsWith("\\")),
    ],
  ];
  test.each(rules)("%s", (_name, ok) => expect(ok(text)).toBe(true));
  test("the last RUN line ends the script", () => expect(lines.at(-2)).toBe("    fi"));

  test("declares each build arg so the build steps see it", () => {
    const lines = generateDockerfile("pytorch/pytorch:2", ["PIP_INDEX_URL", "X"]).split("\n");
    expect(lines.slice(0, 4)).toEqual(["FROM pytorch/pytorch:2", "ARG PIP_INDEX_URL", "ARG X", "COPY . /workspace/code"]);
  });
});

/**
 * The generated RUN script run by a real /bin/sh in a scratch directory whose PATH holds no python3 and
 * no pip (the integration tests build it for real on the PEP 668 base: tests/integration/image-build/build.test.ts).
 */
describe("the generated RUN script, without pip", () => {
  const dir = mkdtempSync(join(tmpdir(), "seelie-dockerfile-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  for (const tool of ["sh", "grep"]) symlinkSync(`/bin/${tool}`, join(bin, tool));
  const script = generateDockerfile("x")
    .split("\n")
    .filter((l) => l.startsWith("RUN ") || l.startsWith("    "))
    .map((l) => l.replace(/^RUN /, "").replace(/\\$/, ""))
    .join("\n")
    .replace("cd /workspace/code", `cd ${join(dir, "code")}`);
  const cases: [string, string | undefined, number, string][] = [
    ["no requirements.txt", undefined, 0, ""],
    ["an empty requirements.txt installs nothing", "", 0, ""],
    ["blanks and comments only (CRLF too) install nothing", "# pinned later\r\n\r\n   \n\t# x\n", 0, ""],
    ["a package and no pip: a clear error", "# c\nnumpy==1.26\n", 1, "requirements.txt lists packages but the base image has no pip"],
  ];
  test.each(cases)("%s", (_name, requirements, code, stderr) => {
    rmSync(join(dir, "code"), { recursive: true, force: true });
    mkdirSync(join(dir, "code"));
    if (requirements !== undefined) writeFileSync(join(dir, "code", "requirements.txt"), requirements);
    const r = spawnSync(join(bin, "sh"), ["-c", script], { env: { PATH: bin }, encoding: "utf8" });
    expect(r.status).toBe(code);
    if (stderr) expect(r.stderr).toContain(stderr);
    else expect(r.stderr).toBe("");
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
    [
      "--platform flag",
      "FROM --platform=linux/amd64 pytorch/pytorch:2 AS t",
      {},
      [{ image: "pytorch/pytorch:2", internal: false, stage: "t" }],
    ],
    ["ARG default", "ARG BASE=pytorch/pytorch:2\nFROM ${BASE}", {}, [{ image: "pytorch/pytorch:2", internal: false }]],
    [
      "ARG overridden by a build arg",
      "ARG BASE=pytorch/pytorch:2\nFROM $BASE",
      { BASE: "evil.io/x" },
      [{ image: "evil.io/x", internal: false }],
    ],
    [
      "continuation lines",
      "FROM \\\n  tensorflow/tensorflow:2 \\\n  AS a",
      {},
      [{ image: "tensorflow/tensorflow:2", internal: false, stage: "a" }],
    ],
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
