import { describe, expect, test } from "bun:test";
import {
  ANNOTATIONS,
  LABELS,
  buildCommitterPod,
  buildRegistrySecret,
  committerPodName,
  containerKey,
  dockerConfigJson,
  labelValue,
  ownerPatch,
  type CommitterPodInput,
} from "../../../lib/commit-pod/committer-pod.ts";
import type { CommitTarget } from "../../../lib/commit-pod/locate.ts";
import { socketMount } from "../../../lib/commit-pod/socket.ts";
import { storageMount } from "../../../lib/commit-pod/storage.ts";

const ID = "2532ea87fe612bcfe17a9c37721de9acf839149ee92e4e3c97f18e3791370270";
const target = (over: Partial<CommitTarget> = {}): CommitTarget => ({
  namespace: "team-a",
  pod: "jupyter-minimal",
  container: "notebook",
  node: "cn-shanghai.10.14.128.24",
  runtime: "containerd",
  containerId: ID,
  ...over,
});
const input = (over: Partial<CommitterPodInput> = {}): CommitterPodInput => {
  const t = over.target ?? target();
  return {
    name: committerPodName(t),
    namespace: "seelie-system",
    committerImage: "registry.example.com/seelie/seelie-committer:0.1.0",
    target: t,
    image: "registry.example.com/team/alice-dev:v2",
    socket: socketMount(t.runtime === "docker" ? "/var/run/docker.sock" : "/run/containerd/containerd.sock", t.runtime),
    storage: storageMount(t.runtime),
    registrySecret: "seelie-commit-2532ea87fe612bcf-registry-x1y2z",
    clean: true,
    hostNetwork: false,
    activeDeadlineSeconds: 1860,
    ...over,
  };
};

