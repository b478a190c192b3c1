/**
 * After submit, on the real Kubernetes v1.21 test cluster: live status from the TFJob's conditions
 * and each worker Pod (state, restarts, exit code), logs (prefixed, one worker, tail, follow), wait,
 * list --refresh, delete (the TFJob goes, its Pods with it through the garbage collector), a vanished
 * TFJob. No training operator runs there: this test plays it — it writes the TFJob's status through
 * the status subresource and creates the worker Pods the operator would (its labels, owner
 * reference and TF_CONFIG, on top of the template seelie sent). Everything lives in a test namespace.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { loadKube } from "../../lib/kube/client.ts";
import { type Cluster, kubectl, kubectlOk, needCluster, testNamespace } from "../helpers/cluster.ts";
import { cli, cliInterrupted, operatorWorkerPod, tempHome, tfJobCondition } from "../helpers/jobs.ts";

setDefaultTimeout(180_000);
let c: Cluster;
let ns: { name: string; remove: () => Promise<void> };
const h = tempHome();
let env: Record<string, string>;

beforeAll(async () => {
  c = needCluster({ nodes: ["docker"] });
  ns = await testNamespace(c, "jobs-life");
  env = { ...h.env, KUBECONFIG: c.kubeconfig };
});
afterAll(async () => {
  await ns?.remove();
  rmSync(h.home, { recursive: true, force: true });
});

const job = (...args: string[]) => cli(["job", ...args], env);

async function submit(name: string, workers: number, script: string): Promise<{ id: number; tfjob: string }> {
  const r = await cli(
    [
      "submit",
      "tfjob",
      "--name",
      name,
      "--cluster",
      c.context,
      "--namespace",
      ns.name,
      "--worker-count",
      String(workers),
      "--cpu",
      "0.05",
      "--memory",
      "0.0625",
      "--image",
      c.busyboxImage,
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
  const out = JSON.parse(r.stdout);
  return { id: out.job_id, tfjob: out.backend.name };
}

async function tfjobObject(name: string): Promise<any> {
  return JSON.parse(await kubectlOk(c, ["-n", ns.name, "get", "tfjob", name, "-o", "json"]));
}

/** The operator's part: the worker Pods. */
async function startWorkers(name: string): Promise<void> {
  const t = await tfjobObject(name);
  for (let i = 0; i < t.spec.tfReplicaSpecs.Worker.replicas; i++)
    await kubectlOk(c, ["create", "-f", "-"], JSON.stringify(operatorWorkerPod(t, i)));
}

/** The operator's part: the TFJob's status, through the status subresource. */
async function writeStatus(name: string, types: string[]) {
  const k = loadKube({ context: c.context, env: { KUBECONFIG: c.kubeconfig } });
  const key = { group: "kubeflow.org", version: "v1", namespace: ns.name, plural: "tfjobs", name };
  const obj = (await k.custom.getNamespacedCustomObject(key)) as any;
  obj.status = {
    conditions: types.map((t) => tfJobCondition(t, `TFJob${t}`, `TFJob ${ns.name}/${name} is ${t.toLowerCase()}.`)),
    replicaStatuses: { Worker: {} },
  };
  await k.custom.replaceNamespacedCustomObjectStatus({ ...key, body: obj });
}

async function podPhases(name: string): Promise<string[]> {
  const out = await kubectlOk(c, [
    "-n",
    ns.name,
    "get",
    "pods",
    "-l",
    `training.kubeflow.org/job-name=${name}`,
    "-o",
    "jsonpath={.items[*].status.phase}",
  ]);
  return out.split(/\s+/).filter(Boolean);
}

async function until(what: string, f: () => Promise<boolean>, ms = 90_000) {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(500);
  }
}

