/**
 * A native gRPC client for containerd over its unix socket (connect-rpc, HTTP/2), with the
 * namespace header on every call and typed clients for the services seelie uses.
 */
import { statSync } from "node:fs";
import * as net from "node:net";
import { Code, ConnectError, createClient, type CallOptions, type Client, type Interceptor } from "@connectrpc/connect";
import { Http2SessionManager, createGrpcTransport } from "@connectrpc/connect-node";
import { EmptySchema } from "@bufbuild/protobuf/wkt";
import { create } from "@bufbuild/protobuf";
import { SeelieError, errorMessage } from "../errors.ts";
import { Version } from "../../proto/gen/containerd/services/version/v1/version_pb.ts";
import { Containers } from "../../proto/gen/containerd/services/containers/v1/containers_pb.ts";
import { Tasks } from "../../proto/gen/containerd/services/tasks/v1/tasks_pb.ts";
import { Images } from "../../proto/gen/containerd/services/images/v1/images_pb.ts";
import { Content } from "../../proto/gen/containerd/services/content/v1/content_pb.ts";
import { Diff } from "../../proto/gen/containerd/services/diff/v1/diff_pb.ts";
import { Snapshots } from "../../proto/gen/containerd/services/snapshots/v1/snapshots_pb.ts";
import { Leases } from "../../proto/gen/containerd/services/leases/v1/leases_pb.ts";

/** The gRPC metadata key containerd reads the namespace from. */
export const NAMESPACE_HEADER = "containerd-namespace";
/** The gRPC metadata key that puts everything a call creates under a lease. */
export const LEASE_HEADER = "containerd-lease";

/** Typed clients for one containerd namespace. */
export interface ContainerdClient {
  socketPath: string;
  namespace: string;
  version: Client<typeof Version>;
  containers: Client<typeof Containers>;
  tasks: Client<typeof Tasks>;
  images: Client<typeof Images>;
  content: Client<typeof Content>;
  diff: Client<typeof Diff>;
  snapshots: Client<typeof Snapshots>;
  leases: Client<typeof Leases>;
  /** Call options that put what the call creates under `leaseId`. */
  leased(leaseId: string, extra?: CallOptions): CallOptions;
  /** Closes the HTTP/2 connection. */
  close(): void;
}

/** Fails early, with the right hint, when the socket is missing, not a socket, or not accessible. */
function checkSocket(socketPath: string): void {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(socketPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EACCES") {
      throw new SeelieError(`permission denied on the containerd socket ${socketPath}`, {
        hint: "run as root, or mount the socket into the pod with a user that may open it",
        cause: err,
      });
    }
    throw new SeelieError(`containerd socket ${socketPath} not found`, {
      hint: "is containerd running on this node? pass --runtime-endpoint, or mount the host's /run/containerd (with its prefix, e.g. /host)",
      cause: err,
    });
  }
  if (!st.isSocket()) {
    throw new SeelieError(`${socketPath} is not a unix socket, so not containerd's`, {
      hint: "point --runtime-endpoint at containerd's socket, usually /run/containerd/containerd.sock",
    });
  }
}

/**
 * Turns any error of a containerd call into a SeelieError naming the socket and the operation,
 * with a hint for the usual causes (no daemon, permissions, another gRPC server).
 */
export function containerdError(err: unknown, socketPath: string, what: string): SeelieError {
  if (err instanceof SeelieError) return err;
  const msg = errorMessage(err);
  const ce = err instanceof ConnectError ? err : undefined;
  const causeCode = (ce?.cause as NodeJS.ErrnoException | undefined)?.code ?? (err as NodeJS.ErrnoException)?.code;
  if (causeCode === "EACCES" || causeCode === "EPERM" || /EACCES|permission denied/i.test(msg)) {
    return new SeelieError(`permission denied on the containerd socket ${socketPath} (${what})`, {
      hint: "run as root, or mount the socket into the pod with a user that may open it",
      cause: err,
    });
  }
  if (causeCode === "ECONNREFUSED" || causeCode === "ENOENT" || /ECONNREFUSED|ENOENT/.test(msg)) {
    return new SeelieError(`containerd at ${socketPath} refused the connection (${what})`, {
      hint: "is containerd running? check 'systemctl status containerd' on the node",
      cause: err,
    });
  }
  if (ce?.code === Code.Unimplemented) {
    return new SeelieError(`${socketPath} does not answer ${what}: is it containerd (1.6 or later)?`, {
      hint: "point --runtime-endpoint at containerd's socket, usually /run/containerd/containerd.sock",
      cause: err,
    });
  }
  if (ce?.code === Code.NotFound) {
    return new SeelieError(`containerd (${socketPath}): ${what}: not found: ${ce.rawMessage}`, { cause: err });
  }
  return new SeelieError(`containerd at ${socketPath} failed: ${what}: ${ce ? ce.rawMessage : msg}`, {
    hint: "check the containerd logs on the node",
    cause: err,
  });
}

/** True when the error is a gRPC NotFound. */
export function isNotFound(err: unknown): boolean {
  return err instanceof ConnectError && err.code === Code.NotFound;
}

/** True when the error is a gRPC AlreadyExists. */
export function isAlreadyExists(err: unknown): boolean {
  return err instanceof ConnectError && err.code === Code.AlreadyExists;
}

/**
 * Connects to containerd at `socketPath` (checking the socket and calling Version once, so a wrong
 * path fails here with a clear message) and returns typed clients for `namespace`.
 */
export async function connectContainerd(opts: { socketPath: string; namespace: string }): Promise<ContainerdClient> {
  const { socketPath, namespace } = opts;
  checkSocket(socketPath);
  const sessionManager = new Http2SessionManager(
    "http://localhost",
    { idleConnectionTimeoutMs: 60_000 },
    { createConnection: () => net.connect(socketPath) },
  );
  const ns: Interceptor = (next) => (req) => {
    req.header.set(NAMESPACE_HEADER, namespace);
    return next(req);
  };
  const transport = createGrpcTransport({ baseUrl: "http://localhost", sessionManager, interceptors: [ns] });
  const client: ContainerdClient = {
    socketPath,
    namespace,
    version: createClient(Version, transport),
    containers: createClient(Containers, transport),
    tasks: createClient(Tasks, transport),
    images: createClient(Images, transport),
    content: createClient(Content, transport),
    diff: createClient(Diff, transport),
    snapshots: createClient(Snapshots, transport),
    leases: createClient(Leases, transport),
    leased: (leaseId, extra = {}) => {
      const headers = new Headers(extra.headers);
      headers.set(LEASE_HEADER, leaseId);
      return { ...extra, headers };
    },
    close: () => sessionManager.abort(),
  };
  try {
    await client.version.version(create(EmptySchema), { timeoutMs: 10_000 });
  } catch (err) {
    client.close();
    throw containerdError(err, socketPath, "Version");
  }
  return client;
}
