import { afterAll, expect, test } from "bun:test";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { startFakeKube } from "../helpers/fake-kube.ts";

const fk = startFakeKube();
afterAll(() => fk.stop());

test("the fake API server stores, lists by label, and deletes pods through client-node", async () => {
  const kc = new KubeConfig();
  kc.loadFromFile(fk.kubeconfig());
  const api = kc.makeApiClient(CoreV1Api);
  const created: string[] = [];
  fk.onCreate((plural, obj) => void created.push(`${plural}/${obj.metadata.name}`));
  await api.createNamespacedPod({ namespace: "ns1", body: { metadata: { name: "a", labels: { app: "x" } }, spec: { containers: [{ name: "c", image: "i" }] } } });
  await api.createNamespacedPod({ namespace: "ns1", body: { metadata: { name: "b", labels: { app: "y" } }, spec: { containers: [{ name: "c", image: "i" }] } } });
  expect(created).toEqual(["pods/a", "pods/b"]);
  const list = await api.listNamespacedPod({ namespace: "ns1", labelSelector: "app=x" });
  expect(list.items.map((p) => p.metadata?.name)).toEqual(["a"]);
  await expect(api.createNamespacedPod({ namespace: "ns1", body: { metadata: { name: "a" } } })).rejects.toThrow();
  await api.deleteNamespacedPod({ namespace: "ns1", name: "a" });
  await expect(api.readNamespacedPod({ namespace: "ns1", name: "a" })).rejects.toThrow();
});
