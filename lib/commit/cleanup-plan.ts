/**
 * The pure half of the clean-up: which directories hold caches, the shell scripts that list and remove
 * files inside the container (busybox `sh`/`find`/`stat` only, no bash), parsing their output, and the
 * decision which paths go. The impure half (running the scripts) is in `cleanup.ts`.
 */
import type { ChangedPath } from "./runtime.ts";

/** How far back a `/tmp` file the container wrote still counts as scratch: 48 hours. */
export const TMP_MAX_AGE_SECONDS = 48 * 3600;

/** The apt cache directories whose contents always go. */
export const APT_CACHE_DIRS = ["/var/cache/apt", "/var/lib/apt/lists"] as const;

/** One file as `stat -c '%Z %s %f %n'` reports it inside the container (lstat, symlinks not followed). */
export interface StatEntry {
  path: string;
  /** Change time (ctime), seconds since the epoch: unlike mtime, `touch -d`/`tar x` cannot set it. */
  ctime: number;
  size: number;
  kind: "file" | "dir" | "symlink" | "socket" | "fifo" | "other";
}

/** What the clean-up will remove, and why each path qualifies. */
export interface CleanupPlan {
  /** Non-directory entries to `rm -f`. */
  files: StatEntry[];
  /** Directories the container added under /tmp or in a cache to `rmdir` when empty, deepest first. */
  dirs: string[];
  /** Cache files that came with the image: they stay (removing them would add whiteouts and shed nothing). */
  imageFiles: StatEntry[];
}

/** Shell-quotes one word for `sh`. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The home directories in an `/etc/passwd` text, plus `/root`, without duplicates or `/`/`/nonexistent`. */
export function homesFromPasswd(passwd: string): string[] {
  const homes = new Set<string>(["/root"]);
  for (const line of passwd.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const home = line.split(":")[5];
    if (!home?.startsWith("/") || home === "/" || home === "/nonexistent") continue;
    homes.add(normalize(home));
  }
  return [...homes];
}

/** The value of `name` in a `KEY=VALUE` environment list. */
export function envValue(env: readonly string[], name: string): string | undefined {
  for (const kv of env) if (kv.startsWith(`${name}=`)) return kv.slice(name.length + 1);
  return undefined;
}

/** Removes duplicate and trailing slashes. */
export function normalize(p: string): string {
  const s = p.replace(/\/+/g, "/");
  return s.length > 1 ? s.replace(/\/$/, "") : s;
}

/** The absolute directory in `value`, or undefined when it is relative, empty or `/` (too vague to delete from). */
function absDir(value: string | undefined): string | undefined {
  if (!value?.startsWith("/")) return undefined;
  const n = normalize(value);
  return n === "/" ? undefined : n;
}

/**
 * Every cache directory whose contents go: apt's, `.cache/pip` of each home (the passwd homes, `/root`,
 * every `/home/*` and the container's own `HOME`: an arbitrary uid, as OpenShift runs pods, has no
 * passwd entry), `$XDG_CACHE_HOME/pip` (pip's cache when that is set) and `PIP_CACHE_DIR`.
 */
export function cacheDirs(homes: readonly string[], env: readonly string[]): string[] {
  const dirs = new Set<string>(APT_CACHE_DIRS);
  const home = absDir(envValue(env, "HOME"));
  for (const h of home ? [...homes, home] : homes) dirs.add(normalize(`${h}/.cache/pip`));
  const xdg = absDir(envValue(env, "XDG_CACHE_HOME"));
  if (xdg) dirs.add(`${xdg}/pip`);
  const pip = absDir(envValue(env, "PIP_CACHE_DIR"));
  if (pip) dirs.add(pip);
  return [...dirs];
}

/** The `/home/NAME` directories whose `.cache/pip` the listing found (users not in /etc/passwd included). */
export function homesUnderHome(stats: readonly StatEntry[]): string[] {
  const homes = new Set<string>();
  for (const s of stats) {
    const m = /^(\/home\/[^/]+)\/\.cache\/pip\//.exec(s.path);
    if (m?.[1]) homes.add(m[1]);
  }
  return [...homes];
}

