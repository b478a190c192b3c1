/**
 * `docker exec` through containerd's task service: Exec + Start + Wait + DeleteProcess, with the
 * process's stdout/stderr on FIFOs that the shim opens by their path on the HOST. When seelie runs in
 * a pod with the host's /run/containerd mounted under a prefix (e.g. /host), the FIFOs are made under
 * the prefixed directory and the shim is given the path without the prefix.
 */
import { createReadStream, mkdirSync, openSync, closeSync, rmSync, constants } from "node:fs";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { AnySchema } from "@bufbuild/protobuf/wkt";
import { InterruptedError, SeelieError, errorMessage } from "../errors.ts";
import type { ExecResult } from "../commit/runtime.ts";
import { containerdError, type ContainerdClient } from "./client.ts";

const PROCESS_SPEC_TYPE = "types.containerd.io/opencontainers/runtime-spec/1/Process";

let mkfifoImpl: ((path: string, mode: number) => number) | undefined;

/** Creates a FIFO with libc's mkfifo (through bun:ffi; Node's fs has none). */
export function mkfifo(path: string, mode = 0o600): void {
  if (!mkfifoImpl) {
    // Loaded lazily so that importing this file costs nothing on machines without glibc.
    const { dlopen, FFIType, ptr } = require("bun:ffi") as typeof import("bun:ffi");
    let lib: ReturnType<typeof dlopen<{ mkfifo: { args: [typeof FFIType.ptr, typeof FFIType.u32]; returns: typeof FFIType.i32 } }>>;
    try {
      lib = dlopen("libc.so.6", { mkfifo: { args: [FFIType.ptr, FFIType.u32], returns: FFIType.i32 } });
    } catch (err) {
      throw new SeelieError(`cannot load libc to create FIFOs: ${errorMessage(err)}`, { hint: "the committer needs a glibc-based image" });
    }
    const sym = lib.symbols.mkfifo;
    mkfifoImpl = (p, m) => sym(ptr(Buffer.from(`${p}\0`)), m) as number;
  }
  if (mkfifoImpl(path, mode) !== 0) throw new SeelieError(`cannot create the FIFO ${path}`, { hint: "is the directory writable?" });
}

/** Where to put the FIFOs: a fresh directory next to the socket, and the same path as the host sees it. */
export function fifoDirs(socketPath: string, hostPrefix: string | undefined, name: string): { local: string; host: string } {
  const local = join(dirname(socketPath), name);
  const prefix = (hostPrefix ?? "").replace(/\/+$/, "");
  const host = prefix && local.startsWith(`${prefix}/`) ? local.slice(prefix.length) : local;
  return { local, host };
}

/** Reads a FIFO to its end (the open blocks in the thread pool until a writer opens it). */
function drain(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = createReadStream(path);
    s.on("data", (d) => chunks.push(d as Buffer));
    s.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    s.on("error", reject);
  });
}

/** Opens and closes a FIFO for writing so a reader still waiting in open() sees EOF. */
function unblock(path: string): void {
  try {
    closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // No reader waiting (ENXIO) or already gone: nothing to unblock.
  }
}

/** Waits for a FIFO reader to end, unblocking its open() until it does (bounded to a few seconds). */
async function finish(reader: Promise<string>, path: string): Promise<string> {
  let done = false;
  const settled = reader.finally(() => {
    done = true;
  });
  for (let i = 0; i < 50 && !done; i++) {
    unblock(path);
    await Promise.race([settled, Bun.sleep(100)]).catch(() => undefined);
  }
  if (!done) throw new SeelieError(`the exec output FIFO ${path} did not close`);
  return reader;
}

/** The container's OCI process spec with `argv` as args and no terminal. */
export function execProcessSpec(containerSpec: { process?: Record<string, unknown> } | undefined, argv: string[]): Record<string, unknown> {
  const base = containerSpec?.process ?? {};
  return {
    ...base,
    terminal: false,
    args: argv,
    cwd: (base.cwd as string | undefined) || "/",
    env: (base.env as string[] | undefined) ?? ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
  };
}

/** containerd's limit on identifiers (exec ids, leases, …). */
export const CONTAINERD_ID_MAX = 76;

