#!/usr/bin/env bun
/**
 * Benchmark of the native containerd commit path against `docker commit` + `docker push` by the CLI,
 * on the same changes (MB megabytes in 1 MiB files, half random, half compressible text):
 *   source /var/lib/seelie-test/env.sh; bun bench/containerd-commit.ts [MB…]   (default: 100 300)
 * Prints, per size: wall times, ratio, the committer's peak RSS growth, pushed layer size vs tar|gzip.
 */
import { readFileSync } from "node:fs";
import { findContainerdContainer } from "../lib/containerd/container.ts";
import { connectContainerd } from "../lib/containerd/client.ts";

const env = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set: source /var/lib/seelie-test/env.sh`);
  return v;
};
const REG = env("SEELIE_TEST_REGISTRY");
const BASE = env("SEELIE_TEST_BUSYBOX");
const SOCK = env("SEELIE_TEST_CONTAINERD_SOCK");
const DOCKER_CFG = env("SEELIE_TEST_DOCKER_CONFIG");
const user = env("SEELIE_TEST_REGISTRY_USER");
const password = readFileSync(env("SEELIE_TEST_REGISTRY_PASSWORD_FILE"), "utf8").trim();
const auth = { serveraddress: REG, username: user, password, source: "bench" };
const tag = Date.now().toString(36);

async function run(argv: string[], input?: string): Promise<string> {
  const p = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe", stdin: input === undefined ? "ignore" : new TextEncoder().encode(input) });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${argv.join(" ")}: ${err}`);
  return out;
}
const docker = (...a: string[]) => run(["/usr/bin/docker", "--config", DOCKER_CFG, ...a]);
const ctr = (...a: string[]) => run(["ctr", "-n", "k8s.io", ...a]);

const fill = (mb: number) =>
  `mkdir -p /data && i=0; while [ $i -lt ${mb} ]; do if [ $((i % 2)) -eq 0 ]; then head -c 1048576 /dev/urandom > /data/f$i; ` +
  `else yes "seelie benchmark line $i" | head -c 1048576 > /data/f$i; fi; i=$((i+1)); done`;

async function bench(mb: number) {
  // containerd, natively
  const id = `seelie-bench-${mb}-${tag}`;
  await ctr("image", "pull", "--plain-http", "--user", `${user}:${password}`, BASE);
  await ctr("run", "-d", BASE, id, "sh", "-c", "sleep 100000");
  const ct = await findContainerdContainer({ socketPath: SOCK, namespace: "k8s.io", id });
  let peak = 0;
  try {
    const w = await ct.exec(["sh", "-c", fill(mb)]);
    if (w.exitCode !== 0) throw new Error(w.stderr);
    Bun.gc(true);
    const rss0 = process.memoryUsage().rss;
    peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    const t0 = performance.now();
    const changes = await ct.changes();
    const tChanges = performance.now() - t0;
    const timings: Record<string, number> = {};
    const t1 = performance.now();
    const r = await ct.commit({
      image: `${REG}/seelie-bench/ctrd-${mb}:${tag}`,
      push: true,
      auth,
      keepImage: false,
      pause: true,
      progress: () => {},
      timings,
    });
    const tCommit = performance.now() - t1;
    clearInterval(sampler);

    // tar | gzip of the same changes (the container's upper directory), for the layer size.
    const c = await connectContainerd({ socketPath: SOCK, namespace: "k8s.io" });
    const mounts = (await c.snapshots.mounts({ snapshotter: "overlayfs", key: id })).mounts;
    c.close();
    const upper = mounts[0]?.options.find((o) => o.startsWith("upperdir="))?.slice("upperdir=".length);
    const gz = upper ? Number((await run(["sh", "-c", `tar -C ${upper} -cf - . | gzip | wc -c`])).trim()) : NaN;

    // docker commit + docker push by the CLI, same changes
    const dname = `seelie-bench-${mb}-${tag}`;
    await docker("pull", BASE);
    await docker("run", "-d", "--name", dname, BASE, "sh", "-c", "sleep 100000");
    await docker("exec", dname, "sh", "-c", fill(mb));
    const dimg = `${REG}/seelie-bench/docker-${mb}:${tag}`;
    const t2 = performance.now();
    await docker("commit", dname, dimg);
    await docker("push", dimg);
    const tDocker = performance.now() - t2;
    await docker("rm", "-f", dname);
    await docker("rmi", "-f", dimg);

    const newLayer = r.size - 1069148;
    console.log(
      JSON.stringify({
        changes_mb: mb,
        changed_paths: changes.length,
        changes_ms: Math.round(tChanges),
        containerd_commit_push_ms: Math.round(tCommit),
        steps_ms: timings,
        docker_cli_commit_push_ms: Math.round(tDocker),
        ratio: +(tCommit / tDocker).toFixed(2),
        peak_rss_growth_mb: +((peak - rss0) / 1048576).toFixed(1),
        pushed_new_layer_bytes: newLayer,
        tar_gzip_bytes: gz,
      }),
    );
  } finally {
    ct.close();
    await run([
      "sh",
      "-c",
      `ctr -n k8s.io task kill -s 9 ${id}; sleep 0.5; ctr -n k8s.io task rm -f ${id}; ctr -n k8s.io c rm ${id}`,
    ]).catch(() => undefined);
  }
}

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
for (const mb of sizes.length ? sizes : [100, 300]) await bench(mb);
