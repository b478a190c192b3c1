/**
 * The job store's path without loading the YAML parser, for the fast commands (`job get -o cmd`,
 * `job list`): the same resolution as `loadConfig()` (SEELIE_JOB_STORE > config `jobStore` >
 * `$SEELIE_HOME/jobs.db`), answered only when the config file cannot change it (no file, or no
 * `jobStore` in it). Otherwise undefined: the caller loads the full config. A unit test keeps both in step.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { expandHome, loadConfig } from "../config/load.ts";
import type { SeelieConfig } from "../config/types.ts";

/** The job store path when it can be known without parsing the config file; else undefined. */
export function quickJobStorePath(env: Record<string, string | undefined>): string | undefined {
  const userHome = env.HOME ?? homedir();
  const home = resolve(expandHome(env.SEELIE_HOME ?? join(userHome, ".seelie"), userHome));
  if (env.SEELIE_JOB_STORE) return resolve(expandHome(env.SEELIE_JOB_STORE, userHome));
  const configPath = resolve(expandHome(env.SEELIE_CONFIG ?? join(home, "config.yaml"), userHome));
  if (existsSync(configPath)) {
    let text: string;
    try {
      text = readFileSync(configPath, "utf8");
    } catch {
      return undefined; // let loadConfig report it
    }
    if (text.includes("jobStore")) return undefined;
  }
  return join(home, "jobs.db");
}

/** The job store path: the quick answer, else the full configuration's. */
export async function jobStorePath(env: Record<string, string | undefined>): Promise<string> {
  const quick = quickJobStorePath(env);
  if (quick !== undefined) return quick;
  return loadConfig({ env }).jobStore;
}

/** What every job command needs: the store's path, and the configuration loaded only when a backend is asked. */
export interface JobsEnv {
  jobStore: string;
  config: () => Promise<SeelieConfig>;
  env: Record<string, string | undefined>;
}

/** The job commands' store and (lazy) configuration for an environment. */
export async function jobsEnv(env: Record<string, string | undefined>): Promise<JobsEnv> {
  return { jobStore: await jobStorePath(env), config: async () => loadConfig({ env }), env };
}
