/**
 * The real Kubernetes v1.21 cluster of ../shared/k8s, started by tests/services/cluster-up.sh: TLS with
 * a private CA, client-certificate users, a dockershim node and a containerd node. Its variables come
 * from `$SEELIE_K8S_STATE/env.sh` (default /var/lib/seelie-k8s/env.sh). A test that needs it calls
 * `needCluster()`, which FAILS saying why when the cluster is absent — it is never skipped.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { sh } from "./services.ts";

/** What the cluster's env.sh exports. */
export interface Cluster {
  kubeconfig: string;
  context: string;
  apiServer: string;
  dockerNode: string;
  containerdNode: string;
  containerdSocket: string;
  kubectl: string;
  busyboxImage: string;
  kubeProxyRunning: boolean;
  /** The whole env.sh, for subprocesses. */
  env: Record<string, string>;
}

let cached: Cluster | undefined;

/** The cluster, or an Error naming what is missing and how to start it. */
export function needCluster(opts: { nodes?: ("docker" | "containerd")[] } = {}): Cluster {
  cached ??= readCluster();
  const c = cached;
  for (const n of opts.nodes ?? []) {
    const name = n === "docker" ? c.dockerNode : c.containerdNode;
    if (!name)
      throw new Error(
        `the test cluster runs without its ${n} node (SEELIE_K8S_NODES=${c.env.SEELIE_K8S_NODES ?? ""}): start it with both nodes (tests/services/cluster-up.sh)`,
      );
  }
  return c;
}

function readCluster(): Cluster {
  const state = process.env.SEELIE_K8S_STATE || "/var/lib/seelie-k8s";
  const file = join(state, "env.sh");
  if (!existsSync(file)) {
    throw new Error(
      `no Kubernetes test cluster: ${file} does not exist. Start it with 'bash tests/services/cluster-up.sh' (needs the ../shared/k8s bundle next to the repo; tests/services/up.sh runs it when the bundle is there)`,
    );
  }
  const out = spawnSync("bash", ["-c", 'set -a; source "$1" >/dev/null; env -0', "env", file], { encoding: "utf8" });
  if (out.status !== 0) throw new Error(`cannot source ${file}: ${out.stderr}`);
  const env: Record<string, string> = {};
  for (const kv of out.stdout.split("\0")) {
    const i = kv.indexOf("=");
    if (i > 0 && kv.startsWith("SEELIE_K8S_")) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  const need = (k: string) => {
    const v = env[k];
    if (!v) throw new Error(`${file} does not set ${k}: restart the cluster (tests/services/cluster-up.sh)`);
    return v;
  };
  const c: Cluster = {
    kubeconfig: need("SEELIE_K8S_KUBECONFIG"),
    context: need("SEELIE_K8S_CONTEXT"),
    apiServer: need("SEELIE_K8S_API_SERVER"),
    dockerNode: env.SEELIE_K8S_DOCKER_NODE ?? "",
    containerdNode: env.SEELIE_K8S_CONTAINERD_NODE ?? "",
    containerdSocket: env.SEELIE_K8S_CONTAINERD_SOCKET ?? "",
    kubectl: env.SEELIE_K8S_KUBECTL || "kubectl",
    busyboxImage: need("SEELIE_K8S_BUSYBOX_IMAGE"),
    kubeProxyRunning: env.SEELIE_K8S_KUBE_PROXY_RUNNING === "1",
    env,
  };
  if (!c.apiServer.startsWith("https://"))
    throw new Error(`the test cluster's API server ${c.apiServer} is not https: cluster tests never talk plain HTTP`);
  const ping = spawnSync(c.kubectl, ["--kubeconfig", c.kubeconfig, "get", "--raw", "/readyz"], { encoding: "utf8", timeout: 20_000 });
  if (ping.status !== 0)
    throw new Error(
      `the test cluster's API server ${c.apiServer} does not answer (${(ping.stderr || ping.error?.message || "").trim()}): restart it with 'bash tests/services/cluster-up.sh'`,
    );
  return c;
}

/** Runs kubectl as cluster-admin on the test cluster; never throws on a non-zero exit. */
export function kubectl(c: Cluster, args: string[], stdin?: string) {
  return sh([c.kubectl, "--kubeconfig", c.kubeconfig, ...args], { stdin });
}

/** kubectl that must succeed; returns stdout. */
export async function kubectlOk(c: Cluster, args: string[], stdin?: string): Promise<string> {
  const r = await kubectl(c, args, stdin);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/** Creates a namespace labelled as the test's (name `seelie-t-<what>-<random>`); returns it and its remover. */
export async function testNamespace(c: Cluster, what: string): Promise<{ name: string; remove: () => Promise<void> }> {
  const name = `seelie-t-${what}-${Math.random().toString(36).slice(2, 8)}`;
  await kubectlOk(
    c,
    ["create", "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { "seelie.test/owner": what } } }),
  );
  // The namespace's default ServiceAccount must exist before Pods can be created in it.
  for (let i = 0; i < 60; i++) {
    if ((await kubectl(c, ["-n", name, "get", "serviceaccount", "default"])).code === 0) break;
    await Bun.sleep(500);
  }
  return { name, remove: async () => void (await kubectl(c, ["delete", "namespace", name, "--wait=false"])) };
}
