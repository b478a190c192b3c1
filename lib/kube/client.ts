/**
 * The Kubernetes connection, found as kubectl finds it: `KUBECONFIG` (a list of files), else
 * `~/.kube/config`, else the in-cluster service account; `--context` picks a context; the namespace
 * defaults to the context's.
 */
import { CoreV1Api, KubeConfig, Log } from "@kubernetes/client-node";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { SeelieError, UsageError, errorMessage } from "../errors.ts";

/** A loaded kubeconfig and the clients seelie uses. */
export interface KubeClients {
  kc: KubeConfig;
  core: CoreV1Api;
  /** The context in use (empty in-cluster). */
  context: string;
  /** The context's namespace, or `default`. */
  namespace: string;
  /** Follows a container's log into `out`; resolves with a function that stops following. */
  followLog(namespace: string, pod: string, container: string, out: Writable): Promise<() => void>;
}

const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/** Loads the kubeconfig as kubectl does and makes the clients. */
export function loadKube(opts: { context?: string; env?: Record<string, string | undefined> } = {}): KubeClients {
  const env = opts.env ?? process.env;
  const home = env.HOME || homedir();
  if (!env.KUBECONFIG && !existsSync(join(home, ".kube", "config")) && !existsSync(SERVICE_ACCOUNT_TOKEN)) {
    // client-node would fall back to http://localhost:8080, which is never what a user means.
    throw new UsageError("no kubeconfig: KUBECONFIG is not set and ~/.kube/config does not exist", "point KUBECONFIG at your cluster's kubeconfig (kubectl config view should show it)");
  }
  const kc = new KubeConfig();
  try {
    kc.loadFromDefault();
  } catch (err) {
    throw new UsageError(`cannot read the kubeconfig: ${errorMessage(err)}`, "check KUBECONFIG or ~/.kube/config (kubectl config view)");
  }
  if (kc.getContexts().length === 0 && !kc.getCurrentCluster()) {
    throw new UsageError("no Kubernetes cluster configured", "set KUBECONFIG or create ~/.kube/config (kubectl config view should show a context)");
  }
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) {
      throw new UsageError(`no context "${opts.context}" in the kubeconfig`, `known contexts: ${kc.getContexts().map((c) => c.name).join(", ") || "(none)"}`);
    }
    kc.setCurrentContext(opts.context);
  }
  if (!kc.getCurrentCluster()) {
    throw new UsageError(`the kubeconfig's context "${kc.getCurrentContext()}" has no cluster`, "pick a context with --context (kubectl config get-contexts)");
  }
  return kubeClients(kc);
}

/** The clients for an already loaded kubeconfig (its current context). */
export function kubeClients(kc: KubeConfig): KubeClients {
  const context = kc.getCurrentContext();
  const namespace = kc.getContextObject(context)?.namespace || "default";
  const logs = new Log(kc);
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    context,
    namespace,
    async followLog(ns, pod, container, out) {
      const ctl = await logs.log(ns, pod, container, out, { follow: true });
      return () => ctl.abort();
    },
  };
}

/** The status code, reason and message of an error from the API server (or the connection). */
export function kubeError(err: unknown): { code?: number; reason?: string; message: string } {
  const e = err as { code?: unknown; body?: unknown };
  if (typeof e?.code === "number") {
    let body = e.body;
    if (typeof body === "string") {
      try {
        body = JSON.parse(body);
      } catch {
        /* not a Status */
      }
    }
    const st = body as { reason?: string; message?: string } | undefined;
    const message = st?.message ?? (typeof body === "string" && body ? body : `HTTP ${e.code}`);
    return { code: e.code, reason: st?.reason, message };
  }
  return { message: errorMessage(err) };
}

/** Wraps an API error into a SeelieError naming what was being done. */
export function kubeFailure(what: string, err: unknown, hint?: string): SeelieError {
  const e = kubeError(err);
  if (e.code === 403) return new SeelieError(`not allowed to ${what}: ${e.message}`, { hint: hint ?? "see pods/committer/rbac.yaml for the permissions seelie image commit needs", cause: err });
  if (e.code === undefined) return new SeelieError(`cannot ${what}: ${e.message}`, { hint: "is the cluster reachable? (kubectl get nodes)", cause: err });
  return new SeelieError(`cannot ${what}: ${e.message}`, { hint, cause: err });
}
