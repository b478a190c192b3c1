/**
 * lib/kube's one loader and transport against the real API server of the test cluster (TLS with a
 * private CA; its kubeconfig embeds the CA and a client certificate). Every kubeconfig form is derived
 * here from that one: CA and client cert/key as files (relative paths) and as -data; a ServiceAccount
 * bearer token (inline and tokenFile) with a CA file; insecure-skip-tls-verify; tls-server-name; exec credential plugins
 * (token and client certificate, cached until expiry, re-run on 401); proxy-url through a CONNECT proxy
 * started here on loopback. Negative cases: a wrong CA, no kubeconfig, an unknown context, a socks proxy,
 * a refused token, a failing plugin. Nothing talks plain HTTP.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { SeelieError, UsageError } from "../../lib/errors.ts";
import { type KubeClients, loadKube } from "../../lib/kube/client.ts";
import { kubeFailure } from "../../lib/kube/errors.ts";
import { type Cluster, kubectlOk, needCluster, testNamespace } from "../helpers/cluster.ts";
import { cuttableProxy } from "../helpers/connect-proxy.ts";
import { sh } from "../helpers/services.ts";

setDefaultTimeout(60_000);

let c: Cluster;
let ns: { name: string; remove: () => Promise<void> };
const tmp = mkdtempSync(join(tmpdir(), "seelie-kube-transport-"));
let server = "";
let caPem = "";
let certPem = "";
let keyPem = "";
let saToken = "";
const SA = "seelie-transport-reader";

/** Writes a one-context kubeconfig into its own directory and returns the env that selects it. */
function kubeconfig(name: string, cluster: Record<string, unknown>, user: Record<string, unknown>, files: Record<string, string> = {}) {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, body] of Object.entries(files)) writeFileSync(join(dir, f), body, { mode: 0o600 });
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "test", cluster: { server, ...cluster } }],
    users: [{ name: name, user }],
    contexts: [{ name: `ctx-${name}`, context: { cluster: "test", user: name, namespace: ns.name } }],
    "current-context": `ctx-${name}`,
  };
  const path = join(dir, "config");
  writeFileSync(path, stringify(doc), { mode: 0o600 });
  return { HOME: dir, KUBECONFIG: path, PATH: process.env.PATH };
}

/** The identity the API server sees: the SelfSubjectAccessReview answer for "list pods in kube-system". */
async function mayListKubeSystemPods(kube: KubeClients): Promise<boolean> {
  const resp = await kube.transport.fetch("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectAccessReview",
      spec: { resourceAttributes: { namespace: "kube-system", verb: "list", resource: "pods" } },
    }),
  });
  expect(resp.status).toBe(201);
  return ((await resp.json()) as { status: { allowed: boolean } }).status.allowed;
}

async function listOwnPods(kube: KubeClients): Promise<number> {
  return (await kube.core.listNamespacedPod({ namespace: kube.namespace })).items.length;
}

function b64(s: string): string {
  return Buffer.from(s).toString("base64");
}

/** An exec plugin: a script printing an ExecCredential, counting its runs in a file. */
function plugin(name: string, status: Record<string, unknown> | string, opts: { exit?: number; stderr?: string } = {}) {
  const dir = join(tmp, `plugin-${name}`);
  mkdirSync(dir, { recursive: true });
  const count = join(dir, "runs");
  writeFileSync(
    join(dir, "cred.json"),
    typeof status === "string"
      ? status
      : JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1beta1", kind: "ExecCredential", status }),
  );
  const script = join(dir, "get-token");
  writeFileSync(
    script,
    `#!/bin/sh
echo run >> "${count}"
printf '%s\\n' "$KUBERNETES_EXEC_INFO" > "${dir}/exec-info"
${opts.stderr ? `echo '${opts.stderr}' >&2` : ""}
${opts.exit ? `exit ${opts.exit}` : `cat "${dir}/cred.json"`}
`,
  );
  chmodSync(script, 0o755);
  return {
    script,
    runs: () => {
      try {
        return readFileSync(count, "utf8").trim().split("\n").length;
      } catch {
        return 0;
      }
    },
    execInfo: () => JSON.parse(readFileSync(join(dir, "exec-info"), "utf8")) as { kind: string; spec: { interactive: boolean } },
    setCredential: (st: Record<string, unknown>) =>
      writeFileSync(
        join(dir, "cred.json"),
        JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1beta1", kind: "ExecCredential", status: st }),
      ),
  };
}

