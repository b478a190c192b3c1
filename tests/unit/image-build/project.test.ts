import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepareProject } from "../../../lib/image-build/project.ts";
import { listContext } from "../../../lib/image-build/context.ts";
import { defaultAllowedBaseImages } from "../../../lib/image/allowlist.ts";

const root = mkdtempSync(join(tmpdir(), "seelie-project-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const allowed = defaultAllowedBaseImages("registry.example.com");
let n = 0;
function project(files: Record<string, string>): string {
  const d = join(root, `p${n++}`);
  mkdirSync(d);
  for (const [name, body] of Object.entries(files)) {
    mkdirSync(join(d, name, ".."), { recursive: true });
    writeFileSync(join(d, name), body);
  }
  return d;
}

describe("prepareProject", () => {
  test("generates the Dockerfile when the project has none", () => {
    const p = prepareProject({ projectDir: project({ "ml.flag": "" }), baseImage: "pytorch/pytorch:2.1", allowedBaseImages: allowed });
    expect(p.generated).toBe(true);
    expect(p.dockerfile.startsWith("FROM pytorch/pytorch:2.1\n")).toBe(true);
    expect(p.baseImages).toEqual(["pytorch/pytorch:2.1"]);
  });
  test("uses the project's Dockerfile and checks every external FROM", () => {
    const d = project({ "ml.flag": "", Dockerfile: "FROM nvcr.io/nvidia/a:1 AS b\nFROM b\nFROM registry.example.com/t/x:2\n" });
    const p = prepareProject({ projectDir: d, allowedBaseImages: allowed });
    expect(p.generated).toBe(false);
    expect(p.baseImages).toEqual(["nvcr.io/nvidia/a:1", "registry.example.com/t/x:2"]);
    const bad = project({ "ml.flag": "", Dockerfile: "FROM nvcr.io/nvidia/a:1 AS b\nFROM evil.io/pytorch/pytorch\n" });
    expect(() => prepareProject({ projectDir: bad, allowedBaseImages: allowed })).toThrow(/line 2.*evil\.io/);
  });
  test("--base_image reaches a project Dockerfile as BASE_IMAGE, and is allow-listed there", () => {
    const d = project({ "ml.flag": "", Dockerfile: "ARG BASE_IMAGE=pytorch/pytorch:1\nFROM ${BASE_IMAGE}\n" });
    expect(prepareProject({ projectDir: d, baseImage: "tensorflow/tensorflow:2", allowedBaseImages: allowed }).baseImages).toEqual([
      "tensorflow/tensorflow:2",
    ]);
    expect(() => prepareProject({ projectDir: d, baseImage: "evil.io/x:1", allowedBaseImages: allowed })).toThrow(/not allowed/);
  });
  const refusals: [string, () => unknown, RegExp][] = [
    [
      "no ml.flag",
      () => prepareProject({ projectDir: project({ "a.py": "" }), baseImage: "pytorch/pytorch", allowedBaseImages: allowed }),
      /ml\.flag/,
    ],
    [
      "missing directory",
      () => prepareProject({ projectDir: join(root, "nope"), baseImage: "pytorch/pytorch", allowedBaseImages: allowed }),
      /cannot be read/,
    ],
    [
      "a file, not a directory",
      () =>
        prepareProject({
          projectDir: join(project({ "ml.flag": "" }), "ml.flag"),
          baseImage: "pytorch/pytorch",
          allowedBaseImages: allowed,
        }),
      /not a directory/,
    ],
    [
      "no Dockerfile and no base image",
      () => prepareProject({ projectDir: project({ "ml.flag": "" }), allowedBaseImages: allowed }),
      /--base_image is required/,
    ],
    [
      "base image outside the allow list",
      () => prepareProject({ projectDir: project({ "ml.flag": "" }), baseImage: "nvcr.io/nvidia-evil/x", allowedBaseImages: allowed }),
      /not allowed/,
    ],
  ];
  test.each(refusals)("refuses: %s", (_n, fn, re) => expect(fn).toThrow(re));
});

describe("listContext", () => {
  test("honours .dockerignore but always sends the Dockerfile and .dockerignore", () => {
    const d = project({
      "ml.flag": "",
      Dockerfile: "FROM x",
      ".dockerignore": "Dockerfile\n*.log\ndata\n!data/keep.txt\n",
      "a.log": "",
      "src/m.py": "",
      "data/big": "",
      "data/keep.txt": "",
    });
    expect(listContext(d).entries).toEqual([".dockerignore", "Dockerfile", "data", "data/keep.txt", "ml.flag", "src", "src/m.py"]);
  });
  test("accepts a link inside the project, refuses one that leaves it, naming it", () => {
    const d = project({ "ml.flag": "", "real.txt": "x" });
    symlinkSync("real.txt", join(d, "inside"));
    expect(listContext(d).entries).toContain("inside");
    symlinkSync("/etc/passwd", join(d, "passwd"));
    expect(() => listContext(d)).toThrow(/passwd.*outside the project/);
    const e = project({ "ml.flag": "", "sub/x": "" });
    symlinkSync("../../../..", join(e, "sub", "up"));
    expect(() => listContext(e)).toThrow(/sub\/up/);
  });
  test("a leaving link listed in .dockerignore is not sent and not refused", () => {
    const d = project({ "ml.flag": "", ".dockerignore": "secrets\n" });
    symlinkSync("/etc/shadow", join(d, "secrets"));
    expect(listContext(d).entries).not.toContain("secrets");
  });
});
