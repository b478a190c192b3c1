import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseExecCredential } from "../../../lib/kube/exec-credential.ts";
import { findKubeTarget } from "../../../lib/kube/kubeconfig.ts";

describe("findKubeTarget", () => {
  test("in-cluster: the service account's token, CA and namespace, when there is no kubeconfig", () => {
    const sa = mkdtempSync(join(tmpdir(), "seelie-sa-"));
    writeFileSync(join(sa, "token"), "tok");
    writeFileSync(join(sa, "namespace"), "team-a\n");
    const t = findKubeTarget({ env: { HOME: sa, KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "6443" }, saDir: sa });
    expect(t.cluster.server).toBe("https://10.0.0.1:6443");
    expect(t.cluster.ca).toEqual({ file: join(sa, "ca.crt") });
    expect(t.user.token).toEqual({ file: join(sa, "token") });
    expect(t.namespace).toBe("team-a");
    expect(t.source).toBe("in-cluster service account");
    rmSync(sa, { recursive: true, force: true });
  });

  test("relative files and exec commands are relative to the kubeconfig; -data is decoded; a bare command stays a PATH lookup", () => {
    const dir = mkdtempSync(join(tmpdir(), "seelie-kc-"));
    writeFileSync(
      join(dir, "config"),
      `apiVersion: v1
clusters:
- name: c
  cluster: { server: "https://k.example:6443/", certificate-authority: ca.pem, tls-server-name: api.internal, proxy-url: "http://proxy:3128" }
users:
- name: a
  user: { client-certificate-data: ${Buffer.from("CERT").toString("base64")}, client-key: keys/a.key, exec: { command: ./bin/get-token, args: [x], apiVersion: client.authentication.k8s.io/v1 } }
- name: b
  user: { exec: { command: gke-gcloud-auth-plugin } }
contexts:
- name: one
  context: { cluster: c, user: a }
- name: two
  context: { cluster: c, user: b, namespace: ml }
current-context: one
`,
    );
    const t = findKubeTarget({ env: { HOME: dir, KUBECONFIG: join(dir, "config") } });
    expect(t.cluster).toMatchObject({
      server: "https://k.example:6443",
      ca: { file: join(dir, "ca.pem") },
      tlsServerName: "api.internal",
      proxyUrl: "http://proxy:3128",
      insecure: false,
    });
    expect(t.user.cert).toEqual({ data: "CERT", field: "client-certificate-data" });
    expect(t.user.key).toEqual({ file: join(dir, "keys/a.key") });
    expect(t.user.exec).toMatchObject({ command: join(dir, "bin/get-token"), args: ["x"], apiVersion: "client.authentication.k8s.io/v1" });
    expect(t.namespace).toBe("default");
    const two = findKubeTarget({ env: { HOME: dir, KUBECONFIG: join(dir, "config") }, context: "two" });
    expect(two.user.exec?.command).toBe("gke-gcloud-auth-plugin");
    expect(two.namespace).toBe("ml");
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("parseExecCredential", () => {
  test.each([
    ['{"kind":"ExecCredential","status":{"token":"t"}}', { token: "t" }],
    [
      '{"kind":"ExecCredential","status":{"clientCertificateData":"C","clientKeyData":"K","expirationTimestamp":"2030-01-01T00:00:00Z"}}',
      { clientCertificateData: "C", clientKeyData: "K", expires: Date.parse("2030-01-01T00:00:00Z") },
    ],
  ])("%s", (out, want) => {
    expect(parseExecCredential(out, "p")).toMatchObject(want);
  });
  test.each([
    ["not json", "printed no ExecCredential JSON"],
    ['{"kind":"Other","status":{}}', "something other than an ExecCredential"],
    ['{"kind":"ExecCredential","status":{}}', "neither a token nor a client certificate"],
    ['{"kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"soon"}}', "unreadable expirationTimestamp"],
  ])("refuses %s", (out, msg) => {
    expect(() => parseExecCredential(out, "the plugin")).toThrow(msg);
  });
});
