import { type ArgsDef, defineCommand } from "citty";
import { runImageCommit } from "../../../lib/commit-pod/command.ts";
import { clusterArg, commitLayerArgs, hostNetworkArg, namespaceArg, registrySecretArg, targetImageArgs, timeoutArg } from "../_args.ts";
import { interruptSignal, outputArg, outputFormat, printData, rejectUnknownFlags } from "../_cli.ts";

const args = {
  pod: { type: "string", description: "the pod whose container to commit", required: true },
  namespace: { ...namespaceArg.namespace, description: "the pod's namespace (default: the context's)" },
  container: {
    type: "string",
    alias: "c",
    description: "the container (default: the only one, or the pod's default-container annotation)",
  },
  ...targetImageArgs,
  image: { ...targetImageArgs.image, description: "the target image reference (or --tag with --repo_type)" },
  ...clusterArg,
  // Not a citty alias: its help would print "-context". The first release spelled the flag so.
  context: { type: "string", description: "the same as --cluster (its first spelling, kept for scripts)" },
  registry_secret: {
    ...registrySecretArg.registry_secret,
    description:
      "an existing kubernetes.io/dockerconfigjson secret in the committer namespace (default: a per-run secret from your credentials)",
  },
  clean: { type: "boolean", description: "clean apt/pip caches and new /tmp files before committing (--no-clean to skip)", default: true },
  keep_pod: { type: "boolean", description: "keep the committer pod (and its secret) afterwards", default: false },
  ...timeoutArg("give up (and delete the committer pod) after this long, e.g. 10m", "30m"),
  committer_image: { type: "string", description: "the committer image (SEELIE_COMMITTER_IMAGE, committer.image)" },
  runtime_socket: {
    type: "string",
    description: "the runtime's socket path on the node (SEELIE_RUNTIME_SOCKET, clusters.<context>.runtimeSocket)",
  },
  runtime_root: {
    type: "string",
    description:
      "the runtime's data root on the node: dockerd's data-root, containerd's root (SEELIE_RUNTIME_ROOT, clusters.<context>.runtimeRoot; default /var/lib/docker, /var/lib/containerd)",
  },
  ...commitLayerArgs,
  host_network: {
    ...hostNetworkArg.host_network,
    description: "run the committer in the node's network (registries only the node reaches)",
  },
  render: {
    type: "boolean",
    description:
      "print the committer Pod's YAML (for kubectl apply -f -) instead of running it: the source pod is read, nothing is created",
    default: false,
  },
  ...outputArg,
} as const satisfies ArgsDef;

/** `seelie image commit --pod NAME`: snapshot a running pod's container into an image, on its node. */
export default defineCommand({
  meta: { name: "commit", description: "Commit a running pod's container to an image (runs the committer on the pod's node) and push it" },
  args,
  async run({ args: a, rawArgs }) {
    rejectUnknownFlags(rawArgs, args);
    const format = outputFormat(a.output, ["text", "json"] as const);
    const out = await runImageCommit(
      {
        pod: a.pod,
        namespace: a.namespace,
        container: a.container,
        image: a.image,
        tag: a.tag,
        repoType: a.repo_type,
        cluster: a.cluster,
        context: a.context,
        registrySecret: a.registry_secret,
        clean: a.clean,
        keepPod: a.keep_pod,
        timeout: a.timeout,
        committerImage: a.committer_image,
        runtimeSocket: a.runtime_socket,
        runtimeRoot: a.runtime_root,
        hostNetwork: a.host_network,
        layerSource: a.layer_source,
        compression: a.compression,
        compressionLevel: a.compression_level,
        render: a.render,
      },
      { env: process.env, signal: interruptSignal() },
    );
    if ("rendered" in out) return void process.stdout.write(out.rendered);
    printData(format === "json" ? out.document : out.text, format);
  },
});
