import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { UsageError, errorMessage } from "../errors.ts";
import { defaultAllowedBaseImages } from "../image/allowlist.ts";
import type { ClusterConfig, RegionConfig, RegistryCredential, SeelieConfig, ValueSource } from "./types.ts";

/** What loading the config reads from the outside world; passed in so tests need no real home. */
export interface ConfigInputs {
  env?: Record<string, string | undefined>;
  /** Values given on the command line, by config key (e.g. `registryHost`). */
  flags?: Partial<Record<ScalarKey, string | undefined>>;
  home?: string;
}

/** The scalar settings, their environment variables and config-file paths. */
export const SCALAR_SETTINGS = {
  registryHost: { env: "SEELIE_REGISTRY_HOST", file: "registry.host", secret: false },
  repo: { env: "SEELIE_REPO", file: "registry.repo", secret: false },
  username: { env: "SEELIE_USERNAME", file: "username", secret: false },
  registryUsername: { env: "SEELIE_REGISTRY_USERNAME", file: "registry.username", secret: false },
  registryPassword: { env: "SEELIE_REGISTRY_PASSWORD", file: "registry.password", secret: true },
  defaultRegion: { env: "SEELIE_REGION", file: "defaultRegion", secret: false },
  dockerHost: { env: "DOCKER_HOST", file: "docker.host", secret: false },
  jobStore: { env: "SEELIE_JOB_STORE", file: "jobStore", secret: false },
  committerImage: { env: "SEELIE_COMMITTER_IMAGE", file: "committer.image", secret: false },
  committerNamespace: { env: "SEELIE_COMMITTER_NAMESPACE", file: "committer.namespace", secret: false },
  runtimeSocket: { env: "SEELIE_RUNTIME_SOCKET", file: "committer.runtimeSocket", secret: false },
  toolsImage: { env: "SEELIE_TOOLS_IMAGE", file: "cloudBuild.toolsImage", secret: false },
} as const;
export type ScalarKey = keyof typeof SCALAR_SETTINGS;

export const DEFAULT_COMMITTER_IMAGE = "ghcr.io/seelie-ml/seelie-committer:0.1.0";
/** The image with the seelie binary that in-cluster builds run their preparation step in. */
export const DEFAULT_TOOLS_IMAGE = "ghcr.io/seelie-ml/seelie-tools:0.1.0";

