import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SeelieError, UsageError, errorMessage } from "../errors.ts";
import type { SeelieConfig } from "../config/types.ts";

/** Credentials for one registry, in the shape Docker's and Podman's APIs take as `authconfig`. */
export interface RegistryAuth {
  serveraddress: string;
  username?: string;
  password?: string;
  /** An OAuth refresh token (Docker's `identitytoken`), used instead of a password. */
  identitytoken?: string;
  /** Where the credentials came from, for messages (never the secret itself). */
  source: string;
}

/** Docker's config.json, the parts seelie reads. */
export interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** Runs `docker-credential-<helper> get` for a server; returns undefined when it has no entry. */
export type CredentialHelperRunner = (helper: string, server: string) => Promise<{ Username: string; Secret: string } | undefined>;

const HUB_KEYS = ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"];

/** The hostname part of a config.json key (`https://host/v1/` → `host`), as the docker CLI matches them. */
export function authKeyHost(key: string): string {
  return key.replace(/^https?:\/\//, "").split("/")[0] ?? key;
}

function isHub(registry: string): boolean {
  return HUB_KEYS.map(authKeyHost).includes(authKeyHost(registry));
}

/** Runs a real docker-credential helper from PATH. */
export const execCredentialHelper: CredentialHelperRunner = async (helper, server) => {
  const bin = `docker-credential-${helper}`;
  let proc: Bun.Subprocess<Uint8Array, "pipe", "pipe">;
  try {
    // Pass env explicitly: Bun resolves the program with the PATH it is given, not the one it started with.
    proc = Bun.spawn([bin, "get"], { stdin: new TextEncoder().encode(server), stdout: "pipe", stderr: "pipe", env: process.env });
  } catch (err) {
    throw new SeelieError(`credential helper ${bin} could not be run: ${errorMessage(err)}`, {
      hint: `install ${bin}, or remove "${helper}" from credsStore/credHelpers in your Docker config`,
    });
  }
  const [out, errText, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) {
    if (/not found|no credentials/i.test(out + errText)) return undefined;
    throw new SeelieError(`credential helper ${bin} failed for ${server}: ${(out + errText).trim()}`, {
      hint: `run 'docker login ${server}' again`,
    });
  }
  return JSON.parse(out) as { Username: string; Secret: string };
};

/** Reads a Docker config.json (or a `kubernetes.io/dockerconfigjson` secret's `.dockerconfigjson`). */
export function readDockerConfigFile(path: string): DockerConfigFile | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as DockerConfigFile;
  } catch (err) {
    throw new UsageError(
      `cannot read the Docker config ${path}: ${errorMessage(err)}`,
      "fix or remove the file, then run docker login again",
    );
  }
}

/** Looks a registry up in a Docker config: credHelpers, then credsStore, then auths, as the docker CLI does. */
export async function authFromDockerConfig(
  cfg: DockerConfigFile,
  registry: string,
  where: string,
  runHelper: CredentialHelperRunner = execCredentialHelper,
): Promise<RegistryAuth | undefined> {
  const host = authKeyHost(registry);
  const serverForHelper = isHub(host) ? "https://index.docker.io/v1/" : host;
  const helper = cfg.credHelpers?.[host] ?? (isHub(host) ? HUB_KEYS.map((k) => cfg.credHelpers?.[k]).find(Boolean) : undefined);
  const fromHelper = async (name: string) => {
    const c = await runHelper(name, serverForHelper);
    if (!c) return undefined;
    const base = { serveraddress: host, source: `${where} (docker-credential-${name})` };
    return c.Username === "<token>" ? { ...base, identitytoken: c.Secret } : { ...base, username: c.Username, password: c.Secret };
  };
  if (helper) return fromHelper(helper);
  if (cfg.credsStore) {
    const r = await fromHelper(cfg.credsStore);
    if (r) return r;
  }
  for (const [key, entry] of Object.entries(cfg.auths ?? {})) {
    const k = authKeyHost(key);
    if (k !== host && !(isHub(k) && isHub(host))) continue;
    let { username, password } = entry;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const i = decoded.indexOf(":");
      if (i < 0)
        throw new UsageError(`${where}: the auth entry for ${key} is not base64 of user:password`, `run 'docker login ${host}' again`);
      username = decoded.slice(0, i);
      password = decoded.slice(i + 1);
    }
    if (entry.identitytoken) return { serveraddress: host, identitytoken: entry.identitytoken, username, source: where };
    if (username !== undefined) return { serveraddress: host, username, password, source: where };
  }
  return undefined;
}

/**
 * Finds credentials for `registry`: the seelie config's `credentials`, then `SEELIE_REGISTRY_USERNAME`/
 * `_PASSWORD` (or `registry.username`/`password`) for the platform registry, then Docker's config.json.
 * Undefined means anonymous access.
 */
export async function resolveRegistryAuth(
  registry: string,
  config: Pick<SeelieConfig, "credentials" | "registryHost" | "registryUsername" | "registryPassword" | "dockerConfigDir" | "sources">,
  runHelper: CredentialHelperRunner = execCredentialHelper,
): Promise<RegistryAuth | undefined> {
  const host = authKeyHost(registry);
  const own = config.credentials.find((c) => authKeyHost(c.registry) === host || (isHub(c.registry) && isHub(host)));
  if (own) return { serveraddress: host, username: own.username, password: own.password, source: "seelie config credentials" };
  if (
    config.registryHost &&
    authKeyHost(config.registryHost) === host &&
    config.registryUsername &&
    config.registryPassword !== undefined
  ) {
    return {
      serveraddress: host,
      username: config.registryUsername,
      password: config.registryPassword,
      source: `seelie ${config.sources.registryPassword ?? "config"} (registry username/password)`,
    };
  }
  const path = join(config.dockerConfigDir, "config.json");
  const docker = readDockerConfigFile(path);
  return docker ? authFromDockerConfig(docker, host, path, runHelper) : undefined;
}

/** The `X-Registry-Auth`/`authconfig` object Docker's API takes (no `source`). */
export function toEngineAuth(auth: RegistryAuth): Record<string, string> {
  const out: Record<string, string> = { serveraddress: auth.serveraddress };
  if (auth.username !== undefined) out.username = auth.username;
  if (auth.password !== undefined) out.password = auth.password;
  if (auth.identitytoken !== undefined) out.identitytoken = auth.identitytoken;
  return out;
}
