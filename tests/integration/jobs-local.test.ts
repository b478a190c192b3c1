/**
 * `--cluster local` on the test's real dockerd: the workers run as containers on a per-job network
 * with limits, env and TF_CONFIG, and `job get` reports their live status from exit codes.
 */
import { afterAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { JobStore } from "../../lib/jobs/store.ts";
import { cli, tempHome } from "../helpers/jobs.ts";
import { dockerCli, need, sh } from "../helpers/services.ts";

const busybox = need("SEELIE_TEST_BUSYBOX");
const h = tempHome();
const env = { ...h.env, DOCKER_HOST: `unix://${need("SEELIE_TEST_DOCKER_SOCK")}` };

afterAll(async () => {
  const store = JobStore.open(h.store);
  for (const j of store.list({ limit: 1000 })) {
    if (j.backend?.kind !== "local") continue;
    for (const c of j.backend.containers) await sh(dockerCli("rm", "-f", c));
    if (j.backend.network) await sh(dockerCli("network", "rm", j.backend.network));
  }
  store.close();
  rmSync(h.home, { recursive: true, force: true });
});

async function jobJson(id: number) {
  const r = await cli(["job", "get", "--job_id", String(id), "-o", "json"], env);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

async function waitFor(id: number, statuses: string[], ms = 60_000) {
  const end = Date.now() + ms;
  for (;;) {
    const j = await jobJson(id);
    if (statuses.includes(j.status) || Date.now() > end) return j;
    await Bun.sleep(500);
  }
}

test("two workers run on the local engine, see each other, and the job succeeds", async () => {
  const script =
    'echo "TF_CONFIG=$TF_CONFIG"; test "$GREETING" = "hello world"; ping -c 1 -W 5 worker-0 >/dev/null && ping -c 1 -W 5 worker-1 >/dev/null; sleep 2';
  const sub = await cli(
    [
      "submit",
      "tfjob",
      "--name",
      "local two",
      "--cluster",
      "local",
      "--cpu",
      "0.5",
      "--memory",
      "0.25",
      "--gpu",
      "0",
      "--worker-count",
      "2",
      "--image",
      busybox,
      "--entrypoint-type",
      "sh -c",
      "--entrypoint",
      script,
      "-E",
      "GREETING=hello world",
      "-E",
      "B=1",
      "-o",
      "json",
    ],
    env,
  );
  expect(sub.stderr).toContain("submitted");
  expect(sub.code).toBe(0);
  const id = JSON.parse(sub.stdout).job_id as number;
  const first = await jobJson(id);
  expect(["Created", "Running", "Succeeded"]).toContain(first.status);
  const names: string[] = first.backend.containers;
  expect(names).toHaveLength(2);

  const inspect = JSON.parse((await sh(dockerCli("inspect", names[1]!))).stdout)[0];
  expect(inspect.HostConfig.NanoCpus).toBe(5e8);
  expect(inspect.HostConfig.Memory).toBe(256 * 1024 * 1024);
  expect(inspect.Config.Labels["seelie.io/job-id"]).toBe(String(id));
  expect(inspect.Config.Env).toContain("GREETING=hello world");
  expect(inspect.Config.Entrypoint).toEqual(["sh", "-c", script]);
  const tf = inspect.Config.Env.find((e: string) => e.startsWith("TF_CONFIG="));
  expect(JSON.parse(tf.slice("TF_CONFIG=".length))).toEqual({
    cluster: { worker: ["worker-0:2222", "worker-1:2222"] },
    task: { type: "worker", index: 1 },
  });
  expect(Object.keys(inspect.NetworkSettings.Networks)).toEqual([first.backend.network]);

  const done = await waitFor(id, ["Succeeded", "Failed"]);
  expect(done.status).toBe("Succeeded");
  expect(done.message).toBe("worker 0: exited (0), worker 1: exited (0)");
  const text = await cli(["job", "get", "--job_id", String(id)], env);
  expect(text.stdout).toContain("Status      Succeeded");
  const list = await cli(["job", "list", "--status", "succeeded", "-o", "json"], env);
  expect(JSON.parse(list.stdout).map((j: any) => j.job_id)).toContain(id);
}, 120_000);

test("a worker that exits non-zero makes the job Failed", async () => {
  const sub = await cli(
    [
      "submit",
      "tfjob",
      "--name",
      "fails",
      "--image",
      busybox,
      "--memory",
      "0.125",
      "--entrypoint-type",
      "sh -c",
      "--entrypoint",
      "sleep 1; echo failed; exit 3",
    ],
    env,
  );
  expect(sub.code).toBe(0);
  const id = Number(sub.stdout.trim());
  const running = await jobJson(id);
  expect(["Created", "Running"]).toContain(running.status);
  const done = await waitFor(id, ["Succeeded", "Failed"]);
  expect(done.status).toBe("Failed");
  expect(done.message).toContain("exited (3)");
}, 120_000);

test("--gpu > 0 is refused clearly on an engine without GPUs, and nothing is recorded", async () => {
  const before = JobStore.open(h.store);
  const n = before.count();
  before.close();
  const r = await cli(["submit", "tfjob", "--name", "g", "--gpu", "1", "--image", busybox], env);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("--gpu 1: the local Docker engine has no GPUs");
  const after = JobStore.open(h.store);
  expect(after.count()).toBe(n);
  after.close();
}, 60_000);
