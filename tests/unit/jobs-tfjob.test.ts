import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { localPlan, localStatus, tfConfig } from "../../lib/jobs/local-plan.ts";
import { checkTfJob } from "../../lib/jobs/schema-check.ts";
import { buildTfJob, tfJobStatus } from "../../lib/jobs/tfjob.ts";
import { parseJobSpec } from "../../lib/jobs/validate.ts";
import { generateJob, prng } from "../helpers/jobs.ts";

const spec = parseJobSpec({
  name: "test job",
  description: "d",
  cluster: "dev",
  namespace: "team-a",
  cpu: "2",
  memory: "8",
  gpu: "1",
  workerCount: "3",
  image: "127.0.0.1:5000/seelie/busybox:1",
  entrypointType: "bash -c",
  entrypoint: "sleep 10m; echo failed; exit 1",
  env: ["enable_ema=1", "B=x=y"],
});

test("the TFJob of the SPEC example", () => {
  const t = buildTfJob({ id: 42, spec });
  expect(t.apiVersion).toBe("kubeflow.org/v1");
  expect(t.kind).toBe("TFJob");
  expect(t.metadata).toEqual({
    generateName: "seelie-job-42-",
    namespace: "team-a",
    labels: { "seelie.io/job-id": "42", "app.kubernetes.io/managed-by": "seelie" },
    annotations: { "seelie.io/name": "test job", "seelie.io/description": "d" },
  });
  const worker = (t.spec.tfReplicaSpecs as any).Worker;
  expect(worker.replicas).toBe(3);
  expect(worker.restartPolicy).toBe("Never");
  expect(worker.template.metadata.labels["seelie.io/job-id"]).toBe("42");
  expect(worker.template.spec.containers).toEqual([
    {
      name: "tensorflow",
      image: "127.0.0.1:5000/seelie/busybox:1",
      command: ["bash", "-c", "sleep 10m; echo failed; exit 1"],
      env: [
        { name: "enable_ema", value: "1" },
        { name: "B", value: "x=y" },
      ],
      resources: {
        requests: { cpu: "2", memory: "8Gi", "nvidia.com/gpu": "1" },
        limits: { cpu: "2", memory: "8Gi", "nvidia.com/gpu": "1" },
      },
    },
  ]);
  expect(checkTfJob(t)).toEqual([]);
});

test("no GPU resource at --gpu 0; no command when the entrypoint is empty", () => {
  const t = buildTfJob({ id: 1, spec: { ...spec, gpu: 0, entrypoint: "" } });
  const c = (t.spec.tfReplicaSpecs as any).Worker.template.spec.containers[0];
  expect(c.resources.limits).toEqual({ cpu: "2", memory: "8Gi" });
  expect(c.command).toBeUndefined();
});

test("every generated job's TFJob satisfies the trimmed CRD schema", () => {
  for (let i = 0; i < 300; i++) {
    const g = generateJob(prng(i));
    const s = parseJobSpec({ ...g, cluster: "c", env: g.env });
    expect(checkTfJob(buildTfJob({ id: i + 1, spec: s }))).toEqual([]);
  }
});

test("the schema checker catches what the CRD refuses", () => {
  const t = buildTfJob({ id: 1, spec }) as any;
  t.spec.tfReplicaSpecs.Worker.replicas = "3";
  t.spec.tfReplicaSpecs.Launcher = {};
  t.spec.tfReplicaSpecs.Worker.template.spec.containers[0].resources.limits.cpu = "two";
  delete t.spec.tfReplicaSpecs.Worker.template.spec.containers[0].name;
  const problems = checkTfJob(t);
  expect(problems).toContain("$.spec.tfReplicaSpecs.Worker.replicas: expected integer, got string");
  expect(problems.some((p) => p.startsWith("$.spec.tfReplicaSpecs.Launcher"))).toBe(true);
  expect(problems.some((p) => p.includes("limits.cpu"))).toBe(true);
  expect(problems).toContain("$.spec.tfReplicaSpecs.Worker.template.spec.containers[0].name: required");
});

test("the stored schema is the CRD's (names its source)", () => {
  const schema = JSON.parse(readFileSync(join(import.meta.dir, "../../lib/jobs/tfjob-schema.json"), "utf8"));
  expect(schema.$comment).toContain("kubeflow/training-operator");
  expect(schema.$defs.resourceList.additionalProperties.pattern).toContain("[KMGTPE]i");
});

test.each([
  [[], "Submitted"],
  [[{ type: "Created", status: "True" }], "Created"],
  [
    [
      { type: "Created", status: "True" },
      { type: "Running", status: "True" },
    ],
    "Running",
  ],
  [
    [
      { type: "Created", status: "True" },
      { type: "Running", status: "False" },
      { type: "Succeeded", status: "True" },
    ],
    "Succeeded",
  ],
  [
    [
      { type: "Running", status: "True" },
      { type: "Failed", status: "True", message: "worker 0 exited 1" },
    ],
    "Failed",
  ],
  [[{ type: "Restarting", status: "True" }], "Restarting"],
])("TFJob conditions %j mean %s", (conditions, want) => {
  expect(tfJobStatus({ status: { conditions } }).status).toBe(want as any);
});

