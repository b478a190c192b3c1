/**
 * Shared by the committer's integration tests and benchmark: the compiled executable (built when
 * absent) and a way to run it.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "../..");
export const COMMITTER = join(ROOT, "dist/seelie-committer");

/** Builds dist/seelie-committer with `bun run build:committer` unless it is there. */
export async function ensureCommitterBuilt(): Promise<string> {
  if (existsSync(COMMITTER)) return COMMITTER;
  const p = Bun.spawn(["bun", "run", "build:committer"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`bun run build:committer failed: ${err}`);
  return COMMITTER;
}

/** The result of one committer run. */
export interface CommitterRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The parsed `-o json` document, when stdout held one. */
  json?: {
    image: string;
    digest: string;
    size: number;
    layers: number;
    runtime: string;
    containerId: string;
    cleanup: { skipped: boolean; reason?: string; files: number; bytes: number; removed: string[] };
    timings: Record<string, number>;
  };
}

/** Runs the compiled committer with `args` (and `-o json`), returning exit code, output and the parsed result. */
export async function runCommitter(args: string[], env: Record<string, string> = {}): Promise<CommitterRun> {
  const p = Bun.spawn([COMMITTER, ...args, "-o", "json"], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  let json: CommitterRun["json"];
  try {
    json = stdout.trim() ? JSON.parse(stdout) : undefined;
  } catch {
    json = undefined;
  }
  return { code, stdout, stderr, json };
}