beforeAll(async () => {
  c = needCluster();
  const admin = parse(readFileSync(c.kubeconfig, "utf8")) as {
    clusters: { cluster: Record<string, string> }[];
    users: { user: Record<string, string> }[];
  };
  server = admin.clusters[0]!.cluster.server!;
  caPem = Buffer.from(admin.clusters[0]!.cluster["certificate-authority-data"]!, "base64").toString();
  certPem = Buffer.from(admin.users[0]!.user["client-certificate-data"]!, "base64").toString();
  keyPem = Buffer.from(admin.users[0]!.user["client-key-data"]!, "base64").toString();
  ns = await testNamespace(c, "transport");
  // A ServiceAccount that may only read pods in the test namespace, with a long-lived token Secret.
  await kubectlOk(c, ["-n", ns.name, "create", "serviceaccount", SA]);
  await kubectlOk(c, ["-n", ns.name, "create", "rolebinding", "reader", "--clusterrole=view", `--serviceaccount=${ns.name}:${SA}`]);
  await kubectlOk(
    c,
    ["create", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "Secret",
      type: "kubernetes.io/service-account-token",
      metadata: { name: `${SA}-token`, namespace: ns.name, annotations: { "kubernetes.io/service-account.name": SA } },
    }),
  );
  for (let i = 0; i < 60 && !saToken; i++) {
    const out = await kubectlOk(c, ["-n", ns.name, "get", "secret", `${SA}-token`, "-o", "jsonpath={.data.token}"]);
    saToken = Buffer.from(out.trim(), "base64").toString();
    if (!saToken) await Bun.sleep(500);
  }
  if (!saToken) throw new Error("the token controller never filled the ServiceAccount token Secret");
});

afterAll(async () => {
  await ns?.remove();
  rmSync(tmp, { recursive: true, force: true });
});

