import { defineCommand, type ArgsDef } from "citty";
import { loadConfig } from "../../../lib/config/load.ts";
import { loadKube } from "../../../lib/kube/client.ts";
import { commitPod } from "../../../lib/commit-pod/commit-pod.ts";
import { checkCommitNames, clusterCommitSettings, commitTargetImage } from "../../../lib/commit-pod/settings.ts";
import { formatCommitResult } from "../../../lib/commit-pod/committer-result.ts";
import { resolveRegistryAuth } from "../../../lib/registry/credentials.ts";
import { parseDuration } from "../../../lib/util/duration.ts";
import { interruptSignal, outputArg, outputFormat, printData, rejectUnknownFlags } from "../_cli.ts";

const args = {
  pod: { type: "string", description: "the pod whose container to commit", required: true },
  namespace: { type: "string", alias: "n", description: "the pod's namespace (default: the context's)" },
  container: { type: "string", alias: "c", description: "the container (default: the only one, or the pod's default-container annotation)" },
  image: { type: "string", description: "the target image reference (or --tag with --repo_type)" },
  tag: { type: "string", description: "tag of the platform image {registry}/{repo}/{user}-{repo_type}:{tag}" },
  repo_type: { type: "string", description: "repo type of the platform image name, e.g. training" },
  context: { type: "string", description: "kubeconfig context (KUBECONFIG and ~/.kube/config are read as kubectl does)" },
  registry_secret: { type: "string", description: "an existing kubernetes.io/dockerconfigjson secret in the committer namespace (default: a per-run secret from your credentials)" },
  clean: { type: "boolean", description: "clean apt/pip caches and new /tmp files before committing (--no-clean to skip)", default: true },
  keep_pod: { type: "boolean", description: "keep the committer pod (and its secret) afterwards", default: false },
  timeout: { type: "string", description: "give up (and delete the committer pod) after this long, e.g. 10m", default: "30m" },
  committer_image: { type: "string", description: "the committer image (SEELIE_COMMITTER_IMAGE, committer.image)" },
  runtime_socket: { type: "string", description: "the runtime's socket path on the node (SEELIE_RUNTIME_SOCKET, clusters.<context>.runtimeSocket)" },
  host_network: { type: "boolean", description: "run the committer in the node's network (registries only the node reaches)", default: false },
  ...outputArg,
} as const satisfies ArgsDef;

/** `seelie image commit --pod NAME`: snapshot a running pod's container into an image, on its node. */
export default defineCommand({
  meta: { name: "commit", description: "Commit a running pod's container to an image (runs the committer on the pod's node) and push it" },
  args,
  async run({ args: a, rawArgs }) {
    rejectUnknownFlags(rawArgs, args);
    const format = outputFormat(a.output, ["text", "json"] as const);
    const timeoutMs = parseDuration(String(a.timeout), "--timeout");
    const cfg = loadConfig({ env: process.env, flags: { committerImage: a.committer_image, runtimeSocket: a.runtime_socket } });
    const image = commitTargetImage({ image: a.image, tag: a.tag, repoType: a.repo_type }, cfg);
    checkCommitNames({ registrySecret: a.registry_secret, committerImage: cfg.committerImage });
    const kube = loadKube({ context: a.context });
    const cluster = clusterCommitSettings(cfg, kube.context);
    const result = await commitPod(
      {
        pod: a.pod,
        namespace: a.namespace,
        container: a.container,
        image,
        registrySecret: a.registry_secret,
        clean: a.clean !== false,
        keepPod: a.keep_pod === true,
        timeoutMs,
        committerImage: cfg.committerImage,
        committerNamespace: cluster.committerNamespace,
        runtimeSocket: cluster.runtimeSocket,
        hostNetwork: a.host_network === true,
        requestedBy: cfg.username || undefined,
        signal: interruptSignal(),
      },
      { kube, resolveAuth: (registry) => resolveRegistryAuth(registry, cfg) },
    );
    printData(format === "json" ? result : formatCommitResult(result), format);
  },
});
