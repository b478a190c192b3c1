import type Docker from "dockerode";
import { InterruptedError, SeelieError, errorMessage } from "../errors.ts";
import type { SeelieConfig } from "../config/types.ts";
import type { EngineEndpoint } from "../engine/connect.ts";
import { hasImage, pullImage, pushImage } from "../engine/images.ts";
import { followEngineStream } from "../engine/stream.ts";
import { platformImageName } from "../image/name.ts";
import { parseImageRef } from "../image/ref.ts";
import { resolveRegistryAuth, type CredentialHelperRunner } from "../registry/credentials.ts";
import { GENERATED_DOCKERFILE, contextTar, listContext } from "./context.ts";
import { buildEndpoint, type Backend } from "./engine-target.ts";
import { prepareProject } from "./project.ts";

/** What `seelie image build` takes, once flags are parsed. */
export interface ImageBuildOptions {
  projectDir: string;
  baseImage?: string;
  tag: string;
  repoType: string;
  backend: Backend;
  region?: string;
  push: boolean;
  buildArgs: Record<string, string>;
  noCache: boolean;
  dryRun: boolean;
}

/** The outside world the build talks to; passed in so tests and other front ends can supply their own. */
export interface ImageBuildDeps {
  config: SeelieConfig;
  /** Build output and push progress, line by line (stderr in the CLI). */
  progress: (line: string) => void;
  /** Short notes for the user (consola in the CLI). */
  notice: (msg: string) => void;
  signal?: AbortSignal;
  connect?: (ep: EngineEndpoint) => Docker;
  credentialHelper?: CredentialHelperRunner;
}

/** The result of a build, as `-o json` prints it. */
export interface ImageBuildResult {
  image: string;
  digest: string | null;
  imageId: string | null;
  pushed: boolean;
  backend: Backend;
  region: string | null;
  dockerfile: "project" | "generated";
  baseImages: string[];
  dryRun: boolean;
  /** The Dockerfile's text (dry runs only). */
  dockerfileText?: string;
  durationMs: number;
}

function checkAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw new InterruptedError(what);
}

/**
 * Builds `{RegistryHost}/{Repo}/{username}-{repo_type}:{tag}` from a project (SPEC §1) on local Docker
 * or a regional Podman server, then pushes it when asked. Every check (name, ml.flag, Dockerfile,
 * allow list, links leaving the project) runs before the engine is contacted; a dry run stops there.
 */
export async function buildImage(opts: ImageBuildOptions, deps: ImageBuildDeps): Promise<ImageBuildResult> {
  const started = performance.now();
  const { config, signal } = deps;
  const image = platformImageName({
    registryHost: config.registryHost,
    repo: config.repo,
    username: config.username,
    repoType: opts.repoType,
    tag: opts.tag,
  });
  const project = prepareProject({
    projectDir: opts.projectDir,
    baseImage: opts.baseImage,
    allowedBaseImages: config.allowedBaseImages,
    buildArgs: opts.buildArgs,
    notice: deps.notice,
  });
  const listing = listContext(project.contextDir);
  const base = {
    image,
    backend: opts.backend,
    dockerfile: project.generated ? ("generated" as const) : ("project" as const),
    baseImages: project.baseImages,
  };
  const target = buildEndpoint(opts.backend, opts.region, config);
  if (opts.dryRun) {
    return {
      ...base,
      digest: null,
      imageId: null,
      pushed: false,
      region: target.region ?? null,
      dryRun: true,
      dockerfileText: project.dockerfile,
      durationMs: performance.now() - started,
    };
  }

  const where = target.endpoint.label;
  // Loaded only now: a dry run (and every check above) needs no engine client.
  const { engineClient, pingEngine } = await import("../engine/connect.ts");
  const docker = (deps.connect ?? engineClient)(target.endpoint);
  await pingEngine(docker, target.endpoint);

  const engine: Engine = { docker, where, opts, deps };
  await pullBaseImages(engine, project.baseImages);
  checkAborted(signal, "build");
  deps.notice(`building ${image} on ${where}`);
  const imageId = await runEngineBuild(engine, image, project, listing);
  const digest = opts.push ? await pushBuilt(engine, image) : null;
  return {
    ...base,
    digest,
    imageId,
    pushed: opts.push,
    region: target.region ?? null,
    dryRun: false,
    durationMs: performance.now() - started,
  };
}

