/**
 * Finding and reading the kubeconfig as kubectl does: `KUBECONFIG` (a `:`-separated list of files,
 * missing ones skipped; for every cluster, user and context the first file that names it wins, as
 * does the first `current-context`), else `~/.kube/config`, else the in-cluster service account.
 * Relative paths (certificate files, token files, exec commands) are relative to the file that holds them.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { parse } from "yaml";
import { errorMessage, UsageError } from "../errors.ts";

/** A PEM or token given either as a file or inline (`-data`, already base64-decoded). */
export type Material = { file: string } | { data: string; field: string } | undefined;

/** An exec credential plugin (`users[].user.exec`), as EKS and GKE use. */
export interface ExecPlugin {
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  apiVersion: string;
  installHint?: string;
  provideClusterInfo: boolean;
}

/** The cluster half of a context. */
export interface KubeCluster {
  name: string;
  server: string;
  ca: Material;
  insecure: boolean;
  tlsServerName?: string;
  proxyUrl?: string;
}

/** The user half of a context. */
export interface KubeUser {
  name: string;
  cert: Material;
  key: Material;
  token: Material;
  username?: string;
  password?: string;
  exec?: ExecPlugin;
  /** `auth-provider` (gcp, oidc, azure): removed from kubectl, refused with a hint. */
  authProvider?: string;
  impersonate?: string;
}

/** The context seelie talks to, with where it came from (for messages). */
export interface KubeTarget {
  context: string;
  namespace: string;
  cluster: KubeCluster;
  user: KubeUser;
  /** `KUBECONFIG=…`, `~/.kube/config` or `in-cluster service account`. */
  source: string;
  /** Every context name known (for messages). */
  contexts: string[];
}

const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

type Named = { name?: unknown; [k: string]: unknown };
type Entry<T> = { value: T; dir: string };

/** Finds the kubeconfig and resolves `context` (default: the current one); throws UsageError with a next step. */
export function findKubeTarget(
  opts: {
    context?: string;
    env?: Record<string, string | undefined>;
    saDir?: string /** The flag that named the context, for messages (default --context). */;
    flag?: string;
  } = {},
): KubeTarget {
  const env = opts.env ?? process.env;
  const home = env.HOME || homedir();
  const files = env.KUBECONFIG ? env.KUBECONFIG.split(delimiter).filter(Boolean) : [join(home, ".kube", "config")];
  const source = env.KUBECONFIG ? `KUBECONFIG=${env.KUBECONFIG}` : "~/.kube/config";
  const existing = files.filter((f) => existsSync(f));
  if (existing.length === 0) {
    const saDir = opts.saDir ?? SA_DIR;
    if (!opts.context && env.KUBERNETES_SERVICE_HOST && existsSync(join(saDir, "token"))) return inCluster(env, saDir);
    throw new UsageError(
      env.KUBECONFIG
        ? `no kubeconfig: none of the files in KUBECONFIG exists (${env.KUBECONFIG})`
        : "no kubeconfig: KUBECONFIG is not set and ~/.kube/config does not exist",
      "point KUBECONFIG at your cluster's kubeconfig (kubectl config view should show it)",
    );
  }
  const clusters = new Map<string, Entry<Named>>();
  const users = new Map<string, Entry<Named>>();
  const contexts = new Map<string, Entry<Named>>();
  let current = "";
  for (const file of existing) {
    let doc: Record<string, unknown>;
    try {
      doc = (parse(readFileSync(file, "utf8")) ?? {}) as Record<string, unknown>;
    } catch (err) {
      throw new UsageError(
        `cannot read the kubeconfig ${file}: ${errorMessage(err)}`,
        "fix the file (kubectl config view shows what kubectl makes of it)",
      );
    }
    const dir = dirname(resolve(file));
    collect(clusters, doc.clusters, "cluster", dir);
    collect(users, doc.users, "user", dir);
    collect(contexts, doc.contexts, "context", dir);
    if (!current && typeof doc["current-context"] === "string") current = doc["current-context"];
  }
  const names = [...contexts.keys()];
  const known = `known contexts: ${names.join(", ") || "(none)"} (kubectl config get-contexts)`;
  const contextName = opts.context || current;
  if (!contextName)
    throw new UsageError(
      `the kubeconfig (${source}) has no current context`,
      `pick one with --context, or kubectl config use-context NAME; ${known}`,
    );
  const ctx = contexts.get(contextName);
  if (!ctx) {
    const what = opts.context
      ? `${opts.flag ?? "--context"} "${contextName}": no such context`
      : `the current context "${contextName}" is not defined`;
    throw new UsageError(`${what} in the kubeconfig (${source})`, known);
  }
  const clusterName = str(ctx.value.cluster);
  const cl = clusters.get(clusterName);
  if (!cl)
    throw new UsageError(
      `the context "${contextName}" names cluster "${clusterName}", which the kubeconfig (${source}) does not define`,
      "fix the kubeconfig (kubectl config view)",
    );
  const userName = str(ctx.value.user);
  const us = userName ? users.get(userName) : undefined;
  if (userName && !us)
    throw new UsageError(
      `the context "${contextName}" names user "${userName}", which the kubeconfig (${source}) does not define`,
      "fix the kubeconfig (kubectl config view)",
    );
  return {
    context: contextName,
    namespace: str(ctx.value.namespace) || "default",
    cluster: readCluster(clusterName, cl),
    user: us ? readUser(userName, us) : { name: "", cert: undefined, key: undefined, token: undefined },
    source,
    contexts: names,
  };
}

