import { afterAll, expect, test } from "bun:test";
import { KubeConfig, Log } from "@kubernetes/client-node";
import { ContainerLogFollower } from "../../lib/cloud-build/logs.ts";
import { startFakeKube } from "../helpers/fake-kube.ts";

const fk = startFakeKube();
afterAll(() => fk.stop());
const kc = new KubeConfig();
kc.loadFromFile(fk.kubeconfig());

/** The container's whole log, with timestamps as the API server sends them (two lines in the same second). */
const LOG = [
  "2026-11-26T10:00:00.100000000Z step 1",
  "2026-11-26T10:00:01.200000000Z step 2",
  "2026-11-26T10:00:01.700000000Z step 3",
  "2026-11-26T10:00:02.5Z step 4",
];

test("a log stream that ends early is resumed from its last timestamp without repeating or losing lines", async () => {
  const requests: URLSearchParams[] = [];
  let available = 3; // the container has written 3 lines when the first stream is cut
  fk.route("GET", /\/pods\/p1\/log$/, (req) => {
    const q = new URL(req.url).searchParams;
    requests.push(q);
    const since = q.get("sinceTime");
    const lines = LOG.slice(0, available).filter((l) => !since || l.slice(0, 19) >= since.slice(0, 19));
    return new Response(lines.map((l) => `${l}\n`).join(""));
  });
  const seen: string[] = [];
  const f = new ContainerLogFollower(new Log(kc), "ns", "p1", "build", (l) => seen.push(l), (m) => seen.push(`problem: ${m}`));
  f.poke("running");
  await f.done();
  expect(seen).toEqual(["step 1", "step 2", "step 3"]);
  available = 4;
  f.poke("running"); // still running: the stream ended early, resume
  await f.done();
  expect(seen).toEqual(["step 1", "step 2", "step 3", "step 4"]);
  f.poke("terminated"); // one last read after the end
  await f.done();
  f.poke("terminated"); // and no more
  await f.done();
  expect(seen).toEqual(["step 1", "step 2", "step 3", "step 4"]);
  expect(requests.map((q) => [q.get("follow"), q.get("timestamps"), q.get("sinceTime")])).toEqual([
    ["true", "true", null],
    ["true", "true", "2026-11-26T10:00:01Z"],
    ["true", "true", "2026-11-26T10:00:02Z"],
  ]);
});

test("a container first seen after it ended is read once; lines without timestamps are never repeated", async () => {
  let calls = 0;
  fk.route("GET", /\/pods\/p2\/log$/, () => {
    calls++;
    return new Response("plain line\n");
  });
  const seen: string[] = [];
  const f = new ContainerLogFollower(new Log(kc), "ns", "p2", "prepare", (l) => seen.push(l), () => {});
  f.poke("waiting");
  expect(calls).toBe(0);
  f.poke("running");
  await f.done();
  f.poke("running");
  await f.done();
  expect(seen).toEqual(["plain line"]);
  expect(calls).toBe(1);
});
