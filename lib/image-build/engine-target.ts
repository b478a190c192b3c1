import { UsageError } from "../errors.ts";
import type { SeelieConfig } from "../config/types.ts";
import { localDockerEndpoint, type EngineEndpoint } from "../engine/connect.ts";

/** Where an image build runs. */
export type Backend = "local" | "remote";

/** Checks a --backend value. */
export function parseBackend(value: string): Backend {
  if (value === "local" || value === "remote") return value;
  throw new UsageError(
    `unknown --backend "${value}"`,
    "use --backend=local (Docker on this machine) or --backend=remote (a regional Podman server)",
  );
}

/**
 * The engine endpoint for a backend: local Docker (`DOCKER_HOST` or the default socket), or the Podman
 * service of a region (`--region`, else the config's default region) behind that region's SOCKS5 proxy.
 */
export function buildEndpoint(
  backend: Backend,
  region: string | undefined,
  config: Pick<SeelieConfig, "dockerHost" | "regions" | "defaultRegion" | "configPath">,
): { endpoint: EngineEndpoint; region?: string } {
  if (backend === "local") return { endpoint: localDockerEndpoint(config.dockerHost) };
  const known = Object.keys(config.regions);
  const name = region || config.defaultRegion;
  if (!name) {
    throw new UsageError(
      "--backend=remote needs a region, and none is given",
      known.length
        ? `pass --region (one of ${known.join(", ")}) or set defaultRegion in ${config.configPath}`
        : `add regions to ${config.configPath} (see README, Configuration)`,
    );
  }
  const r = config.regions[name];
  if (!r) {
    throw new UsageError(
      `unknown region "${name}"`,
      known.length
        ? `use one of ${known.join(", ")}, or add it under regions in ${config.configPath}`
        : `add it under regions in ${config.configPath} (see README, Configuration)`,
    );
  }
  const proxy = r.proxy ? { url: r.proxy, username: r.proxyUsername, password: r.proxyPassword } : undefined;
  return { endpoint: { url: r.endpoint, proxy, label: `region ${name} (Podman)` }, region: name };
}
