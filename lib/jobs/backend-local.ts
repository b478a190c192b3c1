/**
 * The local backend (`--cluster local`): the job's workers as containers on the local Docker engine
 * (dockerode); with several workers on a per-job user-defined network so TF_CONFIG's hostnames resolve.
 */
import type Docker from "dockerode";
import type { SeelieConfig } from "../config/types.ts";
import { type EngineEndpoint, engineClient, localDockerEndpoint, pingEngine } from "../engine/connect.ts";
import { hasImage } from "../engine/images.ts";
import { followEngineStream } from "../engine/stream.ts";
import { errorMessage, InterruptedError, SeelieError, UsageError } from "../errors.ts";
import { parseImageRef } from "../image/ref.ts";
import { log } from "../log.ts";
import { resolveRegistryAuth, toEngineAuth } from "../registry/credentials.ts";
import { isPoolExhausted, type NetworkInfo, poolExhaustedError } from "./address-pool.ts";
import { type ContainerState, localPlan, localStatus } from "./local-plan.ts";
import type { BackendRef, JobRecord, JobSpec, LiveStatus } from "./types.ts";

/** Where a local job lives. */
export type LocalRef = Extract<BackendRef, { kind: "local" }>;

/** A connection to the local engine, checked to be able to run a job. */
export interface LocalEngine {
  docker: Docker;
  endpoint: EngineEndpoint;
}

/** Connects to the local engine. */
export async function connectLocal(config: Pick<SeelieConfig, "dockerHost">): Promise<LocalEngine> {
  const endpoint = localDockerEndpoint(config.dockerHost);
  const docker = engineClient(endpoint);
  try {
    await pingEngine(docker, endpoint);
  } catch (err) {
    if (!(err instanceof SeelieError)) throw err;
    throw new SeelieError(err.message, {
      hint: "start the Docker daemon (or set DOCKER_HOST), or submit to a cluster with --cluster CONTEXT",
      cause: err,
    });
  }
  return { docker, endpoint };
}

/**
 * Checks, before the job is recorded, that the engine can run it: enough CPUs, GPUs when asked
 * (refused when the engine has none), and the image present (pulled with the user's credentials).
 */
export async function prepareLocal(engine: LocalEngine, spec: JobSpec, config: SeelieConfig, signal?: AbortSignal): Promise<void> {
  const info = (await engine.docker.info()) as { NCPU?: number; Runtimes?: Record<string, unknown> };
  if (info.NCPU && spec.cpu > info.NCPU) {
    throw new UsageError(
      `--cpu ${spec.cpu}: the ${engine.endpoint.label} engine has only ${info.NCPU} CPUs`,
      `ask for at most --cpu ${info.NCPU}, or submit to a cluster`,
    );
  }
  if (spec.gpu > 0 && !Object.keys(info.Runtimes ?? {}).some((r) => r.includes("nvidia"))) {
    throw new UsageError(
      `--gpu ${spec.gpu}: the ${engine.endpoint.label} engine has no GPUs (no NVIDIA runtime is configured)`,
      "use --gpu 0 locally, or submit to a cluster with GPUs (--cluster CONTEXT)",
    );
  }
  try {
    if (await hasImage(engine.docker, spec.image)) return;
  } catch (err) {
    throw engineError(engine, err);
  }
  const ref = parseImageRef(spec.image, "--image");
  const auth = await resolveRegistryAuth(ref.domain, config);
  log.info(`pulling ${spec.image}${auth ? ` (credentials: ${auth.source})` : ""}`);
  try {
    const stream = await engine.docker.pull(
      spec.image,
      auth ? { authconfig: toEngineAuth(auth), abortSignal: signal } : { abortSignal: signal },
    );
    await followEngineStream(stream, () => undefined, signal);
  } catch (err) {
    throw new UsageError(
      `--image ${spec.image}: cannot pull it on the ${engine.endpoint.label} engine: ${errorMessage(err)}`,
      "check the image name and your registry credentials (docker login, or the seelie config)",
    );
  }
}

/** An engine failure as a SeelieError naming the engine (a GPU refusal is bad input). */
export function engineError(engine: LocalEngine, err: unknown): SeelieError {
  const msg = errorMessage(err);
  if (/device driver|nvidia/i.test(msg)) {
    return new UsageError(
      `the ${engine.endpoint.label} engine cannot give the job GPUs: ${msg}`,
      "use --gpu 0 locally, or submit to a cluster with GPUs",
    );
  }
  return new SeelieError(`${engine.endpoint.label}: ${msg}`, {
    hint: "check the Docker daemon (docker info), or run with SEELIE_DEBUG=1",
    cause: err,
  });
}

