/**
 * After submit, on the test's real dockerd: logs (prefixed per worker, one worker, tail, timestamps,
 * follow), wait (exit 0 / 1 / timeout / Ctrl-C 130), live status with per-worker state, list
 * --refresh, delete (containers and network go, the record stays Deleted; twice is a clear error;
 * --forget), a single worker without a network, an ended job giving its network back, and a job
 * whose containers vanished. Every Docker object here is one seelie made for a job of this test's
 * own store (labelled seelie.io/job-uid); afterAll removes exactly those.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { JobStore } from "../../lib/jobs/store.ts";
import { cli, cliInterrupted, tempHome } from "../helpers/jobs.ts";
import { dockerCli, need, sh } from "../helpers/services.ts";

setDefaultTimeout(120_000);
const busybox = need("SEELIE_TEST_BUSYBOX");
const h = tempHome();
const env = { ...h.env, DOCKER_HOST: `unix://${need("SEELIE_TEST_DOCKER_SOCK")}` };
const made = new Set<string>();

afterAll(async () => {
  for (const uid of made) {
    const ids = (await sh(dockerCli("ps", "-aq", "--filter", `label=seelie.io/job-uid=${uid}`))).stdout.split(/\s+/).filter(Boolean);
    if (ids.length) await sh(dockerCli("rm", "-f", ...ids));
    const nets = (await sh(dockerCli("network", "ls", "-q", "--filter", `label=seelie.io/job-uid=${uid}`))).stdout
      .split(/\s+/)
      .filter(Boolean);
    if (nets.length) await sh(dockerCli("network", "rm", ...nets));
  }
  rmSync(h.home, { recursive: true, force: true });
});

async function submit(name: string, workers: number, script: string): Promise<{ id: number; containers: string[]; network?: string }> {
  const r = await cli(
    [
      "submit",
      "tfjob",
      "--name",
      name,
      "--worker-count",
      String(workers),
      "--cpu",
      "0.25",
      "--memory",
      "0.125",
      "--image",
      busybox,
      "--entrypoint-type",
      "sh -c",
      "--entrypoint",
      script,
      "-o",
      "json",
    ],
    env,
  );
  if (r.code !== 0) throw new Error(`submit failed: ${r.stderr}`);
  const { job_id: id, backend } = JSON.parse(r.stdout);
  made.add(String(backend.containers[0]).replace(/^seelie-job-\d+-([0-9a-f]+)-worker-0$/, "$1"));
  return { id, containers: backend.containers, network: backend.network };
}

const job = (...args: string[]) => cli(["job", ...args], env);
/** Waits, asking the engine directly (not seelie, so the store learns nothing), until the containers have exited. */
async function exited(containers: string[]) {
  for (const end = Date.now() + 60_000; Date.now() < end; await Bun.sleep(300)) {
    const r = await sh(dockerCli("inspect", "-f", "{{.State.Status}}", ...containers));
    if (
      r.code === 0 &&
      r.stdout
        .trim()
        .split("\n")
        .every((s) => s === "exited")
    )
      return;
  }
  throw new Error(`${containers.join(", ")} did not exit within 60 s`);
}
const exists = async (kind: "container" | "network", name: string) => (await sh(dockerCli(kind, "inspect", name))).code === 0;

