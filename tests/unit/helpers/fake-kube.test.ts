import { afterAll, expect, test } from "bun:test";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { startFakeKube } from "../../helpers/fake-kube.ts";

const fk = startFakeKube();
afterAll(() => fk.stop());

test("the fake API server stores, lists by label, and deletes pods through client-node", async () => {
  const kc = new KubeConfig();
  kc.loadFromFile(fk.kubeconfig());
  const api = kc.makeApiClient(CoreV1Api);
  const created: string[] = [];
  fk.onCreate((plural, obj) => void created.push(`${plural}/${obj.metadata.name}`));
  await api.createNamespacedPod({
    namespace: "ns1",
    body: { metadata: { name: "a", labels: { app: "x" } }, spec: { containers: [{ name: "c", image: "i" }] } },
  });
  await api.createNamespacedPod({
    namespace: "ns1",
    body: { metadata: { name: "b", labels: { app: "y" } }, spec: { containers: [{ name: "c", image: "i" }] } },
  });
  expect(created).toEqual(["pods/a", "pods/b"]);
  const list = await api.listNamespacedPod({ namespace: "ns1", labelSelector: "app=x" });
  expect(list.items.map((p) => p.metadata?.name)).toEqual(["a"]);
  await expect(api.createNamespacedPod({ namespace: "ns1", body: { metadata: { name: "a" } } })).rejects.toThrow();
  await api.deleteNamespacedPod({ namespace: "ns1", name: "a" });
  await expect(api.readNamespacedPod({ namespace: "ns1", name: "a" })).rejects.toThrow();
});

test("the fake serves container logs, following them until the container's log ends", async () => {
  const { Log } = await import("@kubernetes/client-node");
  const { PassThrough } = await import("node:stream");
  const kc = new KubeConfig();
  kc.loadFromFile(fk.kubeconfig());
  const api = kc.makeApiClient(CoreV1Api);
  await api.createNamespacedPod({
    namespace: "ns2",
    body: { metadata: { name: "p" }, spec: { containers: [{ name: "main", image: "i" }] } },
  });
  await expect(api.readNamespacedPodLog({ namespace: "ns2", name: "p" })).rejects.toThrow(/400/);
  fk.appendLog("ns2", "p", "main", "one\n");
  const out = new PassThrough();
  let got = "";
  out.on("data", (d) => (got += String(d)));
  const ended = new Promise((r) => out.on("end", r));
  await new Log(kc).log("ns2", "p", "main", out, { follow: true });
  setTimeout(() => fk.appendLog("ns2", "p", "main", "two\n"), 50);
  setTimeout(() => fk.endLog("ns2", "p", "main"), 100);
  await ended;
  expect(got).toBe("one\ntwo\n");
  expect(await api.readNamespacedPodLog({ namespace: "ns2", name: "p", container: "main" })).toBe("one\ntwo\n");
});
