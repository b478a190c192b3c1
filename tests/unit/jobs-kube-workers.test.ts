/** A TFJob's worker pods as `job get` reports them, and the error for a used-up Docker address pool. */
import { expect, test } from "bun:test";
import { isPoolExhausted, poolExhaustedError } from "../../lib/jobs/address-pool.ts";
import { type PodLike, workersFromPods } from "../../lib/jobs/kube-workers.ts";
import { workersBrief } from "../../lib/jobs/render.ts";

const owner = (name: string) => [{ kind: "TFJob", name }];
const pod = (name: string, labels: Record<string, string>, status: PodLike["status"], ownerName = "seelie-job-3-abc"): PodLike => ({
  metadata: { name, labels: { "seelie.io/job-id": "3", ...labels }, ownerReferences: owner(ownerName) },
  status,
});

test("worker pods: index from the operator's label or the name, container state, restarts and exit codes; other pods ignored", () => {
  const pods: PodLike[] = [
    pod(
      "seelie-job-3-abc-worker-1",
      { "training.kubeflow.org/replica-type": "worker", "training.kubeflow.org/replica-index": "1" },
      {
        phase: "Failed",
        containerStatuses: [{ name: "tensorflow", restartCount: 2, state: { terminated: { exitCode: 3, reason: "Error" } } }],
      },
    ),
    pod(
      "seelie-job-3-abc-worker-0",
      { "tf-replica-type": "worker" },
      { phase: "Running", containerStatuses: [{ name: "tensorflow", restartCount: 0, state: { running: {} } }] },
    ),
    pod(
      "seelie-job-3-abc-worker-2",
      {},
      {
        phase: "Pending",
        containerStatuses: [{ name: "tensorflow", restartCount: 0, state: { waiting: { reason: "ImagePullBackOff" } } }],
      },
    ),
    pod("seelie-job-3-abc-worker-3", {}, { phase: "Pending" }),
    pod(
      "seelie-job-3-abc-ps-0",
      { "training.kubeflow.org/replica-type": "ps", "training.kubeflow.org/replica-index": "0" },
      { phase: "Running" },
    ),
    pod("seelie-job-3-zzz-worker-0", {}, { phase: "Running" }, "seelie-job-3-zzz"), // job 3 of another store
  ];
  expect(workersFromPods(pods, "seelie-job-3-abc")).toEqual([
    { worker: "worker-0", name: "seelie-job-3-abc-worker-0", state: "running", restarts: 0 },
    { worker: "worker-1", name: "seelie-job-3-abc-worker-1", state: "terminated", exitCode: 3, reason: "Error", restarts: 2 },
    { worker: "worker-2", name: "seelie-job-3-abc-worker-2", state: "waiting", reason: "ImagePullBackOff", restarts: 0 },
    { worker: "worker-3", name: "seelie-job-3-abc-worker-3", state: "pending", restarts: 0 },
  ]);
});

test("a pod found by the operator's job-name label without an owner reference still counts", () => {
  const p: PodLike = {
    metadata: { name: "x-worker-0", labels: { "training.kubeflow.org/job-name": "x" } },
    status: { phase: "Succeeded" },
  };
  expect(workersFromPods([p], "x").map((w) => w.state)).toEqual(["succeeded"]);
  expect(workersFromPods([p], "y")).toEqual([]);
});

test("the engine's address-pool messages are recognised", () => {
  expect(
    isPoolExhausted(
      "Error response from daemon: could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network",
    ),
  ).toBe(true);
  expect(isPoolExhausted("all predefined address pools have been fully subnetted")).toBe(true);
  expect(isPoolExhausted("network with name x already exists")).toBe(false);
});

test("a used-up pool says which networks hold it and how to free them", () => {
  const seelie = (id: number) => ({
    Name: `seelie-job-${id}-aa`,
    Labels: { "seelie.io/managed-by": "seelie", "seelie.io/job-id": String(id) },
    IPAM: { Config: [{ Subnet: `172.${id}.0.0/16` }] },
  });
  const nets = [
    { Name: "bridge", IPAM: { Config: [{ Subnet: "172.17.0.0/16" }] } },
    { Name: "host", IPAM: { Config: [] } },
    seelie(12),
    seelie(3),
    { Name: "compose_default", Labels: {}, IPAM: { Config: [{ Subnet: "172.30.0.0/16" }] } },
    { Name: "no-ipam", Labels: null, IPAM: null },
  ];
  const err = poolExhaustedError(40, "could not find an available, non-overlapping IPv4 address pool", nets);
  expect(err.message).toContain("Docker has no free address pool left for job 40's network");
  expect(err.message).toContain("3 networks hold them: 2 by seelie jobs (job 3, 12), 1 by other networks (compose_default)");
  expect(err.hint).toContain("seelie job delete --job_id 3");
  expect(err.hint).toContain("docker network prune");
  expect(err.hint).toContain("default-address-pools");
  expect(err.exitCode).toBe(1);
  const many = poolExhaustedError(
    1,
    "x",
    Array.from({ length: 25 }, (_, i) => seelie(i + 1)),
  );
  expect(many.message).toContain("job 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, … (15 more)");
});

test("workersBrief sums up the workers for job list --refresh", () => {
  const w = (state: string, exitCode?: number, restarts = 0) => ({
    worker: "worker-0",
    name: "x",
    state,
    restarts,
    ...(exitCode !== undefined ? { exitCode } : {}),
  });
  expect(workersBrief([w("running"), w("running", undefined, 2), w("terminated", 3, 1)])).toBe("2 running, 1 terminated (3), 3 restarts");
  expect(workersBrief([w("exited", 0)])).toBe("1 exited (0)");
  expect(workersBrief([])).toBe("-");
});