describe("kubeconfig forms against the real TLS API server", () => {
  test("CA and client certificate/key inline (-data), as the cluster's own kubeconfig", async () => {
    const kube = loadKube({
      env: kubeconfig(
        "data",
        { "certificate-authority-data": b64(caPem) },
        { "client-certificate-data": b64(certPem), "client-key-data": b64(keyPem) },
      ),
    });
    expect(kube.context).toBe("ctx-data");
    expect(kube.namespace).toBe(ns.name);
    expect(await listOwnPods(kube)).toBe(0);
    expect(await mayListKubeSystemPods(kube)).toBe(true); // the client certificate reached the server: cluster-admin
  });

  test("CA and client certificate/key as files, relative to the kubeconfig", async () => {
    const env = kubeconfig(
      "files",
      { "certificate-authority": "ca.crt" },
      { "client-certificate": "pki/admin.crt", "client-key": "pki/admin.key" },
      { "ca.crt": caPem },
    );
    mkdirSync(join(tmp, "files", "pki"));
    writeFileSync(join(tmp, "files", "pki", "admin.crt"), certPem);
    writeFileSync(join(tmp, "files", "pki", "admin.key"), keyPem, { mode: 0o600 });
    const kube = loadKube({ env });
    expect(await mayListKubeSystemPods(kube)).toBe(true);
  });

  test("ServiceAccount bearer token with a CA file: its own rights, not more (no connection reuse across identities)", async () => {
    const admin = loadKube({
      env: kubeconfig(
        "admin-first",
        { "certificate-authority-data": b64(caPem) },
        { "client-certificate-data": b64(certPem), "client-key-data": b64(keyPem) },
      ),
    });
    expect(await mayListKubeSystemPods(admin)).toBe(true);
    const kube = loadKube({
      env: kubeconfig("token", { "certificate-authority": join(tmp, "token", "ca.crt") }, { token: saToken }, { "ca.crt": caPem }),
    });
    expect(await listOwnPods(kube)).toBe(0);
    expect(await mayListKubeSystemPods(kube)).toBe(false);
    const err = await kube.core
      .listNamespacedPod({ namespace: "kube-system" })
      .catch((e: unknown) => kubeFailure("list pods in kube-system", e, { rbac: "docs/rbac.md" }));
    expect(err).toBeInstanceOf(SeelieError);
    expect((err as SeelieError).message).toContain(
      `not allowed to list pods in kube-system: pods is forbidden: User "system:serviceaccount:${ns.name}:${SA}"`,
    );
    expect((err as SeelieError).hint).toContain("docs/rbac.md");
  });

  test("ServiceAccount token from a tokenFile", async () => {
    const kube = loadKube({
      env: kubeconfig("tokenfile", { "certificate-authority-data": b64(caPem) }, { tokenFile: "sa.token" }, { "sa.token": `${saToken}\n` }),
    });
    expect(await listOwnPods(kube)).toBe(0);
    expect(await mayListKubeSystemPods(kube)).toBe(false);
  });

  test("insecure-skip-tls-verify: no CA, the client certificate still sent", async () => {
    const kube = loadKube({
      env: kubeconfig(
        "insecure",
        { "insecure-skip-tls-verify": true },
        { "client-certificate-data": b64(certPem), "client-key-data": b64(keyPem) },
      ),
    });
    expect(await mayListKubeSystemPods(kube)).toBe(true);
  });

  test("tls-server-name: the certificate is checked against that name, not the address", async () => {
    const user = { "client-certificate-data": b64(certPem), "client-key-data": b64(keyPem) };
    const ok = loadKube({
      env: kubeconfig("sni-ok", { "certificate-authority-data": b64(caPem), "tls-server-name": "kubernetes.default" }, user),
    });
    expect(await mayListKubeSystemPods(ok)).toBe(true);
    const bad = loadKube({
      env: kubeconfig("sni-bad", { "certificate-authority-data": b64(caPem), "tls-server-name": "not-the-api.example" }, user),
    });
    const err = await listOwnPods(bad).catch((e: unknown) => kubeFailure("list pods", e));
    expect((err as SeelieError).message).toContain(`the certificate of the API server ${server}`);
    expect((err as SeelieError).message).toContain("is not valid for not-the-api.example");
  });

  test("exec plugin with a token: run once, cached until its expiry, KUBERNETES_EXEC_INFO given", async () => {
    const p = plugin("token", { token: saToken, expirationTimestamp: new Date(Date.now() + 3600_000).toISOString() });
    const kube = loadKube({
      env: kubeconfig(
        "exec",
        { "certificate-authority-data": b64(caPem) },
        { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: p.script, args: [] } },
      ),
    });
    expect(await listOwnPods(kube)).toBe(0);
    expect(await mayListKubeSystemPods(kube)).toBe(false); // the plugin's token, not some other identity
    expect(await listOwnPods(kube)).toBe(0);
    expect(p.runs()).toBe(1);
    expect(p.execInfo()).toMatchObject({ kind: "ExecCredential", spec: { interactive: false } });
  });

  test("exec plugin: an expired credential is fetched again", async () => {
    const p = plugin("expiring", { token: saToken, expirationTimestamp: new Date(Date.now() + 2000).toISOString() });
    const kube = loadKube({
      env: kubeconfig(
        "exec-exp",
        { "certificate-authority-data": b64(caPem) },
        { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: p.script } },
      ),
    });
    await listOwnPods(kube);
    await listOwnPods(kube);
    expect(p.runs()).toBe(2); // within the 10 s skew of its expiry: never reused
  });

  test("exec plugin: a token the server refuses (401) makes kubectl's one re-run", async () => {
    const p = plugin("revoked", { token: "not-a-valid-token" });
    const kube = loadKube({
      env: kubeconfig(
        "exec-401",
        { "certificate-authority-data": b64(caPem) },
        { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: p.script } },
      ),
    });
    const err = await listOwnPods(kube).catch((e: unknown) => kubeFailure("list pods", e));
    expect((err as SeelieError).message).toContain("did not accept the credentials");
    expect(p.runs()).toBe(2);
    p.setCredential({ token: saToken });
    expect(await listOwnPods(kube)).toBe(0);
    expect(p.runs()).toBe(3);
  });

  test("exec plugin returning a client certificate and key (relative command path)", async () => {
    const p = plugin("cert", { clientCertificateData: certPem, clientKeyData: keyPem });
    const env = kubeconfig(
      "exec-cert",
      { "certificate-authority-data": b64(caPem) },
      { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: `../plugin-cert/get-token` } },
    );
    const kube = loadKube({ env });
    expect(await mayListKubeSystemPods(kube)).toBe(true);
    expect(p.runs()).toBe(1);
  });

  test("exec plugin that fails: the plugin, its exit code and stderr named", async () => {
    const p = plugin("fails", "", { exit: 3, stderr: "error: not logged in to the cloud" });
    const kube = loadKube({
      env: kubeconfig(
        "exec-fail",
        { "certificate-authority-data": b64(caPem) },
        {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: p.script,
            installHint: "install get-token from the cloud SDK",
          },
        },
      ),
    });
    const err = await listOwnPods(kube).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SeelieError);
    expect((err as SeelieError).message).toContain(
      `the exec credential plugin "${p.script}" of user "exec-fail" failed (exit code 3): error: not logged in to the cloud`,
    );
    expect((err as SeelieError).hint).toBe("install get-token from the cloud SDK");
    const missing = loadKube({
      env: kubeconfig(
        "exec-missing",
        { "certificate-authority-data": b64(caPem) },
        { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: "seelie-no-such-plugin" } },
      ),
    });
    const err2 = await listOwnPods(missing).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(UsageError);
    expect((err2 as Error).message).toContain('cannot run the exec credential plugin "seelie-no-such-plugin"');
  });

  test("proxy-url: every request through the CONNECT proxy, TLS and client certificate end to end", async () => {
    const proxy = cuttableProxy();
    try {
      const kube = loadKube({
        env: kubeconfig(
          "proxy",
          { "certificate-authority-data": b64(caPem), "proxy-url": proxy.url },
          { "client-certificate-data": b64(certPem), "client-key-data": b64(keyPem) },
        ),
      });
      expect(await mayListKubeSystemPods(kube)).toBe(true);
      expect(await listOwnPods(kube)).toBe(0);
      expect(proxy.seen.length).toBeGreaterThan(0);
      expect(proxy.seen[0]).toBe(new URL(server).host);
    } finally {
      proxy.stop();
    }
  });
});

