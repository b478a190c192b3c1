/**
 * A cluster context, on the real Kubernetes v1.21 test cluster (TLS, private CA, client certificate;
 * the TFJob CRD of kubeflow/training-operator v1.9 installed, no operator running): `submit tfjob
 * --cluster CONTEXT` creates a TFJob the real CRD accepts as sent (nothing pruned, nothing refused),
 * `job get` / `job list` read it back, and the pasted `-o cmd` submits an identical one. The only
 * stand-in is the operator: this test writes the TFJob's status through the API as it would.
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { rmSync } from "node:fs";
import { checkTfJob } from "../../lib/jobs/schema-check.ts";
import { JobStore } from "../../lib/jobs/store.ts";
import { buildTfJob } from "../../lib/jobs/tfjob.ts";
import { loadKube } from "../../lib/kube/client.ts";
import { type Cluster, kubectlOk, needCluster, testNamespace } from "../helpers/cluster.ts";
import { BUN, cli, SEELIE, tempHome, tfJobCondition } from "../helpers/jobs.ts";

setDefaultTimeout(120_000);
let c: Cluster;
let ns: { name: string; remove: () => Promise<void> };
const h = tempHome();
let env: Record<string, string>;

beforeAll(async () => {
  c = needCluster();
  ns = await testNamespace(c, "jobs-kube");
  env = { ...h.env, KUBECONFIG: c.kubeconfig };
});
afterAll(async () => {
  await ns?.remove();
  rmSync(h.home, { recursive: true, force: true });
});

async function tfjob(name: string): Promise<any> {
  return JSON.parse(await kubectlOk(c, ["-n", ns.name, "get", "tfjob", name, "-o", "json"]));
}

/** Writes the TFJob's status through the status subresource, as the training operator does. */
async function writeStatus(name: string, conditions: object[]) {
  const k = loadKube({ context: c.context, env: { KUBECONFIG: c.kubeconfig } });
  const obj = (await k.custom.getNamespacedCustomObject({
    group: "kubeflow.org",
    version: "v1",
    namespace: ns.name,
    plural: "tfjobs",
    name,
  })) as any;
  obj.status = { conditions, replicaStatuses: { Worker: {} } };
  await k.custom.replaceNamespacedCustomObjectStatus({
    group: "kubeflow.org",
    version: "v1",
    namespace: ns.name,
    plural: "tfjobs",
    name,
    body: obj,
  });
}

function storedJob(id: number) {
  const s = JobStore.open(h.store);
  try {
    return s.get(id)!;
  } finally {
    s.close();
  }
}

test("the real TFJob CRD serves kubeflow.org/v1 with a status subresource", async () => {
  const crd = JSON.parse(await kubectlOk(c, ["get", "crd", "tfjobs.kubeflow.org", "-o", "json"]));
  const v1 = crd.spec.versions.find((v: any) => v.name === "v1");
  expect(v1.served).toBe(true);
  expect(v1.subresources).toHaveProperty("status");
});

/**
 * Every place in lib/jobs/tfjob-schema.json (the trimmed copy `submit` checks against) under `spec`
 * that the real CRD's openAPIV3Schema does not have, or types differently, or whose enum allows a
 * value the CRD's does not.
 */
