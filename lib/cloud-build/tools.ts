/**
 * The tool-specific parts of an in-cluster build Pod: the builder container (image, command, env,
 * security context, extra mounts), extra scratch volumes and annotations. Everything else in the Pod
 * is shared (see pod.ts). Paths the Pod shares between its containers are constants here.
 */
import type { BuildTool, ContainerSpec, EnvVar, VolumeMount, VolumeSpec } from "./types.ts";

/** Where the context volume (PVC/NFS) is mounted, read-only, in every container. */
export const VOLUME_MOUNT = "/workspace/volume";
/** The emptyDir the prepare step writes into (Dockerfile, run.toml, app copy); never the user's storage. */
export const SCRATCH_DIR = "/workspace/scratch";
/** Where the registry Secret's `.dockerconfigjson` appears, as `config.json`. */
export const REGISTRY_AUTH_DIR = "/workspace/registry-auth";
/** The line every builder prints (and writes to its termination message) after a push. */
export const DIGEST_LINE_PREFIX = "seelie-digest: ";

/** Pinned default builder images; clusters that mirror images pass --builder_image instead. */
export const DEFAULT_BUILDER_IMAGES: Record<BuildTool, string> = {
  // GoogleContainerTools/kaniko is archived (June 2025); osscontainertools/kaniko is the actively
  // maintained community fork and publishes to ghcr.io (its plain image has no shell, as the original).
  kaniko: "ghcr.io/osscontainertools/kaniko:v1.28.2",
  buildkit: "docker.io/moby/buildkit:v0.24.0-rootless",
  buildah: "quay.io/buildah/stable:v1.39.0",
  buildpacks: "docker.io/paketobuildpacks/builder-jammy-base:0.4.539",
};

/** One command a builder runs, as an argument vector (shell variables in `${VAR}` form). */
export type Argv = string[];

/** The tool-specific part of a build Pod. */
export interface ToolFragment {
  /** The commands the builder runs, in order (what the argument-list tests check). */
  steps: Argv[];
  /** The builder container's command and args as they appear in the Pod. */
  command: string[];
  args?: string[];
  /** Environment of the builder beyond the shared variables. */
  env: EnvVar[];
  securityContext: Record<string, unknown>;
  /** Mounts beyond the shared context/scratch/registry-auth mounts. */
  mounts: VolumeMount[];
  volumes: VolumeSpec[];
  annotations: Record<string, string>;
}