function get(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const k of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function str(v: unknown, where: string, configPath: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string" || typeof v === "number") return String(v);
  throw new UsageError(`${configPath}: ${where} must be a string`, `fix ${where} in ${configPath}`);
}

function readSecretFile(path: string, where: string, configPath: string): string {
  try {
    return readFileSync(path, "utf8").replace(/\r?\n$/, "");
  } catch (err) {
    throw new UsageError(`${configPath}: cannot read ${where} ${path}: ${errorMessage(err)}`, `check the path in ${configPath}`);
  }
}

/** Expands a leading `~/` against `home`. */
export function expandHome(p: string, home: string): string {
  return p === "~" ? home : p.startsWith("~/") ? join(home, p.slice(2)) : p;
}

/** Reads and parses the YAML config file; a missing file is an empty config. */
export function readConfigFile(path: string): Record<string, unknown> {
  if (!existsSync(path)) return {};
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read the config file ${path}: ${errorMessage(err)}`, "check its permissions, or point SEELIE_CONFIG elsewhere");
  }
  let doc: unknown;
  try {
    // Loaded only when a file exists: the parser is a noticeable part of start-up.
    const { parse } = require("yaml") as typeof import("yaml");
    doc = parse(text);
  } catch (err) {
    throw new UsageError(`the config file ${path} is not valid YAML: ${errorMessage(err)}`, "fix the file (see README, Configuration)");
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) {
    throw new UsageError(`the config file ${path} must be a YAML mapping`, "see README, Configuration");
  }
  return doc as Record<string, unknown>;
}

/**
 * Loads the effective configuration: flag > env > file (`SEELIE_CONFIG`, default
 * `$SEELIE_HOME/config.yaml`, default home `~/.seelie`) > default, recording each value's source.
 */
export function loadConfig(inputs: ConfigInputs = {}): SeelieConfig {
  const env = inputs.env ?? process.env;
  const userHome = inputs.home ?? env.HOME ?? homedir();
  const home = resolve(expandHome(env.SEELIE_HOME ?? join(userHome, ".seelie"), userHome));
  const configPath = resolve(expandHome(env.SEELIE_CONFIG ?? join(home, "config.yaml"), userHome));
  const file = readConfigFile(configPath);
  const sources: Record<string, ValueSource> = {};

  const scalar = (key: ScalarKey, def?: string): string | undefined => {
    const s = SCALAR_SETTINGS[key];
    const flag = inputs.flags?.[key];
    if (flag !== undefined && flag !== "") return (sources[key] = "flag"), flag;
    const e = env[s.env];
    if (e !== undefined && e !== "") return (sources[key] = "env"), e;
    let f = str(get(file, s.file), s.file, configPath);
    if (f === undefined && s.secret) {
      const pf = str(get(file, `${s.file}File`), `${s.file}File`, configPath);
      if (pf !== undefined) f = readSecretFile(expandHome(pf, userHome), `${s.file}File`, configPath);
    }
    if (f !== undefined) return (sources[key] = "file"), f;
    if (def !== undefined) sources[key] = "default";
    return def;
  };

  const registryHost = scalar("registryHost", "") ?? "";
  const repo = scalar("repo", "") ?? "";
  const username = scalar("username", (env.USER ?? "").toLowerCase()) ?? "";

  let allowedBaseImages: string[];
  if (env.SEELIE_ALLOWED_BASE_IMAGES) {
    allowedBaseImages = env.SEELIE_ALLOWED_BASE_IMAGES.split(",").map((s) => s.trim()).filter(Boolean);
    sources.allowedBaseImages = "env";
  } else if (Array.isArray(file.allowedBaseImages)) {
    allowedBaseImages = file.allowedBaseImages.map((v, i) => str(v, `allowedBaseImages[${i}]`, configPath) ?? "");
    sources.allowedBaseImages = "file";
  } else {
    allowedBaseImages = defaultAllowedBaseImages(registryHost);
    sources.allowedBaseImages = "default";
  }

  const dockerConfigDir = resolve(
    expandHome(env.DOCKER_CONFIG ?? str(get(file, "docker.config"), "docker.config", configPath) ?? join(userHome, ".docker"), userHome),
  );
  sources.dockerConfigDir = env.DOCKER_CONFIG ? "env" : get(file, "docker.config") ? "file" : "default";

  const credentials: RegistryCredential[] = [];
  const rawCreds = file.credentials;
  if (rawCreds !== undefined) {
    if (!Array.isArray(rawCreds)) throw new UsageError(`${configPath}: credentials must be a list`, "see README, Configuration");
    rawCreds.forEach((c, i) => {
      const where = `credentials[${i}]`;
      const registry = str(get(c, "registry"), `${where}.registry`, configPath);
      const user = str(get(c, "username"), `${where}.username`, configPath);
      let password = str(get(c, "password"), `${where}.password`, configPath);
      const pf = str(get(c, "passwordFile"), `${where}.passwordFile`, configPath);
      if (password === undefined && pf) password = readSecretFile(expandHome(pf, userHome), `${where}.passwordFile`, configPath);
      if (!registry || !user || password === undefined) {
        throw new UsageError(`${configPath}: ${where} needs registry, username and password (or passwordFile)`, "see README, Configuration");
      }
      credentials.push({ registry, username: user, password });
    });
  }

  const regions: Record<string, RegionConfig> = {};
  const rawRegions = file.regions;
  if (rawRegions !== undefined) {
    if (typeof rawRegions !== "object" || rawRegions === null || Array.isArray(rawRegions)) {
      throw new UsageError(`${configPath}: regions must be a mapping of region name to settings`, "see README, Configuration");
    }
    for (const [name, r] of Object.entries(rawRegions as Record<string, unknown>)) {
      const where = `regions.${name}`;
      const endpoint = str(get(r, "endpoint"), `${where}.endpoint`, configPath);
      if (!endpoint) throw new UsageError(`${configPath}: ${where}.endpoint is missing`, "give the region's Podman service URL, e.g. tcp://10.0.0.5:8888");
      let proxyPassword = str(get(r, "proxyPassword"), `${where}.proxyPassword`, configPath);
      const pf = str(get(r, "proxyPasswordFile"), `${where}.proxyPasswordFile`, configPath);
      if (proxyPassword === undefined && pf) proxyPassword = readSecretFile(expandHome(pf, userHome), `${where}.proxyPasswordFile`, configPath);
      regions[name] = {
        endpoint,
        proxy: str(get(r, "proxy"), `${where}.proxy`, configPath),
        proxyUsername: str(get(r, "proxyUsername"), `${where}.proxyUsername`, configPath),
        proxyPassword,
      };
    }
  }

  const clusters: Record<string, ClusterConfig> = {};
  const rawClusters = file.clusters;
  if (rawClusters && typeof rawClusters === "object" && !Array.isArray(rawClusters)) {
    for (const [name, c] of Object.entries(rawClusters as Record<string, unknown>)) {
      clusters[name] = {
        runtimeSocket: str(get(c, "runtimeSocket"), `clusters.${name}.runtimeSocket`, configPath),
        committerNamespace: str(get(c, "committerNamespace"), `clusters.${name}.committerNamespace`, configPath),
      };
    }
  }

  sources.home = env.SEELIE_HOME ? "env" : "default";
  sources.configPath = env.SEELIE_CONFIG ? "env" : "default";
  return {
    home,
    configPath,
    registryHost,
    repo,
    username,
    registryUsername: scalar("registryUsername"),
    registryPassword: scalar("registryPassword"),
    allowedBaseImages,
    dockerConfigDir,
    credentials,
    regions,
    defaultRegion: scalar("defaultRegion"),
    dockerHost: scalar("dockerHost"),
    jobStore: resolve(expandHome(scalar("jobStore", join(home, "jobs.db")) ?? "", userHome)),
    committerImage: scalar("committerImage", DEFAULT_COMMITTER_IMAGE) ?? DEFAULT_COMMITTER_IMAGE,
    committerNamespace: scalar("committerNamespace", "seelie-system") ?? "seelie-system",
    runtimeSocket: scalar("runtimeSocket"),
    toolsImage: scalar("toolsImage", DEFAULT_TOOLS_IMAGE) ?? DEFAULT_TOOLS_IMAGE,
    clusters,
    sources,
  };
}
