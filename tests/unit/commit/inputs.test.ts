import { describe, expect, test } from "bun:test";
import { UsageError } from "../../../lib/errors.ts";
import { candidateSockets, dockerConfigPath, parseContainerTarget, resolveSocket } from "../../../lib/commit/target.ts";
import { resolveTargetImage } from "../../../lib/commit/flow.ts";

const ID = "2532ea87fe612bcfe17a9c37721de9acf839149ee92e4e3c97f18e3791370270";

describe("parseContainerTarget", () => {
  const ok: [string, string | undefined, string | undefined, { runtime: string; id: string }][] = [
    [`containerd://${ID}`, undefined, undefined, { runtime: "containerd", id: ID }],
    [`docker://${ID}`, undefined, undefined, { runtime: "docker", id: ID }],
    [`docker://${ID}`, "docker", undefined, { runtime: "docker", id: ID }],
    [ID, "containerd", undefined, { runtime: "containerd", id: ID }],
    [ID, undefined, "unix:///host/run/containerd/containerd.sock", { runtime: "containerd", id: ID }],
    [ID, undefined, "unix:///var/run/docker.sock", { runtime: "docker", id: ID }],
    ["my-container", "docker", undefined, { runtime: "docker", id: "my-container" }],
  ];
  for (const [input, rt, ep, want] of ok)
    test(`${input.slice(0, 20)} ${rt} ${ep}`, () => expect(parseContainerTarget(input, rt, ep)).toEqual(want as never));
  const bad: [string, string | undefined, RegExp][] = [
    ["", undefined, /--container-id is required/],
    [ID, undefined, /no runtime prefix/],
    [`cri-o://${ID}`, undefined, /cri-o:\/\//],
    [`docker://${ID}`, "containerd", /says docker but --runtime says containerd/],
    [ID, "podman", /unknown --runtime/],
    ["docker://a b", undefined, /not a valid ID/],
    ["docker://", undefined, /not a valid ID/],
  ];
  for (const [input, rt, re] of bad) {
    test(`rejects ${JSON.stringify(input.slice(0, 20))} ${rt}`, () => {
      expect(() => parseContainerTarget(input, rt)).toThrow(re);
      expect(() => parseContainerTarget(input, rt)).toThrow(UsageError);
    });
  }
});

describe("sockets", () => {
  test("candidates with a host prefix", () => {
    expect(candidateSockets("containerd", "/host/")).toEqual([
      "/run/containerd/containerd.sock",
      "/var/run/containerd/containerd.sock",
      "/host/run/containerd/containerd.sock",
      "/host/var/run/containerd/containerd.sock",
    ]);
    expect(candidateSockets("docker")).toEqual(["/var/run/docker.sock", "/run/docker.sock"]);
  });
  test("probe picks the first existing one", () => {
    const have = new Set(["/host/var/run/docker.sock"]);
    expect(resolveSocket("docker", { hostPrefix: "/host", isSocket: (p) => have.has(p) })).toBe("/host/var/run/docker.sock");
  });
  test("none found names what was tried", () => {
    expect(() => resolveSocket("docker", { isSocket: () => false })).toThrow(
      /no docker socket found \(tried \/var\/run\/docker.sock, \/run\/docker.sock\)/,
    );
  });
  test("given endpoint must exist and be unix", () => {
    expect(resolveSocket("docker", { endpoint: "unix:///x.sock", isSocket: (p) => p === "/x.sock" })).toBe("/x.sock");
    expect(() => resolveSocket("docker", { endpoint: "unix:///y.sock", isSocket: () => false })).toThrow(/no docker socket at \/y.sock/);
    expect(() => resolveSocket("docker", { endpoint: "tcp://1.2.3.4:2375", isSocket: () => true })).toThrow(/not a unix socket/);
  });
});

describe("dockerConfigPath", () => {
  const isDir = (p: string) => p === "/secret-dir";
  const cases: [string | undefined, Record<string, string>, string][] = [
    ["/secret/.dockerconfigjson", {}, "/secret/.dockerconfigjson"],
    ["/secret-dir", {}, "/secret-dir/config.json"],
    [undefined, { DOCKER_CONFIG: "/dc" }, "/dc/config.json"],
    [undefined, {}, "/home/u/.docker/config.json"],
  ];
  for (const [flag, env, want] of cases)
    test(`${flag} ${JSON.stringify(env)}`, () => expect(dockerConfigPath(flag, isDir, env, "/home/u")).toBe(want));
});

describe("resolveTargetImage", () => {
  const deps = { env: { SEELIE_CONFIG: "/nonexistent/config.yaml" }, home: "/nonexistent" };
  const base = { containerId: "x", clean: true, pause: true, keepImage: false, push: true };
  test("--image is normalised", () =>
    expect(resolveTargetImage({ ...base, image: "127.0.0.1:5000/a/b" }, deps)).toBe("127.0.0.1:5000/a/b:latest"));
  test("platform name from flags", () => {
    expect(
      resolveTargetImage({ ...base, tag: "v1", repoType: "dev", registryHost: "reg.example.com", repo: "ml", username: "alice" }, deps),
    ).toBe("reg.example.com/ml/alice-dev:v1");
  });
  test("platform name from env", () => {
    const env = { ...deps.env, SEELIE_REGISTRY_HOST: "r.io", SEELIE_REPO: "team", SEELIE_USERNAME: "bob" };
    expect(resolveTargetImage({ ...base, tag: "t", repoType: "notebook" }, { ...deps, env })).toBe("r.io/team/bob-notebook:t");
  });
  const bad: [object, RegExp][] = [
    [{}, /no target image/],
    [{ image: "UPPER/Case" }, /invalid --image/],
    [{ image: "a/b", tag: "x" }, /both given/],
    [{ tag: "v1", repoType: "dev", repo: "ml", username: "alice" }, /registry host is not set/],
    [{ tag: "v1", registryHost: "r.io", repo: "ml", username: "alice" }, /--repo_type is not set/],
  ];
  for (const [o, re] of bad)
    test(`rejects ${JSON.stringify(o)}`, () => expect(() => resolveTargetImage({ ...base, ...o }, deps)).toThrow(re));
});
