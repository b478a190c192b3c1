/**
 * The committer Pod and its per-run registry Secret, as pure data. `pods/committer/pod.yaml` is the
 * same Pod as a template (a unit test keeps the two equal).
 */
import type { V1Pod, V1Secret } from "@kubernetes/client-node";
import { createHash } from "node:crypto";
import type { Compression } from "../commit/compress.ts";
import { RESULT_FILE_ENV } from "../commit/result-file.ts";
import type { LayerSource } from "../commit/runtime.ts";
import type { RegistryAuth } from "../registry/credentials.ts";
import type { CommitTarget } from "./locate.ts";
import type { SocketMount } from "./socket.ts";
import type { StorageMount } from "./storage.ts";

/** Label keys on committer Pods and Secrets. */
export const LABELS = {
  name: "app.kubernetes.io/name",
  managedBy: "app.kubernetes.io/managed-by",
  /** The source container's key: the lock that refuses a second concurrent commit. */
  container: "seelie.dev/container",
  sourceNamespace: "seelie.dev/source-namespace",
  sourcePod: "seelie.dev/source-pod",
  sourceContainer: "seelie.dev/source-container",
  /** The target image, readable but lossy (label values allow 63 characters of [A-Za-z0-9._-]). */
  target: "seelie.dev/target",
  /** The target image's hash: exact, for selecting. */
  targetHash: "seelie.dev/target-hash",
} as const;

/** Annotation keys holding the exact values that labels can only hold shortened. */
export const ANNOTATIONS = {
  targetImage: "seelie.dev/target-image",
  sourcePod: "seelie.dev/source-pod",
  containerId: "seelie.dev/container-id",
  node: "seelie.dev/node",
  requestedBy: "seelie.dev/requested-by",
} as const;

export const COMMITTER_APP = "seelie-committer";
export const COMMITTER_CONTAINER = "committer";
/** The permissions `image commit --pod` needs, written down. */
export const COMMIT_RBAC = "pods/committer/rbac.yaml";
/** Where the committer executable lives in the committer image (pods/committer/Dockerfile). */
const COMMITTER_PATH = "/usr/local/bin/seelie-committer";
/** Where the registry Secret is mounted; the committer gets the file by `--docker-config`. */
export const REGISTRY_AUTH_DIR = "/var/run/seelie/registry";
const DOCKER_CONFIG_KEY = ".dockerconfigjson";
export const TERMINATION_LOG = "/dev/termination-log";

const sha = (s: string, n: number) => createHash("sha256").update(s).digest("hex").slice(0, n);

/** A label value (≤ 63 characters of [A-Za-z0-9._-], alphanumeric at both ends) standing for `value`. */
export function labelValue(value: string): string {
  let v = value.replace(/[^A-Za-z0-9._-]+/g, "_");
  if (v.length > 63) v = `${v.slice(0, 54)}-${sha(value, 8)}`;
  return v.replace(/^[^A-Za-z0-9]+/, "").replace(/[^A-Za-z0-9]+$/, "");
}

/** The short, stable key of a source container (its id's first 16 hex digits, else a hash). */
export function containerKey(target: Pick<CommitTarget, "runtime" | "containerId">): string {
  const id = target.containerId.toLowerCase();
  return /^[0-9a-f]{16,}$/.test(id) ? id.slice(0, 16) : sha(`${target.runtime}://${target.containerId}`, 16);
}

/** The committer Pod's name: fixed per source container, so a second concurrent commit collides (409). */
export function committerPodName(target: Pick<CommitTarget, "runtime" | "containerId">): string {
  return `seelie-commit-${containerKey(target)}`;
}