test("two workers: prefixed logs, one worker's logs, stdout and stderr apart; wait; the ended job gives its network back", async () => {
  const j = await submit("two", 2, 'for i in 1 2 3; do echo "out $i $HOSTNAME"; echo "err $i" >&2; sleep 0.5; done');
  expect(j.network).toBeDefined();
  expect(await exists("network", j.network!)).toBe(true);

  const follow = await job("logs", "--job_id", String(j.id), "--follow");
  expect(follow.code).toBe(0);
  const lines = follow.stdout.trim().split("\n");
  expect(lines.filter((l) => l.startsWith("[worker-0] "))).toEqual([
    "[worker-0] out 1 worker-0",
    "[worker-0] out 2 worker-0",
    "[worker-0] out 3 worker-0",
  ]);
  expect(lines.filter((l) => l.startsWith("[worker-1] "))).toEqual([
    "[worker-1] out 1 worker-1",
    "[worker-1] out 2 worker-1",
    "[worker-1] out 3 worker-1",
  ]);
  expect(follow.stderr).toContain("[worker-1] err 3");

  const waited = await job("wait", "--job_id", String(j.id), "-o", "json");
  expect(waited.code).toBe(0);
  const doc = JSON.parse(waited.stdout);
  expect(doc).toMatchObject({ job_id: j.id, for: "Succeeded", reached: true, status: "Succeeded" });
  expect(doc.workers.map((w: any) => [w.worker, w.state, w.exit_code, w.restarts])).toEqual([
    ["worker-0", "exited", 0, 0],
    ["worker-1", "exited", 0, 0],
  ]);
  // Seen ended: the network is gone, the stopped containers (status, logs) stay.
  expect(await exists("network", j.network!)).toBe(false);
  for (const c of j.containers) expect(await exists("container", c)).toBe(true);

  const one = await job("logs", "--job_id", String(j.id), "--worker", "1");
  expect(one.stdout).toBe("out 1 worker-1\nout 2 worker-1\nout 3 worker-1\n");
  expect(one.stderr).toContain("err 1\nerr 2\nerr 3\n");
  // --tail counts the lines of both streams together (as docker logs does); "out 3" and "err 3" are
  // the last two, in whichever order the engine logged them.
  const tail = await job("logs", "--job_id", String(j.id), "--worker", "0", "--tail", "2", "--timestamps");
  expect(tail.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z out 3 worker-0\n$/);
  expect(tail.stderr).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z err 3\n$/m);
  expect(tail.stderr).not.toContain("err 2");
  const since = await job("logs", "--job_id", String(j.id), "--since", "1h");
  expect(since.stdout.split("\n").filter(Boolean)).toHaveLength(6);

  const text = await job("get", "--job_id", String(j.id));
  expect(text.stdout).toContain("Status      Succeeded (worker 0: exited (0), worker 1: exited (0))");
  expect(text.stdout).toMatch(/worker-1\s+exited\s+0\s+0\s+seelie-job-/);
  expect(text.stdout).toContain("network removed once the job ended");
});

test("a single worker has no network of its own and still resolves its TF_CONFIG hostname", async () => {
  const j = await submit("one", 1, 'ping -c 1 -W 2 worker-0 >/dev/null && echo "resolved $TF_CONFIG"');
  expect(j.network).toBeUndefined();
  const inspect = JSON.parse((await sh(dockerCli("inspect", j.containers[0]!))).stdout)[0];
  expect(inspect.HostConfig.NetworkMode).toBe("bridge");
  const uid = inspect.Config.Labels["seelie.io/job-uid"];
  expect((await sh(dockerCli("network", "ls", "-q", "--filter", `label=seelie.io/job-uid=${uid}`))).stdout.trim()).toBe("");
  expect((await job("wait", "--job_id", String(j.id), "--timeout", "60s")).code).toBe(0);
  expect((await job("logs", "--job_id", String(j.id))).stdout).toContain('resolved {"cluster":{"worker":["worker-0:2222"]}');
});

test("wait: a failed job exits 1 naming the exit code; --for Failed exits 0; a timeout exits 1", async () => {
  const j = await submit("fails", 2, 'if [ "$HOSTNAME" = worker-1 ]; then sleep 1; exit 3; fi; sleep 1');
  const w = await job("wait", "--job_id", String(j.id));
  expect(w.code).toBe(1);
  expect(w.stderr).toContain(`job ${j.id} ended Failed (worker 0: exited (0), worker 1: exited (3)), not Succeeded`);
  expect((await job("wait", "--job_id", String(j.id), "--for", "failed")).code).toBe(0);

  const slow = await submit("slow", 1, "sleep 30");
  const t0 = Date.now();
  const timedOut = await job("wait", "--job_id", String(slow.id), "--timeout", "2s");
  expect(timedOut.code).toBe(1);
  expect(timedOut.stderr).toContain(`timed out after 2s waiting for job ${slow.id} to be Succeeded (it is Running)`);
  expect(Date.now() - t0).toBeLessThan(15_000);
  expect((await job("wait", "--job_id", String(slow.id), "--for", "Running", "--timeout", "30s")).code).toBe(0);
  expect((await job("delete", "--job_id", String(slow.id))).code).toBe(0);
});

