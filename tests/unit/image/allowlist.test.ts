import { describe, expect, test } from "bun:test";
import { assertBaseImageAllowed, defaultAllowedBaseImages, isBaseImageAllowed } from "../../../lib/image/allowlist.ts";

const allowed = defaultAllowedBaseImages("registry.example.com");
const digest = `sha256:${"c".repeat(64)}`;

describe("the default base-image allow list", () => {
  const pass = [
    "registry.example.com/team/base:1",
    `registry.example.com/a/b/c@${digest}`,
    "nvcr.io/nvidia/pytorch:23.10-py3",
    "nvcr.io/nvidia/cuda/sub:1",
    "tensorflow/tensorflow:2.4.3-gpu",
    `tensorflow/tensorflow@${digest}`,
    "docker.io/tensorflow/tensorflow",
    "pytorch/pytorch",
    "docker.io/pytorch/pytorch:2.1",
    "index.docker.io/pytorch/pytorch:2.1",
  ];
  test.each(pass)("allows %s", (img) => expect(isBaseImageAllowed(img, allowed)).toBe(true));

  const refuse = [
    "nvcr.io/nvidia-evil/x",
    "nvcr.io/nvidiax/pytorch:1",
    "nvcr.io/other/nvidia:1",
    "pytorch/pytorch-nightly",
    "pytorch/pytorch-nightly:latest",
    "evil.io/pytorch/pytorch",
    "evil.io/tensorflow/tensorflow:2",
    "tensorflow/tensorflow/extra",
    "registry.example.com.evil.io/team/base:1",
    "registry.example.co/team/base:1",
    "ubuntu:22.04",
    "library/pytorch:1",
  ];
  test.each(refuse)("refuses look-alike %s", (img) => expect(isBaseImageAllowed(img, allowed)).toBe(false));

  test("the error names the image and the allowed prefixes", () => {
    expect(() => assertBaseImageAllowed("evil.io/pytorch/pytorch", allowed)).toThrow(/evil\.io\/pytorch\/pytorch.*nvcr\.io\/nvidia\//);
  });

  test("a configured list replaces the defaults, with namespace prefixes and exact repositories", () => {
    const custom = ["ghcr.io/acme/", "python", "127.0.0.1:5000/"];
    expect(isBaseImageAllowed("ghcr.io/acme/x/y:1", custom)).toBe(true);
    expect(isBaseImageAllowed("ghcr.io/acmex/y:1", custom)).toBe(false);
    expect(isBaseImageAllowed("python:3.11", custom)).toBe(true);
    expect(isBaseImageAllowed("docker.io/library/python", custom)).toBe(true);
    expect(isBaseImageAllowed("pythonx:3", custom)).toBe(false);
    expect(isBaseImageAllowed("127.0.0.1:5000/seelie/busybox:1", custom)).toBe(true);
    expect(isBaseImageAllowed("127.0.0.1:50000/seelie/busybox:1", custom)).toBe(false);
    expect(isBaseImageAllowed("nvcr.io/nvidia/pytorch:1", custom)).toBe(false);
  });
});
