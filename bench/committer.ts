#!/usr/bin/env bun
/**
 * Benchmark of the committer: one container with a few hundred MB of changes in many files, committed
 * and pushed by the compiled committer (Docker; containerd when available) and by `docker commit` +
 * `docker push` with the CLI, alternating, each run on a fresh layer (a marker file changes every
 * round so no run reuses another's pushed blobs). Prints wall times, ratios, the committer's peak RSS,
 * and the pushed top layer next to `tar | gzip` of the same changes.
 *
 * Usage: source /var/lib/seelie-test/env.sh; bun bench/committer.ts [--mb 240] [--rounds 2] [--no-containerd]
 * Writes only to a temp dir; removes its containers and local images.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { dockerCli, need, sh, shOk, testRegistry } from "../tests/helpers/services.ts";
import { COMMITTER, ensureCommitterBuilt } from "../tests/helpers/committer.ts";

const { values } = parseArgs({
  options: {
    mb: { type: "string", default: "240" },
    rounds: { type: "string", default: "2" },
    "no-containerd": { type: "boolean", default: false },
  },
});
const WITH_CONTAINERD = !values["no-containerd"];
const CTR_SOCK = process.env.SEELIE_TEST_CONTAINERD_SOCK || "/run/containerd/containerd.sock";
const ctrArgs = (...a: string[]) => ["ctr", "--address", CTR_SOCK, "-n", "k8s.io", ...a];
const MB = Number(values.mb);
const ROUNDS = Number(values.rounds);
const reg = testRegistry();
const base = need("SEELIE_TEST_BUSYBOX");
const tmp = mkdtempSync(join(tmpdir(), "seelie-bench-"));
const tag = Date.now().toString(36);
const cleanupImages: string[] = [];
let container = "";
let cdContainer = "";
let execN = 0;

const ok = shOk;

async function docker(...args: string[]): Promise<string> {
  const r = await sh(dockerCli(...args));
  if (r.code !== 0) throw new Error(`docker ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Runs argv under /usr/bin/time -v; returns wall ms and peak RSS in KiB. */
async function timed(argv: string[]): Promise<{ ms: number; rssKiB: number; stdout: string; stderr: string; code: number }> {
  const out = join(tmp, "time.txt");
  const t0 = performance.now();
  const r = await sh(["/usr/bin/time", "-v", "-o", out, ...argv]);
  const ms = performance.now() - t0;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(out, "utf8"));
  return { ms, rssKiB: Number(rss?.[1] ?? 0), ...r };
}

async function topLayerSize(image: string): Promise<number> {
  const [host, ...rest] = image.split("/");
  const path = rest.join("/");
  const i = path.lastIndexOf(":");
  const url = `http://${host}/v2/${path.slice(0, i)}/manifests/${path.slice(i + 1)}`;
  const r = await fetch(url, {
    headers: {
      accept: "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json",
      authorization: `Basic ${Buffer.from(`${reg.user}:${reg.password}`).toString("base64")}`,
    },
  });
  const m = (await r.json()) as { layers: { size: number }[] };
  return m.layers.at(-1)?.size ?? 0;
}