function trimmedVersusCrd(trimmed: any, crd: any, root: any, path: string, out: string[], seen: string[] = []): void {
  if (trimmed.$ref) {
    const target = String(trimmed.$ref)
      .replace(/^#\//, "")
      .split("/")
      .reduce((o: any, k) => o?.[k], root);
    return trimmedVersusCrd(target, crd, root, path, out, seen);
  }
  if (!crd) return void out.push(`${path}: not in the CRD`);
  seen.push(path);
  if (trimmed.type && crd.type && trimmed.type !== crd.type) out.push(`${path}: ${trimmed.type} here, ${crd.type} in the CRD`);
  if (trimmed.enum && crd.enum) for (const v of trimmed.enum) if (!crd.enum.includes(v)) out.push(`${path}: ${v} is not in the CRD's enum`);
  for (const [k, sub] of Object.entries<any>(trimmed.properties ?? {}))
    trimmedVersusCrd(sub, crd.properties?.[k], root, `${path}.${k}`, out, seen);
  if (trimmed.additionalProperties && typeof trimmed.additionalProperties === "object") {
    trimmedVersusCrd(trimmed.additionalProperties, crd.additionalProperties, root, `${path}.*`, out, seen);
  }
  if (trimmed.items) trimmedVersusCrd(trimmed.items, crd.items, root, `${path}[]`, out, seen);
}

test("the trimmed TFJob schema seelie checks against is a faithful part of the real CRD's", async () => {
  const crd = JSON.parse(await kubectlOk(c, ["get", "crd", "tfjobs.kubeflow.org", "-o", "json"]));
  const real = crd.spec.versions.find((v: any) => v.name === "v1").schema.openAPIV3Schema;
  const trimmed = JSON.parse(await Bun.file(`${import.meta.dir}/../../lib/jobs/tfjob-schema.json`).text());
  const problems: string[] = [];
  const seen: string[] = [];
  trimmedVersusCrd(trimmed.properties.spec, real.properties.spec, trimmed, "$.spec", problems, seen);
  expect(problems).toEqual([]);
  expect(seen).toContain("$.spec.tfReplicaSpecs.*.template.spec.containers[].resources.limits.*");
  expect(seen).toContain("$.spec.tfReplicaSpecs.*.template.spec.containers[].env[].value");
  // The check can fail: a field the CRD does not have is reported.
  const bogus: string[] = [];
  trimmedVersusCrd({ type: "object", properties: { nope: { type: "string" } } }, real.properties.spec, trimmed, "$.spec", bogus);
  expect(bogus).toEqual(["$.spec.nope: not in the CRD"]);
});

test("submit to the context creates a TFJob the real CRD keeps exactly as sent; get and list follow its conditions", async () => {
  const sub = await cli(
    [
      "submit",
      "tfjob",
      "--name",
      "test job",
      "--description",
      "submit by seelie cli",
      "--cluster",
      c.context,
      "--namespace",
      ns.name,
      "--cpu",
      "0.5",
      "--memory",
      "0.125",
      "--gpu",
      "0",
      "--worker-count",
      "3",
      "--image",
      "registry.cn-shanghai.aliyuncs.com/shuaiyy/mihoyo-ai:tf2.4.3-gpu-jupyter-lab",
      "--entrypoint-type",
      "bash -c",
      "--entrypoint",
      "sleep 10m; echo failed; exit 1",
      "-E",
      "enable_ema=1",
      "-E",
      'QUOTE=it\'s "x"\nline 2',
      "-o",
      "json",
    ],
    env,
  );
  expect(sub.stderr).toContain("submitted");
  expect(sub.code).toBe(0);
  const { job_id: id, backend } = JSON.parse(sub.stdout);
  expect(backend).toMatchObject({ kind: "tfjob", context: c.context, namespace: ns.name });
  expect(backend.name).toStartWith(`seelie-job-${id}-`);

  // What the API server stored: the CRD's structural schema prunes unknown fields silently on v1.21,
  // so "accepted" means the stored spec equals what seelie built, field for field.
  const stored = await tfjob(backend.name);
  const sent = buildTfJob(storedJob(id));
  expect(checkTfJob(sent)).toEqual([]);
  expect(stored.metadata.labels).toEqual(sent.metadata.labels);
  expect(stored.metadata.annotations).toEqual(sent.metadata.annotations);
  expect(stored.spec.tfReplicaSpecs).toEqual(sent.spec.tfReplicaSpecs);
  expect(stored.spec.runPolicy).toMatchObject(sent.spec.runPolicy as object);
  const container = stored.spec.tfReplicaSpecs.Worker.template.spec.containers[0];
  expect(container.env).toEqual([
    { name: "enable_ema", value: "1" },
    { name: "QUOTE", value: 'it\'s "x"\nline 2' },
  ]);
  expect(container.resources.limits).toEqual({ cpu: "0.5", memory: "0.125Gi" });

  const none = await cli(["job", "get", "--job_id", String(id), "-o", "json"], env);
  expect(JSON.parse(none.stdout)).toMatchObject({ status: "Submitted", message: "no status (is the training operator installed?)" });

  await writeStatus(backend.name, [tfJobCondition("Created", "TFJobCreated", `TFJob ${ns.name}/${backend.name} is created.`)]);
  expect(JSON.parse((await cli(["job", "get", "--job_id", String(id), "-o", "json"], env)).stdout).status).toBe("Created");

  await writeStatus(backend.name, [
    tfJobCondition("Created", "TFJobCreated", "created"),
    tfJobCondition("Running", "TFJobRunning", `TFJob ${ns.name}/${backend.name} is running.`),
  ]);
  const running = await cli(["job", "get", "--job_id", String(id)], env);
  expect(running.stdout).toContain(`Status      Running (TFJob ${ns.name}/${backend.name} is running.)`);
  expect(running.stdout).toContain(`TFJob ${ns.name}/${backend.name} in context ${c.context}`);

  await writeStatus(backend.name, [
    tfJobCondition("Created", "TFJobCreated", "created"),
    { ...tfJobCondition("Running", "TFJobRunning", "running"), status: "False" },
    tfJobCondition("Failed", "TFJobFailed", "TFJob failed: worker 0 exited 1"),
  ]);
  const failed = await cli(["job", "get", "--job_id", String(id), "-o", "yaml"], env);
  expect(failed.stdout).toContain("status: Failed");
  expect(failed.stdout).toContain("TFJob failed: worker 0 exited 1");
  const list = await cli(["job", "list", "--cluster", c.context], env);
  expect(list.stdout).toMatch(new RegExp(`^${id}\\s+test job\\s+Failed\\s+${c.context}\\s+3`, "m"));

  const cmd = await cli(["job", "get", "--job_id", String(id), "-o", "cmd"], env);
  expect(cmd.stdout).toStartWith(
    `seelie submit tfjob --name 'test job' --description 'submit by seelie cli' --cluster ${c.context} --namespace ${ns.name} --cpu 0.5 --memory 0.125 --gpu 0 --worker-count 3 ` +
      "--image registry.cn-shanghai.aliyuncs.com/shuaiyy/mihoyo-ai:tf2.4.3-gpu-jupyter-lab --entrypoint-type 'bash -c' --entrypoint 'sleep 10m; echo failed; exit 1' -E enable_ema=1 -E ",
  );
});

test("the pasted command submits an identical second TFJob to the cluster", async () => {
  const first = await cli(
    [
      "submit",
      "tfjob",
      "--name",
      "it's $x",
      "--cluster",
      c.context,
      "--namespace",
      ns.name,
      "--cpu",
      "0.25",
      "--memory",
      "0.5",
      "--image",
      "busybox",
      "--entrypoint",
      'echo "`date`"\nexit 0',
      "-E",
      "A=b=c",
      "-o",
      "json",
    ],
    env,
  );
  expect(first.code).toBe(0);
  const one = JSON.parse(first.stdout);
  const cmd = (await cli(["job", "get", "--job_id", String(one.job_id), "-o", "cmd"], env)).stdout.trim();
  const p = Bun.spawn(["bash", "-c", `${cmd.replace(/^seelie /, `'${BUN}' '${SEELIE}' `)} -o json`], {
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const out = await new Response(p.stdout).text();
  expect(await p.exited).toBe(0);
  const two = JSON.parse(out);
  expect(two.job_id).toBe(one.job_id + 1);
  const [a, b] = [await tfjob(one.backend.name), await tfjob(two.backend.name)];
  // Identical but for the job id label on the TFJob's pod template.
  const labels = (t: any) => t.spec.tfReplicaSpecs.Worker.template.metadata.labels;
  expect(labels(a)["seelie.io/job-id"]).toBe(String(one.job_id));
  expect(labels(b)["seelie.io/job-id"]).toBe(String(two.job_id));
  labels(b)["seelie.io/job-id"] = labels(a)["seelie.io/job-id"];
  expect(b.spec).toEqual(a.spec);
  expect(b.metadata.annotations).toEqual(a.metadata.annotations);
  expect(storedJob(two.job_id).spec).toEqual(storedJob(one.job_id).spec);
});

test("a namespace that does not exist is refused by the cluster, and the job is recorded SubmitFailed", async () => {
  const r = await cli(
    ["submit", "tfjob", "--name", "x", "--cluster", c.context, "--namespace", `${ns.name}-missing`, "--image", "busybox"],
    env,
  );
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("was recorded but could not start");
  expect(r.stderr).toContain(`${ns.name}-missing`);
  const last = JSON.parse((await cli(["job", "list", "--limit", "1", "-o", "json"], env)).stdout)[0];
  expect(last.status).toBe("SubmitFailed");
});
