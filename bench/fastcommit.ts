#!/usr/bin/env bun
/**
 * Issue 13's goal: commit + push of 1 GB of changes (half random, half base64 text; 10,000 files)
 * by the compiled committer on Docker and on containerd — fast path (overlay upper directory) with
 * gzip and zstd, and the API fallback (`--layer-source api`) — against `docker commit && docker push`
 * by Debian's CLI (/usr/bin/docker), same changes, same registry, same run, alternating. Prints wall
 * times, ratios to the CLI, how long each paused the container (the CLI: the `docker commit` call,
 * for which dockerd pauses it), the committer's peak RSS, and the pushed layer against `tar | gzip -6`.
 *
 *   source /var/lib/seelie-test/env.sh; bun bench/fastcommit.ts
 *   SEELIE_BENCH_MB=200 SEELIE_BENCH_FILES=2000 SEELIE_BENCH_ROUNDS=1 bun bench/fastcommit.ts   # quick
 *   SEELIE_BENCH_RUNS=docker-fast,cli bun bench/fastcommit.ts                                  # a subset
 *
 * Every run first rewrites a marker file so no run re-uses another's pushed layer. The images are
 * pushed to a registry of the bench's own (tests/helpers/extra-registry.ts), emptied after each run: a 5 GB
 * run of every variant would otherwise leave ~60 GB in the shared test registry. Leaves nothing.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { dockerCli, need, sh, shOk, testRegistry, ctrPull, removeCtrContainers } from "../tests/helpers/services.ts";
import { COMMITTER, ensureCommitterBuilt } from "../tests/helpers/committer.ts";
import { type ExtraRegistry, extraRegistry } from "../tests/helpers/extra-registry.ts";
import { pushedImage } from "../tests/helpers/pushed-image.ts";

const MB = Number(process.env.SEELIE_BENCH_MB ?? 1024);
const FILES = Number(process.env.SEELIE_BENCH_FILES ?? 10_000);
const ROUNDS = Number(process.env.SEELIE_BENCH_ROUNDS ?? 2);
const ALL = ["docker-fast", "docker-fast-zstd", "docker-api", "containerd-fast", "containerd-fast-zstd", "containerd-api", "cli"];
const RUNS = (process.env.SEELIE_BENCH_RUNS ?? ALL.join(",")).split(",").filter((r) => ALL.includes(r));
const reg = testRegistry();
const base = need("SEELIE_TEST_BUSYBOX");
const SOCK = need("SEELIE_TEST_CONTAINERD_SOCK");
const tmp = mkdtempSync(join(tmpdir(), "seelie-bench-fast-"));
const tag = Date.now().toString(36);
const ctrArgs = (...a: string[]) => ["ctr", "--address", SOCK, "-n", "k8s.io", ...a];
let dockerId = "";
const ctrId = `seelie-bench-fast-${tag}`;
let ctrStarted = false;
let execN = 0;
let target: ExtraRegistry | undefined;
/** A Docker config directory with credentials for `target` and the test registry (the bases). */
let targetConfig = "";

const ok = shOk;

async function timed(argv: string[]): Promise<{ ms: number; rssKiB: number; stdout: string; stderr: string; code: number }> {
  const out = join(tmp, "time.txt");
  const t0 = performance.now();
  const r = await sh(["/usr/bin/time", "-v", "-o", out, ...argv]);
  const ms = performance.now() - t0;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(out, "utf8"));
  return { ms, rssKiB: Number(rss?.[1] ?? 0), ...r };
}

async function topLayerSize(image: string): Promise<number> {
  return (await pushedImage(image)).manifest.layers.at(-1)?.size ?? 0;
}

/** MB megabytes in FILES files under /data: half random bytes, half base64 text. */
function fillScript(): string {
  const per = Math.max(1, Math.floor((MB * 1024 * 1024) / FILES));
  const half = Math.floor(FILES / 2);
  const textBytes = Math.floor((per * 3) / 4);
  return `set -e; mkdir -p /data/r /data/t
     i=0; while [ $i -lt ${half} ]; do head -c ${per} /dev/urandom > /data/r/f$i; i=$((i+1)); done
     i=0; while [ $i -lt ${FILES - half} ]; do head -c ${textBytes} /dev/urandom | base64 > /data/t/f$i; i=$((i+1)); done`;
}

const mark = async (runtime: "docker" | "containerd") => {
  const s = `date +%s%N > /data/marker`;
  if (runtime === "docker") await ok(dockerCli("exec", dockerId, "sh", "-c", s));
  else await ok(ctrArgs("task", "exec", "--exec-id", `m${execN++}-${tag}`, ctrId, "sh", "-c", s));
};

interface Row {
  run: string;
  round: number;
  ms: number;
  pausedMs: number;
  rssKiB?: number;
  layer: number;
}

async function committer(run: string, round: number): Promise<Row> {
  const runtime = run.startsWith("docker") ? "docker" : "containerd";
  await mark(runtime);
  const image = `${target!.addr}/seelie-bench/fast-${run}:${tag}-${round}`;
  const args = [COMMITTER, "--image", image, "--docker-config", targetConfig, "-o", "json"];
  args.push("--container-id", runtime === "docker" ? `docker://${dockerId}` : `containerd://${ctrId}`);
  if (runtime === "containerd") args.push("--runtime-endpoint", `unix://${SOCK}`);
  args.push("--layer-source", run.endsWith("-api") ? "api" : "upperdir");
  if (run.endsWith("-zstd")) args.push("--compression", "zstd");
  const r = await timed(args);
  if (r.code !== 0) throw new Error(`${run} failed: ${r.stderr}`);
  const doc = JSON.parse(r.stdout) as { timings: Record<string, number> };
  process.stderr.write(`[bench] ${run} #${round}: ${JSON.stringify(doc.timings)}\n`);
  return { run, round, ms: r.ms, pausedMs: doc.timings.paused ?? 0, rssKiB: r.rssKiB, layer: await topLayerSize(image) };
}