/** True when `path` is `dir` itself or below it. */
export function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith("/") ? dir : `${dir}/`);
}

/**
 * What the container itself wrote, from its writable layer: paths it added, and image paths it
 * modified (copied up whole into the layer). Only these shrink the new layer when removed: removing a
 * file that came with the image adds a whiteout and sheds nothing.
 */
export interface WrittenPaths {
  added: ReadonlySet<string>;
  modified: ReadonlySet<string>;
}

/** Sorts the writable layer's changes into added and modified paths (deletions are already whiteouts). */
export function writtenPaths(changes: readonly ChangedPath[]): WrittenPaths {
  const added = new Set<string>();
  const modified = new Set<string>();
  for (const c of changes) {
    if (c.kind === "added") added.add(normalize(c.path));
    else if (c.kind === "modified") modified.add(normalize(c.path));
  }
  return { added, modified };
}

const STAT_FMT = "%Z %s %f %n";
const SEP = "--seelie--";

/**
 * The listing script, one exec: the container's clock, its /etc/passwd, then one `stat -c '%Z %s %f %n'`
 * line for every entry below each given cache dir, each passwd home's and `/home/*`'s `.cache/pip`, and `/tmp`
 * (`find -xdev`, so mounts below them stay out). Arguments: the cache dirs.
 */
export function listScript(dirs: readonly string[]): string[] {
  const script = [
    `date +%s; echo ${SEP}; cat /etc/passwd 2>/dev/null; echo ${SEP}`,
    `list() { [ -d "$1" ] && [ ! -L "$1" ] && find "$1" -xdev -mindepth 1 -exec stat -c '${STAT_FMT}' {} + 2>/dev/null; }`,
    'for d in "$@"; do list "$d"; done',
    'if [ -r /etc/passwd ]; then while IFS=: read -r _ _ _ _ _ home _; do case "$home" in /?*) list "$home/.cache/pip";; esac; done < /etc/passwd; fi',
    'for h in /home/*; do list "$h/.cache/pip"; done',
    "list /tmp",
    "true",
  ].join("\n");
  return ["sh", "-c", script, "seelie-clean", ...dirs];
}

/** True when some `/tmp` entry is recent enough to be a candidate. */
export function hasRecentTmp(stats: readonly StatEntry[], now: number, maxAge = TMP_MAX_AGE_SECONDS): boolean {
  return stats.some(
    (s) => isUnder(s.path, "/tmp") && s.path !== "/tmp" && s.kind !== "socket" && s.kind !== "fifo" && s.ctime >= now - maxAge,
  );
}

/** True when some cache entry could go (then the container's writable layer is needed to decide). */
export function hasCacheFiles(stats: readonly StatEntry[], dirs: readonly string[]): boolean {
  return stats.some(
    (s) => s.kind !== "dir" && s.kind !== "socket" && s.kind !== "fifo" && dirs.some((d) => isUnder(s.path, d) && s.path !== d),
  );
}

/** Parses the listing script's output: the container's clock, its /etc/passwd, and the stat lines. */
export function parseListing(text: string): { now?: number; passwd: string; stats: StatEntry[] } {
  const parts = text.split(`${SEP}\n`);
  if (parts.length < 3) return { now: undefined, passwd: "", stats: parseStatLines(text) };
  const now = Number.parseInt((parts[0] ?? "").trim(), 10);
  return { now: Number.isFinite(now) ? now : undefined, passwd: parts[1] ?? "", stats: parseStatLines(parts.slice(2).join(`${SEP}\n`)) };
}

/**
 * The removal script, one exec: one `rm -f` for all paths (no fork per file; directories refuse it),
 * then `rmdir` of the directories in order (deepest first; non-empty ones stay), then `kept PATH` for
 * each path still there.
 */