test("Ctrl-C ends logs --follow and wait with exit code 130, and leaves the job running", async () => {
  const j = await submit("ticker", 1, "while true; do echo tick; sleep 0.3; done");
  const logs = await cliInterrupted(["job", "logs", "--job_id", String(j.id), "--follow"], env, /tick\n.*tick/s);
  expect(logs.code).toBe(130);
  expect(logs.stdout).toContain("tick\n");
  expect(logs.stderr).toContain("following the logs interrupted");
  const wait = await cliInterrupted(["job", "wait", "--job_id", String(j.id)], env, /$^/, 4000);
  expect(wait.code).toBe(130);
  // Not merely killed by the signal (that, too, reads 130): seelie caught it and stopped.
  expect(wait.stderr).toContain("waiting for the job interrupted");
  expect(wait.exitMs).toBeLessThan(5000);
  const st = JSON.parse((await job("get", "--job_id", String(j.id), "-o", "json")).stdout);
  expect(st.status).toBe("Running");
  expect((await job("delete", "--job_id", String(j.id))).code).toBe(0);
});

test("delete removes the containers and the network of a running job; the record stays Deleted; twice is a clear error; --forget", async () => {
  const j = await submit("to delete", 2, "sleep 60");
  expect(await exists("network", j.network!)).toBe(true);
  const d = await job("delete", "--job_id", String(j.id), "-o", "json");
  expect(d.code).toBe(0);
  const done = JSON.parse(d.stdout);
  expect(done).toMatchObject({ job_id: j.id, status: "Deleted", forgotten: false, already_gone: [] });
  expect(done.removed.sort()).toEqual([...j.containers.map((c) => `container ${c}`), `network ${j.network}`].sort());
  for (const c of j.containers) expect(await exists("container", c)).toBe(false);
  expect(await exists("network", j.network!)).toBe(false);

  const got = JSON.parse((await job("get", "--job_id", String(j.id), "-o", "json")).stdout);
  expect(got.status).toBe("Deleted");
  expect((await job("get", "--job_id", String(j.id), "-o", "cmd")).stdout).toStartWith("seelie submit tfjob --name 'to delete'");
  expect((await job("list", "--status", "deleted", "-o", "json")).stdout).toContain(`"job_id": ${j.id}`);

  const again = await job("delete", "--job_id", String(j.id));
  expect(again.code).toBe(1);
  expect(again.stderr).toContain(`job ${j.id} is already deleted`);
  expect(again.stderr).toContain("--forget");
  expect(again.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  for (const cmd of [["logs"], ["wait"]]) {
    const r = await job(...cmd, "--job_id", String(j.id));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`job ${j.id} was deleted`);
  }

  const forget = await job("delete", "--job_id", String(j.id), "--forget");
  expect(forget.code).toBe(0);
  const gone = await job("get", "--job_id", String(j.id));
  expect(gone.code).toBe(2);
  expect(gone.stderr).toContain(`no job ${j.id} in the job store`);
});

test("list --refresh records the live status; a plain list shows the last known one", async () => {
  const j = await submit("refresh me", 1, "sleep 1");
  await exited(j.containers);
  const plain = await job("list", "--name", "refresh me", "-o", "json");
  expect(JSON.parse(plain.stdout)[0].status).toBe("Submitted");
  const refreshed = await job("list", "--name", "refresh me", "--refresh", "-o", "json");
  expect(refreshed.code).toBe(0);
  const row = JSON.parse(refreshed.stdout)[0];
  expect(row).toMatchObject({ job_id: j.id, status: "Succeeded" });
  expect(row.workers[0]).toMatchObject({ worker: "worker-0", state: "exited", exit_code: 0 });
  expect((await job("list", "--name", "refresh me")).stdout).toMatch(new RegExp(`^${j.id}\\s+refresh me\\s+Succeeded`, "m"));
  const table = await job("list", "--name", "refresh me", "--refresh");
  expect(table.stdout).toMatch(/WORKER STATES\n/);
  expect(table.stdout).toMatch(new RegExp(`^${j.id}\\s+refresh me\\s+Succeeded\\s+local\\s+1\\s+\\S+\\s+1 exited \\(0\\)$`, "m"));
  // --status filters on the live status.
  const k = await submit("refresh status", 1, "sleep 1");
  await exited(k.containers);
  const ok = await job("list", "--refresh", "--status", "succeeded", "--name", "refresh status", "-o", "json");
  expect(JSON.parse(ok.stdout).map((x: any) => x.job_id)).toEqual([k.id]);
});

