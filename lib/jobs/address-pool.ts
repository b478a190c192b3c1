/**
 * Docker's default address pools (about 30 /16 and /20 subnets) are used up by user-defined
 * networks: this recognises the engine's message and builds an error that says which networks hold
 * the pools and how to free them (pure, unit-tested).
 */
import { SeelieError } from "../errors.ts";
import { MANAGED_LABEL } from "./local-plan.ts";
import { JOB_ID_LABEL } from "./tfjob.ts";

/** The part of `docker network ls`/inspect this needs. */
export interface NetworkInfo {
  Name: string;
  Driver?: string;
  Labels?: Record<string, string> | null;
  IPAM?: { Config?: { Subnet?: string }[] | null } | null;
}

/** True when the engine's message says no address pool is left for a new network. */
export function isPoolExhausted(message: string): boolean {
  return /non-overlapping IPv4 address pool|all predefined address pools have been fully subnetted|no available network/i.test(message);
}

const BUILTIN = new Set(["bridge", "host", "none"]);

/** The error for a job whose network could not be made: what holds the pools, and how to free them. */
export function poolExhaustedError(jobId: number, engineMessage: string, networks: readonly NetworkInfo[]): SeelieError {
  const holders = networks.filter((n) => !BUILTIN.has(n.Name) && (n.IPAM?.Config ?? []).some((c) => c.Subnet));
  const ours = holders.filter((n) => n.Labels?.[MANAGED_LABEL] === "seelie");
  const others = holders.filter((n) => n.Labels?.[MANAGED_LABEL] !== "seelie");
  const ids = [...new Set(ours.map((n) => n.Labels?.[JOB_ID_LABEL]).filter((x): x is string => !!x))].sort((a, b) => Number(a) - Number(b));
  const list = (xs: readonly string[], max = 10) =>
    xs.length > max ? `${xs.slice(0, max).join(", ")}, … (${xs.length - max} more)` : xs.join(", ");
  const parts: string[] = [];
  if (ours.length) parts.push(`${ours.length} by seelie jobs (job ${list(ids)})`);
  if (others.length) parts.push(`${others.length} by other networks (${list(others.map((n) => n.Name))})`);
  const held = parts.length
    ? `${holders.length} network${holders.length === 1 ? " holds" : "s hold"} them: ${parts.join(", ")}`
    : "no network seelie can see holds them";
  const steps: string[] = [];
  if (ids.length) {
    steps.push("seelie job list --refresh gives back the networks of seelie jobs that have ended");
    steps.push(`delete the seelie jobs you are done with (seelie job delete --job_id ${ids[0]}; their networks go with them)`);
  }
  steps.push("remove networks no container uses (docker network prune)");
  steps.push('or give Docker more pools ("default-address-pools" in /etc/docker/daemon.json)');
  return new SeelieError(
    `Docker has no free address pool left for job ${jobId}'s network (${engineMessage.trim()}); ${held}. Jobs with one worker need no network of their own`,
    { hint: steps.join("; ") },
  );
}