describe("the committer Pod", () => {
  const cases: {
    name: string;
    in: CommitterPodInput;
    args: string[];
    hostPath: { path: string; type: string };
    mountPath: string;
    readOnly: boolean;
    /** The runtime's overlay storage: host path = mount path. */
    storage: string;
    secret: boolean;
    hostNetwork: boolean;
  }[] = [
    {
      name: "containerd, per-run secret, clean",
      in: input(),
      args: [
        "--container-id",
        `containerd://${ID}`,
        "--image",
        "registry.example.com/team/alice-dev:v2",
        "--runtime-endpoint",
        "unix:///run/containerd/containerd.sock",
        "--namespace",
        "k8s.io",
        "--docker-config",
        "/var/run/seelie/registry/.dockerconfigjson",
        "-o",
        "json",
      ],
      hostPath: { path: "/run/containerd", type: "Directory" },
      mountPath: "/run/containerd",
      readOnly: false,
      storage: "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs",
      secret: true,
      hostNetwork: false,
    },
    {
      name: "docker, no credentials, --no-clean",
      in: input({ target: target({ runtime: "docker", containerId: "abcdef0123456789abcdef" }), registrySecret: undefined, clean: false }),
      args: [
        "--container-id",
        "docker://abcdef0123456789abcdef",
        "--image",
        "registry.example.com/team/alice-dev:v2",
        "--runtime-endpoint",
        "unix:///var/run/docker.sock",
        "--no-clean",
        "-o",
        "json",
      ],
      hostPath: { path: "/var/run/docker.sock", type: "Socket" },
      mountPath: "/var/run/docker.sock",
      readOnly: true,
      storage: "/var/lib/docker/overlay2",
      secret: false,
      hostNetwork: false,
    },
    {
      name: "k3s socket and data root, host network",
      in: input({
        socket: socketMount("/run/k3s/containerd/containerd.sock", "containerd"),
        storage: storageMount("containerd", "/var/lib/rancher/k3s/agent/containerd/"),
        hostNetwork: true,
      }),
      args: [
        "--container-id",
        `containerd://${ID}`,
        "--image",
        "registry.example.com/team/alice-dev:v2",
        "--runtime-endpoint",
        "unix:///run/k3s/containerd/containerd.sock",
        "--namespace",
        "k8s.io",
        "--docker-config",
        "/var/run/seelie/registry/.dockerconfigjson",
        "-o",
        "json",
      ],
      hostPath: { path: "/run/k3s/containerd", type: "Directory" },
      mountPath: "/run/k3s/containerd",
      readOnly: false,
      storage: "/var/lib/rancher/k3s/agent/containerd/io.containerd.snapshotter.v1.overlayfs",
      secret: true,
      hostNetwork: true,
    },
    {
      name: "docker with its own data-root, zstd level 9, the layer from the upper directory only",
      in: input({
        target: target({ runtime: "docker", containerId: "abcdef0123456789abcdef" }),
        socket: socketMount("/var/run/docker.sock", "docker"),
        storage: storageMount("docker", "/data/docker"),
        registrySecret: undefined,
        layerSource: "upperdir",
        compression: { kind: "zstd", level: 9 },
      }),
      args: [
        "--container-id",
        "docker://abcdef0123456789abcdef",
        "--image",
        "registry.example.com/team/alice-dev:v2",
        "--runtime-endpoint",
        "unix:///var/run/docker.sock",
        "--layer-source",
        "upperdir",
        "--compression",
        "zstd",
        "--compression-level",
        "9",
        "-o",
        "json",
      ],
      hostPath: { path: "/var/run/docker.sock", type: "Socket" },
      mountPath: "/var/run/docker.sock",
      readOnly: true,
      storage: "/data/docker/overlay2",
      secret: false,
      hostNetwork: false,
    },
    {
      name: "containerd, the runtime's API, gzip level 1, --no-clean",
      in: input({ layerSource: "api", compression: { kind: "gzip", level: 1 }, clean: false }),
      args: [
        "--container-id",
        `containerd://${ID}`,
        "--image",
        "registry.example.com/team/alice-dev:v2",
        "--runtime-endpoint",
        "unix:///run/containerd/containerd.sock",
        "--namespace",
        "k8s.io",
        "--docker-config",
        "/var/run/seelie/registry/.dockerconfigjson",
        "--no-clean",
        "--layer-source",
        "api",
        "--compression",
        "gzip",
        "--compression-level",
        "1",
        "-o",
        "json",
      ],
      hostPath: { path: "/run/containerd", type: "Directory" },
      mountPath: "/run/containerd",
      readOnly: false,
      storage: "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs",
      secret: true,
      hostNetwork: false,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const pod = buildCommitterPod(c.in);
      const spec = pod.spec!;
      const ctr = spec.containers[0]!;
      expect(ctr.args).toEqual(c.args);
      expect(ctr.command).toEqual(["/usr/local/bin/seelie-committer"]);
      const hostVols = spec.volumes!.filter((v) => v.hostPath && v.name !== "runtime-storage");
      expect(hostVols).toHaveLength(1);
      // The runtime's overlay storage, read-only, for reading upper directories directly.
      expect(spec.volumes!.find((v) => v.name === "runtime-storage")?.hostPath).toEqual({ path: c.storage, type: "DirectoryOrCreate" });
      // Docker's merged rootfs mounts sit inside overlay2: their unmounts must propagate. containerd's CRI
      // refuses HostToContainer on a node whose / is private (the real test cluster's containerd node).
      const propagation = c.in.target.runtime === "docker" ? { mountPropagation: "HostToContainer" } : {};
      expect(ctr.volumeMounts!.find((m) => m.name === "runtime-storage")).toEqual({
        name: "runtime-storage",
        mountPath: c.storage,
        readOnly: true,
        ...propagation,
      });
      expect(hostVols[0]!.hostPath).toEqual(c.hostPath);
      expect(ctr.volumeMounts!.find((m) => m.name === hostVols[0]!.name)).toEqual({
        name: "runtime-socket",
        mountPath: c.mountPath,
        readOnly: c.readOnly,
      });
      expect(spec.volumes!.some((v) => v.secret)).toBe(c.secret);
      expect(spec.hostNetwork).toBe(c.hostNetwork);
      expect(spec.dnsPolicy).toBe(c.hostNetwork ? "Default" : "ClusterFirst");
      // Always:
      expect(spec.restartPolicy).toBe("Never");
      expect(spec.automountServiceAccountToken).toBe(false);
      expect(spec.hostPID).toBe(false);
      expect(spec.hostIPC).toBe(false);
      expect(spec.activeDeadlineSeconds).toBe(1860);
      expect(spec.tolerations).toEqual([{ operator: "Exists" }]);
      expect(spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms).toEqual([
        { matchFields: [{ key: "metadata.name", operator: "In", values: [c.in.target.node] }] },
      ]);
      expect(ctr.securityContext).toMatchObject({
        privileged: false,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsUser: 0,
        capabilities: { drop: ["ALL"], add: ["SYS_ADMIN", "DAC_READ_SEARCH"] },
      });
      expect(ctr.resources?.limits).toEqual({ cpu: "2", memory: "1Gi" });
      expect(ctr.env).toEqual([{ name: "SEELIE_RESULT_FILE", value: "/dev/termination-log" }]);
      expect(ctr.envFrom).toBeUndefined();
      expect(ctr.terminationMessagePolicy).toBe("FallbackToLogsOnError");
      expect(pod.metadata?.labels?.[LABELS.container]).toBe(containerKey(c.in.target));
      expect(pod.metadata?.annotations?.[ANNOTATIONS.targetImage]).toBe(c.in.image);
    });
  }

  test("the name is fixed by the container id", () => {
    expect(committerPodName(target())).toBe("seelie-commit-2532ea87fe612bcf");
    expect(committerPodName(target())).toBe(committerPodName(target({ pod: "other", node: "n2" })));
    expect(committerPodName(target({ containerId: "Not-Hex_id" }))).toMatch(/^seelie-commit-[0-9a-f]{16}$/);
  });

  test("labels are valid label values, long ones shortened with a hash", () => {
    const long = "a".repeat(100);
    const pod = buildCommitterPod(input({ target: target({ pod: long }), image: "registry.example.com:5000/team/alice-dev:v2" }));
    for (const [k, v] of Object.entries(pod.metadata!.labels!)) {
      expect(v.length).toBeLessThanOrEqual(63);
      expect(v).toMatch(/^([A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)?$/);
      expect(k.length).toBeLessThanOrEqual(63 + 11);
    }
    expect(pod.metadata!.labels![LABELS.target]).toBe("registry.example.com_5000_team_alice-dev_v2");
    expect(labelValue(long)).not.toBe(labelValue(`${long}b`));
  });
});

