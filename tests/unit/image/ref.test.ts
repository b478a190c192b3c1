import { describe, expect, test } from "bun:test";
import { formatImageRef, parseImageRef } from "../../../lib/image/ref.ts";
import { platformImageName } from "../../../lib/image/name.ts";
import { UsageError } from "../../../lib/errors.ts";

describe("parseImageRef normalises as the docker CLI does", () => {
  const cases: [string, string][] = [
    ["busybox", "docker.io/library/busybox:latest"],
    ["pytorch/pytorch:2.1", "docker.io/pytorch/pytorch:2.1"],
    ["docker.io/pytorch/pytorch:2.1", "docker.io/pytorch/pytorch:2.1"],
    ["index.docker.io/library/ubuntu:22.04", "docker.io/library/ubuntu:22.04"],
    ["localhost/x/y", "localhost/x/y:latest"],
    ["127.0.0.1:5000/seelie/busybox:1", "127.0.0.1:5000/seelie/busybox:1"],
    ["nvcr.io/nvidia/pytorch:23.10-py3", "nvcr.io/nvidia/pytorch:23.10-py3"],
    [`tensorflow/tensorflow@sha256:${"a".repeat(64)}`, `docker.io/tensorflow/tensorflow@sha256:${"a".repeat(64)}`],
    [`r.io:443/a/b:c@sha256:${"b".repeat(64)}`, `r.io:443/a/b:c@sha256:${"b".repeat(64)}`],
  ];
  test.each(cases)("%s → %s", (input, want) => {
    expect(formatImageRef(parseImageRef(input))).toBe(want);
  });

  const bad = ["", " busybox", "Busybox", "a//b", "a/b:", "a/b:-x", "a@sha256:zz", "r.io/a/b:t@sha256:123", `x/y:${"t".repeat(129)}`];
  test.each(bad)("rejects %p with a UsageError naming it", (input) => {
    expect(() => parseImageRef(input)).toThrow(UsageError);
  });
});

describe("platformImageName", () => {
  const parts = { registryHost: "registry.example.com", repo: "team", username: "alice", repoType: "training", tag: "test123" };
  test("follows {RegistryHost}/{Repo}/{username}-{repo_type}:{tag}", () => {
    expect(platformImageName(parts)).toBe("registry.example.com/team/alice-training:test123");
    expect(platformImageName({ ...parts, registryHost: "127.0.0.1:5000/", repo: "/seelie/" })).toBe(
      "127.0.0.1:5000/seelie/alice-training:test123",
    );
  });
  const invalid: [string, Partial<typeof parts>, RegExp][] = [
    ["tag with a space", { tag: "a b" }, /--tag/],
    ["tag starting with a dash", { tag: "-x" }, /--tag/],
    ["tag too long", { tag: "x".repeat(129) }, /--tag/],
    ["empty tag", { tag: "" }, /--tag/],
    ["repo_type upper case", { repoType: "Training" }, /--repo_type/],
    ["repo_type with slash", { repoType: "a/b" }, /--repo_type/],
    ["empty repo_type", { repoType: "" }, /--repo_type/],
    ["no registry host", { registryHost: "" }, /registry host/],
    ["no username", { username: "" }, /username/],
    ["username with capitals", { username: "Alice" }, /username/],
  ];
  test.each(invalid)("refuses %s", (_name, change, re) => {
    expect(() => platformImageName({ ...parts, ...change })).toThrow(re);
  });
});
