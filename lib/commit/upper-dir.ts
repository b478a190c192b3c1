/**
 * A container's new layer read straight from its overlayfs upper directory (what Docker's overlay2
 * driver itself tars for `docker commit`): the directory is walked once — only that walk needs the
 * container paused — into a list of entries, with overlay's whiteouts turned into OCI ones (a 0/0
 * character device → `.wh.NAME`; an opaque directory → its entry plus `.wh..wh..opq`). The layer tar
 * is then streamed from that list after the container is resumed.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  readFileSync,
  lstatSync,
  openSync,
  readdirSync,
  readSync,
  readlinkSync,
  type Stats,
} from "node:fs";
import { join } from "node:path";
import { SeelieError, errorMessage } from "../errors.ts";
import { TAR_END, tarHeader, tarPadding, type TarHeader } from "./tar-writer.ts";
import { getXattr, listXattrs } from "./xattr.ts";

/** The extended attributes carried into the layer: the ones dockerd's and containerd's own diffs carry. */
export const KEPT_XATTRS = ["security.capability"];
const OPAQUE_XATTRS = ["trusted.overlay.opaque", "user.overlay.opaque"];
/** overlay features whose upper directory is not a self-contained diff (renamed dirs, metadata-only copy-ups). */
const UNSUPPORTED_XATTRS = ["trusted.overlay.redirect", "trusted.overlay.metacopy", "user.overlay.redirect", "user.overlay.metacopy"];

/** Thrown when the upper directory cannot be read as a layer; the caller may fall back to the runtime's API. */
export class UpperDirUnusable extends SeelieError {}

/** One entry of the layer; a regular file's data is read from the walk's root + its name. */
export interface UpperEntry extends TarHeader {
  /** mtime in ms at walk time, to notice a file that changed before it was read. */
  mtimeMs?: number;
}

/** What the walk found. */
export interface UpperWalk {
  /** The upper directory walked. */
  root: string;
  entries: UpperEntry[];
  files: number;
  bytes: number;
  whiteouts: number;
  opaque: number;
}

const S_IFMT = 0o170000;
const S_IFCHR = 0o020000;

function major(rdev: number): number {
  return ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
}
function minor(rdev: number): number {
  return (rdev & 0xff) | ((rdev >>> 12) & ~0xff);
}

function kept(path: string, names: string[]): [string, Uint8Array][] | undefined {
  const out: [string, Uint8Array][] = [];
  for (const n of names) {
    if (!KEPT_XATTRS.includes(n)) continue;
    const v = getXattr(path, n);
    if (v) out.push([n, v]);
  }
  return out.length ? out : undefined;
}

/**
 * Where a host path is seen from here: under `hostPrefix` when the host's / is mounted there, else at
 * the same path (the committer Pod mounts the runtime's storage at its host path).
 */
export function hostOrPrefixed(hostPath: string, hostPrefix = ""): string {
  const prefixed = join(hostPrefix, hostPath);
  return hostPrefix && !existsSync(prefixed) && existsSync(hostPath) ? hostPath : prefixed;
}

const CAP_DAC_OVERRIDE = 1n;
const CAP_DAC_READ_SEARCH = 2n;
const CAP_SYS_ADMIN = 21n;

/**
 * Why this process cannot read an upper directory faithfully, or undefined when it can: overlay's
 * own markers (`trusted.overlay.*`: opaque directories, redirects) are invisible without
 * CAP_SYS_ADMIN — the walk would then silently bring deleted files back — and files of other users
 * need CAP_DAC_READ_SEARCH (or CAP_DAC_OVERRIDE). `status` is /proc/self/status.
 */
export function missingCapabilities(status: string): string | undefined {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  if (!m) return "its capabilities are unknown (no CapEff in /proc/self/status)";
  const eff = BigInt(`0x${m[1]}`);
  const has = (bit: bigint) => (eff >> bit) & 1n;
  const missing: string[] = [];
  if (!has(CAP_SYS_ADMIN)) missing.push("CAP_SYS_ADMIN (to see overlay's trusted.* attributes)");
  if (!has(CAP_DAC_READ_SEARCH) && !has(CAP_DAC_OVERRIDE)) missing.push("CAP_DAC_READ_SEARCH (to read every user's files)");
  return missing.length ? `it lacks ${missing.join(" and ")}` : undefined;
}

/**
 * Walks `upper` (depth first, names in byte order, as Go's filepath.Walk) into layer entries.
 * Sockets are left out (as dockerd and containerd leave them out); hard links inside the layer
 * become link entries to the first path seen. Throws UpperDirUnusable when the directory is missing
 * or unreadable, or uses overlay redirects or metacopy.
 */