describe("the per-run registry Secret", () => {
  const auth = { serveraddress: "registry.example.com", username: "alice", password: "s3cret:pw", source: "test" };
  test("is a dockerconfigjson Secret next to the Pod", () => {
    const s = buildRegistrySecret("seelie-commit-x", "seelie-system", { a: "b" }, auth);
    expect(s.type).toBe("kubernetes.io/dockerconfigjson");
    expect(s.metadata).toEqual({ generateName: "seelie-commit-x-registry-", namespace: "seelie-system", labels: { a: "b" } });
    const doc = JSON.parse(Buffer.from(s.data![".dockerconfigjson"]!, "base64").toString());
    expect(doc.auths["registry.example.com"].username).toBe("alice");
    expect(Buffer.from(doc.auths["registry.example.com"].auth, "base64").toString()).toBe("alice:s3cret:pw");
  });
  test("an identity token", () => {
    expect(JSON.parse(dockerConfigJson({ serveraddress: "r", identitytoken: "tok", source: "x" }))).toEqual({
      auths: { r: { identitytoken: "tok" } },
    });
  });
  test("owner reference patch", () => {
    expect(ownerPatch({ name: "p", uid: "u" })).toEqual({
      metadata: { ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "p", uid: "u" }] },
    });
  });
  test("the secret's value never appears in the Pod", () => {
    const text = JSON.stringify(buildCommitterPod(input()));
    expect(text).not.toContain("s3cret");
    expect(text).not.toContain(Buffer.from("alice:s3cret:pw").toString("base64"));
  });
});
