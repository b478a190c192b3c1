/**
 * The contract between the committer's flow (clean, commit, push, remove) and each container
 * runtime: Docker through its Engine API, containerd natively over gRPC. Both implement it.
 */
import type { RegistryAuth } from "../registry/credentials.ts";
import type { Compression } from "./compress.ts";

/** Where the new layer is read from: the overlay upper directory, the runtime's API, or whichever works. */
export type LayerSource = "auto" | "upperdir" | "api";

/** The output of a command run inside a container, as `docker exec` gives it. */
export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** One path the container itself changed in its writable layer (as `docker diff` reports). */
export interface ChangedPath {
  /** Absolute path inside the container. */
  path: string;
  kind: "added" | "modified" | "deleted";
}

/** What the commit step produced. */
export interface CommitResult {
  /** The image reference committed (and pushed unless told not to). */
  image: string;
  /** The pushed manifest digest (`sha256:…`), or the local image id when not pushed. */
  digest: string;
  /** Total size in bytes of the image's layers (compressed where pushed). */
  size: number;
  layers: number;
  /** Where the new layer was read from. */
  layerSource?: "upperdir" | "api";
}

/** A container found on a runtime, with the operations the committer needs. */
export interface RuntimeContainer {
  runtime: "docker" | "containerd";
  id: string;
  running: boolean;
  paused: boolean;
  /** The container's environment, `KEY=VALUE` (for `PIP_CACHE_DIR`, `HOME`). */
  env: string[];
  /** Runs argv inside the container (as `docker exec` would), collecting its output. */
  exec(argv: string[], signal?: AbortSignal): Promise<ExecResult>;
  /** The paths the container changed relative to its image (its writable layer). */
  changes(signal?: AbortSignal): Promise<ChangedPath[]>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Commits the container to `image`; pushes it with `auth` unless `push` is false; removes the local image unless `keepImage`. */
  commit(opts: {
    image: string;
    push: boolean;
    auth?: RegistryAuth;
    keepImage: boolean;
    /** Pause during the commit (default true); always resumed afterwards, also on failure. */
    pause: boolean;
    progress: (line: string) => void;
    signal?: AbortSignal;
    /** Timings per step are recorded here by name, in milliseconds (`paused`: how long the container was paused). */
    timings: Record<string, number>;
    /** Default `auto`: the upper directory where the storage is overlay and readable, else the API. */
    layerSource?: LayerSource;
    /** Default gzip at level 6. */
    compression?: { kind: Compression; level: number };
  }): Promise<CommitResult>;
}