async function cli(round: number): Promise<Row> {
  await mark("docker");
  const image = `${target!.addr}/seelie-bench/fast-cli:${tag}-${round}`;
  const docker = (...a: string[]) => ["/usr/bin/docker", "--config", targetConfig, ...a];
  const t0 = performance.now();
  await ok(docker("commit", dockerId, image));
  const commitMs = performance.now() - t0;
  await ok(docker("push", image));
  const ms = performance.now() - t0;
  // Not timed, and not fatal: dockerd sometimes answers a big image's removal late.
  await sh(docker("rmi", image));
  return { run: "cli", round, ms, pausedMs: commitMs, layer: await topLayerSize(image) };
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main() {
  await ensureCommitterBuilt();
  target = extraRegistry(5100 + Math.floor(Math.random() * 800));
  await target.start();
  targetConfig = join(tmp, "docker-config");
  mkdirSync(targetConfig, { mode: 0o700 });
  const auth = Buffer.from(`${reg.user}:${reg.password}`).toString("base64");
  writeFileSync(join(targetConfig, "config.json"), JSON.stringify({ auths: { [target.addr]: { auth }, [reg.addr]: { auth } } }), {
    mode: 0o600,
  });
  const started = performance.now();
  if (RUNS.some((r) => r.startsWith("docker") || r === "cli")) {
    dockerId = await ok(dockerCli("run", "-d", "--network", "none", base, "sleep", "1000000"));
    process.stderr.write(`[bench] writing ${MB} MB in ${FILES} files into docker container ${dockerId.slice(0, 12)}\n`);
    await ok(dockerCli("exec", dockerId, "sh", "-c", fillScript()));
  }
  if (RUNS.some((r) => r.startsWith("containerd"))) {
    await ctrPull(base, (a) => ok(ctrArgs(...a)));
    await ok(ctrArgs("run", "-d", base, ctrId, "sleep", "1000000"));
    ctrStarted = true;
    process.stderr.write(`[bench] writing ${MB} MB in ${FILES} files into containerd container ${ctrId}\n`);
    await ok(ctrArgs("task", "exec", "--exec-id", `fill-${tag}`, ctrId, "sh", "-c", fillScript()));
  }
  process.stderr.write(`[bench] set-up took ${fmt(performance.now() - started)}\n`);
  let tarGzip = 0;
  if (dockerId) {
    tarGzip = Number(
      (await ok(["sh", "-c", `${dockerCli("exec", dockerId, "tar", "-C", "/", "-cf", "-", "data").join(" ")} | gzip -6 | wc -c`])).trim(),
    );
  }
  const rows: Row[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const run of RUNS) {
      const row = run === "cli" ? await cli(round) : await committer(run, round);
      process.stderr.write(
        `[bench] ${run} #${round}: ${fmt(row.ms)}, paused ${fmt(row.pausedMs)}${row.rssKiB ? `, peak RSS ${(row.rssKiB / 1024).toFixed(0)} MiB` : ""}\n`,
      );
      rows.push(row);
      target.wipe();
    }
  }
  const mean = (run: string, k: "ms" | "pausedMs" = "ms") => {
    const xs = rows.filter((r) => r.run === run).map((r) => r[k]);
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  const cliMs = RUNS.includes("cli") ? mean("cli") : Number.NaN;
  const line = (c: string[]) => `| ${c.join(" | ")} |`;
  const out = [
    `load average ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")} at the end, ${availableParallelism()} cores`,
    `changes: ${MB} MB in ${FILES} files (half random, half base64 text), ${ROUNDS} round(s), runs alternating in this order: ${RUNS.join(", ")}`,
    `tar | gzip -6 of /data: ${(tarGzip / 2 ** 20).toFixed(1)} MiB`,
    "",
    line(["run", "round", "wall", "paused", "peak RSS", "pushed layer", "layer / tar|gzip"]),
    line(["---", "---", "---", "---", "---", "---", "---"]),
    ...rows.map((r) =>
      line([
        r.run,
        String(r.round),
        fmt(r.ms),
        fmt(r.pausedMs),
        r.rssKiB ? `${(r.rssKiB / 1024).toFixed(0)} MiB` : "-",
        `${(r.layer / 2 ** 20).toFixed(1)} MiB`,
        tarGzip ? (r.layer / tarGzip).toFixed(3) : "-",
      ]),
    ),
    "",
    line(["run", "mean wall", "ratio to docker commit && docker push", "mean paused"]),
    line(["---", "---", "---", "---"]),
    ...RUNS.map((run) => line([run, fmt(mean(run)), (mean(run) / cliMs).toFixed(2), fmt(mean(run, "pausedMs"))])),
  ];
  process.stdout.write(`${out.join("\n")}\n`);
}

try {
  await main();
} finally {
  if (dockerId) await sh(dockerCli("rm", "-f", dockerId));
  if (ctrStarted) await removeCtrContainers(SOCK, "k8s.io", [ctrId]);
  await target?.dispose();
  rmSync(tmp, { recursive: true, force: true });
}
