#!/usr/bin/env bun
/**
 * Benchmark: `seelie image build` (local backend) against `docker build` (classic builder, the same
 * engine and Dockerfile) on a generated context of many files, cold (--no-cache) and warm, at two
 * context sizes; seelie's peak RSS at each size; CLI start-up times. Run: `bun bench/image-build.ts`
 * (needs the test services: `bash tests/services/up.sh`). Options: SIZES_MB="100,300" FILES_PER_MB=10 RUNS=3.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";

const ROOT = join(import.meta.dir, "..");
const DOCKER = "/usr/bin/docker";
const BASE = process.env.SEELIE_TEST_BUSYBOX ?? "127.0.0.1:5000/seelie/busybox:1";
const SIZES = (process.env.SIZES_MB ?? "100,300").split(",").map(Number);
const FILES_PER_MB = Number(process.env.FILES_PER_MB ?? 10);
const RUNS = Number(process.env.RUNS ?? 3);

interface Run {
  ms: number;
  maxRssBytes: number;
}

function run(argv: string[], env: Record<string, string> = {}): Run {
  const t0 = performance.now();
  const p = Bun.spawnSync(argv, { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const ms = performance.now() - t0;
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")} failed: ${p.stderr.toString().slice(-2000)}`);
  return { ms, maxRssBytes: Number(p.resourceUsage?.maxRSS ?? 0) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

function makeContext(mb: number): string {
  const dir = mkdtempSync(join(tmpdir(), `seelie-bench-${mb}mb-`));
  writeFileSync(join(dir, "ml.flag"), "");
  writeFileSync(join(dir, "Dockerfile"), `FROM ${BASE}\nCOPY . /workspace/code\nWORKDIR /workspace\n`);
  const files = mb * FILES_PER_MB;
  const size = Math.floor((mb * 1024 * 1024) / files);
  for (let i = 0; i < files; i++) {
    const sub = join(dir, "data", `d${i % 50}`);
    if (i < 50) mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, `f${i}.bin`), randomBytes(size));
  }
  return dir;
}

const seelieEnv = {
  SEELIE_REGISTRY_HOST: "127.0.0.1:5000",
  SEELIE_REPO: "bench",
  SEELIE_USERNAME: "bench",
  SEELIE_LOG_LEVEL: "1",
  HOME: tmpdir(),
};
const seelieBuild = (ctx: string, tag: string, noCache: boolean) =>
  run(
    [
      process.execPath,
      join(ROOT, "bin/seelie.ts"),
      "image",
      "build",
      `--project_dir=${ctx}`,
      `--tag=${tag}`,
      "--repo_type=bench",
      ...(noCache ? ["--no-cache"] : []),
    ],
    seelieEnv,
  );
const dockerBuild = (ctx: string, tag: string, noCache: boolean) =>
  run([DOCKER, "build", "-q", ...(noCache ? ["--no-cache"] : []), "-t", `127.0.0.1:5000/bench/docker-bench:${tag}`, ctx], {
    DOCKER_BUILDKIT: "0",
  });

const rows: string[][] = [];
for (const mb of SIZES) {
  const ctx = makeContext(mb);
  try {
    for (const mode of ["cold", "warm"] as const) {
      const s: Run[] = [];
      const d: Run[] = [];
      if (mode === "warm") {
        seelieBuild(ctx, `w${mb}`, false);
        dockerBuild(ctx, `w${mb}`, false);
      }
      for (let i = 0; i < RUNS; i++) {
        // Alternate the order so neither tool always meets a warmer page cache.
        if (i % 2 === 0) {
          s.push(seelieBuild(ctx, `${mode}${mb}`, mode === "cold"));
          d.push(dockerBuild(ctx, `${mode}${mb}`, mode === "cold"));
        } else {
          d.push(dockerBuild(ctx, `${mode}${mb}`, mode === "cold"));
          s.push(seelieBuild(ctx, `${mode}${mb}`, mode === "cold"));
        }
      }
      const sm = median(s.map((r) => r.ms));
      const dm = median(d.map((r) => r.ms));
      rows.push([
        `${mb} MB / ${mb * FILES_PER_MB} files`,
        mode,
        sm.toFixed(0),
        dm.toFixed(0),
        (sm / dm).toFixed(2),
        (Math.max(...s.map((r) => r.maxRssBytes)) / 1048576).toFixed(0),
        (Math.max(...d.map((r) => r.maxRssBytes)) / 1048576).toFixed(0),
      ]);
    }
  } finally {
    rmSync(ctx, { recursive: true, force: true });
    Bun.spawnSync(
      [
        DOCKER,
        "rmi",
        "-f",
        `127.0.0.1:5000/bench/bench-bench:cold${mb}`,
        `127.0.0.1:5000/bench/bench-bench:warm${mb}`,
        `127.0.0.1:5000/bench/bench-bench:w${mb}`,
        `127.0.0.1:5000/bench/docker-bench:cold${mb}`,
        `127.0.0.1:5000/bench/docker-bench:warm${mb}`,
        `127.0.0.1:5000/bench/docker-bench:w${mb}`,
      ],
      { stdout: "ignore", stderr: "ignore" },
    );
    Bun.spawnSync([DOCKER, "image", "prune", "-f"], { stdout: "ignore", stderr: "ignore" });
  }
}

const header = ["context", "cache", "seelie ms", "docker build ms", "ratio", "seelie peak RSS MB", "docker CLI peak RSS MB"];
const table = [header, ...rows];
const widths = header.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
console.log(
  `\nseelie image build vs docker build (classic builder, DOCKER_BUILDKIT=0), median of ${RUNS} runs, ${new Date().toISOString()}`,
);
for (const r of table) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join("  "));

// Start-up: the time to first useful output for commands that touch no engine.
const startup = (argv: string[]) => median(Array.from({ length: 10 }, () => run(argv, seelieEnv).ms));
const help = startup([process.execPath, join(ROOT, "bin/seelie.ts"), "--help"]);
const dry = startup([
  process.execPath,
  join(ROOT, "bin/seelie.ts"),
  "image",
  "build",
  `--project_dir=${join(ROOT, "examples/hello-training")}`,
  `--base_image=${BASE}`,
  "--tag=t",
  "--repo_type=bench",
  "--dry-run",
]);
console.log(`\nstart-up (median of 10): seelie --help ${help.toFixed(0)} ms; seelie image build --dry-run ${dry.toFixed(0)} ms`);
