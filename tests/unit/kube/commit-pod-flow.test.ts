/**
 * The launcher's edge paths that a real API server and kubelet cannot be made to show on demand, in
 * process against the fake API server (tests/helpers/fake-kube.ts, plain HTTP on loopback — no real
 * cluster test uses it) with a scripted kubelet: the committer OOM-killed (it would take a committer
 * that fills its 1 GiB limit on a shared machine), the Pod's own activeDeadlineSeconds firing (seelie's
 * timeout is a minute shorter, so a real run never reaches it), and the API server failing the owner
 * patch (500) and the clean-up (500). Everything else commitPod does is tested on the real cluster in
 * tests/integration/commit-pod.test.ts.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { loadKube } from "../../../lib/kube/client.ts";
import { type CommitPodOptions, commitPod } from "../../../lib/kube/commit-pod.ts";
import { type FakeKube, type KubeObject, startFakeKube } from "../../helpers/fake-kube.ts";

const CNS = "seelie-system";
const RESULT = {
  image: "127.0.0.1:5000/x/y:1",
  digest: `sha256:${"a".repeat(64)}`,
  size: 10,
  layers: 2,
  runtime: "docker",
  containerId: "c",
  cleanup: { skipped: false, files: 0, bytes: 0, removed: [] },
  timings: { total: 5 },
};
let fk: FakeKube;
afterEach(() => fk?.stop());

/** What the scripted kubelet does with the committer Pod. */
interface Script {
  log?: string;
  exitCode?: number;
  reason?: string;
  message?: string;
  /** End in this pod phase/reason without a container state (e.g. DeadlineExceeded). */
  podFailure?: string;
  /** Stay pending forever. */
  hang?: boolean;
  /** Delete the Pod instead of running it. */
  vanish?: boolean;
}

function setup(script: Script) {
  fk = startFakeKube();
  fk.put("pods", {
    metadata: { name: "nb", namespace: "team-a" },
    spec: { nodeName: "node-1", containers: [{ name: "main" }] },
    status: { phase: "Running", containerStatuses: [{ name: "main", containerID: `docker://${"f".repeat(64)}`, state: { running: {} } }] },
  });
  fk.onCreate((plural, obj) => {
    if (plural !== "pods" || obj.metadata.namespace !== CNS) return;
    void (async () => {
      const ns = obj.metadata.namespace;
      const name = obj.metadata.name;
      const set = (status: KubeObject["status"]) => {
        const cur = fk.get("pods", ns, name);
        if (cur) fk.put("pods", { ...cur, status });
      };
      await Bun.sleep(20);
      if (script.vanish) {
        fk.objects.delete(`/pods/${ns}/${name}`);
        return;
      }
      if (script.hang)
        return set({ phase: "Pending", containerStatuses: [{ name: "committer", state: { waiting: { reason: "ContainerCreating" } } }] });
      set({ phase: "Running", containerStatuses: [{ name: "committer", state: { running: {} } }] });
      fk.appendLog(ns, name, "committer", script.log ?? "");
      await Bun.sleep(30);
      if (script.podFailure)
        set({ phase: "Failed", reason: script.podFailure, message: "Pod was active on the node longer than the specified deadline" });
      else
        set({
          phase: script.exitCode ? "Failed" : "Succeeded",
          containerStatuses: [
            {
              name: "committer",
              state: {
                terminated: {
                  exitCode: script.exitCode ?? 0,
                  reason: script.reason ?? (script.exitCode ? "Error" : "Completed"),
                  message: script.message,
                },
              },
            },
          ],
        });
      fk.endLog(ns, name, "committer");
    })();
  });
  return loadKube({ env: { KUBECONFIG: fk.kubeconfig() } });
}

function run(script: Script, over: Partial<CommitPodOptions> = {}) {
  const kube = setup(script);
  const lines: string[] = [];
  const p = commitPod(
    {
      pod: "nb",
      namespace: "team-a",
      image: RESULT.image,
      clean: true,
      keepPod: false,
      timeoutMs: 10_000,
      committerImage: "committer:1",
      committerNamespace: CNS,
      hostNetwork: false,
      pollMs: 20,
      ...over,
    },
    {
      kube,
      resolveAuth: async () => ({ serveraddress: "127.0.0.1:5000", username: "u", password: "p", source: "test" }),
      progress: (l) => lines.push(l),
    },
  );
  return { p, lines };
}

const left = () => fk.list("pods").filter((o) => o.metadata.namespace === CNS).length + fk.list("secrets").length;

describe("commitPod's outcomes", () => {
  test("OOMKilled is named", async () => {
    const { p } = run({ exitCode: 137, reason: "OOMKilled" });
    expect((await p.catch((e) => e)).message).toMatch(/exit code 137 \(out of memory: the pod's limit is 1Gi\)/);
  });

  test("the Pod's deadline", async () => {
    const { p } = run({ podFailure: "DeadlineExceeded" });
    expect((await p.catch((e) => e)).message).toMatch(
      /did not finish: pod seelie-system\/seelie-commit-ffffffffffffffff is Failed \(it ran longer than its activeDeadlineSeconds\)/,
    );
    expect(left()).toBe(0);
  });

  test("API failures in the owner patch and the clean-up are warnings, not failures", async () => {
    const { p } = run({ message: JSON.stringify(RESULT) });
    fk.route("PATCH", /\/secrets\//, () => Response.json({ kind: "Status", code: 500, message: "etcd timed out" }, { status: 500 }));
    fk.route("DELETE", /\/pods\//, () => Response.json({ kind: "Status", code: 500, message: "etcd is sad" }, { status: 500 }));
    const r = await p;
    expect(r.digest).toBe(RESULT.digest);
    expect(fk.list("secrets")).toHaveLength(0); // deleted by seelie itself
  });
});
