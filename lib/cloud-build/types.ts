/** The build tools an in-cluster build can use (SPEC §3). */
export const BUILD_TOOLS = ["kaniko", "buildkit", "buildah", "buildpacks"] as const;
export type BuildTool = (typeof BUILD_TOOLS)[number];

/** Where the project lives: a PersistentVolumeClaim or an NFS export, plus the project's path on it. */
export type ContextVolume = { pvc: string } | { nfs: { server: string; path: string } };

/** The checked inputs of one in-cluster build Pod. */
export interface CloudBuildInputs {
  tool: BuildTool;
  /** The base image (allow-listed); for Buildpacks it is the run image. */
  baseImage: string;
  context: ContextVolume;
  /** The project's directory relative to the volume's root ("." for the root itself). */
  contextSubpath: string;
  /** A `kubernetes.io/dockerconfigjson` Secret in the Pod's namespace: push (and pull) credentials. */
  registrySecret: string;
  /** The image to build and push. */
  image: string;
  /** The Pod's namespace; empty leaves it out (templates, and `--render` without `--namespace`, so `kubectl -n` decides). */
  namespace: string;
  /** The builder container's image (each tool has a pinned default). */
  builderImage: string;
  /** The image that carries the seelie binary, for the prepare init container. */
  toolsImage: string;
  /** The base-image allow list the prepare step enforces in the Pod. */
  allowedBaseImages: readonly string[];
  /**
   * The Pod's name. Always a real name, never `generateName`: `kubectl apply` refuses generated names,
   * and the rendered Pod must be the one `cloud-build` would create.
   */
  name: string;
  /** Run the builder in the node's network (a registry only the node reaches, e.g. on its loopback). */
  hostNetwork?: boolean;
  /** Seconds after which Kubernetes stops the build (activeDeadlineSeconds). */
  deadlineSeconds?: number;
}

/** Minimal Kubernetes object shapes the renderer produces (plain data, JSON/YAML-serialisable). */
export type EnvVar = { name: string; value: string };
export type VolumeMount = { name: string; mountPath: string; readOnly?: boolean };
export interface ContainerSpec {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  securityContext?: Record<string, unknown>;
  terminationMessagePolicy?: string;
  volumeMounts?: VolumeMount[];
  resources?: Record<string, unknown>;
}
export type VolumeSpec = { name: string } & Record<string, unknown>;
export interface PodSpecDoc {
  apiVersion: "v1";
  kind: "Pod";
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    restartPolicy: "Never";
    automountServiceAccountToken: boolean;
    activeDeadlineSeconds?: number;
    hostNetwork?: boolean;
    dnsPolicy?: string;
    securityContext: { seccompProfile: { type: "RuntimeDefault" } };
    initContainers: ContainerSpec[];
    containers: ContainerSpec[];
    volumes: VolumeSpec[];
  };
}
