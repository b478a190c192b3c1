import type Docker from "dockerode";
import { SeelieError, errorMessage } from "../errors.ts";
import { parseImageRef, repositoryOf } from "../image/ref.ts";
import { toEngineAuth, type RegistryAuth } from "../registry/credentials.ts";
import { followEngineStream, progressPrinter, type EngineMessage } from "./stream.ts";

/** True when the engine has the image locally. */
export async function hasImage(docker: Docker, name: string): Promise<boolean> {
  try {
    await docker.getImage(name).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

function authHint(registry: string, auth: RegistryAuth | undefined): string {
  return auth
    ? `the credentials come from ${auth.source}; check them, or run 'docker login ${registry}'`
    : `no credentials were found for ${registry}; run 'docker login ${registry}' or add them to ~/.seelie/config.yaml`;
}

/** Classifies an engine's registry error message into a SeelieError naming the registry. */
export function registryError(action: string, image: string, message: string, auth: RegistryAuth | undefined, where: string): SeelieError {
  const registry = parseImageRef(image).domain;
  if (/unauthorized|authentication required|denied|401|403|incorrect username or password/i.test(message)) {
    return new SeelieError(`${where}: the registry ${registry} refused to ${action} ${image}: ${message}`, {
      hint: authHint(registry, auth),
    });
  }
  if (/not found|manifest unknown|does not exist|no such/i.test(message)) {
    return new SeelieError(`${where}: ${image} does not exist in ${registry}: ${message}`, {
      hint: "check the image name and tag (and that you may read it)",
    });
  }
  return new SeelieError(`${where}: could not ${action} ${image} (registry ${registry}): ${message}`, {
    hint: `check that ${registry} is reachable from ${where}`,
  });
}

/** Starts a pull or push and follows its progress; an engine or registry failure becomes an error naming the registry. */
async function followRegistryOperation(
  action: "pull" | "push",
  name: string,
  start: () => Promise<unknown>,
  auth: RegistryAuth | undefined,
  progress: (line: string) => void,
  where: string,
  signal?: AbortSignal,
): Promise<EngineMessage[]> {
  try {
    return await followEngineStream((await start()) as NodeJS.ReadableStream, progressPrinter(progress), signal);
  } catch (err) {
    if (signal?.aborted) throw err;
    throw registryError(action, name, errorMessage(err), auth, where);
  }
}

/** Pulls an image with the given credentials, reporting progress. */
export async function pullImage(
  docker: Docker,
  name: string,
  auth: RegistryAuth | undefined,
  progress: (line: string) => void,
  where: string,
  signal?: AbortSignal,
): Promise<void> {
  const authconfig = auth ? toEngineAuth(auth) : undefined;
  await followRegistryOperation("pull", name, () => docker.pull(name, { authconfig, abortSignal: signal }), auth, progress, where, signal);
}

/** Pushes `name` (repository:tag) with the given credentials; returns the pushed manifest digest. */
export async function pushImage(
  docker: Docker,
  name: string,
  auth: RegistryAuth | undefined,
  progress: (line: string) => void,
  where: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const ref = parseImageRef(name);
  const repo = repositoryOf(ref).replace(/^docker\.io\//, "");
  const authconfig = auth ? toEngineAuth(auth) : undefined;
  const start = () => docker.getImage(repo).push({ tag: ref.tag ?? "latest", authconfig, abortSignal: signal });
  const messages = await followRegistryOperation("push", name, start, auth, progress, where, signal);
  const aux = messages.find((m) => m.aux?.Digest)?.aux?.Digest;
  if (aux) return aux;
  // Podman reports the digest only in a status line ("…: digest: sha256:… size: N").
  for (const m of messages) {
    const d = /digest: (sha256:[a-f0-9]{64})/.exec(m.status ?? m.stream ?? "");
    if (d) return d[1];
  }
  return undefined;
}
