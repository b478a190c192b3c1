import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  checkSubpath,
  DEFAULT_TOOLS_IMAGE,
  generatedPodName,
  parseNfs,
  resolveCloudBuildInputs,
  resolveToolsImage,
} from "../../lib/cloud-build/inputs.ts";
import { contextDirIn } from "../../lib/cloud-build/pod.ts";
import { loadConfig } from "../../lib/config/load.ts";
import { UsageError } from "../../lib/errors.ts";

const home = mkdtempSync(join(tmpdir(), "seelie-cb-inputs-"));
const configPath = join(home, "config.yaml");
const env = { SEELIE_CONFIG: configPath, SEELIE_REGISTRY_HOST: "registry.example.com", SEELIE_REPO: "team", SEELIE_USERNAME: "alice" };
const config = () => loadConfig({ env, home });

describe("context flags", () => {
  test.each([
    ["nas.example.com:/exports/ml", { server: "nas.example.com", path: "/exports/ml" }],
    ["10.0.0.5:/", { server: "10.0.0.5", path: "/" }],
  ])("--context_nfs %s", (v, want) => expect(parseNfs(v)).toEqual(want));
  test.each(["nas.example.com", "nas:exports", ":/x", "nas:/a b"])("--context_nfs %s is refused", (v) =>
    expect(() => parseNfs(v)).toThrow(UsageError),
  );

  test.each([
    [undefined, ".", "/workspace/volume"],
    [".", ".", "/workspace/volume"],
    ["alice/mnist", "alice/mnist", "/workspace/volume/alice/mnist"],
    ["./alice/mnist/", "./alice/mnist/", "/workspace/volume/alice/mnist"],
  ])("--context_subpath %s", (v, checked, dir) => {
    expect(checkSubpath(v)).toBe(checked);
    expect(contextDirIn(checked)).toBe(dir);
  });
  test.each(["/abs", "a/../b", "..", "a b", "x$(id)", "q'uote"])("--context_subpath %s is refused", (v) =>
    expect(() => checkSubpath(v)).toThrow(UsageError),
  );
});

describe("the seelie-tools image: flag > SEELIE_TOOLS_IMAGE > config file > default", () => {
  test("precedence", () => {
    writeFileSync(configPath, "");
    expect(resolveToolsImage(undefined, config())).toBe(DEFAULT_TOOLS_IMAGE);
    writeFileSync(configPath, "cloudBuild:\n  toolsImage: mirror.example.com/seelie-tools:file\n");
    expect(resolveToolsImage(undefined, config())).toBe("mirror.example.com/seelie-tools:file");
    const withEnv = (v: string) => loadConfig({ env: { ...env, SEELIE_TOOLS_IMAGE: v }, home });
    expect(resolveToolsImage(undefined, withEnv("mirror.example.com/seelie-tools:env"))).toBe("mirror.example.com/seelie-tools:env");
    expect(resolveToolsImage("mirror.example.com/seelie-tools:flag", withEnv("x/y:env"))).toBe("mirror.example.com/seelie-tools:flag");
    writeFileSync(configPath, "");
  });
});

describe("resolveCloudBuildInputs", () => {
  const base = {
    tool: "kaniko",
    baseImage: "registry.example.com/base/python:3.10",
    contextPvc: "projects",
    registrySecret: "regcred",
    tag: "v1",
    repoType: "training",
  };
  test("the platform image name from --tag/--repo_type, the pinned builder, the default namespace", () => {
    const i = resolveCloudBuildInputs(base, config());
    expect(i.image).toBe("registry.example.com/team/alice-training:v1");
    expect(i.builderImage).toBe("ghcr.io/osscontainertools/kaniko:v1.28.2");
    expect(i.namespace).toBe("default");
    expect(i.allowedBaseImages).toContain("registry.example.com/");
    expect(i.name).toMatch(/^seelie-build-kaniko-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });
  test("--render without --namespace: no namespace (kubectl -n decides); --name is kept", () => {
    const i = resolveCloudBuildInputs({ ...base, namespace: "", name: "my-build" }, config());
    expect(i.namespace).toBe("");
    expect(i.name).toBe("my-build");
  });
  test("generated Pod names: Kubernetes' generateName alphabet, 5 characters", () => {
    expect(generatedPodName("buildkit", () => 0)).toBe("seelie-build-buildkit-bbbbb");
    expect(generatedPodName("kaniko", () => 0.9999)).toBe("seelie-build-kaniko-99999");
  });
  test.each([
    [{ contextNfs: "nas:/x" }, "--context_pvc and --context_nfs are exclusive"],
    [{ image: "registry.example.com/x/y:1" }, "--image cannot be combined with --tag/--repo_type"],
    [{ registrySecret: "Reg_Cred" }, 'invalid --registry_secret "Reg_Cred"'],
    [{ namespace: "a.b" }, 'invalid --namespace "a.b"'],
    [{ builderImage: "NOT A REF" }, "invalid --builder_image"],
    [{ tag: undefined }, "--tag is not set"],
    [{ baseImage: undefined }, "--base_image is required"],
    [{ tool: undefined }, "--tool is required"],
  ])("%o is refused", (over, message) => {
    expect(() => resolveCloudBuildInputs({ ...base, ...over }, config())).toThrow(message);
  });
});
