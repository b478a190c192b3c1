import { type ArgsDef, defineCommand } from "citty";
import { runCloudBuildCommand } from "../../../lib/cloud-build/command.ts";
import { log } from "../../../lib/log.ts";
import { clusterArg, hostNetworkArg, namespaceArg, registrySecretArg, targetImageArgs, timeoutArg } from "../_args.ts";
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
  ...registrySecretArg,
  ...targetImageArgs,
  namespace: { ...namespaceArg.namespace, description: "namespace of the build Pod (default: the kubeconfig context's, else default)" },
  ...clusterArg,
  builder_image: { type: "string", description: "the builder's image (default: the tool's pinned image)" },
  tools_image: {
    type: "string",
    description: "image with the seelie binary for the prepare step (SEELIE_TOOLS_IMAGE, config cloudBuild.toolsImage)",
  },
  name: { type: "string", description: "Pod name (default: seelie-build-<tool>-xxxxx, random)" },
  ...hostNetworkArg,
  ...timeoutArg("time before Kubernetes stops the build (activeDeadlineSeconds), e.g. 30m, 1h; a bare number is seconds", "1h"),
  render: {
    type: "boolean",
    description:
      "print the Pod YAML for kubectl apply -f - instead of running it (no namespace in it unless --namespace: kubectl -n decides)",
    default: false,
  },
  ...outputArg,
} as const satisfies ArgsDef;

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
    const out = await runCloudBuildCommand(
      {
        tool: a.tool,
        baseImage: a.base_image,
        contextPvc: a.context_pvc,
        contextNfs: a.context_nfs,
        contextSubpath: a.context_subpath,
        contextDir: a.context_dir,
        registrySecret: a.registry_secret,
        tag: a.tag,
        repoType: a.repo_type,
        image: a.image,
        namespace: a.namespace,
        cluster: a.cluster,
        builderImage: a.builder_image,
        toolsImage: a.tools_image,
        name: a.name,
        timeout: a.timeout,
        hostNetwork: a.host_network,
        render: a.render,
      },
      { env: process.env, signal: interruptSignal() },
    );
    if ("rendered" in out) return void process.stdout.write(out.rendered);
    log.success(`pushed ${out.text}`);
    printData(format === "json" ? out.document : out.text, format);
  },
});