function collect(into: Map<string, Entry<Named>>, list: unknown, key: string, dir: string): void {
  if (!Array.isArray(list)) return;
  for (const item of list as Named[]) {
    const name = str(item?.name);
    if (!name || into.has(name)) continue;
    into.set(name, { value: (item[key] ?? {}) as Named, dir });
  }
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function material(v: Named, dir: string, fileKey: string, dataKey: string, plain = false): Material {
  const data = str(v[dataKey]);
  if (data) return { data: plain ? data : Buffer.from(data, "base64").toString("utf8"), field: dataKey };
  const file = str(v[fileKey]);
  if (file) return { file: isAbsolute(file) ? file : join(dir, file) };
  return undefined;
}

function readCluster(name: string, { value: c, dir }: Entry<Named>): KubeCluster {
  const server = str(c.server);
  if (!server) throw new UsageError(`cluster "${name}" in the kubeconfig has no server`, "fix the kubeconfig (kubectl config view)");
  return {
    name,
    server: server.replace(/\/+$/, ""),
    ca: material(c, dir, "certificate-authority", "certificate-authority-data"),
    insecure: c["insecure-skip-tls-verify"] === true,
    tlsServerName: str(c["tls-server-name"]) || undefined,
    proxyUrl: str(c["proxy-url"]) || undefined,
  };
}

function readUser(name: string, { value: u, dir }: Entry<Named>): KubeUser {
  const exec = u.exec as Named | undefined;
  const ap = u["auth-provider"] as Named | undefined;
  return {
    name,
    cert: material(u, dir, "client-certificate", "client-certificate-data"),
    key: material(u, dir, "client-key", "client-key-data"),
    token: material(u, dir, "tokenFile", "token", true),
    username: str(u.username) || undefined,
    password: str(u.password) || undefined,
    exec: exec ? execPlugin(exec, dir) : undefined,
    authProvider: ap ? str(ap.name) || "unnamed" : undefined,
    impersonate: str(u.as) || undefined,
  };
}

function execPlugin(e: Named, dir: string): ExecPlugin {
  const command = str(e.command);
  // kubectl: a relative command with a slash is relative to the kubeconfig; a bare name is looked up in PATH.
  const resolved = command.includes("/") && !isAbsolute(command) ? join(dir, command) : command;
  return {
    command: resolved,
    args: Array.isArray(e.args) ? e.args.map(String) : [],
    env: Array.isArray(e.env) ? (e.env as Named[]).map((x) => ({ name: str(x.name), value: str(x.value) })) : [],
    apiVersion: str(e.apiVersion) || "client.authentication.k8s.io/v1beta1",
    installHint: str(e.installHint) || undefined,
    provideClusterInfo: e.provideClusterInfo === true,
  };
}

function inCluster(env: Record<string, string | undefined>, saDir: string): KubeTarget {
  const host = env.KUBERNETES_SERVICE_HOST ?? "";
  const port = env.KUBERNETES_SERVICE_PORT || "443";
  const nsFile = join(saDir, "namespace");
  return {
    context: "",
    namespace: existsSync(nsFile) ? readFileSync(nsFile, "utf8").trim() || "default" : "default",
    cluster: {
      name: "in-cluster",
      server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
      ca: { file: join(saDir, "ca.crt") },
      insecure: false,
    },
    user: { name: "service-account", cert: undefined, key: undefined, token: { file: join(saDir, "token") } },
    source: "in-cluster service account",
    contexts: [],
  };
}
