import http from "node:http";
import type { Duplex } from "node:stream";
import Docker from "dockerode";
import { SocksClient } from "socks";
import { SeelieError, UsageError, errorMessage } from "../errors.ts";
import { redactUrl } from "../util/secrets.ts";

/** How to reach a Docker-compatible engine (Docker Engine, or Podman's compat service). */
export interface EngineEndpoint {
  /** `unix:///path.sock`, `tcp://host:port`, `http://host:port` or `https://host:port`. */
  url: string;
  /** `socks5://host:port` to hop through, with optional credentials. */
  proxy?: { url: string; username?: string; password?: string };
  /** For messages: "local Docker", "region cn-shanghai (Podman)". */
  label: string;
}

/** The default local Docker endpoint (`DOCKER_HOST`, else `/var/run/docker.sock`). */
export function localDockerEndpoint(dockerHost?: string): EngineEndpoint {
  return { url: dockerHost || "unix:///var/run/docker.sock", label: "local Docker" };
}

function parseProxy(
  p: NonNullable<EngineEndpoint["proxy"]>,
  label: string,
): { host: string; port: number; userId?: string; password?: string } {
  let u: URL;
  try {
    u = new URL(p.url);
  } catch {
    throw new UsageError(`${label}: proxy "${redactUrl(p.url)}" is not a URL`, "write it as socks5://host:port");
  }
  if (u.protocol !== "socks5:" && u.protocol !== "socks5h:") {
    throw new UsageError(`${label}: proxy "${redactUrl(p.url)}" is not a SOCKS5 URL`, "write it as socks5://host:port");
  }
  const userId = p.username ?? (u.username ? decodeURIComponent(u.username) : undefined);
  const password = p.password ?? (u.password ? decodeURIComponent(u.password) : undefined);
  return { host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port || 1080), userId, password };
}

/** An http.Agent whose every connection goes through a SOCKS5 proxy. */
function socksAgent(
  proxy: ReturnType<typeof parseProxy>,
  target: { host: string; port: number },
  label: string,
  proxyText: string,
): http.Agent {
  const agent = new http.Agent({ keepAlive: false });
  // Node's Agent accepts an async createConnection that reports through the callback.
  (agent as unknown as { createConnection: unknown }).createConnection = (
    _opts: unknown,
    cb: (err: Error | null, socket?: Duplex) => void,
  ) => {
    SocksClient.createConnection({
      proxy: { host: proxy.host, port: proxy.port, type: 5, userId: proxy.userId, password: proxy.password },
      destination: target,
      command: "connect",
      timeout: 15_000,
    }).then(
      (info) => cb(null, info.socket),
      (err: unknown) => cb(proxyError(err, label, proxyText)),
    );
    return undefined;
  };
  return agent;
}

function proxyError(err: unknown, label: string, proxyText: string): SeelieError {
  const msg = errorMessage(err);
  if (/auth/i.test(msg)) {
    return new SeelieError(`${label}: the SOCKS5 proxy ${proxyText} refused the username/password (${msg})`, {
      hint: "check proxyUsername and proxyPassword of the region in ~/.seelie/config.yaml",
    });
  }
  return new SeelieError(`${label}: cannot connect through the SOCKS5 proxy ${proxyText}: ${msg}`, {
    hint: "check that the proxy is running and reachable, and the region's proxy address in ~/.seelie/config.yaml",
  });
}

/** Creates a dockerode client for an endpoint, hopping through its SOCKS5 proxy when it has one. */
export function engineClient(ep: EngineEndpoint): Docker {
  let u: URL;
  try {
    u = new URL(ep.url);
  } catch {
    throw new UsageError(`${ep.label}: endpoint "${redactUrl(ep.url)}" is not a URL`, "use unix:///path/to.sock or tcp://host:port");
  }
  if (u.protocol === "unix:") {
    if (ep.proxy)
      throw new UsageError(`${ep.label}: a unix socket cannot be reached through a proxy`, "use a tcp:// endpoint with a proxy");
    return new Docker({ socketPath: u.pathname });
  }
  if (!["tcp:", "http:", "https:"].includes(u.protocol)) {
    throw new UsageError(`${ep.label}: endpoint scheme "${u.protocol}" is not supported`, "use unix://, tcp://, http:// or https://");
  }
  const protocol = u.protocol === "https:" ? "https" : "http";
  const host = u.hostname.replace(/^\[|\]$/g, "");
  const port = Number(u.port || (protocol === "https" ? 443 : 2375));
  if (!ep.proxy) return new Docker({ host, port, protocol });
  const proxy = parseProxy(ep.proxy, ep.label);
  return new Docker({
    host,
    port,
    protocol,
    agent: socksAgent(proxy, { host, port }, ep.label, redactUrl(ep.proxy.url)),
  } as Docker.DockerOptions);
}

/** Pings the engine, turning connection failures into an error that names the endpoint and a next step. */
export async function pingEngine(docker: Docker, ep: EngineEndpoint): Promise<void> {
  try {
    await docker.ping();
  } catch (err) {
    if (err instanceof SeelieError) throw err;
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof SeelieError) throw cause;
    throw new SeelieError(`${ep.label} at ${redactUrl(ep.url)} is not answering: ${errorMessage(err)}`, {
      hint: ep.url.startsWith("unix:")
        ? "start the Docker daemon (or set DOCKER_HOST), or use --backend=remote"
        : "check that the Podman service runs (podman system service) and that the region's endpoint is right",
    });
  }
}