const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one argument for sh: `${VAR}` stays expandable inside double quotes. */
export function shellQuote(arg: string): string {
  if (SHELL_SAFE.test(arg)) return arg;
  if (/^[^"\\`]*$/.test(arg) && !/\$(?!\{[A-Z_][A-Z0-9_]*\})/.test(arg)) return `"${arg}"`;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A `set -eu` sh script that runs each step, then reports the digest read by `digestCmd`. */
function script(steps: Argv[], digestCmd: string): string {
  return [
    "set -eu",
    ...steps.map((s) => s.map(shellQuote).join(" ")),
    `digest="$(${digestCmd})"`,
    // The kubelet reads this file as the container's termination message (TERMINATION_LOG only for tests).
    `printf '%s' "$digest" > "\${TERMINATION_LOG:-/dev/termination-log}" || true`,
    `echo "${DIGEST_LINE_PREFIX}$digest"`,
    "",
  ].join("\n");
}

const DROP_ALL_NO_ESCALATION = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };
const apparmorUnconfined = { "container.apparmor.security.beta.kubernetes.io/build": "unconfined" };

function kaniko(): ToolFragment {
  // Kaniko has no shell in its image: it writes the digest to the termination message itself.
  const argv = [
    "/kaniko/executor",
    "--context=dir://$(CONTEXT_DIR)",
    "--dockerfile=$(DOCKERFILE)",
    "--build-arg=BASE_IMAGE=$(BASE_IMAGE)",
    "--destination=$(IMAGE)",
    "--digest-file=/dev/termination-log",
    // Its default is "color" even without a terminal: escape codes in every streamed log line.
    "--log-format=text",
  ];
  return {
    steps: [argv],
    command: [argv[0]!],
    args: argv.slice(1),
    env: [{ name: "DOCKER_CONFIG", value: REGISTRY_AUTH_DIR }],
    // Root in the container (it unpacks the base image's files with their owners and runs RUN steps
    // in its own root filesystem), but not privileged: only the file-ownership capabilities. No user
    // namespace, so the Pod's RuntimeDefault seccomp profile applies (measured on v1.21).
    securityContext: {
      runAsUser: 0,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"], add: ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "SETUID", "SETGID", "SETFCAP"] },
    },
    mounts: [],
    volumes: [],
    annotations: {},
  };
}

function buildkit(): ToolFragment {
  const build = [
    "buildctl-daemonless.sh",
    "build",
    "--frontend",
    "dockerfile.v0",
    "--local",
    "context=${CONTEXT_DIR}",
    "--local",
    `dockerfile=${SCRATCH_DIR}`,
    "--opt",
    "filename=Dockerfile",
    "--opt",
    "build-arg:BASE_IMAGE=${BASE_IMAGE}",
    "--output",
    "type=image,name=${IMAGE},push=true",
    "--metadata-file",
    `${SCRATCH_DIR}/buildkit-metadata.json`,
  ];
  const s = script(
    [build],
    `sed -n 's/.*"containerimage.digest": *"\\(sha256:[0-9a-f]*\\)".*/\\1/p' ${SCRATCH_DIR}/buildkit-metadata.json`,
  );
  return {
    steps: [build],
    command: ["/bin/sh", "-c", s],
    env: [
      { name: "DOCKER_CONFIG", value: REGISTRY_AUTH_DIR },
      // No nested PID namespace/procfs for RUN steps: the Pod is the sandbox (BuildKit docs/rootless.md).
      { name: "BUILDKITD_FLAGS", value: "--oci-worker-no-process-sandbox" },
    ],
    // Rootless: uid 1000; rootlesskit creates a user namespace (newuidmap/newgidmap use their file
    // capabilities, so privilege escalation stays allowed) and mounts inside it, which the default
    // seccomp and AppArmor profiles refuse (measured on v1.21: "fork/exec /proc/self/exe: operation not permitted").
    securityContext: { runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true, seccompProfile: { type: "Unconfined" } },
    mounts: [{ name: "buildkit-state", mountPath: "/home/user/.local/share/buildkit" }],
    volumes: [{ name: "buildkit-state", emptyDir: {} }],
    annotations: { ...apparmorUnconfined },
  };
}

function buildah(): ToolFragment {
  const common = ["buildah", "--root", "${BUILDAH_STORAGE}/storage", "--runroot", "${BUILDAH_STORAGE}/run", "--storage-driver", "vfs"];
  const bud = [
    ...common,
    "bud",
    "--isolation",
    "chroot",
    "--file",
    "${DOCKERFILE}",
    "--build-arg",
    "BASE_IMAGE=${BASE_IMAGE}",
    "--tag",
    "${IMAGE}",
    "${CONTEXT_DIR}",
  ];
  const push = [...common, "push", "--digestfile", "${BUILDAH_STORAGE}/digest", "${IMAGE}", "docker://${IMAGE}"];
  return {
    steps: [bud, push],
    command: ["/bin/sh", "-c", script([bud, push], 'cat "${BUILDAH_STORAGE}/digest"')],
    env: [
      // Pull and push credentials (containers-auth.json accepts Docker's config.json).
      { name: "REGISTRY_AUTH_FILE", value: `${REGISTRY_AUTH_DIR}/config.json` },
      { name: "BUILDAH_STORAGE", value: "/var/lib/containers" },
    ],
    // Root, not privileged: with chroot isolation Buildah maps the full uid range into a user
    // namespace (measured here: SETUID+SETGID+SETFCAP are the only capabilities it needs) and mounts
    // inside it, which the default seccomp and AppArmor profiles refuse (measured on v1.21 with
    // Debian's buildah 1.28: "unshare(CLONE_NEWUSER): Operation not permitted").
    securityContext: {
      runAsUser: 0,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"], add: ["SETUID", "SETGID", "SETFCAP"] },
      seccompProfile: { type: "Unconfined" },
    },
    mounts: [{ name: "buildah-storage", mountPath: "/var/lib/containers" }],
    volumes: [{ name: "buildah-storage", emptyDir: {} }],
    annotations: { ...apparmorUnconfined },
  };
}

function buildpacks(): ToolFragment {
  const create = [
    "/cnb/lifecycle/creator",
    `-app=${SCRATCH_DIR}/app`,
    "-layers=/layers",
    "-platform=/platform",
    "-run-image=${BASE_IMAGE}",
    "-report=/layers/report.toml",
    "${IMAGE}",
  ];
  return {
    steps: [create],
    command: ["/bin/sh", "-c", script([create], `sed -n 's/^ *digest = "\\(sha256:[0-9a-f]*\\)".*/\\1/p' /layers/report.toml | head -n 1`)],
    env: [
      { name: "DOCKER_CONFIG", value: REGISTRY_AUTH_DIR },
      { name: "CNB_PLATFORM_API", value: "0.11" },
    ],
    // The builder image's own non-root CNB user; no capability is needed.
    securityContext: { ...DROP_ALL_NO_ESCALATION },
    mounts: [
      { name: "cnb-layers", mountPath: "/layers" },
      { name: "cnb-platform", mountPath: "/platform" },
    ],
    volumes: [
      { name: "cnb-layers", emptyDir: {} },
      { name: "cnb-platform", emptyDir: {} },
    ],
    annotations: {},
  };
}

/** The tool-specific fragment of the build Pod for `tool`. */
export function toolFragment(tool: BuildTool): ToolFragment {
  switch (tool) {
    case "kaniko":
      return kaniko();
    case "buildkit":
      return buildkit();
    case "buildah":
      return buildah();
    case "buildpacks":
      return buildpacks();
  }
}

/** The builder container, named `build`, with the shared env and mounts first. */
export function builderContainer(tool: BuildTool, image: string, sharedEnv: EnvVar[], sharedMounts: VolumeMount[]): ContainerSpec {
  const f = toolFragment(tool);
  const c: ContainerSpec = { name: "build", image, command: f.command };
  if (f.args) c.args = f.args;
  c.env = [...sharedEnv, ...f.env];
  c.securityContext = f.securityContext;
  c.terminationMessagePolicy = "FallbackToLogsOnError";
  c.volumeMounts = [...sharedMounts, ...f.mounts];
  return c;
}