test("worker Pods: live state, exit codes and restarts in get; prefixed logs, one worker, tail; wait; list --refresh", async () => {
  const j = await submit(
    "cluster two",
    2,
    'echo "hello from $HOSTNAME"; echo "to stderr" >&2; sleep 3; [ "$HOSTNAME" = "${HOSTNAME%-1}" ] || exit 4',
  );
  const before = JSON.parse((await job("get", "--job_id", String(j.id), "-o", "json")).stdout);
  expect(before).toMatchObject({ status: "Submitted", message: "no status (is the training operator installed?)", workers: [] });
  expect((await job("get", "--job_id", String(j.id))).stdout).toContain(
    "Status      Submitted: no status (is the training operator installed?)",
  );
  const noPods = await job("logs", "--job_id", String(j.id));
  expect(noPods.code).toBe(1);
  expect(noPods.stderr).toContain(`TFJob ${ns.name}/${j.tfjob} has no worker pods yet`);

  await writeStatus(j.tfjob, ["Created"]);
  await startWorkers(j.tfjob);
  await writeStatus(j.tfjob, ["Created", "Running"]);
  await until("the pods to run", async () => (await podPhases(j.tfjob)).every((p) => p !== "Pending"));

  const running = JSON.parse((await job("get", "--job_id", String(j.id), "-o", "json")).stdout);
  expect(running.status).toBe("Running");
  expect(running.workers.map((w: any) => w.worker)).toEqual(["worker-0", "worker-1"]);
  expect(running.workers[1].name).toBe(`${j.tfjob}-worker-1`);

  const follow = await job("logs", "--job_id", String(j.id), "--follow");
  expect(follow.code).toBe(0);
  expect(follow.stdout).toContain(`[worker-0] hello from ${j.tfjob}-worker-0\n`);
  expect(follow.stdout).toContain(`[worker-1] hello from ${j.tfjob}-worker-1\n`);
  expect(follow.stdout).toContain("[worker-1] to stderr\n");
  await until("the pods to end", async () => (await podPhases(j.tfjob)).every((p) => p === "Succeeded" || p === "Failed"));

  const text = (await job("get", "--job_id", String(j.id))).stdout;
  expect(text).toMatch(new RegExp(`worker-0\\s+terminated \\(Completed\\)\\s+0\\s+0\\s+${j.tfjob}-worker-0`));
  expect(text).toMatch(new RegExp(`worker-1\\s+terminated \\(Error\\)\\s+0\\s+4\\s+${j.tfjob}-worker-1`));

  const one = await job("logs", "--job_id", String(j.id), "--worker", "1", "--tail", "1");
  // A pod's log interleaves stdout and stderr as the runtime wrote them: the last line is either.
  expect([`hello from ${j.tfjob}-worker-1\n`, "to stderr\n"]).toContain(one.stdout);
  const two = await job("logs", "--job_id", String(j.id), "--worker", "1", "--tail", "2");
  expect(two.stdout.split("\n").sort()).toEqual(["", `hello from ${j.tfjob}-worker-1`, "to stderr"]);
  const stamped = await job("logs", "--job_id", String(j.id), "--worker", "0", "--timestamps");
  expect(stamped.stdout).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z hello from /m);

  // The operator sees worker-1 fail and marks the TFJob Failed; wait says so.
  await writeStatus(j.tfjob, ["Created", "Running", "Failed"]);
  const w = await job("wait", "--job_id", String(j.id), "-o", "json");
  expect(w.code).toBe(1);
  expect(JSON.parse(w.stdout)).toMatchObject({ reached: false, status: "Failed" });
  expect(w.stderr).toContain(`job ${j.id} ended Failed`);
  expect((await job("wait", "--job_id", String(j.id), "--for", "Failed")).code).toBe(0);

  const listed = JSON.parse((await job("list", "--refresh", "--cluster", c.context, "-o", "json")).stdout);
  expect(listed.find((x: any) => x.job_id === j.id)).toMatchObject({ status: "Failed" });
});