/** The labels of a committer Pod (and its Secret). */
export function committerLabels(target: CommitTarget, image: string): Record<string, string> {
  return {
    [LABELS.name]: COMMITTER_APP,
    [LABELS.managedBy]: "seelie",
    [LABELS.container]: containerKey(target),
    [LABELS.sourceNamespace]: labelValue(target.namespace),
    [LABELS.sourcePod]: labelValue(target.pod),
    [LABELS.sourceContainer]: labelValue(target.container),
    [LABELS.target]: labelValue(image),
    [LABELS.targetHash]: sha(image, 16),
  };
}

/** Everything the committer Pod is made from. */
export interface CommitterPodInput {
  name: string;
  namespace: string;
  committerImage: string;
  target: CommitTarget;
  /** The image to commit to (and push). */
  image: string;
  socket: SocketMount;
  /** The runtime's overlay storage (under its data root), for reading the upper directory directly. */
  storage: StorageMount;
  /** `--layer-source` for the committer; undefined: its default (auto). */
  layerSource?: LayerSource;
  /** `--compression` and `--compression-level` for the committer; undefined: its defaults (gzip 6). */
  compression?: { kind: Compression; level: number };
  /** A `kubernetes.io/dockerconfigjson` Secret in the committer namespace; none = push anonymously. */
  registrySecret?: string;
  clean: boolean;
  hostNetwork: boolean;
  activeDeadlineSeconds: number;
  /** containerd namespace of the kubelet's containers. */
  containerdNamespace?: string;
  /** Who asked (for the annotation). */
  requestedBy?: string;
}

/** The committer's command line (no secret in it: the credentials are a mounted file). */
function committerArgs(input: CommitterPodInput): string[] {
  const { target } = input;
  const args = [
    "--container-id",
    `${target.runtime}://${target.containerId}`,
    "--image",
    input.image,
    "--runtime-endpoint",
    input.socket.endpoint,
  ];
  if (target.runtime === "containerd") args.push("--namespace", input.containerdNamespace ?? "k8s.io");
  if (input.registrySecret) args.push("--docker-config", `${REGISTRY_AUTH_DIR}/${DOCKER_CONFIG_KEY}`);
  if (!input.clean) args.push("--no-clean");
  // Only what was asked for: a committer image older than these flags still runs the defaults.
  if (input.layerSource) args.push("--layer-source", input.layerSource);
  if (input.compression) args.push("--compression", input.compression.kind, "--compression-level", String(input.compression.level));
  args.push("-o", "json");
  return args;
}

/**
 * The committer Pod: on the source container's node (node affinity on `metadata.name`, as DaemonSets
 * do), tolerating every taint, mounting only the runtime's socket (directory), no service-account
 * token, no host network (unless asked) / PID / IPC, not privileged, no capabilities at all; root
 * only because the runtime sockets are root-owned `0660` (see docs/notes/issue-4.md).
 */
