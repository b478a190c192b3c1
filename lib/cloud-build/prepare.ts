/**
 * The preparation step of an in-cluster build (`seelie image prepare`, the Pod's init container):
 * the same project checks as `seelie image build` (lib/image-build/project.ts), then the files the builder
 * needs, written into a scratch directory — never into the project, which lives on the user's storage.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { type PreparedProject, prepareProject } from "../image-build/project.ts";
import { loadConfig } from "../config/load.ts";
import { UsageError } from "../errors.ts";
import { log } from "../log.ts";
import { BUILD_TOOLS, type BuildTool } from "./types.ts";

/** Inputs of prepareBuild. */
export interface PrepareBuildOptions {
  projectDir: string;
  baseImage: string;
  tool: string;
  allowedBaseImages: readonly string[];
  /** The scratch directory to write into; undefined checks only (the CLI's local `--context_dir` check). */
  outDir?: string;
  notice?: (msg: string) => void;
}

/** What the preparation decided, as written to `<out>/prepared.json`. */
export interface PrepareBuildResult {
  tool: BuildTool;
  projectDir: string;
  /** True when the Dockerfile was generated (the project has none). */
  generated: boolean;
  baseImages: string[];
  /** Files written into the scratch directory (relative to it). */
  written: string[];
}

/** Throws a UsageError unless `tool` is one of the supported build tools. */
export function parseBuildTool(tool: string | undefined, flag = "--tool"): BuildTool {
  if (tool && (BUILD_TOOLS as readonly string[]).includes(tool)) return tool as BuildTool;
  throw new UsageError(tool ? `unknown build tool "${tool}" (${flag})` : `${flag} is required`, `use ${flag} ${BUILD_TOOLS.join("|")}`);
}

function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !rel.startsWith(sep) && rel !== "..");
}

/** Makes a copied tree writable by the builder's (different) user: Buildpacks write into the app dir. */
function makeWorldWritable(dir: string): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st || st.isSymbolicLink()) continue;
    chmodSync(p, st.isDirectory() ? 0o777 : st.mode & 0o111 ? 0o777 : 0o666);
    if (st.isDirectory()) makeWorldWritable(p);
  }
  chmodSync(dir, 0o777);
}

/**
 * Checks the project (ml.flag, Dockerfile or generated one, every FROM allow-listed — via prepareProject)
 * and, with `outDir`, writes what the tool's builder reads: `Dockerfile` (Kaniko, BuildKit, Buildah) or a
 * writable copy of the project in `app/` (Buildpacks, which cannot use a Dockerfile), plus `prepared.json`.
 */
export function prepareBuild(opts: PrepareBuildOptions): PrepareBuildResult {
  const tool = parseBuildTool(opts.tool);
  if (!opts.baseImage) throw new UsageError("--base_image is required", "pass --base_image=<registry>/<image>:<tag>");
  const projectDir = resolve(opts.projectDir);
  if (!existsSync(projectDir)) {
    throw new UsageError(
      `the build context ${projectDir} does not exist`,
      "check --context_subpath: it is the project's path on the volume",
    );
  }
  if (opts.outDir && isInside(resolve(opts.outDir), projectDir)) {
    throw new UsageError(
      `--out ${resolve(opts.outDir)} is inside the project ${projectDir}`,
      "write into a scratch directory outside the user's storage",
    );
  }
  const prepared: PreparedProject = prepareProject({
    projectDir,
    baseImage: opts.baseImage,
    allowedBaseImages: opts.allowedBaseImages,
    notice: opts.notice,
  });
  if (tool === "buildpacks") {
    if (!prepared.generated) {
      throw new UsageError(
        `${join(projectDir, "Dockerfile")} cannot be built with Buildpacks: they build from source and a run image, not from a Dockerfile`,
        "use --tool kaniko, buildkit or buildah for projects with a Dockerfile",
      );
    }
    if (existsSync(join(projectDir, "build_script.sh"))) {
      opts.notice?.(
        "Buildpacks do not run build_script.sh: only what the builder's buildpacks detect (e.g. requirements.txt) is installed",
      );
    }
  }
  const result: PrepareBuildResult = { tool, projectDir, generated: prepared.generated, baseImages: prepared.baseImages, written: [] };
  if (!opts.outDir) return result;

  const out = resolve(opts.outDir);
  mkdirSync(out, { recursive: true });
  if (tool === "buildpacks") {
    const app = join(out, "app");
    cpSync(projectDir, app, { recursive: true, dereference: false, verbatimSymlinks: true });
    makeWorldWritable(app);
    result.written.push("app/");
  } else {
    writeFileSync(join(out, "Dockerfile"), prepared.dockerfile, { mode: 0o644 });
    result.written.push("Dockerfile");
  }
  result.written.push("prepared.json");
  writeFileSync(join(out, "prepared.json"), `${JSON.stringify(result, null, 2)}\n`, { mode: 0o644 });
  return result;
}

/** `seelie image prepare` (the build Pod's init step): checks and writes, and says what it did. */
export function runPrepare(
  opts: { projectDir: string; baseImage: string; tool: string; outDir?: string },
  io: { env: Record<string, string | undefined> },
): { document: PrepareBuildResult; text: string } {
  const cfg = loadConfig({ env: io.env });
  const result = prepareBuild({
    ...opts,
    outDir: opts.outDir || undefined,
    allowedBaseImages: cfg.allowedBaseImages,
    notice: (m) => log.warn(m),
  });
  const wrote = result.written.length ? `; wrote ${result.written.join(", ")} into ${opts.outDir}` : "";
  log.info(
    `project ${result.projectDir} is ready for ${result.tool}: ${result.generated ? "generated Dockerfile" : "project Dockerfile"}, base ${result.baseImages.join(", ")}${wrote}`,
  );
  return { document: result, text: `ok ${result.tool} ${result.projectDir}` };
}
