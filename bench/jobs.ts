#!/usr/bin/env bun
/**
 * Benchmark of the job store's read commands: a store with 100,000 jobs (written in one transaction
 * in a temp dir), then the median wall time of the real CLI (`bun bin/seelie.ts …`, a new process
 * each run) for `job get -o cmd` (goal < 50 ms) and `job list` without --refresh (goal < 200 ms, with
 * every filter: a filter that matches nothing scans the whole table).
 * Usage: bun bench/jobs.ts [--jobs N] [--runs N]
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { JobStore } from "../lib/jobs/store.ts";
import type { JobSpec } from "../lib/jobs/types.ts";

const argv = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const JOBS = opt("--jobs", 100_000);
const RUNS = opt("--runs", 21);
const WARMUP = 3;
const SEELIE = resolve(import.meta.dir, "../bin/seelie.ts");

const dir = mkdtempSync(join(tmpdir(), "seelie-bench-"));
const env = { ...process.env, SEELIE_HOME: dir, SEELIE_CONFIG: join(dir, "config.yaml"), SEELIE_JOB_STORE: "" };

function fill(path: string): number {
  const t0 = performance.now();
  const store = JobStore.open(path, { create: true });
  const statuses = ["Recorded", "Submitted", "Running", "Succeeded", "Failed"] as const;
  store.transaction(() => {
    for (let i = 1; i <= JOBS; i++) {
      const spec: JobSpec = {
        name: `job ${i} of the benchmark`,
        description: i % 3 === 0 ? "" : `resnet run ${i}: it's "fast" $HOME \`x\`\nsecond line`,
        cluster: i % 4 === 0 ? "local" : "dev",
        namespace: "default",
        cpu: 1 + (i % 8),
        memory: 8,
        gpu: i % 2,
        workerCount: 1 + (i % 4),
        image: "registry.cn-shanghai.aliyuncs.com/shuaiyy/mihoyo-ai:tf2.4.3-gpu-jupyter-lab",
        entrypointType: "bash -c",
        entrypoint: `sleep 10m; echo failed; exit ${i % 2}`,
        env: [
          { name: "enable_ema", value: "1" },
          { name: "RUN", value: String(i) },
        ],
      };
      store.insert(spec, statuses[i % statuses.length]!);
    }
  });
  store.close();
  return performance.now() - t0;
}

/** CPU time (user + system) of each run, in ms: less sensitive than wall time to a busy machine. */
const cpu: number[] = [];

function time(argv: string[]): number {
  const t0 = performance.now();
  const p = Bun.spawnSync(argv, { env, stdout: "pipe", stderr: "pipe" });
  const ms = performance.now() - t0;
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")} failed: ${p.stderr.toString()}`);
  cpu.push(Number(p.resourceUsage?.cpuTime.total ?? 0) / 1000);
  return ms;
}

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { median: q(0.5), min: s[0]!, p90: q(0.9) };
}

try {
  const store = join(dir, "jobs.db");
  const fillMs = fill(store);
  console.log(
    `store: ${JOBS.toLocaleString("en")} jobs in ${(fillMs / 1000).toFixed(2)} s, ${(statSync(store).size / 1e6).toFixed(1)} MB (${store})`,
  );
  console.log(`runs: ${RUNS} per command after ${WARMUP} warm-up runs; each run is a new process (bun ${Bun.version})\n`);
  const mid = String(Math.ceil(JOBS / 2));
  const cases: { label: string; args: string[]; goal?: number }[] = [
    { label: "bun -e 0 (start-up floor)", args: [] },
    { label: `job get --job_id ${mid} -o cmd`, args: ["job", "get", "--job_id", mid, "-o", "cmd"], goal: 50 },
    { label: "job list (default limit 20)", args: ["job", "list"], goal: 200 },
    { label: "job list -o json", args: ["job", "list", "-o", "json"] },
    { label: "job list --status failed --name 99", args: ["job", "list", "--status", "failed", "--name", "99"], goal: 200 },
    { label: "job list --status deleted (no match: full scan)", args: ["job", "list", "--status", "deleted"], goal: 200 },
    { label: "job list --name nomatch (full scan)", args: ["job", "list", "--name", "nomatch"], goal: 200 },
    { label: "job list --cluster local --limit 1000", args: ["job", "list", "--cluster", "local", "--limit", "1000"], goal: 200 },
    { label: "job list --limit 1000 -o json", args: ["job", "list", "--limit", "1000", "-o", "json"], goal: 200 },
    { label: `job get --job_id ${mid} -o json`, args: ["job", "get", "--job_id", mid, "-o", "json"] },
  ];
  const rows: string[][] = [["command", "median ms", "min ms", "p90 ms", "cpu ms", "goal", "ok"]];
  for (const c of cases) {
    const run = () => time(c.args.length ? [process.execPath, SEELIE, ...c.args] : [process.execPath, "-e", "0"]);
    for (let i = 0; i < WARMUP; i++) run();
    cpu.length = 0;
    const st = stats(Array.from({ length: RUNS }, run));
    const c50 = stats(cpu).median;
    rows.push([
      c.label,
      st.median.toFixed(1),
      st.min.toFixed(1),
      st.p90.toFixed(1),
      c50.toFixed(1),
      c.goal ? `< ${c.goal}` : "",
      c.goal ? (st.median < c.goal ? "yes" : "NO") : "",
    ]);
  }
  const load = (
    await Bun.file("/proc/loadavg")
      .text()
      .catch(() => "")
  )
    .split(" ")
    .slice(0, 3)
    .join(" ");
  if (load) console.log(`load average during the runs: ${load} (on ${navigator.hardwareConcurrency} CPUs)\n`);
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((v, i) => (i === 0 ? v.padEnd(w[i]!) : v.padStart(w[i]!))).join("  "));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