test("local plan: per-job network, workers with limits, env, TF_CONFIG, labels", () => {
  const p = localPlan({ id: 7, spec }, "abcd1234");
  expect(p.network!.Name).toBe("seelie-job-7-abcd1234");
  expect(p.network!.Labels).toMatchObject({ "seelie.io/job-id": "7", "seelie.io/managed-by": "seelie" });
  expect(p.containers.map((c) => c.name)).toEqual([
    "seelie-job-7-abcd1234-worker-0",
    "seelie-job-7-abcd1234-worker-1",
    "seelie-job-7-abcd1234-worker-2",
  ]);
  const o = p.containers[1]!.options;
  expect(o.Hostname).toBe("worker-1");
  expect(o.Entrypoint).toEqual(["bash", "-c", "sleep 10m; echo failed; exit 1"]);
  expect(o.Env).toEqual(["enable_ema=1", "B=x=y", `TF_CONFIG=${tfConfig(3, 1)}`]);
  expect(JSON.parse(tfConfig(3, 1))).toEqual({
    cluster: { worker: ["worker-0:2222", "worker-1:2222", "worker-2:2222"] },
    task: { type: "worker", index: 1 },
  });
  expect(o.Labels).toMatchObject({ "seelie.io/job-id": "7", "seelie.io/worker-index": "1" });
  expect(o.HostConfig).toEqual({
    NetworkMode: "seelie-job-7-abcd1234",
    NanoCpus: 2e9,
    Memory: 8 * 1024 ** 3,
    DeviceRequests: [{ Driver: "nvidia", Count: 1, Capabilities: [["gpu"]] }],
  });
  expect(o.NetworkingConfig.EndpointsConfig["seelie-job-7-abcd1234"].Aliases).toEqual(["worker-1"]);
  expect(localPlan({ id: 7, spec: { ...spec, gpu: 0 } }, "x").containers[0]!.options.HostConfig.DeviceRequests).toBeUndefined();
});

test("local plan: a single worker gets no network of its own (default bridge, hostname from /etc/hosts)", () => {
  const p = localPlan({ id: 8, spec: { ...spec, workerCount: 1 } }, "x");
  expect(p.network).toBeUndefined();
  const o = p.containers[0]!.options;
  expect(o.HostConfig.NetworkMode).toBe("bridge");
  expect(o.NetworkingConfig).toBeUndefined();
  expect(o.Hostname).toBe("worker-0");
  expect(o.Env).toContain(`TF_CONFIG=${tfConfig(1, 0)}`);
});

test.each([
  [[{ state: "created" }, { state: "created" }], "Created"],
  [[{ state: "running" }, { state: "created" }], "Running"],
  [[{ state: "exited", exitCode: 0 }, { state: "running" }], "Running"],
  [
    [
      { state: "exited", exitCode: 0 },
      { state: "exited", exitCode: 0 },
    ],
    "Succeeded",
  ],
  [[{ state: "exited", exitCode: 1 }, { state: "running" }], "Failed"],
  [[{ state: "missing" }], "Unknown"],
  [[{ state: "restarting", restarts: 2 }], "Restarting"],
  [[{ state: "exited", exitCode: 0 }, { state: "missing" }], "Unknown"],
  [[{ state: "dead" }, { state: "running" }], "Failed"],
])("local workers %j mean %s", (workers, want) => {
  expect(localStatus((workers as any[]).map((w, i) => ({ name: `w${i}`, ...w }))).status).toBe(want as any);
});

test("local status lists each worker's state, restarts, exit code and OOM kill", () => {
  const st = localStatus([
    { name: "c0", state: "exited", exitCode: 137, oomKilled: true, restarts: 1 },
    { name: "c1", state: "running", exitCode: 0, restarts: 0 },
  ]);
  expect(st.status).toBe("Failed");
  expect(st.message).toBe("worker 0: exited (137) OOMKilled, worker 1: running");
  expect(st.workers).toEqual([
    { worker: "worker-0", name: "c0", state: "exited", exitCode: 137, reason: "OOMKilled", restarts: 1 },
    { worker: "worker-1", name: "c1", state: "running", restarts: 0 },
  ]);
});

test("a TFJob without any condition says so instead of guessing", () => {
  expect(tfJobStatus({})).toEqual({ status: "Submitted", message: "no status (is the training operator installed?)" });
  expect(tfJobStatus({ status: { conditions: [] } }).message).toBe("no status (is the training operator installed?)");
  expect(tfJobStatus({ status: { conditions: [{ type: "Created", status: "True" }] } })).toEqual({ status: "Created" });
});