/** The engine a build runs on, with the build's options and the outside world. */
interface Engine {
  docker: Docker;
  /** The engine's label for messages (`local Docker`, `region eu-1 (…)`). */
  where: string;
  opts: ImageBuildOptions;
  deps: ImageBuildDeps;
}

/** Pulls the base images the engine does not have, with the user's credentials for each registry. */
async function pullBaseImages({ docker, where, deps }: Engine, baseImages: readonly string[]): Promise<void> {
  const { signal } = deps;
  for (const b of baseImages) {
    checkAborted(signal, "build");
    if (await hasImage(docker, b)) continue;
    deps.notice(`pulling base image ${b} on ${where}`);
    const auth = await resolveRegistryAuth(parseImageRef(b).domain, deps.config, deps.credentialHelper);
    await pullImage(docker, b, auth, deps.progress, where, signal).catch((err) => {
      if (signal?.aborted) throw new InterruptedError("pull");
      throw err;
    });
  }
}

/** Sends the context to the engine, relays the build output, and returns the new image's id. */
async function runEngineBuild(
  { docker, where, opts, deps }: Engine,
  image: string,
  project: ReturnType<typeof prepareProject>,
  listing: ReturnType<typeof listContext>,
): Promise<string> {
  const { signal } = deps;
  let imageId: string | null = null;
  try {
    const tar = contextTar(listing, project.generated ? project.dockerfile : undefined);
    const stream = (await docker.buildImage(
      tar as unknown as NodeJS.ReadableStream,
      {
        t: image,
        dockerfile: project.generated ? GENERATED_DOCKERFILE : "Dockerfile",
        buildargs: project.buildArgs,
        nocache: opts.noCache,
        rm: true,
        forcerm: true,
        abortSignal: signal,
      } as Docker.ImageBuildOptions,
    )) as NodeJS.ReadableStream;
    const messages = await followEngineStream(
      stream,
      (m) => {
        if (m.stream?.trim()) deps.progress(m.stream.replace(/\n$/, ""));
        else if (m.status) deps.progress(m.status);
      },
      signal,
    );
    imageId = messages.find((m) => m.aux?.ID)?.aux?.ID ?? null;
  } catch (err) {
    if (signal?.aborted) {
      if (opts.backend === "remote") {
        // Podman (4.x) does not cancel a build when its client goes away.
        deps.notice(`${where} goes on with the build it was given until it ends; nothing is pushed`);
      }
      throw new InterruptedError("build");
    }
    if (err instanceof SeelieError && !err.hint) {
      throw new SeelieError(`the build of ${image} failed on ${where}: ${err.message}`, {
        hint: `see the build output above; fix ${project.generated ? "build_script.sh or requirements.txt" : "the Dockerfile"} in ${project.contextDir} and build again`,
      });
    }
    throw new SeelieError(`the build of ${image} failed on ${where}: ${errorMessage(err)}`, { hint: "see the build output above" });
  }
  return imageId ?? (await docker.getImage(image).inspect()).Id;
}

/** Pushes the built image from the engine and returns its digest (null when the engine does not say). */
async function pushBuilt({ docker, where, opts, deps }: Engine, image: string): Promise<string | null> {
  const { signal } = deps;
  checkAborted(signal, "push");
  deps.notice(`pushing ${image} from ${where}`);
  const auth = await resolveRegistryAuth(parseImageRef(image).domain, deps.config, deps.credentialHelper);
  const digest = await pushImage(docker, image, auth, deps.progress, where, signal).catch((err) => {
    if (signal?.aborted) {
      if (opts.backend === "remote") {
        // Podman (4.x) does not cancel a push when its client goes away: it completes it.
        deps.notice(
          `${where} finishes the push it started, so ${image} will be complete in the registry; delete that tag if you do not want it`,
        );
      }
      throw new InterruptedError("push");
    }
    throw err;
  });
  return digest ?? null;
}