export function buildCommitterPod(input: CommitterPodInput): V1Pod {
  const { target, socket, storage } = input;
  const volumes: NonNullable<V1Pod["spec"]>["volumes"] = [
    { name: "runtime-socket", hostPath: { path: socket.hostPath, type: socket.type } },
    // DirectoryOrCreate: a node whose runtime keeps its data elsewhere still runs the committer (API path).
    { name: "runtime-storage", hostPath: { path: storage.hostPath, type: "DirectoryOrCreate" } },
    { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
  ];
  const mounts: NonNullable<NonNullable<V1Pod["spec"]>["containers"][number]["volumeMounts"]> = [
    { name: "runtime-socket", mountPath: socket.mountPath, readOnly: socket.readOnly },
    // Same path as on the host: the runtime reports upper directories by their host path.
    {
      name: "runtime-storage",
      mountPath: storage.hostPath,
      readOnly: true,
      ...(storage.mountPropagation ? { mountPropagation: storage.mountPropagation } : {}),
    },
    { name: "tmp", mountPath: "/tmp" },
  ];
  if (input.registrySecret) {
    volumes.push({
      name: "registry-auth",
      secret: { secretName: input.registrySecret, items: [{ key: DOCKER_CONFIG_KEY, path: DOCKER_CONFIG_KEY }], defaultMode: 0o400 },
    });
    mounts.push({ name: "registry-auth", mountPath: REGISTRY_AUTH_DIR, readOnly: true });
  }
  const annotations: Record<string, string> = {
    [ANNOTATIONS.targetImage]: input.image,
    [ANNOTATIONS.sourcePod]: `${target.namespace}/${target.pod}/${target.container}`,
    [ANNOTATIONS.containerId]: `${target.runtime}://${target.containerId}`,
    [ANNOTATIONS.node]: target.node,
  };
  if (input.requestedBy) annotations[ANNOTATIONS.requestedBy] = input.requestedBy;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: input.name, namespace: input.namespace, labels: committerLabels(target, input.image), annotations },
    spec: {
      restartPolicy: "Never",
      activeDeadlineSeconds: input.activeDeadlineSeconds,
      terminationGracePeriodSeconds: 30,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      hostNetwork: input.hostNetwork,
      hostPID: false,
      hostIPC: false,
      dnsPolicy: input.hostNetwork ? "Default" : "ClusterFirst",
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: [target.node] }] }],
          },
        },
      },
      tolerations: [{ operator: "Exists" }],
      containers: [
        {
          name: COMMITTER_CONTAINER,
          image: input.committerImage,
          imagePullPolicy: "IfNotPresent",
          command: [COMMITTER_PATH],
          args: committerArgs(input),
          // An environment variable, not a flag, so any committer image works with any seelie: an older
          // committer ignores it (the result is then read from the log), a newer one writes its result
          // to the termination message (lib/commit/result-file.ts).
          env: [{ name: RESULT_FILE_ENV, value: TERMINATION_LOG }],
          resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "2", memory: "1Gi" } },
          securityContext: {
            privileged: false,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsUser: 0,
            runAsGroup: 0,
            runAsNonRoot: false,
            // Reading the upper directory: overlay's trusted.* attributes (opaque directories) need
            // SYS_ADMIN, other users' files DAC_READ_SEARCH. The runtime socket is root on the node already.
            capabilities: { drop: ["ALL"], add: ["SYS_ADMIN", "DAC_READ_SEARCH"] },
            seccompProfile: { type: "RuntimeDefault" },
          },
          volumeMounts: mounts,
          terminationMessagePath: TERMINATION_LOG,
          terminationMessagePolicy: "FallbackToLogsOnError",
        },
      ],
      volumes,
    },
  };
}

/** The `.dockerconfigjson` document for one registry's credentials. */
export function dockerConfigJson(auth: RegistryAuth): string {
  const entry: Record<string, string> = {};
  if (auth.username !== undefined) {
    entry.username = auth.username;
    if (auth.password !== undefined) entry.password = auth.password;
    entry.auth = Buffer.from(`${auth.username}:${auth.password ?? ""}`).toString("base64");
  }
  if (auth.identitytoken !== undefined) entry.identitytoken = auth.identitytoken;
  return JSON.stringify({ auths: { [auth.serveraddress]: entry } });
}

/**
 * The per-run `kubernetes.io/dockerconfigjson` Secret (a generated name next to the Pod's; it is
 * made owned by the Pod once the Pod exists, so Kubernetes deletes it with the Pod).
 */
export function buildRegistrySecret(podName: string, namespace: string, labels: Record<string, string>, auth: RegistryAuth): V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { generateName: `${podName}-registry-`, namespace, labels },
    type: "kubernetes.io/dockerconfigjson",
    data: { [DOCKER_CONFIG_KEY]: Buffer.from(dockerConfigJson(auth)).toString("base64") },
  };
}

/** The merge patch that makes the Secret owned by the Pod. */
export function ownerPatch(pod: { name: string; uid: string }): {
  metadata: { ownerReferences: { apiVersion: string; kind: string; name: string; uid: string }[] };
} {
  return { metadata: { ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: pod.name, uid: pod.uid }] } };
}
