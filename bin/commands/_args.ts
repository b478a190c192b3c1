/**
 * Flag definitions shared by several commands, defined once: spread them into a command's `args`
 * (`{ ...targetImageArgs, ...clusterArg }`) and override a description where the command means more.
 */
import type { ArgsDef } from "citty";

/** `--image`: the full target image reference. */
export const imageArg = {
  image: { type: "string", description: "full target image reference (instead of --tag/--repo_type)" },
} as const satisfies ArgsDef;

/** `--tag`: the tag of the platform image name. */
export const tagArg = {
  tag: { type: "string", description: "tag of the platform image {registry}/{repo}/{user}-{repo_type}:{tag}" },
} as const satisfies ArgsDef;

/** `--repo_type`: the repo type of the platform image name. */
export const repoTypeArg = {
  repo_type: { type: "string", description: "repo type of the platform image name, e.g. training" },
} as const satisfies ArgsDef;

/** The target image: `--image REF`, or `--tag` with `--repo_type` for the platform name. */
export const targetImageArgs = { ...imageArg, ...tagArg, ...repoTypeArg } as const satisfies ArgsDef;

/** `--cluster`: the kubeconfig context (one spelling across commands). */
export const clusterArg = {
  cluster: {
    type: "string",
    description: "kubeconfig context (default: the current one; KUBECONFIG and ~/.kube/config are read as kubectl does)",
  },
} as const satisfies ArgsDef;

/** `-n/--namespace`. */
export const namespaceArg = {
  namespace: { type: "string", alias: "n", description: "namespace (default: the kubeconfig context's, else default)" },
} as const satisfies ArgsDef;

/** `--registry_secret`: an existing kubernetes.io/dockerconfigjson Secret. */
export const registrySecretArg = {
  registry_secret: {
    type: "string",
    description: "an existing kubernetes.io/dockerconfigjson Secret with the push (and pull) credentials",
  },
} as const satisfies ArgsDef;

/** `--host_network`: run the Pod in the node's network. */
export const hostNetworkArg = {
  host_network: {
    type: "boolean",
    description: "run in the node's network (a registry only the node reaches, e.g. on its 127.0.0.1)",
    default: false,
  },
} as const satisfies ArgsDef;

/** `--timeout DURATION` (e.g. 30m, 1h30m; a bare number is seconds), parsed by lib/util/duration.ts. */
export function timeoutArg(description: string): { timeout: { type: "string"; description: string } };
export function timeoutArg(
  description: string,
  defaultValue: string,
): { timeout: { type: "string"; description: string; default: string } };
export function timeoutArg(description: string, defaultValue?: string): ArgsDef {
  return { timeout: defaultValue === undefined ? { type: "string", description } : { type: "string", description, default: defaultValue } };
}

/**
 * How the committer makes the new layer: `--layer_source`, `--compression`, `--compression_level`. The
 * committer's own flags (`image commit-container`), also taken by `image commit --pod`, which passes them on.
 * Parsed by parseLayerSource (lib/commit/target.ts) and parseCompression (lib/commit/compress.ts).
 */
export const commitLayerArgs = {
  layer_source: {
    type: "string",
    description:
      "where the new layer is read from: auto (default; the overlay upper directory where the storage is overlay and readable, else the runtime's API), upperdir, api",
  },
  compression: {
    type: "string",
    description: "compression of the new layer: gzip (default) or zstd (pulling zstd layers needs containerd >= 1.5 or Docker >= 23)",
  },
  compression_level: { type: "string", description: "compression level: gzip 1-9 (default 6), zstd 1-19 (default 3)" },
} as const satisfies ArgsDef;

/** `--job_id N`, shared by the job commands. */
export const jobIdArg = {
  job_id: { type: "string", description: "the job's id (seelie job list shows them)" },
} as const satisfies ArgsDef;
