/**
 * A small client of the registry distribution API v2 over `fetch`: ping and auth challenge, Basic and
 * Bearer token auth, blob HEAD/GET, cross-repository mount, uploads (known digest: monolithic for
 * small blobs, chunked otherwise; unknown digest: one streamed PATCH; never the whole blob in memory),
 * manifest PUT/GET, retries with back-off.
 */
import { InterruptedError, SeelieError, errorMessage } from "../errors.ts";
import { log } from "../log.ts";
import type { RegistryAuth } from "./credentials.ts";
import { rechunk } from "../util/rechunk.ts";
import { isLoopbackRegistry } from "./host.ts";
import { type AuthChallenge, parseWwwAuthenticate } from "./www-authenticate.ts";
import { sleep } from "../util/sleep.ts";

/** Media types of manifests the client asks for and sends. */
export const MANIFEST_MEDIA_TYPES = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
} as const;

/** Options of a RegistryClient. */
export interface RegistryClientOptions {
  /** `host[:port]` of the registry. */
  registry: string;
  /** Credentials; anonymous when absent. */
  auth?: RegistryAuth;
  /** Use plain http even for a non-loopback host. Loopback registries always use http. */
  insecure?: boolean;
  /** Attempts per operation on 5xx and connection errors (default 4). */
  attempts?: number;
  /** First back-off delay in ms, doubled each retry (default 500). */
  backoffMs?: number;
  /** Chunk size of chunked uploads, also the largest blob sent in one PUT (default 8 MiB). */
  chunkSize?: number;
  signal?: AbortSignal;
}

/** The bytes of a manifest with its media type and digest. */
export interface FetchedManifest {
  mediaType: string;
  digest: string;
  bytes: Uint8Array;
}

class RetryableError extends Error {}

/**
 * True when a request to `url` may carry credentials (Basic, a token, a refresh token): https always;
 * plain http only to a loopback host, or to the registry itself when it is configured as insecure.
 * The one rule for every request the client makes, including token realms and upload locations the
 * registry names, so no code path sends a credential over plain HTTP off the machine.
 */
export function mayCarryCredentials(url: string | URL, registry: string, insecure = false): boolean {
  const u = typeof url === "string" ? new URL(url) : url;
  if (u.protocol === "https:") return true;
  if (u.protocol !== "http:") return false;
  return isLoopbackRegistry(u.host) || (insecure && u.host === registry.toLowerCase());
}

/** The sha256 digest (`sha256:…`) of bytes. */
export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
}

/** A client for one registry; tokens are cached per scope for the client's lifetime. */
export class RegistryClient {
  readonly registry: string;
  readonly baseUrl: string;
  private readonly auth?: RegistryAuth;
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly chunkSize: number;
  private readonly signal?: AbortSignal;
  private readonly insecure: boolean;
  private challenge?: AuthChallenge;
  private readonly tokens = new Map<string, string>();

  constructor(opts: RegistryClientOptions) {
    this.registry = opts.registry;
    const http = opts.insecure === true || isLoopbackRegistry(opts.registry);
    this.baseUrl = `${http ? "http" : "https"}://${opts.registry}`;
    this.insecure = opts.insecure === true;
    this.auth = opts.auth;
    this.attempts = Math.max(1, opts.attempts ?? 4);
    this.backoffMs = opts.backoffMs ?? 500;
    this.chunkSize = opts.chunkSize ?? 8 * 1024 * 1024;
    this.signal = opts.signal;
  }

  private credsSource(): string {
    return this.auth
      ? `credentials from ${this.auth.source}${this.auth.username ? ` (user ${this.auth.username})` : ""}`
      : "no credentials";
  }

