/**
 * The one way seelie talks to an API server: Bun's own `fetch` with the kubeconfig's TLS material
 * (`tls: { ca, cert, key, rejectUnauthorized, serverName }`), credentials (client certificate, bearer
 * token or token file, basic auth, exec plugin) and `proxy-url`. client-node's own transport sends
 * through undici's dispatcher, which Bun ignores (PLATFORM-NOTES); its generated API classes are given
 * this transport as their HTTP library instead, and log streams are read through it directly.
 */

import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  type Configuration,
  createConfiguration,
  type HttpLibrary,
  type RequestContext,
  ResponseContext,
  ServerConfiguration,
  wrapHttpLibrary,
} from "@kubernetes/client-node";
import { errorMessage, SeelieError, UsageError } from "../errors.ts";
import { redactUrl } from "../util/secrets.ts";
import { ExecCredentialSource } from "./exec-credential.ts";
import type { KubeTarget, Material } from "./kubeconfig.ts";

/** What one request needs besides its URL. */
export interface KubeRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

const TLS_VERIFY_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_SIGNATURE_FAILURE",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
]);
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** Describes a Material for messages (never its contents). */
function describe(m: Material, what: string): string {
  if (!m) return "";
  return "file" in m ? `${what} file ${m.file}` : `${m.field} of the kubeconfig`;
}

function readMaterial(m: Material, what: string, owner: string): string | undefined {
  if (!m) return undefined;
  if ("data" in m) return m.data;
  try {
    return readFileSync(m.file, "utf8");
  } catch (err) {
    throw new UsageError(
      `cannot read the ${what} file ${m.file} of ${owner}: ${(err as NodeJS.ErrnoException).code ?? errorMessage(err)}`,
      "fix the path in the kubeconfig (kubectl config view)",
    );
  }
}

function checkCert(pem: string, source: string): void {
  try {
    new X509Certificate(pem);
  } catch (err) {
    throw new UsageError(
      `the ${source} is not a PEM certificate: ${errorMessage(err)}`,
      "fix the kubeconfig (kubectl config view --raw shows it)",
    );
  }
}

function checkKey(pem: string, source: string): void {
  try {
    createPrivateKey(pem);
  } catch (err) {
    throw new UsageError(
      `the ${source} is not a PEM private key: ${errorMessage(err)}`,
      "fix the kubeconfig (kubectl config view --raw shows it)",
    );
  }
}

/** An API server connection for one kubeconfig context. */
export class KubeTransport {
  readonly server: string;
  private readonly ca?: string;
  private readonly cert?: string;
  private readonly key?: string;
  private readonly proxy?: string;
  private readonly exec?: ExecCredentialSource;
  private readonly plainHttp: boolean;

  constructor(
    readonly target: KubeTarget,
    env: Record<string, string | undefined> = process.env,
  ) {
    const { cluster, user } = target;
    this.server = cluster.server;
    const url = new URL(cluster.server);
    this.plainHttp = url.protocol === "http:";
    const owner = `cluster "${cluster.name}"`;
    if (!cluster.insecure) {
      this.ca = readMaterial(cluster.ca, "certificate-authority", owner);
      if (this.ca) checkCert(this.ca, `certificate authority (${describe(cluster.ca, "certificate-authority")}) of ${owner}`);
    }
    const userOwner = `user "${user.name}"`;
    this.cert = readMaterial(user.cert, "client-certificate", userOwner);
    this.key = readMaterial(user.key, "client-key", userOwner);
    if (this.cert) checkCert(this.cert, `client certificate (${describe(user.cert, "client-certificate")}) of ${userOwner}`);
    if (this.key) checkKey(this.key, `client key (${describe(user.key, "client-key")}) of ${userOwner}`);
    if (!!this.cert !== !!this.key)
      throw new UsageError(
        `${userOwner} has a client ${this.cert ? "certificate but no key" : "key but no certificate"}`,
        "set both client-certificate(-data) and client-key(-data) in the kubeconfig",
      );
    if (user.authProvider) {
      throw new UsageError(
        `${userOwner} uses the auth-provider "${user.authProvider}", which kubectl itself no longer supports`,
        "switch the kubeconfig to the provider's exec plugin (e.g. gke-gcloud-auth-plugin, kubelogin) — kubectl's docs on client-go credential plugins",
      );
    }
    if (user.exec) this.exec = new ExecCredentialSource(user.exec, cluster, user.name, env);
    if (cluster.proxyUrl) {
      const p = new URL(cluster.proxyUrl);
      if (p.protocol !== "http:" && p.protocol !== "https:") {
        throw new UsageError(
          `proxy-url ${redactUrl(cluster.proxyUrl)} of ${owner}: only http:// and https:// (CONNECT) proxies are supported`,
          "use an HTTP CONNECT proxy, or an SSH tunnel to the API server",
        );
      }
      this.proxy = cluster.proxyUrl;
    }
    const sendsSecrets = !!(user.token || user.password || user.exec);
    if (this.plainHttp && sendsSecrets && !LOOPBACK.has(url.hostname)) {
      throw new UsageError(
        `cluster "${cluster.name}" is served over plain http (${cluster.server}); seelie does not send credentials over plain HTTP off this machine`,
        "use the API server's https:// address",
      );
    }
  }

  /** A request to `path` (below the server URL, query included). */
  fetch(path: string, req: KubeRequest = {}): Promise<Response> {
    return this.fetchUrl(this.server + path, req);
  }

