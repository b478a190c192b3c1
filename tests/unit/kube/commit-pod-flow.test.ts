/**
 * The launcher's edge paths, in process against the fake API server with a scripted kubelet (no
 * committer runs): the result from the termination message, the committer's error document, an old
 * committer without a result, OOM, the deadline, a Pod deleted by someone else, a Pod that never
 * starts (events in the message), API failures during the owner patch and the clean-up.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { SeelieError } from "../../../lib/errors.ts";
import { loadKube } from "../../../lib/kube/client.ts";
import { commitPod, type CommitPodOptions } from "../../../lib/kube/commit-pod.ts";
import { startFakeKube, type FakeKube, type KubeObject } from "../../helpers/fake-kube.ts";

const CNS = "seelie-system";
const RESULT = { image: "127.0.0.1:5000/x/y:1", digest: `sha256:${"a".repeat(64)}`, size: 10, layers: 2, runtime: "docker", containerId: "c", cleanup: { skipped: false, files: 0, bytes: 0, removed: [] }, timings: { total: 5 } };
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
      if (script.hang) return set({ phase: "Pending", containerStatuses: [{ name: "committer", state: { waiting: { reason: "ContainerCreating" } } }] });
      set({ phase: "Running", containerStatuses: [{ name: "committer", state: { running: {} } }] });
      fk.appendLog(ns, name, "committer", script.log ?? "");
      await Bun.sleep(30);
      if (script.podFailure) set({ phase: "Failed", reason: script.podFailure, message: "Pod was active on the node longer than the specified deadline" });
      else
        set({
          phase: script.exitCode ? "Failed" : "Succeeded",
          containerStatuses: [{ name: "committer", state: { terminated: { exitCode: script.exitCode ?? 0, reason: script.reason ?? (script.exitCode ? "Error" : "Completed"), message: script.message } } }],
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
    { pod: "nb", namespace: "team-a", image: RESULT.image, clean: true, keepPod: false, timeoutMs: 10_000, committerImage: "committer:1", committerNamespace: CNS, hostNetwork: false, pollMs: 20, ...over },
    { kube, resolveAuth: async () => ({ serveraddress: "127.0.0.1:5000", username: "u", password: "p", source: "test" }), progress: (l) => lines.push(l) },
  );
  return { p, lines };
}

const left = () => fk.list("pods").filter((o) => o.metadata.namespace === CNS).length + fk.list("secrets").length;

describe("commitPod's outcomes", () => {
  test("the termination message carries the result; the log is only progress", async () => {
    const { p, lines } = run({ log: "ℹ cleaning\nℹ pushing\n", message: JSON.stringify(RESULT) });
    const r = await p;
    expect(r).toMatchObject({ image: RESULT.image, digest: RESULT.digest, node: "node-1", runtime: "docker" });
    expect(lines).toEqual(["ℹ cleaning", "ℹ pushing"]);
    expect(left()).toBe(0);
  });

  test("the JSON document at the end of the log when there is no termination message", async () => {
    const { p, lines } = run({ log: `ℹ pushing\n${JSON.stringify(RESULT, null, 2)}\n` });
    expect((await p).digest).toBe(RESULT.digest);
    expect(lines).toEqual(["ℹ pushing"]);
  });

  test("the committer's error document: its message and hint", async () => {
    const { p } = run({ exitCode: 1, message: JSON.stringify({ error: { message: "registry 127.0.0.1:5000 refused the password", hint: "docker login again", exitCode: 1 } }) });
    const err = await p.catch((e) => e);
    expect(err).toBeInstanceOf(SeelieError);
    expect(err.message).toBe("the committer on node node-1 failed (exit code 1): registry 127.0.0.1:5000 refused the password");
    expect(err.hint).toBe("docker login again");
    expect(err.exitCode).toBe(1);
    expect(left()).toBe(0);
  });

  test("no error document: the last ERROR line of the log (the FallbackToLogsOnError message is not JSON)", async () => {
    const log = "ℹ starting\n\n ERROR  container docker://fff not found\n\nℹ hint: check the id\n";
    const { p } = run({ exitCode: 2, log, message: log });
    const err = await p.catch((e) => e);
    expect(err.message).toBe("the committer on node node-1 failed (exit code 2): container docker://fff not found");
    expect(err.hint).toBe("check the id");
    expect(err.exitCode).toBe(1);
  });

  test("OOMKilled is named", async () => {
    const { p } = run({ exitCode: 137, reason: "OOMKilled" });
    expect((await p.catch((e) => e)).message).toMatch(/exit code 137 \(out of memory: the pod's limit is 1Gi\)/);
  });

  test("an old committer that prints no result", async () => {
    const { p } = run({ log: "done\n" });
    const err = await p.catch((e) => e);
    expect(err.message).toMatch(/finished but reported no result/);
    expect(err.hint).toMatch(/committer:1 an older committer/);
  });

  test("the Pod's deadline", async () => {
    const { p } = run({ podFailure: "DeadlineExceeded" });
    expect((await p.catch((e) => e)).message).toMatch(/did not finish: pod seelie-system\/seelie-commit-ffffffffffffffff is Failed \(it ran longer than its activeDeadlineSeconds\)/);
    expect(left()).toBe(0);
  });

  test("a Pod deleted by someone else while seelie waits", async () => {
    const { p } = run({ vanish: true });
    expect((await p.catch((e) => e)).message).toMatch(/committer pod seelie-system\/seelie-commit-ffffffffffffffff was deleted while seelie waited/);
    expect(left()).toBe(0);
  });

  test("a Pod that never starts: the timeout names the state and the Pod's warning events", async () => {
    const { p } = run({ hang: true }, { timeoutMs: 300 });
    fk.put("events", { metadata: { name: "e1", namespace: CNS }, type: "Warning", reason: "FailedMount", message: 'secret "x" not found', involvedObject: { name: "seelie-commit-ffffffffffffffff" } });
    const err = await p.catch((e) => e);
    expect(err.message).toMatch(/timed out after 300ms before the committer pod started \(Pending \(ContainerCreating\)\); events: FailedMount: secret "x" not found/);
    expect(left()).toBe(0);
  });

  test("--keep-pod keeps the Pod (and its Secret) after a failure too", async () => {
    const { p } = run({ exitCode: 1 }, { keepPod: true });
    await p.catch(() => undefined);
    expect(fk.list("pods").filter((o) => o.metadata.namespace === CNS)).toHaveLength(1);
    expect(fk.list("secrets")).toHaveLength(1);
  });

  test("API failures in the owner patch and the clean-up are warnings, not failures", async () => {
    const { p } = run({ message: JSON.stringify(RESULT) });
    fk.route("PATCH", /\/secrets\//, () => Response.json({ kind: "Status", code: 403, message: "forbidden" }, { status: 403 }));
    fk.route("DELETE", /\/pods\//, () => Response.json({ kind: "Status", code: 500, message: "etcd is sad" }, { status: 500 }));
    const r = await p;
    expect(r.digest).toBe(RESULT.digest);
    expect(fk.list("secrets")).toHaveLength(0); // deleted by seelie itself
  });
});