  /** Runs `fn`, retrying on connection errors and 5xx with exponential back-off. */
  private async retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    let last: unknown;
    for (let i = 0; i < this.attempts; i++) {
      if (this.signal?.aborted) throw new InterruptedError(what);
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof RetryableError)) throw err;
        last = err;
        if (i + 1 < this.attempts) {
          const delay = this.backoffMs * 2 ** i;
          log.info(
            `registry ${this.registry}: ${what} failed (${err.message}); retrying in ${delay} ms (attempt ${i + 2}/${this.attempts})`,
          );
          await sleep(delay, this.signal).catch(() => {
            throw new InterruptedError("registry request");
          });
        }
      }
    }
    throw new SeelieError(`registry ${this.registry}: ${what} failed after ${this.attempts} attempts: ${errorMessage(last)}`, {
      hint: `check that the registry ${this.registry} is up and reachable, then retry`,
      cause: last,
    });
  }

  private basicHeader(): string | undefined {
    if (!this.auth?.username) return undefined;
    return `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password ?? ""}`).toString("base64")}`;
  }

  private async fetchToken(ch: AuthChallenge, scopes: string[]): Promise<string> {
    const realm = ch.params.realm;
    if (!realm) throw new SeelieError(`registry ${this.registry} sent a Bearer challenge without a realm`);
    const url = new URL(realm);
    if (ch.params.service) url.searchParams.set("service", ch.params.service);
    if ((this.auth?.identitytoken || this.auth?.username) && !mayCarryCredentials(url, this.registry, this.insecure)) {
      throw new SeelieError(
        `registry ${this.registry} names a token server on plain http (${url.origin}); seelie does not send credentials there`,
        {
          hint: "the registry's token realm must use https (ask its administrator), or configure the registry as insecure if it is yours",
        },
      );
    }
    let res: Response;
    try {
      if (this.auth?.identitytoken) {
        const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: this.auth.identitytoken, client_id: "seelie" });
        if (ch.params.service) form.set("service", ch.params.service);
        if (scopes.length) form.set("scope", scopes.join(" "));
        res = await fetch(url, { method: "POST", body: form, signal: this.signal });
      } else {
        for (const s of scopes) url.searchParams.append("scope", s);
        const basic = this.basicHeader();
        res = await fetch(url, { headers: basic ? { authorization: basic } : {}, signal: this.signal });
      }
    } catch (err) {
      if (this.signal?.aborted) throw new InterruptedError("registry authentication");
      throw new RetryableError(`token server ${url.host}: ${errorMessage(err)}`);
    }
    if (res.status >= 500) throw new RetryableError(`token server ${url.host} answered ${res.status}`);
    if (res.status === 401 || res.status === 403) {
      throw new SeelieError(`registry ${this.registry} refused the ${this.credsSource()}`, {
        hint: `check the user and password (docker login ${this.registry}), or the secret the credentials come from`,
      });
    }
    if (!res.ok) throw new SeelieError(`token server of ${this.registry} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new SeelieError(`token server of ${this.registry} returned no token`);
    return token;
  }

  private async authorization(scopes: string[]): Promise<string | undefined> {
    const ch = this.challenge;
    if (!ch) return undefined;
    if (ch.scheme === "basic") return this.basicHeader();
    if (ch.scheme === "bearer") {
      const key = scopes.join(" ");
      let t = this.tokens.get(key);
      if (!t) {
        t = await this.fetchToken(ch, scopes);
        this.tokens.set(key, t);
      }
      return `Bearer ${t}`;
    }
    return undefined;
  }

  /**
   * One HTTP request with auth: on a 401 it reads the challenge, authenticates and tries once more
   * (so `body` must be replayable, i.e. not a stream, unless auth is already settled).
   * Connection errors and 5xx become RetryableError for `retry`.
   */
  private async request(
    method: string,
    url: string,
    scopes: string[],
    init: { headers?: Record<string, string>; body?: Uint8Array | ReadableStream<Uint8Array>; redirect?: "follow" | "manual" } = {},
  ): Promise<Response> {
    for (let round = 0; round < 2; round++) {
      const headers: Record<string, string> = { ...init.headers };
      const authz = await this.authorization(scopes);
      if (authz && !mayCarryCredentials(url, this.registry, this.insecure)) {
        throw new SeelieError(
          `registry ${this.registry} sent seelie to ${new URL(url).origin} over plain http; seelie does not send credentials there`,
          {
            hint: "use https for the registry (or configure it as insecure if it is yours)",
          },
        );
      }
      if (authz) headers.authorization = authz;
      let res: Response;
      try {
        res = await fetch(url, { method, headers, body: init.body, signal: this.signal, redirect: init.redirect ?? "follow" });
      } catch (err) {
        if (this.signal?.aborted) throw new InterruptedError(`${method} ${url}`);
        throw new RetryableError(`${method} ${new URL(url).pathname}: ${errorMessage(err)}`);
      }
      if (res.status >= 500) {
        await res.body?.cancel();
        throw new RetryableError(`${method} ${new URL(url).pathname}: HTTP ${res.status}`);
      }
      if (res.status === 401) {
        await res.body?.cancel();
        const ch = parseWwwAuthenticate(res.headers.get("www-authenticate"));
        if (round === 0 && ch && (this.auth || ch.scheme === "bearer")) {
          if (ch.scheme === "bearer") this.tokens.delete(scopes.join(" "));
          this.challenge = ch;
          continue;
        }
        if (!this.auth) {
          throw new SeelieError(`registry ${this.registry} requires a login and no credentials were found for it`, {
            hint: `run 'docker login ${this.registry}' or pass a Docker config with credentials for it`,
          });
        }
        throw new SeelieError(`registry ${this.registry} refused the ${this.credsSource()}`, {
          hint: `check the user and password (docker login ${this.registry}), or the secret the credentials come from`,
        });
      }
      if (res.status === 403) {
        const text = (await res.text()).slice(0, 300);
        throw new SeelieError(
          `registry ${this.registry} denied ${method} ${new URL(url).pathname} with the ${this.credsSource()}: ${text}`,
          {
            hint: "the user may lack push or pull rights on this repository",
          },
        );
      }
      return res;
    }
    throw new SeelieError(`registry ${this.registry}: authentication did not settle`);
  }

  private url(path: string): string {
    return `${this.baseUrl}/v2/${path}`;
  }

  private static pushScopes(repo: string, from?: string): string[] {
    const s = [`repository:${repo}:pull,push`];
    if (from && from !== repo) s.push(`repository:${from}:pull`);
    return s;
  }

  /** Checks the registry answers the API (`GET /v2/`) and settles how to authenticate. */
  async ping(): Promise<void> {
    await this.retry("ping", async () => {
      const res = await this.request("GET", `${this.baseUrl}/v2/`, []);
      await res.body?.cancel();
      if (!res.ok) throw new SeelieError(`${this.baseUrl}/v2/ answered ${res.status}: is ${this.registry} a registry?`);
    });
  }

  /** The size of `digest` in `repo`, or undefined when the registry does not have it there. */
  async blobSize(repo: string, digest: string): Promise<number | undefined> {
    return this.retry(`HEAD blob ${digest} in ${repo}`, async () => {
      const res = await this.request("HEAD", this.url(`${repo}/blobs/${digest}`), [`repository:${repo}:pull`]);
      await res.body?.cancel();
      if (res.status === 404) return undefined;
      if (!res.ok) throw new SeelieError(`registry ${this.registry}: HEAD ${repo}/blobs/${digest} answered ${res.status}`);
      return Number(res.headers.get("content-length") ?? "0");
    });
  }

  /** Mounts `digest` from `fromRepo` into `repo` (same registry); false when the registry started an upload instead. */
  async mountBlob(repo: string, digest: string, fromRepo: string): Promise<boolean> {
    return this.retry(`mount ${digest} from ${fromRepo} into ${repo}`, async () => {
      const q = new URLSearchParams({ mount: digest, from: fromRepo });
      const res = await this.request("POST", this.url(`${repo}/blobs/uploads/?${q}`), RegistryClient.pushScopes(repo, fromRepo), {
        headers: { "content-length": "0" },
      });
      await res.body?.cancel();
      if (res.status === 201) return true;
      if (res.status === 202) {
        const loc = res.headers.get("location");
        if (loc)
          await this.request("DELETE", new URL(loc, this.baseUrl).toString(), RegistryClient.pushScopes(repo))
            .then((r) => r.body?.cancel())
            .catch(() => undefined);
        return false;
      }
      throw new SeelieError(`registry ${this.registry}: mount of ${digest} into ${repo} answered ${res.status}`);
    });
  }

  /** Streams a blob of `repo` (following redirects). The caller must consume or cancel it. */
  async getBlob(repo: string, digest: string): Promise<ReadableStream<Uint8Array>> {
    return this.retry(`GET blob ${digest} from ${repo}`, async () => {
      const res = await this.request("GET", this.url(`${repo}/blobs/${digest}`), [`repository:${repo}:pull`]);
      if (res.status === 404) {
        await res.body?.cancel();
        throw new SeelieError(`registry ${this.registry} has no blob ${digest} in ${repo}`, {
          hint: "the base image may have been deleted from its registry",
        });
      }
      if (!res.ok || !res.body) throw new SeelieError(`registry ${this.registry}: GET ${repo}/blobs/${digest} answered ${res.status}`);
      return res.body;
    });
  }

  private async startUpload(repo: string): Promise<string> {
    const res = await this.request("POST", this.url(`${repo}/blobs/uploads/`), RegistryClient.pushScopes(repo), {
      headers: { "content-length": "0" },
    });
    await res.body?.cancel();
    const loc = res.headers.get("location");
    if (res.status !== 202 || !loc)
      throw new SeelieError(`registry ${this.registry}: starting an upload to ${repo} answered ${res.status}`);
    return new URL(loc, this.baseUrl).toString();
  }

  private static withDigest(location: string, digest: string): string {
    const u = new URL(location);
    u.searchParams.set("digest", digest);
    return u.toString();
  }

  /**
   * Uploads a blob to `repo` from a stream `open()` returns (called again on each retry). Blobs up
   * to the chunk size go in one PUT; bigger ones in PATCH chunks, so memory stays at one chunk.
   * `onProgress` gets the bytes sent so far.
   */
  async uploadBlob(
    repo: string,
    blob: { digest: string; size: number },
    open: () => ReadableStream<Uint8Array> | Promise<ReadableStream<Uint8Array>>,
    onProgress?: (sent: number) => void,
  ): Promise<void> {
    const scopes = RegistryClient.pushScopes(repo);
    await this.retry(`upload of ${blob.digest} to ${repo}`, async () => {
      let location = await this.startUpload(repo);
      const stream = await open();
      let offset = 0;
      if (blob.size <= this.chunkSize) {
        const body = new Uint8Array(await new Response(stream).arrayBuffer());
        const res = await this.request("PUT", RegistryClient.withDigest(location, blob.digest), scopes, {
          headers: { "content-type": "application/octet-stream", "content-length": String(body.length) },
          body,
        });
        await this.expectCreated(res, repo, blob.digest);
        onProgress?.(body.length);
        return;
      }
      for await (const chunk of rechunk(stream, this.chunkSize, { reuse: true })) {
        const res = await this.request("PATCH", location, scopes, {
          headers: {
            "content-type": "application/octet-stream",
            "content-length": String(chunk.length),
            "content-range": `${offset}-${offset + chunk.length - 1}`,
          },
          body: chunk,
        });
        await res.body?.cancel();
        if (res.status !== 202)
          throw new SeelieError(`registry ${this.registry}: upload chunk of ${blob.digest} to ${repo} answered ${res.status}`);
        offset += chunk.length;
        onProgress?.(offset);
        const loc = res.headers.get("location");
        if (loc) location = new URL(loc, this.baseUrl).toString();
      }
      if (offset !== blob.size) {
        throw new SeelieError(`blob ${blob.digest} for ${repo}: read ${offset} bytes, expected ${blob.size}`, {
          hint: "the source changed or was truncated while it was read",
        });
      }
      const res = await this.request("PUT", RegistryClient.withDigest(location, blob.digest), scopes, {
        headers: { "content-length": "0" },
      });
      await this.expectCreated(res, repo, blob.digest);
    });
  }

  /**
   * Uploads a blob whose digest and size are not known in advance (e.g. being compressed as it
   * goes) as `docker push` does: one PATCH streaming the whole blob while hashing it, then the
   * closing PUT with the digest. Nothing is buffered here, and the stream's back-pressure reaches
   * the source. `open()` is called again on each retry and must yield the same bytes; an error of
   * the source itself is not retried. Returns the digest and size.
   */
  async uploadStream(
    repo: string,
    open: () => ReadableStream<Uint8Array> | Promise<ReadableStream<Uint8Array>>,
    onProgress?: (sent: number) => void,
  ): Promise<{ digest: string; size: number }> {
    const scopes = RegistryClient.pushScopes(repo);
    return this.retry(`upload to ${repo}`, async () => {
      const location = await this.startUpload(repo);
      const hasher = new Bun.CryptoHasher("sha256");
      let size = 0;
      let sourceError: unknown;
      const reader = (await open()).getReader();
      const body = new ReadableStream<Uint8Array>(
        {
          async pull(ctrl) {
            try {
              const r = await reader.read();
              if (r.done) return ctrl.close();
              hasher.update(r.value);
              size += r.value.length;
              onProgress?.(size);
              ctrl.enqueue(r.value);
            } catch (err) {
              sourceError = err;
              ctrl.error(err);
            }
          },
          cancel: (reason) => reader.cancel(reason),
        },
        { highWaterMark: 0 },
      );
      let res: Response;
      try {
        res = await this.request("PATCH", location, scopes, { headers: { "content-type": "application/octet-stream" }, body });
      } catch (err) {
        throw sourceError ?? err;
      } finally {
        await reader.cancel().catch(() => undefined);
      }
      await res.body?.cancel();
      if (res.status !== 202) throw new SeelieError(`registry ${this.registry}: streamed upload to ${repo} answered ${res.status}`);
      const digest = `sha256:${hasher.digest("hex")}`;
      const done = new URL(res.headers.get("location") ?? location, this.baseUrl).toString();
      const put = await this.request("PUT", RegistryClient.withDigest(done, digest), scopes, { headers: { "content-length": "0" } });
      await this.expectCreated(put, repo, digest);
      return { digest, size };
    });
  }

  private async expectCreated(res: Response, repo: string, digest: string): Promise<void> {
    const text = await res.text();
    if (res.status === 201 || res.status === 204) return;
    if (res.status === 400 && /DIGEST_INVALID/.test(text)) {
      throw new SeelieError(`registry ${this.registry} rejected ${digest} for ${repo}: the bytes sent do not match the digest`);
    }
    throw new SeelieError(
      `registry ${this.registry}: finishing the upload of ${digest} to ${repo} answered ${res.status}: ${text.slice(0, 200)}`,
    );
  }

  /** Puts a manifest under `reference` (tag or digest); returns the digest the registry reports. */
  async putManifest(repo: string, reference: string, mediaType: string, bytes: Uint8Array): Promise<string> {
    return this.retry(`PUT manifest ${repo}:${reference}`, async () => {
      const res = await this.request("PUT", this.url(`${repo}/manifests/${reference}`), RegistryClient.pushScopes(repo), {
        headers: { "content-type": mediaType },
        body: bytes,
      });
      const text = await res.text();
      if (res.status !== 201 && res.status !== 200) {
        throw new SeelieError(
          `registry ${this.registry} refused the manifest ${repo}:${reference} (HTTP ${res.status}): ${text.slice(0, 300)}`,
          {
            hint: "a layer or the config may be missing from the repository",
          },
        );
      }
      return res.headers.get("docker-content-digest") ?? sha256Digest(bytes);
    });
  }

  /** Gets a manifest (or index) by tag or digest. */
  async getManifest(repo: string, reference: string, accept: string[] = Object.values(MANIFEST_MEDIA_TYPES)): Promise<FetchedManifest> {
    return this.retry(`GET manifest ${repo}:${reference}`, async () => {
      const res = await this.request("GET", this.url(`${repo}/manifests/${reference}`), [`repository:${repo}:pull`], {
        headers: { accept: accept.join(", ") },
      });
      if (res.status === 404) {
        await res.body?.cancel();
        throw new SeelieError(`registry ${this.registry} has no manifest ${repo}:${reference}`, { hint: "check the image name and tag" });
      }
      if (!res.ok) throw new SeelieError(`registry ${this.registry}: GET manifest ${repo}:${reference} answered ${res.status}`);
      const bytes = new Uint8Array(await res.arrayBuffer());
      const digest = res.headers.get("docker-content-digest") ?? sha256Digest(bytes);
      const mediaType =
        (res.headers.get("content-type") ?? "").split(";")[0]?.trim() ||
        (JSON.parse(new TextDecoder().decode(bytes)) as { mediaType?: string }).mediaType ||
        "";
      return { mediaType, digest, bytes };
    });
  }
}
