/**
 * A thin fake of the Kubernetes API server, for code that cannot meet a real cluster here: an
 * in-memory store of namespaced and cluster-scoped objects behind the REST paths client-node uses
 * (create, get, list with label selectors, replace, merge-patch, delete), container logs (`pods/x/log`,
 * also `follow=true`, fed by `appendLog`/`endLog`), plus per-test routes for anything else (discovery)
 * and a hook on every create so a test can play the kubelet.
 * It is deliberately small: only what the commands call.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type KubeObject = { apiVersion?: string; kind?: string; metadata: Record<string, any>; [k: string]: any };
export type Handler = (req: Request, match: RegExpMatchArray) => Response | undefined | Promise<Response | undefined>;

/** One request the fake received, for assertions. */
export interface SeenRequest {
  method: string;
  path: string;
  query: string;
  body?: unknown;
}

const status = (code: number, reason: string, message: string) =>
  Response.json({ kind: "Status", apiVersion: "v1", status: "Failure", reason, message, code }, { status: code });

/** Parses `/api/v1/namespaces/ns/pods/name/log` and `/apis/g/v/namespaces/ns/plural/name` paths. */
function parsePath(
  path: string,
): { group: string; version: string; namespace?: string; plural: string; name?: string; sub?: string } | undefined {
  const m =
    /^\/api\/(v1)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(path) ??
    /^\/apis\/([^/]+)\/([^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(path);
  if (!m) return undefined;
  if (path.startsWith("/api/")) return { group: "", version: m[1]!, namespace: m[2], plural: m[3]!, name: m[4], sub: m[5] };
  return { group: m[1]!, version: m[2]!, namespace: m[3], plural: m[4]!, name: m[5], sub: m[6] };
}

function matchesSelector(labels: Record<string, string> = {}, selector: string | null): boolean {
  if (!selector) return true;
  return selector.split(",").every((term) => {
    const t = term.trim();
    if (!t) return true;
    const ne = /^([^!=]+)!=(.*)$/.exec(t);
    if (ne) return labels[ne[1]!.trim()] !== ne[2]!.trim();
    const eq = /^([^=]+)==?(.*)$/.exec(t);
    if (eq) return labels[eq[1]!.trim()] === eq[2]!.trim();
    return t.startsWith("!") ? !(t.slice(1) in labels) : t in labels;
  });
}

/** The fake API server. Start it with `startFakeKube()`, stop it with `stop()`. */
export class FakeKube {
  readonly objects = new Map<string, KubeObject>();
  readonly requests: SeenRequest[] = [];
  private routes: { method: string; re: RegExp; handler: Handler }[] = [];
  private createHooks: ((plural: string, obj: KubeObject) => void | Promise<void>)[] = [];
  private deleteHooks: ((plural: string, obj: KubeObject) => void | Promise<void>)[] = [];
  private rv = 1;
  private logs = new Map<string, { text: string; ended: boolean; listeners: Set<(chunk: string | null) => void> }>();
  server!: ReturnType<typeof Bun.serve>;

  /** The server's base URL. */
  get url(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  /** Adds a route that runs before the store (e.g. pod logs, API discovery). Return undefined to fall through. */
  route(method: string, re: RegExp, handler: Handler): void {
    this.routes.push({ method, re, handler });
  }

  /** Called after an object is created (a test plays the kubelet here). */
  onCreate(hook: (plural: string, obj: KubeObject) => void | Promise<void>): void {
    this.createHooks.push(hook);
  }

  /** Called after an object is deleted. */
  onDelete(hook: (plural: string, obj: KubeObject) => void | Promise<void>): void {
    this.deleteHooks.push(hook);
  }

  private logEntry(namespace: string, pod: string, container: string) {
    const k = `${namespace}/${pod}/${container}`;
    let e = this.logs.get(k);
    if (!e) this.logs.set(k, (e = { text: "", ended: false, listeners: new Set() }));
    return e;
  }

  /** Appends to a container's log, as the kubelet's log grows; followers get it at once. */
  appendLog(namespace: string, pod: string, container: string, text: string): void {
    const e = this.logEntry(namespace, pod, container);
    e.text += text;
    for (const l of e.listeners) l(text);
  }

  /** Marks a container's log complete (the container ended): follow streams close. */
  endLog(namespace: string, pod: string, container: string): void {
    const e = this.logEntry(namespace, pod, container);
    e.ended = true;
    for (const l of e.listeners) l(null);
    e.listeners.clear();
  }

  /** A container's log so far (undefined before it started). */
  logOf(namespace: string, pod: string, container: string): string | undefined {
    return this.logs.get(`${namespace}/${pod}/${container}`)?.text;
  }

  private serveLog(pod: KubeObject, url: URL): Response {
    const ns = pod.metadata.namespace as string;
    const container = url.searchParams.get("container") ?? pod.spec?.containers?.[0]?.name ?? "";
    const e = this.logs.get(`${ns}/${pod.metadata.name}/${container}`);
    if (!e)
      return status(400, "BadRequest", `container "${container}" in pod "${pod.metadata.name}" is waiting to start: ContainerCreating`);
    if (url.searchParams.get("follow") !== "true" || e.ended) return new Response(e.text, { headers: { "content-type": "text/plain" } });
    const enc = new TextEncoder();
    let listener: (chunk: string | null) => void;
    const body = new ReadableStream<Uint8Array>({
      start(ctl) {
        if (e.text) ctl.enqueue(enc.encode(e.text));
        listener = (chunk) => {
          if (chunk === null) return ctl.close();
          ctl.enqueue(enc.encode(chunk));
        };
        e.listeners.add(listener);
      },
      cancel() {
        e.listeners.delete(listener);
      },
    });
    return new Response(body, { headers: { "content-type": "text/plain" } });
  }

  static key(plural: string, namespace: string | undefined, name: string, group = ""): string {
    return `${group}/${plural}/${namespace ?? ""}/${name}`;
  }

  /** Stores (or replaces) an object directly, as a controller or the kubelet would. */
  put(plural: string, obj: KubeObject, group = ""): KubeObject {
    obj.metadata.resourceVersion = String(this.rv++);
    obj.metadata.uid ??= crypto.randomUUID();
    obj.metadata.creationTimestamp ??= new Date().toISOString();
    this.objects.set(FakeKube.key(plural, obj.metadata.namespace, obj.metadata.name, group), obj);
    return obj;
  }

  /** Reads an object from the store. */
  get(plural: string, namespace: string | undefined, name: string, group = ""): KubeObject | undefined {
    return this.objects.get(FakeKube.key(plural, namespace, name, group));
  }

  /** Every stored object of a kind. */
  list(plural: string, group = ""): KubeObject[] {
    return [...this.objects.entries()].filter(([k]) => k.startsWith(`${group}/${plural}/`)).map(([, v]) => v);
  }

  async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    let body: unknown;
    if (req.method !== "GET" && req.method !== "DELETE") {
      const text = await req.text();
      body = text ? JSON.parse(text) : undefined;
    }
    this.requests.push({ method: req.method, path: url.pathname, query: url.search, body });
    for (const r of this.routes) {
      const m = url.pathname.match(r.re);
      if (m && r.method === req.method) {
        const res = await r.handler(
          new Request(req.url, { method: req.method, headers: req.headers, body: body === undefined ? undefined : JSON.stringify(body) }),
          m,
        );
        if (res) return res;
      }
    }
    const p = parsePath(url.pathname);
    if (!p) return status(404, "NotFound", `the server could not find the requested resource ${url.pathname}`);
    const ns = p.namespace;
    if (p.sub === "log" && p.plural === "pods" && p.group === "" && req.method === "GET") {
      const pod = this.get("pods", ns, p.name ?? "");
      return pod ? this.serveLog(pod, url) : status(404, "NotFound", `pods "${p.name}" not found`);
    }
    if (p.sub) return status(404, "NotFound", `no fake for subresource ${p.sub}`);
    if (req.method === "POST" && !p.name) {
      const obj = body as KubeObject;
      obj.metadata ??= {};
      if (!obj.metadata.name && obj.metadata.generateName)
        obj.metadata.name = `${obj.metadata.generateName}${Math.random().toString(36).slice(2, 7)}`;
      obj.metadata.namespace = ns ?? obj.metadata.namespace;
      if (this.get(p.plural, ns, obj.metadata.name, p.group)) {
        return status(409, "AlreadyExists", `${p.plural} "${obj.metadata.name}" already exists`);
      }
      this.put(p.plural, obj, p.group);
      for (const h of this.createHooks) await h(p.plural, obj);
      return Response.json(obj, { status: 201 });
    }
    if (req.method === "GET" && !p.name) {
      const sel = url.searchParams.get("labelSelector");
      const items = this.list(p.plural, p.group).filter(
        (o) => (ns === undefined || o.metadata.namespace === ns) && matchesSelector(o.metadata.labels, sel),
      );
      return Response.json({ kind: "List", apiVersion: "v1", metadata: { resourceVersion: String(this.rv) }, items });
    }
    if (!p.name) return status(405, "MethodNotAllowed", `${req.method} on a collection`);
    const existing = this.get(p.plural, ns, p.name, p.group);
    if (!existing) return status(404, "NotFound", `${p.plural} "${p.name}" not found`);
    if (req.method === "GET") return Response.json(existing);
    if (req.method === "DELETE") {
      this.objects.delete(FakeKube.key(p.plural, ns, p.name, p.group));
      if (p.plural === "pods" && p.group === "") {
        for (const [k, e] of this.logs) {
          if (!k.startsWith(`${ns}/${p.name}/`)) continue;
          for (const l of e.listeners) l(null);
          this.logs.delete(k);
        }
      }
      for (const h of this.deleteHooks) await h(p.plural, existing);
      return Response.json(existing);
    }
    if (req.method === "PUT") return Response.json(this.put(p.plural, body as KubeObject, p.group));
    if (req.method === "PATCH") {
      const merged = mergePatch(existing, body) as KubeObject;
      return Response.json(this.put(p.plural, merged, p.group));
    }
    return status(405, "MethodNotAllowed", req.method);
  }

  /** Writes a kubeconfig with one context per name (all pointing at this server) and returns its path. */
  kubeconfig(contexts: string[] = ["fake"], current = contexts[0]): string {
    const dir = mkdtempSync(join(tmpdir(), "seelie-fake-kube-"));
    const path = join(dir, "config");
    const cfg = {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "fake", cluster: { server: this.url, "insecure-skip-tls-verify": true } }],
      users: [{ name: "fake", user: { token: "fake-token" } }],
      contexts: contexts.map((c) => ({ name: c, context: { cluster: "fake", user: "fake", namespace: "default" } })),
      "current-context": current,
    };
    writeFileSync(path, JSON.stringify(cfg));
    return path;
  }

  stop(): void {
    this.server.stop(true);
  }
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target && typeof target === "object" && !Array.isArray(target) ? { ...(target as object) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Starts a fake API server on a free loopback port. */
export function startFakeKube(): FakeKube {
  const fk = new FakeKube();
  // No idle timeout: log follow streams stay open while a container is silent, as on a real API server.
  fk.server = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 0, fetch: (req) => fk.handle(req) });
  return fk;
}