/**
 * A unique exec id for a process in `containerId`. It starts with the first 12 letters and digits of the
 * container id, so a leftover FIFO directory says whose it was, and stays under containerd's
 * 76-character limit for CRI's 64-hex container ids.
 */
export function execIdFor(containerId: string): string {
  // containerd's identifiers: alphanumeric runs joined by single '.', '_' or '-'.
  const owner = containerId.replace(/[^A-Za-z0-9]/g, "").slice(0, 12);
  return `seelie-exec-${owner ? `${owner}-` : ""}${randomBytes(6).toString("hex")}`;
}

/**
 * Runs argv in the running task of `containerId` and collects its output. Always deletes the
 * process and the FIFOs; on abort kills the process and throws InterruptedError.
 */
export async function execInTask(
  c: ContainerdClient,
  opts: { containerId: string; spec: Record<string, unknown> | undefined; argv: string[]; hostPrefix?: string; signal?: AbortSignal },
): Promise<ExecResult> {
  const execId = execIdFor(opts.containerId);
  const dirs = fifoDirs(c.socketPath, opts.hostPrefix, execId);
  const stdoutLocal = join(dirs.local, "stdout");
  const stderrLocal = join(dirs.local, "stderr");
  const what = `exec ${JSON.stringify(opts.argv[0])} in container ${opts.containerId}`;
  try {
    mkdirSync(dirs.local, { recursive: true, mode: 0o700 });
    mkfifo(stdoutLocal);
    mkfifo(stderrLocal);
  } catch (err) {
    rmSync(dirs.local, { recursive: true, force: true });
    throw new SeelieError(`cannot create the exec FIFOs under ${dirs.local}: ${errorMessage(err)}`, {
      hint: "the directory of the containerd socket must be writable (mount the host's /run/containerd read-write)",
      cause: err,
    });
  }
  const out = drain(stdoutLocal);
  const errOut = drain(stderrLocal);
  out.catch(() => undefined);
  errOut.catch(() => undefined);
  let created = false;
  const kill = () => {
    if (created) void c.tasks.kill({ containerId: opts.containerId, execId, signal: 9 }).catch(() => undefined);
  };
  opts.signal?.addEventListener("abort", kill, { once: true });
  try {
    if (opts.signal?.aborted) throw new InterruptedError(what);
    const spec = create(AnySchema, {
      typeUrl: PROCESS_SPEC_TYPE,
      value: new TextEncoder().encode(JSON.stringify(execProcessSpec(opts.spec as { process?: Record<string, unknown> }, opts.argv))),
    });
    try {
      await c.tasks.exec({
        containerId: opts.containerId,
        execId,
        stdin: "",
        stdout: join(dirs.host, "stdout"),
        stderr: join(dirs.host, "stderr"),
        terminal: false,
        spec,
      });
      created = true;
      await c.tasks.start({ containerId: opts.containerId, execId });
    } catch (err) {
      throw containerdError(err, c.socketPath, what);
    }
    let exitStatus: number;
    try {
      exitStatus = (await c.tasks.wait({ containerId: opts.containerId, execId })).exitStatus;
    } catch (err) {
      if (opts.signal?.aborted) throw new InterruptedError(what);
      throw containerdError(err, c.socketPath, what);
    }
    if (opts.signal?.aborted) throw new InterruptedError(what);
    // DeleteProcess returns once the shim has copied all output into the FIFOs.
    await c.tasks.deleteProcess({ containerId: opts.containerId, execId }).catch(() => undefined);
    created = false;
    const [stdout, stderr] = await Promise.all([finish(out, stdoutLocal), finish(errOut, stderrLocal)]);
    return { exitCode: exitStatus, stdout, stderr };
  } finally {
    opts.signal?.removeEventListener("abort", kill);
    if (created) {
      await c.tasks.kill({ containerId: opts.containerId, execId, signal: 9 }).catch(() => undefined);
      await c.tasks.wait({ containerId: opts.containerId, execId }, { timeoutMs: 10_000 }).catch(() => undefined);
      await c.tasks.deleteProcess({ containerId: opts.containerId, execId }).catch(() => undefined);
    }
    await Promise.allSettled([finish(out, stdoutLocal), finish(errOut, stderrLocal)]);
    rmSync(dirs.local, { recursive: true, force: true });
  }
}