test("a job whose containers vanished: get says so, logs and wait fail clearly, delete still works", async () => {
  const j = await submit("vanishing", 1, "sleep 60");
  await sh(dockerCli("rm", "-f", ...j.containers));
  const got = await job("get", "--job_id", String(j.id));
  expect(got.code).toBe(0);
  expect(got.stdout).toContain("Status      Unknown (the containers were removed)");
  const logs = await job("logs", "--job_id", String(j.id));
  expect(logs.code).toBe(1);
  expect(logs.stderr).toContain(`the container of worker-0 (${j.containers[0]}) no longer exists; it was removed outside seelie`);
  const w = await job("wait", "--job_id", String(j.id));
  expect(w.code).toBe(1);
  expect(w.stderr).toContain("vanished");
  const d = await job("delete", "--job_id", String(j.id), "-o", "json");
  expect(d.code).toBe(0);
  expect(JSON.parse(d.stdout)).toMatchObject({ removed: [], already_gone: [`container ${j.containers[0]}`] });
});

test("an engine that stops answering: wait tries again a few times, then fails naming it; list --refresh warns once", async () => {
  const j = await submit("engine gone", 1, "sleep 30");
  const gone = { ...env, DOCKER_HOST: `unix://${h.home}/no-such.sock` };
  const w = await cli(["job", "wait", "--job_id", String(j.id)], gone);
  expect(w.code).toBe(1);
  expect(w.stderr.match(/trying again/g)?.length).toBe(4);
  expect(w.stderr).toContain("no-such.sock");
  const l = await cli(["job", "list", "--refresh", "--name", "engine gone"], gone);
  expect(l.code).toBe(0);
  expect(l.stderr.match(/could not ask the local engine/g)?.length).toBe(1);
  expect(l.stdout).toMatch(new RegExp(`^${j.id}\\s+engine gone\\s+Submitted`, "m"));
  expect((await job("delete", "--job_id", String(j.id))).code).toBe(0);
});

test("bad ids and flags get clear errors", async () => {
  const rec = await cli(["submit", "tfjob", "--name", "rec", "--image", busybox, "--record-only"], env);
  const recId = rec.stdout.trim();
  const cases: [string[], number, string][] = [
    [["logs", "--job_id", "999999"], 2, "no job 999999 in the job store"],
    [["logs", "--job_id", "x"], 2, '--job_id "x" is not a job id'],
    [["wait"], 2, "--job_id is missing"],
    [["delete", "--job_id", "0"], 2, '--job_id "0" is not a job id'],
    [["logs", "--job_id", recId], 1, `job ${recId} was only recorded (--record_only) and never ran`],
    [["wait", "--job_id", recId], 1, "never ran"],
    [["logs", "--job_id", recId, "--worker", "1"], 2, `--worker "1": job ${recId} has 1 worker (0)`],
    [["logs", "--job_id", recId, "--since", "soon"], 2, '--since "soon" is not a duration'],
    [["wait", "--job_id", recId, "--for", "Done"], 2, '--for "Done" is not a status'],
    [["wait", "--job_id", recId, "--timeout", "5"], 2, '--timeout "5" is not a duration'],
    [["delete", "--job_id", recId, "-o", "yaml"], 2, 'unknown output format "yaml"'],
  ];
  for (const [args, code, msg] of cases) {
    const r = await job(...args);
    expect({ args, code: r.code, has: r.stderr.includes(msg) }).toEqual({ args, code, has: true });
  }
  // A record-only job deletes to Deleted with nothing to remove.
  const d = await job("delete", "--job_id", recId, "-o", "json");
  expect(JSON.parse(d.stdout)).toMatchObject({ status: "Deleted", removed: [] });
});

test("the store holds what the tests recorded", () => {
  const s = JobStore.open(h.store);
  expect(s.count()).toBeGreaterThan(5);
  s.close();
});
