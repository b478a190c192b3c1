/**
 * The in-cluster build Pod (SPEC §3): one shape for every tool. An init container runs
 * `seelie image prepare` (ml.flag, allow list, Dockerfile into the scratch emptyDir), then the
 * builder container builds and pushes. Only the parts listed in TOOL_SPECIFIC_PARTS change with the tool.
 */
import { podYaml } from "../kube/pod-yaml.ts";
import { builderContainer, REGISTRY_AUTH_DIR, SCRATCH_DIR, toolFragment, VOLUME_MOUNT } from "./tools.ts";
import type { CloudBuildInputs, ContainerSpec, EnvVar, PodSpecDoc, VolumeMount, VolumeSpec } from "./types.ts";

/** Labels every build Pod carries (and `seelie.dev/build-tool`). */
const BUILD_POD_LABELS = { "app.kubernetes.io/name": "seelie-cloud-build", "app.kubernetes.io/managed-by": "seelie" } as const;

/**
 * The parts of the Pod that depend on the tool; everything else is byte-for-byte the same for all tools
 * (a test proves it): the Pod's name, its tool label, annotations, the prepare step's BUILD_TOOL,
 * the builder container's image/command/args/tool env/securityContext/extra mounts, and extra volumes.
 */
export const TOOL_SPECIFIC_PARTS = [
  "metadata.name",
  "metadata.labels[seelie.dev/build-tool]",
  "metadata.annotations",
  "spec.initContainers[prepare].env[BUILD_TOOL]",
  "spec.containers[build]: image, command, args, env after the shared ones, securityContext, volumeMounts after the shared ones",
  "spec.volumes after the shared ones (context, scratch, registry-auth)",
] as const;

/** The context volume, read-only: the whole PVC or NFS export (see docs/cloud-build.md for why not subPath). */
function contextVolume(inputs: CloudBuildInputs): VolumeSpec {
  if ("pvc" in inputs.context) return { name: "context", persistentVolumeClaim: { claimName: inputs.context.pvc, readOnly: true } };
  return { name: "context", nfs: { server: inputs.context.nfs.server, path: inputs.context.nfs.path, readOnly: true } };
}

/** The directory of the project inside the Pod. */
export function contextDirIn(subpath: string): string {
  const clean = subpath.replace(/^\.?\/*/, "").replace(/\/+$/, "");
  return clean ? `${VOLUME_MOUNT}/${clean}` : VOLUME_MOUNT;
}

/** The variables the prepare and build containers share: the Pod's parameters, in one place each. */
function sharedEnv(inputs: CloudBuildInputs): EnvVar[] {
  return [
    { name: "BASE_IMAGE", value: inputs.baseImage },
    { name: "IMAGE", value: inputs.image },
    { name: "CONTEXT_DIR", value: contextDirIn(inputs.contextSubpath) },
    { name: "DOCKERFILE", value: `${SCRATCH_DIR}/Dockerfile` },
  ];
}

const contextMount: VolumeMount = { name: "context", mountPath: VOLUME_MOUNT, readOnly: true };
const scratchMount: VolumeMount = { name: "scratch", mountPath: SCRATCH_DIR };

function prepareContainer(inputs: CloudBuildInputs): ContainerSpec {
  return {
    name: "prepare",
    image: inputs.toolsImage,
    command: ["seelie", "image", "prepare"],
    args: ["--project_dir=$(CONTEXT_DIR)", "--base_image=$(BASE_IMAGE)", "--tool=$(BUILD_TOOL)", `--out=${SCRATCH_DIR}`],
    env: [
      ...sharedEnv(inputs),
      { name: "BUILD_TOOL", value: inputs.tool },
      { name: "SEELIE_ALLOWED_BASE_IMAGES", value: inputs.allowedBaseImages.join(",") },
    ],
    securityContext: {
      runAsUser: 65532,
      runAsGroup: 65532,
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    },
    terminationMessagePolicy: "FallbackToLogsOnError",
    volumeMounts: [contextMount, scratchMount],
  };
}

/** Renders the build Pod for the inputs. Pure: no I/O, same inputs give the same Pod. */
export function renderBuildPod(inputs: CloudBuildInputs): PodSpecDoc {
  const frag = toolFragment(inputs.tool);
  const metadata: PodSpecDoc["metadata"] = { name: inputs.name };
  // Left out unless given, so `kubectl -n NS apply -f` decides (a written namespace would clash with -n).
  if (inputs.namespace) metadata.namespace = inputs.namespace;
  metadata.labels = { ...BUILD_POD_LABELS, "seelie.dev/build-tool": inputs.tool };
  if (Object.keys(frag.annotations).length > 0) metadata.annotations = { ...frag.annotations };
  const authMount: VolumeMount = { name: "registry-auth", mountPath: REGISTRY_AUTH_DIR, readOnly: true };
  const pod: PodSpecDoc = {
    apiVersion: "v1",
    kind: "Pod",
    metadata,
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      // The runtime's default seccomp profile for every container (v1.21 applies none unless asked);
      // the builders that need a user namespace opt out in their own securityContext (tools.ts).
      securityContext: { seccompProfile: { type: "RuntimeDefault" } },
      initContainers: [prepareContainer(inputs)],
      containers: [builderContainer(inputs.tool, inputs.builderImage, sharedEnv(inputs), [contextMount, scratchMount, authMount])],
      volumes: [
        contextVolume(inputs),
        { name: "scratch", emptyDir: {} },
        {
          name: "registry-auth",
          secret: { secretName: inputs.registrySecret, items: [{ key: ".dockerconfigjson", path: "config.json" }] },
        },
        ...frag.volumes,
      ],
    },
  };
  if (inputs.deadlineSeconds) pod.spec.activeDeadlineSeconds = inputs.deadlineSeconds;
  if (inputs.hostNetwork) {
    pod.spec.hostNetwork = true;
    // The node's resolv.conf: cluster DNS is not what a host-network Pod would expect to resolve with.
    pod.spec.dnsPolicy = "Default";
  }
  return pod;
}

/** The Pod as YAML for `kubectl apply -f -`. */
export function buildPodYaml(pod: PodSpecDoc): string {
  return podYaml(pod);
}
