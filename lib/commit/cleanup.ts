/**
 * The clean-up run inside the target container before the commit, through `RuntimeContainer.exec`
 * (as `docker exec` would): what the container itself wrote (judged by its writable layer) into the
 * apt and pip caches, and under /tmp in the last 48 hours. See `cleanup-plan.ts` for the rules.
 */
import { InterruptedError, SeelieError } from "../errors.ts";
import {
  cacheDirs,
  chunkArgs,
  hasCacheFiles,
  hasRecentTmp,
  homesFromPasswd,
  homesUnderHome,
  listScript,
  parseKept,
  parseListing,
  planCleanup,
  removeScript,
  writtenPaths,
} from "./cleanup-plan.ts";
import type { ExecResult, RuntimeContainer } from "./runtime.ts";

/** What the clean-up did, as the committer reports it. */
export interface CleanupReport {
  skipped: boolean;
  /** Why it was skipped (a stopped container, `--no-clean`). */
  reason?: string;
  files: number;
  /** Bytes of the files removed: all were in the container's writable layer, so the new layer sheds them. */
  bytes: number;
  removed: string[];
}

async function run(c: RuntimeContainer, argv: string[], what: string, signal?: AbortSignal): Promise<ExecResult> {
  if (signal?.aborted) throw new InterruptedError("clean-up");
  const r = await c.exec(argv, signal);
  if (r.exitCode === 126 || r.exitCode === 127) {
    throw new SeelieError(`clean-up in container ${c.id.slice(0, 12)}: cannot run ${what}: ${(r.stderr || r.stdout).trim()}`, {
      hint: "the clean-up needs sh, find and stat in the container (busybox is enough); or commit with --no-clean",
    });
  }
  return r;
}

/**
 * Cleans the running container `c` and reports the files removed. The container must be running and
 * not paused (the caller checks and skips otherwise).
 */
export async function cleanContainer(
  c: RuntimeContainer,
  opts: { signal?: AbortSignal; progress?: (line: string) => void; now?: () => number } = {},
): Promise<CleanupReport> {
  const { signal } = opts;
  const progress = opts.progress ?? (() => {});
  const env = c.env;
  // One exec lists everything: clock, passwd, caches (env HOME and PIP_CACHE_DIR included), /home/*, /tmp.
  const listing = parseListing((await run(c, listScript(cacheDirs(["/root"], env)), "sh/find/stat", signal)).stdout);
  const now = listing.now ?? Math.floor((opts.now ?? Date.now)() / 1000);
  const dirs = cacheDirs([...homesFromPasswd(listing.passwd), ...homesUnderHome(listing.stats)], env);
  // The writable layer is asked only when something could go (on containerd it costs a diff).
  const needLayer = hasRecentTmp(listing.stats, now) || hasCacheFiles(listing.stats, dirs);
  const written = writtenPaths(needLayer ? await c.changes(signal) : []);
  progress(
    `clean-up: ${dirs.length} cache directories, ${written.added.size + written.modified.size} paths in the container's writable layer`,
  );
  const plan = planCleanup({ stats: listing.stats, cacheDirs: dirs, written, now });
  if (plan.imageFiles.length > 0) {
    const kb = Math.round(plan.imageFiles.reduce((n, f) => n + (f.kind === "file" ? f.size : 0), 0) / 1024);
    progress(`clean-up: ${plan.imageFiles.length} cache files (${kb} KiB) came with the image and stay: removing them would not shrink it`);
  }

  const kept = new Set<string>();
  for (const chunk of chunkArgs([...plan.files.map((f) => f.path), ...plan.dirs])) {
    for (const k of parseKept((await run(c, removeScript(chunk), "rm", signal)).stdout)) kept.add(k);
  }

  const removed = plan.files.filter((f) => !kept.has(f.path));
  if (kept.size > 0) progress(`clean-up: ${kept.size} files could not be removed (permissions?), kept`);
  const bytes = removed.reduce((n, f) => n + (f.kind === "file" ? f.size : 0), 0);
  return { skipped: false, files: removed.length, bytes, removed: removed.map((f) => f.path) };
}
