import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { UsageError, errorMessage } from "../errors.ts";
import { hasReinclusions, isIgnored, parseDockerignore, type IgnorePattern } from "./dockerignore.ts";

/** The name under which a generated Dockerfile travels in the context (kept out of COPY by .dockerignore). */
export const GENERATED_DOCKERFILE = ".seelie.Dockerfile";

/** The files of a build context after `.dockerignore`, checked for links that escape it. */
export interface ContextListing {
  root: string;
  /** Relative, slash-separated paths of everything sent (files, dirs, links). */
  entries: string[];
  ignoreText: string;
  patterns: IgnorePattern[];
}

function toSlash(p: string): string {
  return sep === "/" ? p : p.split(sep).join("/");
}

/**
 * Walks the context honouring `.dockerignore` (the Dockerfile and .dockerignore always travel, as with
 * the docker CLI) and refuses a symlink whose target lies outside the context: its target must not
 * end up in the image, and silently shipping a dangling link would surprise the user.
 */
export function listContext(root: string): ContextListing {
  let ignoreText = "";
  try {
    ignoreText = readFileSync(join(root, ".dockerignore"), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new UsageError(`cannot read ${join(root, ".dockerignore")}: ${errorMessage(err)}`, "check the file's permissions");
    }
  }
  const patterns = parseDockerignore(ignoreText);
  const walkIgnored = hasReinclusions(patterns);
  const entries: string[] = [];
  const always = new Set(["Dockerfile", ".dockerignore"]);
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (err) {
      throw new UsageError(
        `cannot read ${dir} in the build context: ${errorMessage(err)}`,
        "fix its permissions or list it in .dockerignore",
      );
    }
    for (const name of names) {
      const abs = join(dir, name);
      const rel = toSlash(relative(root, abs));
      const ignored = !always.has(rel) && isIgnored(rel, patterns);
      const st = lstatSync(abs);
      if (st.isDirectory()) {
        if (ignored && !walkIgnored) continue;
        if (!ignored) entries.push(rel);
        walk(abs);
        continue;
      }
      if (ignored) continue;
      if (st.isSymbolicLink()) {
        const target = readlinkSync(abs);
        const resolved = resolve(dirname(abs), target);
        if (resolved !== root && !resolved.startsWith(root + sep)) {
          throw new UsageError(
            `${abs} is a symlink to ${target}, outside the project; its target would not be in the image`,
            `copy the file into the project instead, or list ${rel} in .dockerignore`,
          );
        }
      } else if (!st.isFile()) {
        continue; // sockets, FIFOs, devices: docker skips them too
      }
      entries.push(rel);
    }
  };
  walk(root);
  // A re-included file below an excluded directory still needs its parent directories.
  const all = new Set(entries);
  for (const e of entries) {
    for (let i = e.indexOf("/"); i > 0; i = e.indexOf("/", i + 1)) all.add(e.slice(0, i));
  }
  return { root, entries: [...all].sort(), ignoreText, patterns };
}

/**
 * Streams the context as a tar (no whole-context buffering). With `generatedDockerfile`, adds it as
 * GENERATED_DOCKERFILE plus a .dockerignore entry that keeps it (and a .dockerignore the project did
 * not have) out of `COPY .`, as the docker CLI does for a Dockerfile from stdin.
 */
export function contextTar(listing: ContextListing, generatedDockerfile?: string): NodeJS.ReadableStream {
  const keep = new Set(listing.entries.map((e) => join(listing.root, e)));
  keep.add(listing.root);
  const hadIgnore = listing.entries.includes(".dockerignore");
  if (generatedDockerfile !== undefined) keep.delete(join(listing.root, ".dockerignore"));
  const opts = {
    ignore: (abs: string) => !keep.has(abs),
    dereference: false,
    sort: true,
    umask: 0, // keep the project's modes as they are, as the docker CLI does
    map(header: { uid?: number; gid?: number; name: string }) {
      // Owner root, as the docker CLI sends it: the engine's cache then sees identical files as identical.
      header.uid = 0;
      header.gid = 0;
      return header;
    },
    finalize: generatedDockerfile === undefined,
    finish(p: { entry(h: object, body: string): void; finalize(): void }) {
      if (generatedDockerfile === undefined) return;
      const ignore = `${listing.ignoreText}${listing.ignoreText && !listing.ignoreText.endsWith("\n") ? "\n" : ""}${GENERATED_DOCKERFILE}\n${hadIgnore ? "" : ".dockerignore\n"}`;
      p.entry({ name: GENERATED_DOCKERFILE, mode: 0o644, mtime: new Date(0) }, generatedDockerfile);
      p.entry({ name: ".dockerignore", mode: 0o644, mtime: new Date(0) }, ignore);
      p.finalize();
    },
  };
  // Loaded only when a build really sends a context (not for dry runs or refusals).
  const { pack } = require("tar-fs") as typeof import("tar-fs");
  return pack(listing.root, opts as unknown as Parameters<typeof pack>[1]) as unknown as NodeJS.ReadableStream;
}
