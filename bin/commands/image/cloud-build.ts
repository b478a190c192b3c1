import { defineCommand } from "citty";
import { type CloudBuildOptions, resolveCloudBuildInputs } from "../../../lib/cloud-build/inputs.ts";
import { buildPodYaml, renderBuildPod } from "../../../lib/cloud-build/pod.ts";
import { runCloudBuild } from "../../../lib/cloud-build/run.ts";
import { loadConfig } from "../../../lib/config/load.ts";
import { loadKube } from "../../../lib/kube/client.ts";
import { log, stderrProgress } from "../../../lib/log.ts";
import { parseDuration } from "../../../lib/util/duration.ts";
import { interruptSignal, outputArg, outputFormat, printData, rejectUnknownFlags } from "../_cli.ts";

const args = {
  tool: { type: "string", description: "build tool: kaniko|buildkit|buildah|buildpacks (see docs/cloud-build.md)", default: "buildkit" },
  base_image: { type: "string", description: "base image, from the allow list (Buildpacks: the run image)" },
  context_pvc: { type: "string", description: "PersistentVolumeClaim holding the project (mounted read-only)" },
  context_nfs: { type: "string", description: "NFS export holding the project, SERVER:/PATH (mounted read-only)" },
  context_subpath: { type: "string", description: "the project's directory on the volume", default: "." },
  context_dir: {
    type: "string",
    description: "the same project as seen from here (optional): checked (ml.flag, Dockerfile) before any Pod",
  },
  registry_secret: { type: "string", description: "kubernetes.io/dockerconfigjson Secret with the push (and pull) credentials" },
  tag: { type: "string", description: "tag of the platform image {registry}/{repo}/{user}-{repo_type}:{tag}" },
  repo_type: { type: "string", description: "repo type of the platform image, e.g. training" },
  image: { type: "string", description: "full target image reference (instead of --tag/--repo_type)" },
  namespace: { type: "string", alias: "n", description: "namespace of the build Pod (default: the kubeconfig context's, else default)" },
  cluster: { type: "string", description: "kubeconfig context (default: the current one)" },
  builder_image: { type: "string", description: "the builder's image (default: the tool's pinned image)" },
  tools_image: {
    type: "string",
    description: "image with the seelie binary for the prepare step (SEELIE_TOOLS_IMAGE, config cloudBuild.toolsImage)",
  },
  name: { type: "string", description: "Pod name (default: seelie-build-<tool>-xxxxx, random)" },
  host_network: {
    type: "boolean",
    description: "run the build in the node's network (a registry only the node reaches, e.g. on its 127.0.0.1)",
    default: false,
  },
  timeout: {
    type: "string",
    description: "time before Kubernetes stops the build (activeDeadlineSeconds), e.g. 30m, 1h; a bare number is seconds",
    default: "1h",
  },
  render: {
    type: "boolean",
    description:
      "print the Pod YAML for kubectl apply -f - instead of running it (no namespace in it unless --namespace: kubectl -n decides)",
    default: false,
  },
  ...outputArg,
} as const;

/** `seelie image cloud-build`: build and push inside Kubernetes with Kaniko, BuildKit, Buildah or Buildpacks. */
export default defineCommand({
  meta: {
    name: "cloud-build",
    description: "Build and push an image inside Kubernetes, without a container runtime (Kaniko, BuildKit, Buildah, Buildpacks)",
  },
  args,
  async run({ args: a, rawArgs }) {
    rejectUnknownFlags(rawArgs, args);
    const format = outputFormat(a.output, ["text", "json"] as const);
    // The same duration syntax as `image commit --timeout`; Kubernetes counts whole seconds.
    const timeout = Math.max(1, Math.ceil(parseDuration(a.timeout, "--timeout") / 1000));
    // --render needs no cluster: the YAML is for kubectl, which picks the namespace itself (-n) unless given.
    const kube = a.render ? undefined : loadKube({ context: a.cluster ? String(a.cluster) : undefined, flag: "--cluster" });
    const namespace = a.namespace ? String(a.namespace) : kube ? kube.namespace : "";
    const str = (v: unknown) => (v === undefined || v === "" ? undefined : String(v));
    const opts: CloudBuildOptions = {
      tool: str(a.tool),
      baseImage: str(a.base_image),
      contextPvc: str(a.context_pvc),
      contextNfs: str(a.context_nfs),
      contextSubpath: str(a.context_subpath),
      contextDir: str(a.context_dir),
      registrySecret: str(a.registry_secret),
      tag: str(a.tag),
      repoType: str(a.repo_type),
      image: str(a.image),
      namespace,
      builderImage: str(a.builder_image),
      toolsImage: str(a.tools_image),
      name: str(a.name),
      deadlineSeconds: timeout,
      hostNetwork: a.host_network === true,
    };
    const inputs = resolveCloudBuildInputs(opts, loadConfig({ env: process.env }), (m) => log.warn(m));
    if (a.render || !kube) {
      process.stdout.write(buildPodYaml(renderBuildPod(inputs)));
      return;
    }
    const result = await runCloudBuild(kube, inputs, { progress: stderrProgress, signal: interruptSignal() });
    log.success(`pushed ${result.image}@${result.digest}`);
    printData(format === "json" ? result : `${result.image}@${result.digest}`, format);
  },
});