/** Creates the network (several workers only) and the workers and starts them; on failure removes what it created. */
export async function runLocal(engine: LocalEngine, job: JobRecord, signal?: AbortSignal): Promise<BackendRef> {
  const uid = crypto.randomUUID().slice(0, 8);
  const plan = localPlan(job, uid);
  const { docker } = engine;
  const made: Docker.Container[] = [];
  let network: Docker.Network | undefined;
  try {
    const check = () => {
      if (signal?.aborted) throw new InterruptedError(`starting job ${job.id}`);
    };
    check();
    if (plan.network) network = await createNetwork(engine, job.id, plan.network);
    for (const c of plan.containers) {
      check();
      made.push(await docker.createContainer(c.options as Docker.ContainerCreateOptions));
    }
    for (const c of made) {
      check();
      await c.start();
    }
  } catch (err) {
    // Leave nothing half-started behind.
    for (const c of made) await c.remove({ force: true }).catch(() => undefined);
    await network?.remove().catch(() => undefined);
    throw err instanceof SeelieError ? err : engineError(engine, err);
  }
  return { kind: "local", ...(plan.network ? { network: plan.network.Name } : {}), containers: plan.containers.map((c) => c.name) };
}

/** Creates the job's network; a used-up address pool becomes an error naming what holds the pools. */
async function createNetwork(
  engine: LocalEngine,
  jobId: number,
  options: NonNullable<ReturnType<typeof localPlan>["network"]>,
): Promise<Docker.Network> {
  try {
    return await engine.docker.createNetwork(options);
  } catch (err) {
    const msg = errorMessage(err);
    if (!isPoolExhausted(msg)) throw err;
    const networks = (await engine.docker.listNetworks().catch(() => [])) as NetworkInfo[];
    throw poolExhaustedError(jobId, msg.replace(/^\(HTTP code \d+\) [a-z ]+ - /i, ""), networks);
  }
}

function isNotFound(err: unknown): boolean {
  return (err as { statusCode?: number }).statusCode === 404;
}

/** The state of each worker's container, as the engine reports it (`missing` when it is gone). */
export async function localContainers(engine: LocalEngine, ref: LocalRef): Promise<ContainerState[]> {
  const out: ContainerState[] = [];
  for (const name of ref.containers) {
    try {
      const info = await engine.docker.getContainer(name).inspect();
      const s = info.State;
      out.push({
        name,
        state: s.Status,
        exitCode: s.ExitCode,
        oomKilled: s.OOMKilled,
        error: s.Error || undefined,
        restarts: info.RestartCount ?? 0,
      });
    } catch (err) {
      if (isNotFound(err)) out.push({ name, state: "missing" });
      else throw engineError(engine, err);
    }
  }
  return out;
}

/** The live status of a local job from its containers' states, restart counts and exit codes. */
export async function localJobStatus(engine: LocalEngine, ref: LocalRef): Promise<LiveStatus> {
  return localStatus(await localContainers(engine, ref));
}

/**
 * Removes the job's network once its workers have stopped, so a finished job gives its address pool
 * back (the stopped containers stay, with their status and logs). True when the network is gone.
 */
export async function releaseNetwork(engine: LocalEngine, ref: LocalRef): Promise<boolean> {
  if (!ref.network) return true;
  try {
    await engine.docker.getNetwork(ref.network).remove();
    return true;
  } catch (err) {
    if (isNotFound(err)) return true;
    log.debug(`could not remove network ${ref.network} yet: ${errorMessage(err)}`);
    return false;
  }
}

/** Removes the job's containers (running or not) and its network; what is already gone is fine. Returns what was removed. */
export async function deleteLocal(engine: LocalEngine, ref: LocalRef): Promise<string[]> {
  const removed: string[] = [];
  for (const name of ref.containers) {
    try {
      await engine.docker.getContainer(name).remove({ force: true });
      removed.push(`container ${name}`);
    } catch (err) {
      if (!isNotFound(err)) throw engineError(engine, err);
    }
  }
  if (ref.network) {
    try {
      await engine.docker.getNetwork(ref.network).remove();
      removed.push(`network ${ref.network}`);
    } catch (err) {
      if (!isNotFound(err)) throw engineError(engine, err);
    }
  }
  return removed;
}
