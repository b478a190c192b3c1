import { expect, test } from "bun:test";
import { normaliseSocketPath, socketMount } from "../../../lib/commit-pod/socket.ts";

test.each([
  [
    "/run/containerd/containerd.sock",
    "containerd",
    {
      hostPath: "/run/containerd",
      type: "Directory",
      mountPath: "/run/containerd",
      readOnly: false,
      endpoint: "unix:///run/containerd/containerd.sock",
    },
  ],
  [
    "/var/run/containerd/containerd.sock",
    "containerd",
    {
      hostPath: "/var/run/containerd",
      type: "Directory",
      mountPath: "/var/run/containerd",
      readOnly: false,
      endpoint: "unix:///var/run/containerd/containerd.sock",
    },
  ],
  [
    "/var/run/docker.sock",
    "docker",
    {
      hostPath: "/var/run/docker.sock",
      type: "Socket",
      mountPath: "/var/run/docker.sock",
      readOnly: true,
      endpoint: "unix:///var/run/docker.sock",
    },
  ],
  [
    "/run/k3s/containerd/containerd.sock",
    "containerd",
    {
      hostPath: "/run/k3s/containerd",
      type: "Directory",
      mountPath: "/run/k3s/containerd",
      readOnly: false,
      endpoint: "unix:///run/k3s/containerd/containerd.sock",
    },
  ],
  [
    "/var/snap/microk8s/common/run/containerd.sock",
    "containerd",
    {
      hostPath: "/var/snap/microk8s/common/run",
      type: "Directory",
      mountPath: "/var/snap/microk8s/common/run",
      readOnly: false,
      endpoint: "unix:///var/snap/microk8s/common/run/containerd.sock",
    },
  ],
  [
    "unix:///run/cri-dockerd/docker.sock",
    "docker",
    {
      hostPath: "/run/cri-dockerd",
      type: "Directory",
      mountPath: "/run/cri-dockerd",
      readOnly: true,
      endpoint: "unix:///run/cri-dockerd/docker.sock",
    },
  ],
  [
    "/run/docker.sock",
    "docker",
    { hostPath: "/run/docker.sock", type: "Socket", mountPath: "/run/docker.sock", readOnly: true, endpoint: "unix:///run/docker.sock" },
  ],
] as const)("socketMount(%s)", (path, runtime, want) => {
  expect(socketMount(path, runtime)).toEqual(want as never);
});

test.each(["relative.sock", "/run/containerd/", "/run/../etc/x.sock", ""])("refuses %p", (p) => {
  expect(() => normaliseSocketPath(p)).toThrow(/--runtime_socket/);
});
