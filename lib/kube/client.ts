/**
 * The Kubernetes connection, found as kubectl finds it (lib/kube/kubeconfig.ts) and sent through the
 * one transport that works under Bun (lib/kube/transport.ts). Every API class seelie uses is made here.
 */

import type { Writable } from "node:stream";
import { CoreV1Api, CustomObjectsApi, KubeConfig, Log, type LogOptions } from "@kubernetes/client-node";
import { kubeFailure } from "./errors.ts";
import { findKubeTarget, type KubeTarget } from "./kubeconfig.ts";
import { KubeTransport } from "./transport.ts";

export { type KubeHints, kubeError, kubeFailure } from "./errors.ts";

/** A loaded kubeconfig context and the clients seelie uses. */
export interface KubeClients {
  /** The context, cluster and user in use, and where they came from. */
  target: KubeTarget;
  transport: KubeTransport;
  core: CoreV1Api;
  custom: CustomObjectsApi;
  /** client-node's `Log`, sending through the transport (client-node's own would not under Bun); for lib/cloud-build until it follows logs with runPodToEnd. */
  log: Log;
  /** The context in use (empty in-cluster). */
  context: string;
  /** The context's namespace, or `default`. */
  namespace: string;
}

/** Loads the kubeconfig as kubectl does (`context` picks one; default the current one) and makes the clients. */
export function loadKube(
  opts: {
    context?: string;
    env?: Record<string, string | undefined>;
    /** The flag that named the context, for messages (default --context). */
    flag?: string;
  } = {},
): KubeClients {
  const env = opts.env ?? process.env;
  return kubeClients(findKubeTarget({ context: opts.context, env, flag: opts.flag }), env);
}

/** The clients for an already resolved context. */
export function kubeClients(target: KubeTarget, env: Record<string, string | undefined> = process.env): KubeClients {
  const transport = new KubeTransport(target, env);
  return {
    target,
    transport,
    core: transport.api(CoreV1Api),
    custom: transport.api(CustomObjectsApi),
    log: new TransportLog(transport),
    context: target.context,
    namespace: target.namespace,
  };
}

async function pump(resp: Response, out: Writable, signal: AbortSignal): Promise<void> {
  try {
    for await (const chunk of resp.body ?? []) {
      if (signal.aborted) break;
      out.write(chunk);
    }
  } catch {
    /* stopped or dropped: the caller reads what it missed when the Pod ends */
  }
  out.end();
}

/** client-node's `Log` with its request sent through the transport; the stream is piped as client-node does. */
class TransportLog extends Log {
  constructor(private readonly transport: KubeTransport) {
    super(new KubeConfig());
  }

  override log(namespace: string, podName: string, containerName: string, stream: Writable, options?: LogOptions): Promise<AbortController>;
  override log(
    namespace: string,
    podName: string,
    containerName: string,
    stream: Writable,
    done: (err: unknown) => void,
    options?: LogOptions,
  ): Promise<AbortController>;
  override async log(
    namespace: string,
    podName: string,
    containerName: string,
    stream: Writable,
    a?: LogOptions | ((err: unknown) => void),
    b?: LogOptions,
  ): Promise<AbortController> {
    const options = typeof a === "function" ? b : a;
    const q = new URLSearchParams({ container: containerName });
    for (const [k, v] of Object.entries(options ?? {})) if (v !== undefined) q.set(k, String(v));
    const ac = new AbortController();
    const resp = await this.transport.fetch(
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(podName)}/log?${q}`,
      { signal: ac.signal },
    );
    if (!resp.ok)
      throw kubeFailure(`read the log of ${namespace}/${podName} (${containerName})`, { code: resp.status, body: await resp.text() });
    void pump(resp, stream, ac.signal);
    return ac;
  }
}