describe("kubeconfig and connection failures", () => {
  test("a wrong CA: the error names the server and the CA file", async () => {
    const dir = join(tmp, "other-ca");
    mkdirSync(dir, { recursive: true });
    const gen = await sh([
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=not-the-cluster-ca",
      "-keyout",
      join(dir, "ca.key"),
      "-out",
      join(dir, "ca.crt"),
    ]);
    expect(gen.code).toBe(0);
    const kube = loadKube({
      env: kubeconfig(
        "wrong-ca",
        { "certificate-authority": join(dir, "ca.crt") },
        { "client-certificate-data": b64(certPem), "client-key-data": b64(keyPem) },
      ),
    });
    const err = await listOwnPods(kube).catch((e: unknown) => kubeFailure("list pods", e));
    expect(err).toBeInstanceOf(SeelieError);
    const msg = (err as SeelieError).message;
    expect(msg).toContain(`cannot verify the certificate of the API server ${server}`);
    expect(msg).toContain(`certificate-authority file ${join(dir, "ca.crt")}`);
    expect((err as SeelieError).hint).toContain("certificate-authority");
  });

  test("no CA at all (the system's CAs do not know the private one)", async () => {
    const kube = loadKube({ env: kubeconfig("no-ca", {}, { "client-certificate-data": b64(certPem), "client-key-data": b64(keyPem) }) });
    const err = await listOwnPods(kube).catch((e: unknown) => kubeFailure("list pods", e));
    expect((err as SeelieError).message).toContain("against the system's trusted CAs");
  });

  test("a CA that is not PEM: refused before any request, naming the field", () => {
    expect(() => loadKube({ env: kubeconfig("bad-ca", { "certificate-authority-data": b64("garbage") }, { token: "x" }) })).toThrow(
      /certificate authority \(certificate-authority-data of the kubeconfig\) of cluster "test" is not a PEM certificate/,
    );
  });

  test("no kubeconfig at all", () => {
    const home = join(tmp, "empty-home");
    mkdirSync(home, { recursive: true });
    expect(() => loadKube({ env: { HOME: home } })).toThrow(UsageError);
    expect(() => loadKube({ env: { HOME: home } })).toThrow("no kubeconfig: KUBECONFIG is not set and ~/.kube/config does not exist");
    expect(() => loadKube({ env: { HOME: home, KUBECONFIG: join(home, "missing") } })).toThrow("none of the files in KUBECONFIG exists");
  });

  test("an unknown context lists the known ones", () => {
    const env = kubeconfig("ctx", { "certificate-authority-data": b64(caPem) }, { token: saToken });
    let err: unknown;
    try {
      loadKube({ env, context: "nope", flag: "--cluster" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toContain('--cluster "nope": no such context in the kubeconfig');
    expect((err as UsageError).hint).toContain("ctx-ctx");
  });

  test("KUBECONFIG with several files: first definition wins, as kubectl", async () => {
    const a = kubeconfig("merge-a", { "certificate-authority-data": b64(caPem) }, { token: saToken });
    const b = kubeconfig(
      "merge-b",
      { "certificate-authority-data": b64(caPem) },
      { "client-certificate-data": b64(certPem), "client-key-data": b64(keyPem) },
    );
    const kube = loadKube({ env: { HOME: tmp, KUBECONFIG: `${a.KUBECONFIG}:${join(tmp, "missing")}:${b.KUBECONFIG}` } });
    expect(kube.context).toBe("ctx-merge-a");
    expect(kube.target.contexts).toEqual(["ctx-merge-a", "ctx-merge-b"]);
    const other = loadKube({ env: { HOME: tmp, KUBECONFIG: `${a.KUBECONFIG}:${b.KUBECONFIG}` }, context: "ctx-merge-b" });
    expect(await mayListKubeSystemPods(other)).toBe(true);
  });

  test("a socks proxy-url is refused with a next step", () => {
    expect(() =>
      loadKube({
        env: kubeconfig("socks", { "certificate-authority-data": b64(caPem), "proxy-url": "socks5://127.0.0.1:1080" }, { token: saToken }),
      }),
    ).toThrow(/only http:\/\/ and https:\/\/ \(CONNECT\) proxies/);
  });

  test("a refused connection names the server", async () => {
    const kube = loadKube({
      env: kubeconfig("refused", { server: "https://127.0.0.1:9", "certificate-authority-data": b64(caPem) }, { token: saToken }),
    });
    const err = await listOwnPods(kube).catch((e: unknown) => kubeFailure("list pods", e));
    expect((err as SeelieError).message).toContain("the API server https://127.0.0.1:9");
  });
});