test("wait exits 0 when the operator marks the TFJob Succeeded, and 130 on Ctrl-C", async () => {
  const j = await submit("cluster wait", 1, "true");
  const interrupted = await cliInterrupted(["job", "wait", "--job_id", String(j.id)], env, /still waiting/);
  expect(interrupted.code).toBe(130);
  expect(interrupted.stderr).toContain("waiting for the job interrupted");
  expect(interrupted.stderr).toContain("no status (is the training operator installed?)");
  const waiting = cli(["job", "wait", "--job_id", String(j.id), "--timeout", "60s"], env);
  await Bun.sleep(1500);
  await writeStatus(j.tfjob, ["Created", "Running", "Succeeded"]);
  const r = await waiting;
  expect(r.code).toBe(0);
  expect(r.stdout).toContain(`job ${j.id} Succeeded`);
});

test("logs --follow on a running worker pod: Ctrl-C exits 130 at once", async () => {
  const j = await submit("cluster ticker", 1, "while true; do echo tick; sleep 0.3; done");
  await startWorkers(j.tfjob);
  await until("the pod to run", async () => (await podPhases(j.tfjob)).every((p) => p === "Running"));
  const r = await cliInterrupted(["job", "logs", "--job_id", String(j.id), "--follow"], env, /tick\n.*tick/s);
  expect(r.code).toBe(130);
  expect(r.stderr).toContain("following the logs interrupted");
  expect(r.stdout).toStartWith("tick\n");
  expect(r.exitMs).toBeLessThan(5000);
  expect((await job("delete", "--job_id", String(j.id))).code).toBe(0);
});

test("delete removes the TFJob and, through the garbage collector, its Pods; twice is a clear error", async () => {
  const j = await submit("cluster delete", 2, "sleep 120");
  await startWorkers(j.tfjob);
  expect(await podPhases(j.tfjob)).toHaveLength(2);
  const d = await job("delete", "--job_id", String(j.id), "-o", "json");
  expect(d.code).toBe(0);
  expect(JSON.parse(d.stdout)).toMatchObject({
    job_id: j.id,
    status: "Deleted",
    removed: [`TFJob ${ns.name}/${j.tfjob}`],
    already_gone: [],
  });
  expect((await kubectl(c, ["-n", ns.name, "get", "tfjob", j.tfjob])).code).not.toBe(0);
  await until("the garbage collector to remove the pods", async () => (await podPhases(j.tfjob)).length === 0);
  expect(JSON.parse((await job("get", "--job_id", String(j.id), "-o", "json")).stdout).status).toBe("Deleted");
  const again = await job("delete", "--job_id", String(j.id));
  expect(again.code).toBe(1);
  expect(again.stderr).toContain(`job ${j.id} is already deleted`);
  expect((await job("delete", "--job_id", String(j.id), "--forget")).code).toBe(0);
  expect((await job("get", "--job_id", String(j.id))).code).toBe(2);
});

test("a TFJob deleted outside seelie: get says it is gone, logs and wait fail clearly, delete notes it", async () => {
  const j = await submit("cluster vanish", 1, "true");
  await kubectlOk(c, ["-n", ns.name, "delete", "tfjob", j.tfjob]);
  const got = await job("get", "--job_id", String(j.id));
  expect(got.code).toBe(0);
  expect(got.stdout).toContain(`Status      Unknown (TFJob ${ns.name}/${j.tfjob} no longer exists`);
  const logs = await job("logs", "--job_id", String(j.id));
  expect(logs.code).toBe(1);
  expect(logs.stderr).toContain(`TFJob ${ns.name}/${j.tfjob} no longer exists`);
  const w = await job("wait", "--job_id", String(j.id));
  expect(w.code).toBe(1);
  expect(w.stderr).toContain("vanished");
  const d = await job("delete", "--job_id", String(j.id), "-o", "json");
  expect(JSON.parse(d.stdout)).toMatchObject({ removed: [], already_gone: [`TFJob ${ns.name}/${j.tfjob}`] });
});
