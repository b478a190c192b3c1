/**
 * Docker's address pools used up, on a real dockerd: a private one started here with a default
 * address pool of two /24 subnets (the shared engine's ~30 pools must not be exhausted under the other
 * tests). A two-worker job takes a pool; when none is left, submit fails naming the networks that
 * hold the pools (seelie jobs by id, others by name) and how to free them, leaving no container behind;
 * a single worker needs no pool; deleting a job, or a job seen to have ended, gives its pool back.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { cli, privateDockerd, tempHome } from "../helpers/jobs.ts";
import { dockerCli, need, sh } from "../helpers/services.ts";

setDefaultTimeout(180_000);
const busybox = need("SEELIE_TEST_BUSYBOX");
const h = tempHome();
let d: Awaited<ReturnType<typeof privateDockerd>>;
let env: Record<string, string>;
const ids: number[] = [];

beforeAll(async () => {
  d = await privateDockerd("base=10.213.0.0/23,size=24");
  env = { ...h.env, DOCKER_HOST: d.host };
  const load = await sh(["bash", "-c", `${dockerCli("save", busybox).join(" ")} | ${d.docker("load").join(" ")}`]);
  if (load.code !== 0) throw new Error(`cannot load ${busybox} into the private dockerd: ${load.stderr}`);
});
afterAll(async () => {
  for (const id of ids) await cli(["job", "delete", "--job_id", String(id)], env);
  await sh(d.docker("network", "rm", "seelie-jobs-pooltest-other"));
  await d?.stop();
  rmSync(h.home, { recursive: true, force: true });
});

async function submit(workers: number, script: string) {
  const r = await cli(
    [
      "submit",
      "tfjob",
      "--name",
      `pool ${workers}`,
      "--worker-count",
      String(workers),
      "--memory",
      "0.0625",
      "--image",
      busybox,
      "--entrypoint-type",
      "sh -c",
      "--entrypoint",
      script,
    ],
    env,
  );
  const id = Number(r.stdout.trim() || /job (\d+) was recorded/.exec(r.stderr)?.[1]);
  if (id) ids.push(id);
  return { ...r, id };
}

test("no pool left: a clear error naming what holds the pools; one worker needs none; delete and ended jobs give pools back", async () => {
  const a = await submit(2, "sleep 300");
  expect(a.code).toBe(0);
  expect((await sh(d.docker("network", "create", "--label", "seelie.test/owner=jobs", "seelie-jobs-pooltest-other"))).code).toBe(0);

  const b = await submit(2, "sleep 300");
  expect(b.code).toBe(1);
  expect(b.stderr).toContain(
    `job ${b.id} was recorded but could not start: Docker has no free address pool left for job ${b.id}'s network`,
  );
  expect(b.stderr).toContain(`2 networks hold them: 1 by seelie jobs (job ${a.id}), 1 by other networks (seelie-jobs-pooltest-other)`);
  expect(b.stderr).toContain(`seelie job delete --job_id ${a.id}`);
  expect(b.stderr).toContain("docker network prune");
  expect(b.stderr).not.toContain("HTTP code");
  expect(JSON.parse((await cli(["job", "get", "--job_id", String(b.id), "-o", "json"], env)).stdout).status).toBe("SubmitFailed");
  expect((await sh(d.docker("ps", "-aq", "--filter", `label=seelie.io/job-id=${b.id}`))).stdout.trim()).toBe("");

  const single = await submit(1, "echo alone");
  expect(single.code).toBe(0);
  expect((await cli(["job", "wait", "--job_id", String(single.id), "--timeout", "60s"], env)).code).toBe(0);

  expect((await cli(["job", "delete", "--job_id", String(a.id)], env)).code).toBe(0);
  const short = await submit(2, "sleep 1");
  expect(short.code).toBe(0);
  // Seen ended (by wait), the job gives its pool back: another two-worker job fits.
  expect((await cli(["job", "wait", "--job_id", String(short.id), "--timeout", "60s"], env)).code).toBe(0);
  const again = await submit(2, "true");
  expect(again.stderr).not.toContain("address pool");
  expect(again.code).toBe(0);
});
