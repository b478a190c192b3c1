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
  runtimeRoot: { env: "SEELIE_RUNTIME_ROOT", file: "committer.runtimeRoot", secret: false },
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
    throw new UsageError(
      `cannot read the config file ${path}: ${errorMessage(err)}`,
      "check its permissions, or point SEELIE_CONFIG elsewhere",
    );
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

/** The config file as read, and where relative paths and `~` in it point. */
interface ConfigFile {
  doc: Record<string, unknown>;
  path: string;
  userHome: string;
}

/** `where` in the file as a string (or undefined), refusing other types. */
function fileString(f: ConfigFile, obj: unknown, key: string, where: string): string | undefined {
  return str(get(obj, key), where, f.path);
}

/** A secret given inline as `key` or as a file `keyFile`. */
function fileSecret(f: ConfigFile, obj: unknown, key: string, where: string): string | undefined {
  const inline = fileString(f, obj, key, `${where}${key}`);
  if (inline !== undefined) return inline;
  const pf = fileString(f, obj, `${key}File`, `${where}${key}File`);
  return pf ? readSecretFile(expandHome(pf, f.userHome), `${where}${key}File`, f.path) : undefined;
}

/** The scalar reader: flag > env > file > default, recording each value's source. */
function scalarReader(inputs: ConfigInputs, env: Record<string, string | undefined>, f: ConfigFile, sources: Record<string, ValueSource>) {
  const from = (key: ScalarKey, source: ValueSource, value: string): string => {
    sources[key] = source;
    return value;
  };
  return (key: ScalarKey, def?: string): string | undefined => {
    const s = SCALAR_SETTINGS[key];
    const flag = inputs.flags?.[key];
    if (flag !== undefined && flag !== "") return from(key, "flag", flag);
    const e = env[s.env];
    if (e !== undefined && e !== "") return from(key, "env", e);
    let v = str(get(f.doc, s.file), s.file, f.path);
    if (v === undefined && s.secret) {
      const pf = str(get(f.doc, `${s.file}File`), `${s.file}File`, f.path);
      if (pf !== undefined) v = readSecretFile(expandHome(pf, f.userHome), `${s.file}File`, f.path);
    }
    if (v !== undefined) return from(key, "file", v);
    if (def !== undefined) sources[key] = "default";
    return def;
  };
}

function readAllowedBaseImages(
  env: Record<string, string | undefined>,
  f: ConfigFile,
  registryHost: string,
): { list: string[]; source: ValueSource } {
  if (env.SEELIE_ALLOWED_BASE_IMAGES) {
    return {
      list: env.SEELIE_ALLOWED_BASE_IMAGES.split(",")
        .map((s) => s.trim())
        .filter(Boolean),
      source: "env",
    };
  }
  const raw = f.doc.allowedBaseImages;
  if (Array.isArray(raw)) return { list: raw.map((v, i) => str(v, `allowedBaseImages[${i}]`, f.path) ?? ""), source: "file" };
  return { list: defaultAllowedBaseImages(registryHost), source: "default" };
}

function readCredentials(f: ConfigFile): RegistryCredential[] {
  const raw = f.doc.credentials;
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new UsageError(`${f.path}: credentials must be a list`, "see README, Configuration");
  return raw.map((c, i) => {
    const where = `credentials[${i}]`;
    const registry = fileString(f, c, "registry", `${where}.registry`);
    const username = fileString(f, c, "username", `${where}.username`);
    const password = fileSecret(f, c, "password", `${where}.`);
    if (!registry || !username || password === undefined) {
      throw new UsageError(`${f.path}: ${where} needs registry, username and password (or passwordFile)`, "see README, Configuration");
    }
    return { registry, username, password };
  });
}

function readRegions(f: ConfigFile): Record<string, RegionConfig> {
  const raw = f.doc.regions;
  if (raw === undefined) return {};
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new UsageError(`${f.path}: regions must be a mapping of region name to settings`, "see README, Configuration");
  }
  const regions: Record<string, RegionConfig> = {};
  for (const [name, r] of Object.entries(raw as Record<string, unknown>)) {
    const where = `regions.${name}`;
    const endpoint = fileString(f, r, "endpoint", `${where}.endpoint`);
    if (!endpoint)
      throw new UsageError(`${f.path}: ${where}.endpoint is missing`, "give the region's Podman service URL, e.g. tcp://10.0.0.5:8888");
    regions[name] = {
      endpoint,
      proxy: fileString(f, r, "proxy", `${where}.proxy`),
      proxyUsername: fileString(f, r, "proxyUsername", `${where}.proxyUsername`),
      proxyPassword: fileSecret(f, r, "proxyPassword", `${where}.`),
    };
  }
  return regions;
}

function readClusters(f: ConfigFile): Record<string, ClusterConfig> {
  const raw = f.doc.clusters;
  const clusters: Record<string, ClusterConfig> = {};
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return clusters;
  for (const [name, c] of Object.entries(raw as Record<string, unknown>)) {
    clusters[name] = {
      runtimeSocket: fileString(f, c, "runtimeSocket", `clusters.${name}.runtimeSocket`),
      runtimeRoot: fileString(f, c, "runtimeRoot", `clusters.${name}.runtimeRoot`),
      committerNamespace: fileString(f, c, "committerNamespace", `clusters.${name}.committerNamespace`),
    };
  }
  return clusters;
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
  const f: ConfigFile = { doc: readConfigFile(configPath), path: configPath, userHome };
  const sources: Record<string, ValueSource> = {};
  const scalar = scalarReader(inputs, env, f, sources);

  const registryHost = scalar("registryHost", "") ?? "";
  const allowed = readAllowedBaseImages(env, f, registryHost);
  sources.allowedBaseImages = allowed.source;
  const dockerConfigFromFile = fileString(f, f.doc, "docker.config", "docker.config");
  const dockerConfigDir = resolve(expandHome(env.DOCKER_CONFIG ?? dockerConfigFromFile ?? join(userHome, ".docker"), userHome));
  sources.dockerConfigDir = env.DOCKER_CONFIG ? "env" : dockerConfigFromFile ? "file" : "default";
  sources.home = env.SEELIE_HOME ? "env" : "default";
  sources.configPath = env.SEELIE_CONFIG ? "env" : "default";
  return {
    home,
    configPath,
    registryHost,
    repo: scalar("repo", "") ?? "",
    username: scalar("username", (env.USER ?? "").toLowerCase()) ?? "",
    registryUsername: scalar("registryUsername"),
    registryPassword: scalar("registryPassword"),
    allowedBaseImages: allowed.list,
    dockerConfigDir,
    credentials: readCredentials(f),
    regions: readRegions(f),
    defaultRegion: scalar("defaultRegion"),
    dockerHost: scalar("dockerHost"),
    jobStore: resolve(expandHome(scalar("jobStore", join(home, "jobs.db")) ?? "", userHome)),
    committerImage: scalar("committerImage", DEFAULT_COMMITTER_IMAGE) ?? DEFAULT_COMMITTER_IMAGE,
    committerNamespace: scalar("committerNamespace", "seelie-system") ?? "seelie-system",
    runtimeSocket: scalar("runtimeSocket"),
    runtimeRoot: scalar("runtimeRoot"),
    toolsImage: scalar("toolsImage", DEFAULT_TOOLS_IMAGE) ?? DEFAULT_TOOLS_IMAGE,
    clusters: readClusters(f),
    sources,
  };
}
