/** A remote build region: a Podman service reached through a SOCKS5 proxy. */
export interface RegionConfig {
  /** Podman's Docker-compatible API, `tcp://host:port` (or `http://`, `https://`, `unix://`). */
  endpoint: string;
  /** `socks5://host:port`; empty for a direct connection. */
  proxy?: string;
  proxyUsername?: string;
  proxyPassword?: string;
}

/** Credentials for one registry, from the seelie config. */
export interface RegistryCredential {
  registry: string;
  username: string;
  password: string;
}

/** Per-cluster (kubeconfig context) settings. */
export interface ClusterConfig {
  runtimeSocket?: string;
  /** The nodes' runtime data root (dockerd's data-root, containerd's root). */
  runtimeRoot?: string;
  committerNamespace?: string;
}

/** Where an effective value came from. */
export type ValueSource = "flag" | "env" | "file" | "default";

/** The effective configuration: flag > env > file > default. */
export interface SeelieConfig {
  /** Directory of seelie's own state (`SEELIE_HOME`, default `~/.seelie`). */
  home: string;
  /** The config file read (it may not exist). */
  configPath: string;
  registryHost: string;
  repo: string;
  username: string;
  registryUsername?: string;
  registryPassword?: string;
  allowedBaseImages: string[];
  /** Directory holding Docker's config.json (`DOCKER_CONFIG`, default `~/.docker`). */
  dockerConfigDir: string;
  credentials: RegistryCredential[];
  regions: Record<string, RegionConfig>;
  defaultRegion?: string;
  /** Docker Engine endpoint for the local backend (`DOCKER_HOST`, default the local socket). */
  dockerHost?: string;
  jobStore: string;
  committerImage: string;
  committerNamespace: string;
  runtimeSocket?: string;
  /** The nodes' runtime data root (dockerd's data-root, containerd's root); default per runtime. */
  runtimeRoot?: string;
  /** The seelie-tools image of in-cluster builds' preparation step. */
  toolsImage: string;
  clusters: Record<string, ClusterConfig>;
  /** The source of each scalar value, by key. */
  sources: Record<string, ValueSource>;
}
