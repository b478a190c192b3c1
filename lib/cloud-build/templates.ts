/**
 * The static templates in `pods/cloud-build/<tool>.yaml`: the renderer's Pod for example inputs, with a
 * header that tells kubectl users which values to change. A test checks the files equal this output,
 * so the templates and `seelie image cloud-build --render` cannot drift apart.
 */

import { DEFAULT_TOOLS_IMAGE } from "./inputs.ts";
import { buildPodYaml, renderBuildPod } from "./pod.ts";
import { DEFAULT_BUILDER_IMAGES } from "./tools.ts";
import { BUILD_TOOLS, type BuildTool, type CloudBuildInputs } from "./types.ts";

/** The example values the templates carry. */
export function templateInputs(tool: BuildTool): CloudBuildInputs {
  return {
    tool,
    baseImage:
      tool === "buildpacks" ? "registry.example.com/paketobuildpacks/run-jammy-base:0.1.130" : "registry.example.com/base/python:3.10",
    context: { pvc: "ml-projects" },
    contextSubpath: "alice/mnist",
    registrySecret: "seelie-registry",
    image: "registry.example.com/team/alice-training:v1",
    namespace: "",
    builderImage: DEFAULT_BUILDER_IMAGES[tool],
    toolsImage: DEFAULT_TOOLS_IMAGE,
    allowedBaseImages: ["registry.example.com/", "nvcr.io/nvidia/", "docker.io/tensorflow/tensorflow", "docker.io/pytorch/pytorch"],
    name: `seelie-build-${tool}`,
    deadlineSeconds: 3600,
  };
}

const TOOL_NOTES: Record<BuildTool, string[]> = {
  kaniko: [
    "Kaniko (maintained fork osscontainertools/kaniko): runs as root inside the container, not privileged;",
    "only the file-ownership capabilities (CHOWN DAC_OVERRIDE FOWNER FSETID SETUID SETGID SETFCAP);",
    "seccomp RuntimeDefault (measured: Kaniko v1.19 builds and pushes under it on Kubernetes v1.21).",
    "The executor image has no shell: the digest goes to the termination message (--digest-file).",
  ],
  buildkit: [
    "BuildKit rootless (buildctl-daemonless.sh): uid 1000, no added capabilities; seccomp and AppArmor",
    "Unconfined so rootlesskit can create its user namespace (measured: under RuntimeDefault it fails with",
    '"fork/exec /proc/self/exe: operation not permitted"); --oci-worker-no-process-sandbox.',
  ],
  buildah: [
    "Buildah (vfs storage, chroot isolation): root in the container, not privileged; capabilities",
    "SETUID SETGID SETFCAP only, seccomp and AppArmor Unconfined for its user namespace (measured: under",
    'RuntimeDefault it fails with "unshare(CLONE_NEWUSER): Operation not permitted").',
  ],
  buildpacks: [
    "Cloud Native Buildpacks (lifecycle creator in the builder image): the builder's non-root user, no capabilities,",
    "seccomp RuntimeDefault (not run on a cluster by the tests: no builder image can be made offline).",
    "BASE_IMAGE is the RUN image: it must be a run image made for this builder (same OS/stack), not any image.",
    "No Dockerfile: a project with a Dockerfile is refused; build_script.sh is not run (the buildpacks",
    "detect requirements.txt themselves). The prepare step copies the project to the scratch volume (app/).",
  ],
};

/** The text of `pods/cloud-build/<tool>.yaml`. */
export function renderTemplate(tool: BuildTool): string {
  const header = [
    `# seelie in-cluster image build with ${tool} — no container runtime needed on the node.`,
    "# Generated from lib/cloud-build/pod.ts (`seelie image cloud-build --render` prints the same Pod);",
    "# the four templates in this directory differ only in the builder container, its extra volumes and annotations.",
    "#",
    "# Parameters (edit them; see README.md here):",
    "#   BASE_IMAGE   env of both containers: the base image, must match SEELIE_ALLOWED_BASE_IMAGES",
    "#   IMAGE        env of both containers: the image to build and push",
    "#   CONTEXT_DIR  env of both containers: /workspace/volume/<the project's path on the volume>",
    "#   volumes[context]: the PVC (claimName) — or nfs: {server, path} — holding the project, read-only",
    "#   volumes[registry-auth].secret.secretName: a kubernetes.io/dockerconfigjson Secret",
    "#   containers[build].image: the builder (pinned); initContainers[prepare].image: seelie-tools",
    "#",
    ...TOOL_NOTES[tool].map((l) => `# ${l}`),
    "#",
    `# Run: kubectl -n NS apply -f pods/cloud-build/${tool}.yaml`,
    `#      kubectl -n NS logs -f seelie-build-${tool} -c prepare; kubectl -n NS logs -f seelie-build-${tool} -c build`,
    `#      kubectl -n NS get pod seelie-build-${tool} -o jsonpath='{.status.containerStatuses[0].state.terminated.message}'  # digest`,
    `#      kubectl -n NS delete pod seelie-build-${tool}`,
  ];
  return `${header.join("\n")}\n${buildPodYaml(renderBuildPod(templateInputs(tool)))}`;
}

/** Every template, by file name. */
export function allTemplates(): Record<string, string> {
  return Object.fromEntries(BUILD_TOOLS.map((t) => [`${t}.yaml`, renderTemplate(t)]));
}