function fmtMs(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

async function main() {
  await ensureCommitterBuilt();
  container = await docker("run", "-d", base, "sleep", "100000");
  const files = Math.round((MB * 1024) / 128);
  const rnd = Math.round(files * 0.6);
  process.stderr.write(
    `[bench] writing ${MB} MB in ${files} files of 128 KiB (60% random, 40% base64 text) into ${container.slice(0, 12)}\n`,
  );
  const fill = `mkdir -p /data/a /data/b /tmp/scratch
     i=0; while [ $i -lt ${rnd} ]; do head -c 131072 /dev/urandom > /data/a/r$i; i=$((i+1)); done
     i=0; while [ $i -lt ${files - rnd} ]; do head -c 98304 /dev/urandom | base64 > /data/b/t$i; i=$((i+1)); done
     i=0; while [ $i -lt 200 ]; do echo s > /tmp/scratch/s$i; i=$((i+1)); done`;
  await docker("exec", container, "sh", "-c", fill);
  if (WITH_CONTAINERD) {
    await ok(["sh", "-c", `${dockerCli("save", base).join(" ")} | ${ctrArgs("images", "import", "-").join(" ")} >/dev/null`]);
    cdContainer = `seelie-bench-${tag}`;
    await ok(ctrArgs("run", "-d", base, cdContainer, "sleep", "100000"));
    process.stderr.write(`[bench] the same into containerd container ${cdContainer}\n`);
    await ok(ctrArgs("task", "exec", "--exec-id", `f${execN++}`, cdContainer, "sh", "-c", fill));
  }
  const changeBytes = Number(await docker("exec", container, "sh", "-c", "du -sk /data | cut -f1")) * 1024;
  const gz = await sh(["sh", "-c", `${dockerCli("exec", container, "tar", "-C", "/", "-cf", "-", "data").join(" ")} | gzip -6 | wc -c`]);
  const tarGzip = Number(gz.stdout.trim());

  const rows: { name: string; ms: number; rssKiB?: number; layer: number }[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    await docker("exec", container, "sh", "-c", `date +%s%N > /data/marker; mkdir -p /tmp/scratch; echo s > /tmp/scratch/r${round}`);
    const img1 = `${reg.addr}/seelie-bench/committer:${tag}-${round}`;
    const a = await timed([
      COMMITTER,
      "--container-id",
      `docker://${container}`,
      "--image",
      img1,
      "--docker-config",
      reg.dockerConfig,
      "-o",
      "json",
    ]);
    if (a.code !== 0) throw new Error(`committer failed: ${a.stderr}`);
    const t = (JSON.parse(a.stdout) as { timings: Record<string, number> }).timings;
    process.stderr.write(
      `[bench] committer steps: clean ${t.clean} ms, commit ${t.commit} ms, push ${t.push} ms, remove ${t.remove} ms, total ${t.total} ms\n`,
    );
    rows.push({ name: `committer (docker) #${round}`, ms: a.ms, rssKiB: a.rssKiB, layer: await topLayerSize(img1) });

    await docker("exec", container, "sh", "-c", `date +%s%N > /data/marker`);
    const img3 = `${reg.addr}/seelie-bench/committer-noclean:${tag}-${round}`;
    const c = await timed([
      COMMITTER,
      "--container-id",
      `docker://${container}`,
      "--image",
      img3,
      "--no-clean",
      "--docker-config",
      reg.dockerConfig,
      "-o",
      "json",
    ]);
    if (c.code !== 0) throw new Error(`committer --no-clean failed: ${c.stderr}`);
    rows.push({ name: `committer --no-clean (docker) #${round}`, ms: c.ms, rssKiB: c.rssKiB, layer: await topLayerSize(img3) });

    if (WITH_CONTAINERD) {
      await ok(
        ctrArgs(
          "task",
          "exec",
          "--exec-id",
          `m${execN++}`,
          cdContainer,
          "sh",
          "-c",
          `date +%s%N > /data/marker; mkdir -p /tmp/scratch; echo s > /tmp/scratch/r${round}`,
        ),
      );
      const img4 = `${reg.addr}/seelie-bench/committer-containerd:${tag}-${round}`;
      const d = await timed([
        COMMITTER,
        "--container-id",
        `containerd://${cdContainer}`,
        "--image",
        img4,
        "--runtime-endpoint",
        `unix://${CTR_SOCK}`,
        "--docker-config",
        reg.dockerConfig,
        "-o",
        "json",
      ]);
      if (d.code !== 0) throw new Error(`committer (containerd) failed: ${d.stderr}`);
      const td = (JSON.parse(d.stdout) as { timings: Record<string, number> }).timings;
      process.stderr.write(
        `[bench] committer (containerd) steps: clean ${td.clean} ms, commit ${td.commit} ms, push ${td.push} ms, remove ${td.remove} ms, total ${td.total} ms\n`,
      );
      rows.push({ name: `committer (containerd) #${round}`, ms: d.ms, rssKiB: d.rssKiB, layer: await topLayerSize(img4) });
    }

    await docker("exec", container, "sh", "-c", `date +%s%N > /data/marker`);
    const img2 = `${reg.addr}/seelie-bench/cli:${tag}-${round}`;
    cleanupImages.push(img2);
    const b = await timed([
      "sh",
      "-c",
      `${dockerCli("commit", container, img2).join(" ")} >/dev/null && ${dockerCli("push", img2).join(" ")} >/dev/null && ${dockerCli("rmi", img2).join(" ")} >/dev/null`,
    ]);
    if (b.code !== 0) throw new Error(`docker commit/push failed: ${b.stderr}`);
    rows.push({ name: `docker commit+push (CLI) #${round}`, ms: b.ms, layer: await topLayerSize(img2) });
  }

  const mean = (prefix: string) => {
    const xs = rows.filter((r) => r.name.startsWith(prefix)).map((r) => r.ms);
    return xs.reduce((s, x) => s + x, 0) / xs.length;
  };
  const ratio = mean("committer (docker)") / mean("docker commit");
  const ratioNoClean = mean("committer --no-clean") / mean("docker commit");
  const ratioCd = WITH_CONTAINERD ? mean("committer (containerd)") / mean("docker commit") : Number.NaN;
  const line = (cols: string[]) => `| ${cols.join(" | ")} |`;
  const out = [
    `changes: ${(changeBytes / 2 ** 20).toFixed(0)} MiB in ${files + 1} files under /data (+ ${200 + ROUNDS} scratch files in /tmp); tar|gzip -6 of /data: ${(tarGzip / 2 ** 20).toFixed(1)} MiB`,
    "",
    line(["run", "wall", "peak RSS", "pushed top layer"]),
    line(["---", "---", "---", "---"]),
    ...rows.map((r) =>
      line([r.name, fmtMs(r.ms), r.rssKiB ? `${(r.rssKiB / 1024).toFixed(0)} MiB` : "-", `${(r.layer / 2 ** 20).toFixed(1)} MiB`]),
    ),
    "",
    `wall-time ratio committer(docker) / docker CLI (mean of ${ROUNDS}): ${ratio.toFixed(2)}`,
    `wall-time ratio committer --no-clean (docker) / docker CLI (mean of ${ROUNDS}): ${ratioNoClean.toFixed(2)}`,
    ...(WITH_CONTAINERD ? [`wall-time ratio committer (containerd) / docker CLI (mean of ${ROUNDS}): ${ratioCd.toFixed(2)}`] : []),
    `pushed layer / tar|gzip: ${(rows[0]!.layer / tarGzip).toFixed(3)}`,
  ];
  process.stdout.write(`${out.join("\n")}\n`);
}

try {
  await main();
} finally {
  if (container) await sh(dockerCli("rm", "-f", container));
  if (cdContainer) {
    await sh(ctrArgs("task", "kill", "-s", "KILL", cdContainer));
    await Bun.sleep(500);
    await sh(ctrArgs("task", "rm", "-f", cdContainer));
    await sh(ctrArgs("containers", "rm", cdContainer));
  }
  for (const i of cleanupImages) await sh(dockerCli("rmi", "-f", i));
  rmSync(tmp, { recursive: true, force: true });
}
