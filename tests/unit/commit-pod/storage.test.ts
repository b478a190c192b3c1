import { expect, test } from "bun:test";
import { normaliseRootPath, storageMount } from "../../../lib/commit-pod/storage.ts";

test.each([
  ["docker, default root", "docker", undefined, { hostPath: "/var/lib/docker/overlay2", mountPropagation: "HostToContainer" }],
  ["containerd, default root", "containerd", undefined, { hostPath: "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs" }],
  [
    "k3s's containerd",
    "containerd",
    "/var/lib/rancher/k3s/agent/containerd",
    { hostPath: "/var/lib/rancher/k3s/agent/containerd/io.containerd.snapshotter.v1.overlayfs" },
  ],
  [
    "the test cluster's containerd node, trailing slash",
    "containerd",
    "/var/lib/seelie-k8s/containerd/root/",
    { hostPath: "/var/lib/seelie-k8s/containerd/root/io.containerd.snapshotter.v1.overlayfs" },
  ],
  [
    "dockerd's data-root, doubled slashes",
    "docker",
    "/data//docker",
    { hostPath: "/data/docker/overlay2", mountPropagation: "HostToContainer" },
  ],
] as const)("%s", (_name, runtime, root, want) => {
  expect(storageMount(runtime, root)).toEqual(want);
});

test.each([
  ["var/lib/docker", /--runtime_root "var\/lib\/docker" is not an absolute path on the node/],
  ["/var/lib/../etc", /must not contain "\.\."/],
  ["/", /is the node's whole file system/],
  ["//", /is the node's whole file system/],
])("refused: %p", (value, message) => {
  expect(() => normaliseRootPath(value)).toThrow(message);
});

test("the message names where the value came from", () => {
  expect(() => normaliseRootPath("relative", "clusters.k3s.runtimeRoot")).toThrow(/^clusters\.k3s\.runtimeRoot "relative"/);
});
