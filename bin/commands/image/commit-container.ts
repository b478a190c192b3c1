import { defineCommand, type ArgsDef } from "citty";
import { commitContainer, defaultCommitDeps, type CommitReport } from "../../../lib/commit/flow.ts";
import { errorDocument, resultFilePath, writeResultFile } from "../../../lib/commit/result-file.ts";
import { SeelieError, errorMessage } from "../../../lib/errors.ts";
import { parseCompression } from "../../../lib/commit/compress.ts";
import { parseLayerSource } from "../../../lib/commit/target.ts";
import { log, stderrProgress } from "../../../lib/log.ts";
import { commitLayerArgs } from "../_args.ts";
import { interruptSignal, outputArg, outputFormat, printData, rejectUnknownFlags } from "../_cli.ts";

/** The committer's flags: the contract the Kubernetes launcher fills in (keep them stable). */
export const commitContainerArgs = {
  container_id: { type: "string", description: "containerd://ID or docker://ID (a bare ID with --runtime)" },
  runtime: { type: "string", description: "docker or containerd, for a bare --container-id" },
  image: { type: "string", description: "target image reference (or --tag and --repo_type)" },
  tag: { type: "string", description: "tag of the platform image name {registry}/{repo}/{username}-{repo_type}:{tag}" },
  repo_type: { type: "string", description: "repo type of the platform image name, e.g. training" },
  registry_host: { type: "string", description: "override the registry host of the platform name" },
  repo: { type: "string", description: "override the registry repo (namespace) of the platform name" },
  username: { type: "string", description: "override the username of the platform name" },
  runtime_endpoint: { type: "string", description: "unix:///path.sock of the runtime (default: probe the usual sockets)" },
  host_prefix: { type: "string", description: "where the host's / is mounted, e.g. /host (probed for sockets)" },
  namespace: { type: "string", description: "containerd namespace", default: "k8s.io" },
  clean: { type: "boolean", description: "clean apt/pip caches and new /tmp files first (--no-clean to skip)", default: true },
  pause: { type: "boolean", description: "pause the container during the commit (--no-pause to not)", default: true },
  keep_image: { type: "boolean", description: "keep the committed image on the node", default: false },
  push: { type: "boolean", description: "push the image (--no-push to only commit)", default: true },
  ...commitLayerArgs,
  docker_config: {
    type: "string",
    description: "Docker config file (e.g. a secret's .dockerconfigjson) or directory (default $DOCKER_CONFIG or ~/.docker)",
  },
  result_file: {
    type: "string",
    description: "also write the result (or the error) as one JSON line here (default $SEELIE_RESULT_FILE, e.g. /dev/termination-log)",
  },
  ...outputArg,
} as const satisfies ArgsDef;

function text(r: CommitReport): string {
  const c = r.cleanup;
  const clean = c.skipped ? `skipped (${c.reason})` : `${c.files} files, ${c.bytes} bytes removed`;
  return [
    `image:    ${r.image}`,
    `digest:   ${r.digest}`,
    `size:     ${r.size} bytes in ${r.layers} layers`,
    `cleanup:  ${clean}`,
    `timings:  clean ${r.timings.clean} ms, commit ${r.timings.commit} ms, push ${r.timings.push} ms, remove ${r.timings.remove} ms, total ${r.timings.total} ms`,
  ].join("\n");
}

/** `seelie image commit-container` (and the whole of `seelie-committer`). */
export default defineCommand({
  meta: {
    name: "commit-container",
    description: "Clean, commit, push and remove: snapshot a running container (Docker or containerd) to an image",
  },
  args: commitContainerArgs,
  async run({ args, rawArgs }) {
    rejectUnknownFlags(rawArgs, commitContainerArgs);
    const format = outputFormat(args.output, ["text", "json"] as const);
    const resultFile = resultFilePath(args.result_file, process.env);
    const report = await commitContainer(
      {
        containerId: args.container_id ?? "",
        runtime: args.runtime,
        image: args.image,
        tag: args.tag,
        repoType: args.repo_type,
        registryHost: args.registry_host,
        repo: args.repo,
        username: args.username,
        runtimeEndpoint: args.runtime_endpoint,
        hostPrefix: args.host_prefix,
        namespace: args.namespace,
        clean: args.clean,
        pause: args.pause,
        keepImage: args.keep_image,
        push: args.push,
        dockerConfig: args.docker_config,
        layerSource: parseLayerSource(args.layer_source),
        compression: parseCompression(args.compression, args.compression_level),
        signal: interruptSignal(),
        progress: stderrProgress,
      },
      defaultCommitDeps(),
    ).catch((err: unknown) => {
      if (resultFile) {
        const doc = err instanceof SeelieError ? err : { message: errorMessage(err) };
        const warning = writeResultFile(resultFile, errorDocument(doc));
        if (warning) log.warn(warning);
      }
      throw err;
    });
    if (resultFile) {
      const warning = writeResultFile(resultFile, report);
      if (warning) log.warn(warning);
    }
    printData(format === "json" ? report : text(report), format);
  },
});
