import { describe, expect, test } from "bun:test";
import type { SeelieConfig } from "../../../lib/config/types.ts";
import { checkCommitNames, clusterCommitSettings, commitTargetImage } from "../../../lib/commit-pod/settings.ts";

type Cfg = Pick<SeelieConfig, "committerNamespace" | "runtimeSocket" | "runtimeRoot" | "clusters" | "sources">;
const cfg = (over: Partial<Cfg> = {}): Cfg => ({
  committerNamespace: "seelie-system",
  clusters: {},
  sources: { committerNamespace: "default" },
  ...over,
});

describe("clusterCommitSettings", () => {
  const k3s = { runtimeSocket: "/run/k3s/containerd/containerd.sock", committerNamespace: "platform" };
  test.each([
    ["defaults", cfg(), "ctx", { committerNamespace: "seelie-system", runtimeSocket: undefined }],
    ["the cluster's entry", cfg({ clusters: { ctx: k3s } }), "ctx", { committerNamespace: "platform", runtimeSocket: k3s.runtimeSocket }],
    [
      "another cluster's entry does not apply",
      cfg({ clusters: { other: k3s } }),
      "ctx",
      { committerNamespace: "seelie-system", runtimeSocket: undefined },
    ],
    [
      "a flag beats the cluster's entry",
      cfg({ runtimeSocket: "/x/y.sock", clusters: { ctx: k3s }, sources: { runtimeSocket: "flag" } }),
      "ctx",
      { committerNamespace: "platform", runtimeSocket: "/x/y.sock" },
    ],
    [
      "the cluster's entry beats the file's global value",
      cfg({
        runtimeSocket: "/x/y.sock",
        committerNamespace: "global",
        clusters: { ctx: k3s },
        sources: { runtimeSocket: "file", committerNamespace: "file" },
      }),
      "ctx",
      { committerNamespace: "platform", runtimeSocket: k3s.runtimeSocket },
    ],
    [
      "env beats the cluster's namespace",
      cfg({ committerNamespace: "fromenv", clusters: { ctx: k3s }, sources: { committerNamespace: "env" } }),
      "ctx",
      { committerNamespace: "fromenv", runtimeSocket: k3s.runtimeSocket },
    ],
  ] as const)("%s", (_n, c, ctx, want) => {
    expect(clusterCommitSettings(c, ctx)).toMatchObject(want);
  });
  const k3sRoot = { runtimeRoot: "/var/lib/rancher/k3s/agent/containerd" };
  test.each([
    ["default", cfg(), { runtimeRoot: undefined, sources: { runtimeRoot: "default" } }],
    [
      "the cluster's entry",
      cfg({ clusters: { ctx: k3sRoot } }),
      { runtimeRoot: k3sRoot.runtimeRoot, sources: { runtimeRoot: "clusters.ctx.runtimeRoot" } },
    ],
    [
      "the file's global value",
      cfg({ runtimeRoot: "/data/containerd", sources: { runtimeRoot: "file" } }),
      { runtimeRoot: "/data/containerd", sources: { runtimeRoot: "committer.runtimeRoot" } },
    ],
    [
      "the cluster's entry beats the file's global value",
      cfg({ runtimeRoot: "/data/containerd", clusters: { ctx: k3sRoot }, sources: { runtimeRoot: "file" } }),
      { runtimeRoot: k3sRoot.runtimeRoot, sources: { runtimeRoot: "clusters.ctx.runtimeRoot" } },
    ],
    [
      "the environment beats the cluster's entry",
      cfg({ runtimeRoot: "/from/env/", clusters: { ctx: k3sRoot }, sources: { runtimeRoot: "env" } }),
      { runtimeRoot: "/from/env", sources: { runtimeRoot: "SEELIE_RUNTIME_ROOT" } },
    ],
    [
      "the flag beats the cluster's entry",
      cfg({ runtimeRoot: "/from/flag", clusters: { ctx: k3sRoot }, sources: { runtimeRoot: "flag" } }),
      { runtimeRoot: "/from/flag", sources: { runtimeRoot: "--runtime_root" } },
    ],
  ] as const)("the runtime root: %s", (_n, c, want) => {
    expect(clusterCommitSettings(c, "ctx")).toMatchObject(want);
  });
  test.each([
    [cfg({ runtimeRoot: "rel/dir", sources: { runtimeRoot: "flag" } }), /^--runtime_root "rel\/dir" is not an absolute path/],
    [cfg({ runtimeRoot: "rel/dir", sources: { runtimeRoot: "env" } }), /^SEELIE_RUNTIME_ROOT "rel\/dir"/],
    [cfg({ clusters: { ctx: { runtimeRoot: "/" } } }), /^clusters\.ctx\.runtimeRoot "\/" is the node's whole file system/],
  ] as const)("a bad runtime root names its source %#", (c, message) => {
    expect(() => clusterCommitSettings(c, "ctx")).toThrow(message);
  });
  test("an invalid namespace", () =>
    expect(() => clusterCommitSettings(cfg({ committerNamespace: "Bad_NS" }), "c")).toThrow(/not a valid namespace/));
});

describe("commitTargetImage", () => {
  const c = { registryHost: "registry.example.com", repo: "team", username: "alice" };
  test("--image", () => expect(commitTargetImage({ image: "registry.example.com/x/y:1" }, c)).toBe("registry.example.com/x/y:1"));
  test("--image without tag gets latest", () =>
    expect(commitTargetImage({ image: "127.0.0.1:5000/x" }, c)).toBe("127.0.0.1:5000/x:latest"));
  test("--tag/--repo_type", () =>
    expect(commitTargetImage({ tag: "v2", repoType: "dev" }, c)).toBe("registry.example.com/team/alice-dev:v2"));
  test("both", () => expect(() => commitTargetImage({ image: "a/b:1", tag: "v" }, c)).toThrow(/either --image or --tag/));
  test("neither", () => expect(() => commitTargetImage({}, c)).toThrow(/no target image/));
  test("a digest", () => expect(() => commitTargetImage({ image: `r.io/a@sha256:${"a".repeat(64)}` }, c)).toThrow(/digest/));
  test("--tag without --repo_type", () => expect(() => commitTargetImage({ tag: "v2" }, c)).toThrow(/--repo_type/));
});

test("checkCommitNames", () => {
  expect(() => checkCommitNames({ registrySecret: "platform-push", committerImage: "r.io/seelie/seelie-committer:0.1.0" })).not.toThrow();
  expect(() => checkCommitNames({ registrySecret: "Bad_Name", committerImage: "r.io/c:1" })).toThrow(
    /--registry_secret "Bad_Name" is not a valid Secret name/,
  );
  expect(() => checkCommitNames({ committerImage: "Not A Ref" })).toThrow(/committer image/);
});
