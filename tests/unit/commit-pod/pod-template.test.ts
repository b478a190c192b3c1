import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { ANNOTATIONS, LABELS, buildCommitterPod, committerPodName } from "../../../lib/commit-pod/committer-pod.ts";
import type { CommitTarget } from "../../../lib/commit-pod/locate.ts";
import { socketMount } from "../../../lib/commit-pod/socket.ts";
import { storageMount } from "../../../lib/commit-pod/storage.ts";

/** envsubst, as the template's comment tells maintainers to use it. */
function envsubst(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{([A-Z_]+)\}/g, (_, k: string) => {
    if (!(k in vars)) throw new Error(`pod.yaml uses \${${k}}, which the test does not fill`);
    return vars[k]!;
  });
}

test("pods/committer/pod.yaml is the Pod the builder makes (containerd, per-run secret)", () => {
  const target: CommitTarget = {
    namespace: "team-a",
    pod: "jupyter-minimal",
    container: "notebook",
    node: "node-1",
    runtime: "containerd",
    containerId: "2532ea87fe612bcfe17a9c37721de9acf839149ee92e4e3c97f18e3791370270",
  };
  const name = committerPodName(target);
  const built = buildCommitterPod({
    name,
    namespace: "seelie-system",
    committerImage: "registry.example.com/seelie/seelie-committer:0.1.0",
    target,
    image: "registry.example.com/team/alice-dev:v2",
    socket: socketMount("/run/containerd/containerd.sock", "containerd"),
    storage: storageMount("containerd", "/var/lib/rancher/k3s/agent/containerd"),
    registrySecret: `${name}-registry-abcde`,
    clean: true,
    hostNetwork: false,
    activeDeadlineSeconds: 1860,
    requestedBy: "alice",
  });
  const l = built.metadata!.labels!;
  const a = built.metadata!.annotations!;
  const text = envsubst(readFileSync(new URL("../../../pods/committer/pod.yaml", import.meta.url), "utf8"), {
    NAME: name,
    NAMESPACE: "seelie-system",
    NODE: "node-1",
    COMMITTER_IMAGE: "registry.example.com/seelie/seelie-committer:0.1.0",
    CONTAINER_ID: `containerd://${target.containerId}`,
    TARGET_IMAGE: "registry.example.com/team/alice-dev:v2",
    SOCKET_DIR: "/run/containerd",
    RUNTIME_ROOT: "/var/lib/rancher/k3s/agent/containerd",
    REGISTRY_SECRET: `${name}-registry-abcde`,
    ACTIVE_DEADLINE_SECONDS: "1860",
    CONTAINER_KEY: l[LABELS.container]!,
    SOURCE_NAMESPACE: l[LABELS.sourceNamespace]!,
    SOURCE_POD: l[LABELS.sourcePod]!,
    SOURCE_CONTAINER: l[LABELS.sourceContainer]!,
    TARGET_LABEL: l[LABELS.target]!,
    TARGET_HASH: l[LABELS.targetHash]!,
    SOURCE: a[ANNOTATIONS.sourcePod]!,
    REQUESTED_BY: "alice",
  });
  // kubectl reads YAML 1.1 (defaultMode: 0400 is octal there).
  const fromTemplate = parse(text, { version: "1.1" });
  expect(fromTemplate).toEqual(JSON.parse(JSON.stringify(built)));
});
