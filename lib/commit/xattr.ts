/**
 * Extended attributes of a path without following symlinks (libc's llistxattr/lgetxattr through
 * bun:ffi: Node and Bun have no xattr API). Needed to read overlayfs' own markers (opaque
 * directories, redirects) in a container's upper directory.
 */
import { SeelieError, errorMessage } from "../errors.ts";

type Lib = {
  llistxattr: (path: Uint8Array, buf: Uint8Array | null, size: number) => number | bigint;
  lgetxattr: (path: Uint8Array, name: Uint8Array, buf: Uint8Array | null, size: number) => number | bigint;
};
let lib: Lib | undefined;

function libc(): Lib {
  if (lib) return lib;
  // Loaded lazily so that importing this file costs nothing where it is not used.
  const { dlopen, FFIType } = require("bun:ffi") as typeof import("bun:ffi");
  try {
    const l = dlopen("libc.so.6", {
      llistxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
      lgetxattr: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    });
    lib = l.symbols as unknown as Lib;
    return lib;
  } catch (err) {
    throw new SeelieError(`cannot load libc to read extended attributes: ${errorMessage(err)}`, {
      hint: "the committer needs a glibc-based image",
    });
  }
}

const enc = new TextEncoder();
const cstr = (s: string) => enc.encode(`${s}\0`);

/** The names of the extended attributes of `path` (the link itself for a symlink); [] when none or unsupported. */
export function listXattrs(path: string): string[] {
  const p = cstr(path);
  const n = Number(libc().llistxattr(p, null, 0));
  if (n <= 0) return [];
  const buf = new Uint8Array(n + 256);
  const m = Number(libc().llistxattr(p, buf, buf.length));
  if (m <= 0) return [];
  return new TextDecoder().decode(buf.subarray(0, m)).split("\0").filter(Boolean);
}

/** The value of one extended attribute, or undefined when `path` has none by that name. */
export function getXattr(path: string, name: string): Uint8Array | undefined {
  const p = cstr(path);
  const nm = cstr(name);
  const n = Number(libc().lgetxattr(p, nm, null, 0));
  if (n < 0) return undefined;
  if (n === 0) return new Uint8Array(0);
  const buf = new Uint8Array(n);
  const m = Number(libc().lgetxattr(p, nm, buf, n));
  return m < 0 ? undefined : buf.subarray(0, m);
}
