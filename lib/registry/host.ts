/** Facts about a registry host (`host[:port]`) that do not need a request. */

/** True for hosts reached over plain http by default: loopback names and addresses. */
export function isLoopbackRegistry(host: string): boolean {
  const h = host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.replace(/:\d+$/, "");
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** The host of a registry's API for an image domain (`docker.io` → `registry-1.docker.io`). */
export function registryApiHost(domain: string): string {
  return domain === "docker.io" ? "registry-1.docker.io" : domain;
}