export function removeScript(paths: readonly string[]): string[] {
  const script = [
    'rm -f -- "$@" 2>/dev/null',
    'for d in "$@"; do if [ -d "$d" ] && [ ! -L "$d" ]; then rmdir -- "$d" 2>/dev/null; fi; done',
    'for f in "$@"; do if [ -e "$f" ] || [ -L "$f" ]; then echo "kept $f"; fi; done',
    "true",
  ].join("\n");
  return ["sh", "-c", script, "seelie-clean", ...paths];
}

/** The paths a removal script reported as still there. */
export function parseKept(text: string): Set<string> {
  const kept = new Set<string>();
  for (const line of text.split("\n")) if (line.startsWith("kept /")) kept.add(normalize(line.slice(5)));
  return kept;
}

/** Splits argument lists so one exec's argv stays well under the kernel's limits (ARG_MAX). */
export function chunkArgs(items: readonly string[], maxBytes = 96 * 1024): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  let size = 0;
  for (const it of items) {
    const n = Buffer.byteLength(it) + 1;
    if (cur.length > 0 && size + n > maxBytes) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(it);
    size += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

function kindOfMode(hex: string): StatEntry["kind"] {
  const mode = Number.parseInt(hex, 16) & 0o170000;
  switch (mode) {
    case 0o100000:
      return "file";
    case 0o040000:
      return "dir";
    case 0o120000:
      return "symlink";
    case 0o140000:
      return "socket";
    case 0o010000:
      return "fifo";
    default:
      return "other";
  }
}

const STAT_LINE = /^(\d+) (\d+) ([0-9a-fA-F]+) (\/.*)$/;

/** Parses `stat -c '%Z %s %f %n'` lines; lines that do not match (a name with a newline) are dropped, so those files stay. */
export function parseStatLines(text: string): StatEntry[] {
  const out: StatEntry[] = [];
  for (const line of text.split("\n")) {
    const m = STAT_LINE.exec(line);
    if (!m) continue;
    out.push({ ctime: Number(m[1]), size: Number(m[2]), kind: kindOfMode(m[3] ?? "0"), path: normalize(m[4] ?? "") });
  }
  return out;
}

/**
 * Decides what goes; only what the container itself wrote (`written`, its writable layer), so every
 * byte counted is a byte the new layer sheds. Cache dirs: entries it added or modified, except sockets
 * and FIFOs, and the sub-directories it added (when empty). Files that came with the image stay,
 * e.g. a base image's apt lists. `/tmp`: only entries it added whose ctime is within `maxAge` of
 * `now`, not sockets or FIFOs; directories it added recently go when empty.
 */
export function planCleanup(input: {
  stats: readonly StatEntry[];
  cacheDirs: readonly string[];
  written: WrittenPaths;
  now: number;
  maxAge?: number;
}): CleanupPlan {
  const maxAge = input.maxAge ?? TMP_MAX_AGE_SECONDS;
  const { added, modified } = input.written;
  const files = new Map<string, StatEntry>();
  const dirs = new Set<string>();
  const imageFiles: StatEntry[] = [];
  for (const s of input.stats) {
    const live = s.kind === "socket" || s.kind === "fifo";
    const inCache = input.cacheDirs.some((d) => isUnder(s.path, d) && s.path !== d);
    if (inCache) {
      if (s.kind === "dir") {
        if (added.has(s.path)) dirs.add(s.path);
      } else if (!live) {
        if (added.has(s.path) || modified.has(s.path)) files.set(s.path, s);
        else imageFiles.push(s);
      }
      continue;
    }
    if (!added.has(s.path) || !isUnder(s.path, "/tmp")) continue;
    const recent = s.ctime >= input.now - maxAge;
    if (!recent || live) continue;
    if (s.kind === "dir") dirs.add(s.path);
    else files.set(s.path, s);
  }
  const depth = (p: string) => p.split("/").length;
  return {
    files: [...files.values()].sort((a, b) => a.path.localeCompare(b.path)),
    dirs: [...dirs].sort((a, b) => depth(b) - depth(a) || a.localeCompare(b)),
    imageFiles: imageFiles.sort((a, b) => a.path.localeCompare(b.path)),
  };
}
