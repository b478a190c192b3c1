/**
 * `seelie image cloud-build`, as one call: the flags in (as given), the Pod YAML (`--render`, no
 * cluster needed) or the pushed image out.
 */
import { loadConfig } from "../config/load.ts";
import { loadKube } from "../kube/client.ts";
import { log, stderrProgress } from "../log.ts";
import { parseDuration } from "../util/duration.ts";
import { type CloudBuildOptions, resolveCloudBuildInputs } from "./inputs.ts";
import { buildPodYaml, renderBuildPod } from "./pod.ts";
import { type CloudBuildResult, runCloudBuild } from "./run.ts";

/** The command's options, as given (an empty string counts as not given). */
export interface CloudBuildCommandOptions extends Omit<CloudBuildOptions, "deadlineSeconds" | "namespace" | "hostNetwork"> {
  namespace?: string;
  /** The kubeconfig context; default the current one. */
  cluster?: string;
  /** A duration (`1h`; a bare number is seconds) for the Pod's activeDeadlineSeconds. */
  timeout: string;
  hostNetwork: boolean;
  /** Only print the Pod YAML (no kubeconfig read). */
  render: boolean;
}

/** The YAML for kubectl (`--render`), or the pushed image (`-o json`) and its text `image@digest`. */
export type CloudBuildOutput = { rendered: string } | { document: CloudBuildResult; text: string };

const given = (v: string | undefined) => (v === undefined || v === "" ? undefined : v);

/** Runs `seelie image cloud-build`. */
export async function runCloudBuildCommand(
  opts: CloudBuildCommandOptions,
  io: { env: Record<string, string | undefined>; signal?: AbortSignal },
): Promise<CloudBuildOutput> {
  // The same duration syntax as `image commit --timeout`; Kubernetes counts whole seconds.
  const deadlineSeconds = Math.max(1, Math.ceil(parseDuration(opts.timeout, "--timeout") / 1000));
  // --render needs no cluster: the YAML is for kubectl, which picks the namespace itself (-n) unless given.
  const kube = opts.render ? undefined : loadKube({ context: given(opts.cluster), env: io.env, flag: "--cluster" });
  const namespace = given(opts.namespace) ?? (kube ? kube.namespace : "");
  const inputs = resolveCloudBuildInputs(
    {
      tool: given(opts.tool),
      baseImage: given(opts.baseImage),
      contextPvc: given(opts.contextPvc),
      contextNfs: given(opts.contextNfs),
      contextSubpath: given(opts.contextSubpath),
      contextDir: given(opts.contextDir),
      registrySecret: given(opts.registrySecret),
      tag: given(opts.tag),
      repoType: given(opts.repoType),
      image: given(opts.image),
      namespace,
      builderImage: given(opts.builderImage),
      toolsImage: given(opts.toolsImage),
      name: given(opts.name),
      deadlineSeconds,
      hostNetwork: opts.hostNetwork,
    },
    loadConfig({ env: io.env }),
    (m) => log.warn(m),
  );
  if (!kube) return { rendered: buildPodYaml(renderBuildPod(inputs)) };
  const result = await runCloudBuild(kube, inputs, { progress: stderrProgress, signal: io.signal });
  return { document: result, text: `${result.image}@${result.digest}` };
}
