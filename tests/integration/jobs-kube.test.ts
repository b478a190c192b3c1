/**
 * A cluster context: the job becomes a TFJob (checked against the trimmed CRD schema) sent to the
 * fake Kubernetes API, and `job get` reports the status from the TFJob's conditions.
 */
import { afterAll, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { checkTfJob } from "../../lib/jobs/schema-check.ts";
import { startFakeKube, type Handler } from "../helpers/fake-kube.ts";
import { cli, serveTfJobDiscovery, tempHome } from "../helpers/jobs.ts";

const fk = startFakeKube();
serveTfJobDiscovery(fk);
const h = tempHome();
const env = { ...h.env, KUBECONFIG: fk.kubeconfig(["dev", "prod"]) };
afterAll(() => {
  fk.stop();
  rmSync(h.home, { recursive: true, force: true });
});

// What the CLI sent, before the fake adds its own fields (uid, status…).
const sent: { path: string; body: any }[] = [];
const capture = async (req: Request) => {
  sent.push({ path: new URL(req.url).pathname, body: await req.json() });
  return undefined; // fall through to the fake's store
};
fk.route("POST", /\/tfjobs$/, capture as unknown as Handler);

fk.onCreate((plural, obj) => {
  if (plural === "tfjobs") obj.status = { conditions: [{ type: "Created", status: "True", reason: "TFJobCreated" }] };
});

test("submit to a context creates a TFJob that matches the schema, and job get follows its conditions", async () => {
  const sub = await cli(
    ["submit", "tfjob", "--name", "test job", "--description", "submit by seelie cli", "--cluster", "dev", "--namespace", "team-a", "--cpu", "2", "--memory", "8",
      "--gpu", "1", "--worker-count", "3", "--image", "registry.cn-shanghai.aliyuncs.com/shuaiyy/mihoyo-ai:tf2.4.3-gpu-jupyter-lab",
      "--entrypoint-type", "bash -c", "--entrypoint", "sleep 10m; echo failed; exit 1", "-E", "enable_ema=1", "-o", "json"],
    env,
  );
  expect(sub.stderr).toContain("submitted");
  expect(sub.code).toBe(0);
  const { job_id: id, backend } = JSON.parse(sub.stdout);
  expect(backend.kind).toBe("tfjob");
  expect(backend.namespace).toBe("team-a");
  expect(backend.name).toStartWith(`seelie-job-${id}-`);

  const req = sent.find((r) => r.path === "/apis/kubeflow.org/v1/namespaces/team-a/tfjobs")!;
  expect(req).toBeDefined();
  expect(checkTfJob(req.body)).toEqual([]);
  const body = req.body;
  expect(body.metadata.labels["seelie.io/job-id"]).toBe(String(id));
  const worker = body.spec.tfReplicaSpecs.Worker;
  expect(worker.replicas).toBe(3);
  const c = worker.template.spec.containers[0];
  expect(c.name).toBe("tensorflow");
  expect(c.command).toEqual(["bash", "-c", "sleep 10m; echo failed; exit 1"]);
  expect(c.env).toEqual([{ name: "enable_ema", value: "1" }]);
  expect(c.resources.limits).toEqual({ cpu: "2", memory: "8Gi", "nvidia.com/gpu": "1" });

  const created = await cli(["job", "get", "--job_id", String(id), "-o", "json"], env);
  expect(JSON.parse(created.stdout).status).toBe("Created");

  const obj = fk.get("tfjobs", "team-a", backend.name, "kubeflow.org")!;
  obj.status = { conditions: [...obj.status.conditions, { type: "Running", status: "True" }] };
  fk.put("tfjobs", obj, "kubeflow.org");
  const running = await cli(["job", "get", "--job_id", String(id)], env);
  expect(running.stdout).toContain("Status      Running");
  expect(running.stdout).toContain(`TFJob team-a/${backend.name} in context dev`);

  obj.status = { conditions: [...obj.status.conditions, { type: "Failed", status: "True", message: "TFJob failed: worker 0 exited 1" }] };
  fk.put("tfjobs", obj, "kubeflow.org");
  const failed = await cli(["job", "get", "--job_id", String(id), "-o", "yaml"], env);
  expect(failed.stdout).toContain("status: Failed");
  expect(failed.stdout).toContain("TFJob failed: worker 0 exited 1");
  const list = await cli(["job", "list", "--cluster", "dev"], env);
  expect(list.stdout).toMatch(new RegExp(`^${id}\\s+test job\\s+Failed\\s+dev\\s+3`, "m"));

  const cmd = await cli(["job", "get", "--job_id", String(id), "-o", "cmd"], env);
  expect(cmd.stdout).toBe(
    "seelie submit tfjob --name 'test job' --description 'submit by seelie cli' --cluster dev --namespace team-a --cpu 2 --memory 8 --gpu 1 --worker-count 3 " +
      "--image registry.cn-shanghai.aliyuncs.com/shuaiyy/mihoyo-ai:tf2.4.3-gpu-jupyter-lab --entrypoint-type 'bash -c' --entrypoint 'sleep 10m; echo failed; exit 1' -E enable_ema=1\n",
  );
}, 60_000);

test("the pasted command submits an identical second TFJob", async () => {
  const first = await cli(["submit", "tfjob", "--name", "it's $x", "--cluster", "prod", "--image", "busybox", "--entrypoint", "echo \"`date`\"\nexit 0", "-E", "A=b=c", "-o", "json"], env);
  expect(first.code).toBe(0);
  const id = JSON.parse(first.stdout).job_id;
  const cmd = (await cli(["job", "get", "--job_id", String(id), "-o", "cmd"], env)).stdout.trim();
  const p = Bun.spawn(["bash", "-c", cmd.replace(/^seelie /, `'${process.execPath}' '${import.meta.dir}/../../bin/seelie.ts' `) + " -o json"], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const out = await new Response(p.stdout).text();
  expect(await p.exited).toBe(0);
  const id2 = JSON.parse(out).job_id;
  const bodies = sent.slice(-2).map((r) => r.body);
  expect(bodies[0].metadata.generateName).toBe(`seelie-job-${id}-`);
  expect(bodies[1].metadata.generateName).toBe(`seelie-job-${id2}-`);
  const strip = (b: any) => JSON.parse(JSON.stringify(b).replaceAll(`"seelie-job-${id}-"`, '"X"').replaceAll(`"${id}"`, '"N"').replaceAll(`"seelie-job-${id2}-"`, '"X"').replaceAll(`"${id2}"`, '"N"'));
  expect(strip(bodies[1])).toEqual(strip(bodies[0]));
}, 60_000);