export function walkUpperDir(upper: string, procStatus: () => string = () => readFileSync("/proc/self/status", "utf8")): UpperWalk {
  const why = missingCapabilities(procStatus());
  if (why) {
    throw new UpperDirUnusable(`the upper directory ${upper} cannot be read faithfully by this process: ${why}`, {
      hint: "run the committer as root with those capabilities (the committer Pod has them), or use --layer-source api",
    });
  }
  let root: Stats;
  try {
    root = lstatSync(upper);
  } catch (err) {
    throw new UpperDirUnusable(`the container's upper directory ${upper} is not readable here: ${errorMessage(err)}`, {
      hint: "mount the runtime's storage directory into the committer (read-only), or use --layer-source api",
    });
  }
  if (!root.isDirectory()) throw new UpperDirUnusable(`the container's upper directory ${upper} is not a directory`);
  // No absolute path per entry: with 50,000 files that was ~7 MB of the committer's peak.
  const out: UpperWalk = { root: upper, entries: [], files: 0, bytes: 0, whiteouts: 0, opaque: 0 };
  const links = new Map<string, string>();
  const visit = (dir: string, rel: string) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      throw new UpperDirUnusable(`cannot list ${dir}: ${errorMessage(err)}`);
    }
    // Byte order of the UTF-8 names. JS string order is the same but for names with characters
    // beyond U+FFFF (surrogate pairs), which only then cost a Buffer per name.
    if (names.some((n) => /[\uD800-\uDFFF]/.test(n))) names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    else names.sort();
    for (const n of names) {
      const abs = join(dir, n);
      const name = rel ? `${rel}/${n}` : n;
      const st = lstatSync(abs);
      const xnames = listXattrs(abs);
      const bad = xnames.find((x) => UNSUPPORTED_XATTRS.includes(x));
      if (bad) {
        throw new UpperDirUnusable(
          `${abs} carries the overlay attribute ${bad} (redirect_dir/metacopy): the upper directory alone is not the container's diff`,
          {
            hint: "use --layer-source api",
          },
        );
      }
      const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000), size: 0 };
      if ((st.mode & S_IFMT) === S_IFCHR && st.rdev === 0) {
        // An overlay whiteout: the path was deleted from the lower layers.
        out.entries.push({ ...base, mode: 0o600, name: rel ? `${rel}/.wh.${n}` : `.wh.${n}`, type: "0" });
        out.whiteouts++;
        continue;
      }
      const xattrs = kept(abs, xnames);
      if (st.isDirectory()) {
        out.entries.push({ ...base, name: `${name}/`, type: "5", xattrs });
        const opaque = OPAQUE_XATTRS.some(
          (x) => xnames.includes(x) && new TextDecoder().decode(getXattr(abs, x) ?? new Uint8Array()) === "y",
        );
        if (opaque) {
          out.entries.push({ ...base, mode: st.mode & 0o777, name: `${name}/.wh..wh..opq`, type: "0" });
          out.opaque++;
        }
        visit(abs, name);
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? links.get(key) : undefined;
        if (first !== undefined) {
          out.entries.push({ ...base, name, type: "1", linkname: first, xattrs });
          continue;
        }
        if (st.nlink > 1) links.set(key, name);
        out.entries.push({ ...base, name, type: "0", size: st.size, mtimeMs: st.mtimeMs, xattrs });
        out.files++;
        out.bytes += st.size;
      } else if (st.isSymbolicLink()) {
        out.entries.push({ ...base, name, type: "2", linkname: readlinkSync(abs), xattrs });
      } else if (st.isFIFO()) {
        out.entries.push({ ...base, name, type: "6", xattrs });
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        out.entries.push({
          ...base,
          name,
          type: st.isCharacterDevice() ? "3" : "4",
          devmajor: major(st.rdev),
          devminor: minor(st.rdev),
          xattrs,
        });
      }
      // Sockets: left out, as by the runtimes' own diffs.
    }
  };
  visit(upper, "");
  return out;
}

/**
 * The layer tar of a walk, streamed: headers from the list, file data read now (1 MiB at a time).
 * A file that changed since the walk is read as it is now, cut or zero-padded to the walked size so
 * the tar stays valid; `onChanged` is told its path.
 */
export function upperDirTar(
  walk: UpperWalk,
  opts: { onChanged?: (path: string) => void; chunkBytes?: number } = {},
): ReadableStream<Uint8Array> {
  const chunk = opts.chunkBytes ?? 1024 * 1024;
  let i = 0;
  let file: { fd: number; left: number; entry: UpperEntry } | undefined;
  const closeFile = () => {
    if (!file) return;
    if (file.fd < 0) {
      file = undefined;
      return;
    }
    try {
      const st = fstatSync(file.fd);
      if (st.size !== file.entry.size || st.mtimeMs !== file.entry.mtimeMs) opts.onChanged?.(`/${file.entry.name}`);
    } finally {
      closeSync(file.fd);
      file = undefined;
    }
  };
  return new ReadableStream<Uint8Array>(
    {
      pull(ctrl) {
        try {
          if (file) {
            const n = Math.min(chunk, file.left);
            const buf = Buffer.allocUnsafe(n);
            let got = 0;
            while (file.fd >= 0 && got < n) {
              const r = readSync(file.fd, buf, got, n - got, null);
              if (r === 0) break;
              got += r;
            }
            if (got < n) {
              // Shorter than when walked: pad, so the header's size holds.
              buf.fill(0, got);
              opts.onChanged?.(`/${file.entry.name}`);
            }
            file.left -= n;
            const size = file.entry.size;
            ctrl.enqueue(buf);
            if (file.left === 0) {
              closeFile();
              const pad = tarPadding(size);
              if (pad.length) ctrl.enqueue(pad);
            }
            return;
          }
          if (i >= walk.entries.length) {
            ctrl.enqueue(TAR_END);
            ctrl.close();
            return;
          }
          const e = walk.entries[i++]!;
          const header = tarHeader(e);
          // Whiteouts and opaque markers are empty: an entry with data is a file of the upper directory.
          if (e.type === "0" && e.size > 0) {
            let fd = -1;
            try {
              fd = openSync(join(walk.root, e.name), "r");
            } catch {
              // Deleted since the walk: its walked size in zeros keeps the tar valid.
              opts.onChanged?.(`/${e.name}`);
            }
            file = { fd, left: e.size, entry: e };
          }
          ctrl.enqueue(header);
        } catch (err) {
          closeFile();
          ctrl.error(
            new SeelieError(`reading the container's upper directory failed: ${errorMessage(err)}`, {
              hint: "retry, or use --layer-source api",
              cause: err,
            }),
          );
        }
      },
      cancel() {
        if (file && file.fd >= 0) closeSync(file.fd);
        file = undefined;
      },
    },
    { highWaterMark: 0 },
  );
}