  /** A request to an absolute URL on this server (as client-node's generated APIs build them). */
  async fetchUrl(url: string, req: KubeRequest = {}): Promise<Response> {
    const first = await this.send(url, req);
    if (first.status === 401 && this.exec) {
      // A plugin's token may be revoked before its expiry: kubectl runs the plugin again once.
      await first.body?.cancel();
      this.exec.invalidate();
      return this.send(url, req);
    }
    return first;
  }

  private async send(url: string, req: KubeRequest): Promise<Response> {
    const headers: Record<string, string> = { "User-Agent": "seelie", ...req.headers };
    let cert = this.cert;
    let key = this.key;
    const { user } = this.target;
    if (this.exec) {
      const cred = await this.exec.get();
      if (cred.token) headers.Authorization = `Bearer ${cred.token}`;
      if (cred.clientCertificateData && cred.clientKeyData) {
        cert = cred.clientCertificateData;
        key = cred.clientKeyData;
      }
    }
    const token = readMaterial(user.token, "token", `user "${user.name}"`)?.trim();
    if (token) headers.Authorization = `Bearer ${token}`;
    else if (user.username && user.password && !headers.Authorization)
      headers.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString("base64")}`;
    if (user.impersonate) headers["Impersonate-User"] = user.impersonate;
    const init: BunFetchRequestInit = { method: req.method ?? "GET", headers, body: req.body, signal: req.signal, redirect: "manual" };
    if (!this.plainHttp) {
      init.tls = {
        rejectUnauthorized: !this.target.cluster.insecure,
        ...(this.ca ? { ca: this.ca } : {}),
        ...(cert && key ? { cert, key } : {}),
        ...(this.target.cluster.tlsServerName ? { serverName: this.target.cluster.tlsServerName } : {}),
      };
    }
    if (this.proxy) init.proxy = this.proxy;
    try {
      return await fetch(url, init);
    } catch (err) {
      if (req.signal?.aborted || (err as Error)?.name === "AbortError") throw err;
      throw this.connectionError(err);
    }
  }

  /** A connection failure, naming the server, the CA it was checked against, or the proxy. */
  connectionError(err: unknown): SeelieError {
    const { cluster, context } = this.target;
    const code = String((err as { code?: unknown })?.code ?? "");
    const where = `the API server ${cluster.server} (cluster "${cluster.name}"${context ? `, context "${context}"` : ""})`;
    const msg = errorMessage(err);
    if (TLS_VERIFY_CODES.has(code)) {
      const ca = cluster.ca
        ? `the CA in ${describe(cluster.ca, "certificate-authority")}`
        : "the system's trusted CAs (the kubeconfig names no certificate-authority)";
      return new SeelieError(`cannot verify the certificate of ${where} against ${ca}: ${msg}`, {
        hint: `set the cluster's certificate-authority(-data) to the CA that signed the API server's certificate (kubectl config view --raw; ${this.target.source})`,
        cause: err,
      });
    }
    if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
      return new SeelieError(
        `the certificate of ${where} is not valid for ${this.target.cluster.tlsServerName ?? new URL(cluster.server).hostname}: ${msg}`,
        {
          hint: "use the server name the certificate was issued for, or set tls-server-name in the kubeconfig's cluster",
          cause: err,
        },
      );
    }
    if (this.proxy && /proxy/i.test(`${code} ${msg}`)) {
      return new SeelieError(`cannot reach ${where} through the proxy ${redactUrl(this.proxy)}: ${msg}`, {
        hint: "check the cluster's proxy-url in the kubeconfig and that the proxy runs",
        cause: err,
      });
    }
    if (code === "ConnectionRefused" || code === "ECONNREFUSED") {
      return new SeelieError(`${where} refused the connection${this.proxy ? ` (through the proxy ${redactUrl(this.proxy)})` : ""}`, {
        hint: `is the cluster running and the address right? (kubectl${context ? ` --context ${context}` : ""} cluster-info)`,
        cause: err,
      });
    }
    return new SeelieError(
      `cannot reach ${where}${this.proxy ? ` through the proxy ${redactUrl(this.proxy)}` : ""}: ${code && !msg.includes(code) ? `${code}: ` : ""}${msg}`,
      {
        hint: `is the cluster reachable? (kubectl${context ? ` --context ${context}` : ""} get nodes)`,
        cause: err,
      },
    );
  }

  /** client-node's HTTP library, sending through this transport. */
  httpLibrary(): HttpLibrary {
    return wrapHttpLibrary({
      send: async (ctx: RequestContext) => {
        const body = ctx.getBody();
        const resp = await this.fetchUrl(ctx.getUrl(), {
          method: ctx.getHttpMethod(),
          headers: ctx.getHeaders(),
          body: body === undefined ? undefined : String(body),
          signal: ctx.getSignal(),
        });
        const headers: Record<string, string> = {};
        resp.headers.forEach((v, k) => {
          headers[k] = v;
        });
        return new ResponseContext(resp.status, headers, {
          text: () => resp.text(),
          binary: async () => Buffer.from(await resp.arrayBuffer()),
          stream: () => resp.body,
        });
      },
    });
  }

  /** A client-node API class (CoreV1Api, CustomObjectsApi, …) that sends through this transport. */
  api<T>(cls: new (config: Configuration) => T): T {
    return new cls(
      createConfiguration({ baseServer: new ServerConfiguration(this.server, {}), httpApi: this.httpLibrary(), authMethods: {} }),
    );
  }
}
