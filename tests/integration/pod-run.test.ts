/**
 * lib/kube/pod-run.ts — the one "run a Pod to its end" loop — on the real test cluster: an init
 * container, a main container and a sidecar with their logs followed; each stuck state that ends the
 * run early (ErrImageNeverPull, a registry that refuses the pull, CreateContainerConfigError,
 * CrashLoopBackOff, Unschedulable); the timeout; Ctrl-C; a log stream dropped mid-run (by a CONNECT
 * proxy between seelie and the API server that cuts its tunnels) resumed without losing or repeating
 * a line; and the Pod deleted in every case.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { parse, stringify } from "yaml";
import { InterruptedError, SeelieError } from "../../lib/errors.ts";
import { type KubeClients, loadKube } from "../../lib/kube/client.ts";
import { runPodToEnd } from "../../lib/kube/pod-run.ts";
import { containerStatus } from "../../lib/kube/pod-state.ts";
import { type Cluster, kubectl, needCluster, testNamespace } from "../helpers/cluster.ts";
import { cuttableProxy } from "../helpers/connect-proxy.ts";

setDefaultTimeout(120_000);

let c: Cluster;
let kube: KubeClients;
let ns: { name: string; remove: () => Promise<void> };
const tmp = mkdtempSync(join(tmpdir(), "seelie-pod-run-"));

function box(name: string, script: string, extra: Partial<V1Container> = {}): V1Container {
  return { name, image: c.busyboxImage, imagePullPolicy: "Never", command: ["sh", "-c", script], ...extra };
}

function pod(name: string, spec: Partial<V1Pod["spec"]> & { containers: V1Container[] }): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns.name, labels: { "seelie.test/owner": "pod-run" } },
    spec: { restartPolicy: "Never", terminationGracePeriodSeconds: 1, ...spec },
  };
}

/** The Pod is gone or going (deletion requested). */
async function expectDeleted(name: string): Promise<void> {
  const r = await kubectl(c, ["-n", ns.name, "get", "pod", name, "-o", "jsonpath={.metadata.deletionTimestamp}"]);
  if (r.code === 0) expect(r.stdout.trim()).not.toBe("");
  else expect(r.stderr).toContain("NotFound");
}

beforeAll(async () => {
  c = needCluster({ nodes: ["docker"] });
  kube = loadKube({ env: { HOME: tmp, KUBECONFIG: c.kubeconfig } });
  ns = await testNamespace(c, "pod-run");
});

afterAll(async () => {
  await ns?.remove();
  rmSync(tmp, { recursive: true, force: true });
});

describe("runPodToEnd on the real cluster", () => {
  test("init container, main and sidecar: logs followed in order, the main container's end ends the run, Pod deleted", async () => {
    const lines: string[] = [];
    const states: string[] = [];
    const run = await runPodToEnd(kube, {
      pod: pod("run-ok", {
        initContainers: [box("prepare", "echo prepared; echo 'second prepare line'")],
        containers: [
          box("main", "for i in 1 2 3; do echo main $i; sleep 0.2; done; echo result-doc > /dev/termination-log"),
          box("sidecar", "sleep 3600"),
        ],
      }),
      namespace: ns.name,
      what: "test pod",
      logs: [
        { container: "prepare", onLine: (l) => lines.push(`prepare| ${l}`) },
        { container: "main", onLine: (l) => lines.push(`main| ${l}`), keepText: true },
      ],
      mainContainer: "main",
      timeoutMs: 60_000,
      pollMs: 300,
      onState: (s) => states.push(s),
    });
    expect(lines).toEqual(["prepare| prepared", "prepare| second prepare line", "main| main 1", "main| main 2", "main| main 3"]);
    expect(run.logText.main).toBe("main 1\nmain 2\nmain 3\n");
    expect(run.logText.prepare).toBeUndefined();
    const term = containerStatus(run.pod, "main")?.state?.terminated;
    expect(term?.exitCode).toBe(0);
    expect(term?.message).toBe("result-doc\n");
    expect(states[0]).toMatch(/^Pending/);
    await expectDeleted("run-ok");
  });

  test("a failing container ends the run with its exit code in the result (the caller reads it)", async () => {
    const run = await runPodToEnd(kube, {
      pod: pod("run-fail", { containers: [box("main", "echo oops >&2; exit 3")] }),
      namespace: ns.name,
      what: "test pod",
      logs: [{ container: "main", onLine: () => {}, keepText: true }],
      timeoutMs: 60_000,
      pollMs: 300,
    });
    expect(run.pod.status?.phase).toBe("Failed");
    expect(containerStatus(run.pod, "main")?.state?.terminated?.exitCode).toBe(3);
    expect(run.logText.main).toBe("oops\n");
    await expectDeleted("run-fail");
  });

  const stuck: [string, (n: string) => V1Pod, RegExp, RegExp][] = [
    [
      "ErrImageNeverPull (an image not on the node, pull policy Never)",
      (n) => pod(n, { containers: [{ name: "main", image: "seelie-test/not-there:1", imagePullPolicy: "Never" }] }),
      /its container "main" ErrImageNeverPull/,
      /can pull seelie-test\/not-there:1/,
    ],
    [
      "a registry that refuses the pull (ErrImagePull: unauthorized, or ImagePullBackOff)",
      (n) => pod(n, { containers: [{ name: "main", image: "127.0.0.1:5000/seelie-test/not-there:1", imagePullPolicy: "Always" }] }),
      /its container "main" (ErrImagePull|ImagePullBackOff)/,
      /can pull 127\.0\.0\.1:5000\/seelie-test\/not-there:1/,
    ],
    [
      "CreateContainerConfigError (env from a Secret that does not exist)",
      (n) =>
        pod(n, {
          containers: [box("main", "true", { env: [{ name: "X", valueFrom: { secretKeyRef: { name: "no-such-secret", key: "k" } } }] })],
        }),
      /its container "main" CreateContainerConfigError/,
      /Secret or ConfigMap/,
    ],
    [
      "CrashLoopBackOff (a container that keeps exiting)",
      (n) => pod(n, { restartPolicy: "Always", containers: [box("main", "exit 1")] }),
      /its container "main" CrashLoopBackOff/,
      /--previous/,
    ],
    [
      "Unschedulable (no node matches)",
      (n) => pod(n, { nodeSelector: { "seelie.test/no-such-node": "x" }, containers: [box("main", "true")] }),
      /cannot run: Unschedulable: 0\/\d+ nodes are available/,
      /scheduler's reasons/,
    ],
  ];
  for (const [what, make, message, hint] of stuck) {
    test(`stops early: ${what}`, async () => {
      const name = `stuck-${Math.random().toString(36).slice(2, 7)}`;
      const t0 = Date.now();
      const err = await runPodToEnd(kube, {
        pod: make(name),
        namespace: ns.name,
        what: "test pod",
        timeoutMs: 90_000,
        pollMs: 300,
        unschedulableMs: 0,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SeelieError);
      expect((err as SeelieError).message).toMatch(message);
      expect((err as SeelieError).message).toContain(`the test pod ${ns.name}/${name} cannot run`);
      expect((err as SeelieError).hint).toMatch(hint);
      expect(Date.now() - t0).toBeLessThan(80_000); // well before the timeout
      await expectDeleted(name);
    });
  }

  test("the timeout: names the state, Pod deleted", async () => {
    const err = await runPodToEnd(kube, {
      pod: pod("slow", { containers: [box("main", "sleep 600")] }),
      namespace: ns.name,
      what: "test pod",
      timeoutMs: 4000,
      pollMs: 300,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SeelieError);
    expect((err as Error).message).toMatch(/the test pod .*\/slow did not finish within 4s \(it (was running|never started)/);
    await expectDeleted("slow");
  });

  test("Ctrl-C: InterruptedError, Pod deleted", async () => {
    const ac = new AbortController();
    const p = runPodToEnd(kube, {
      pod: pod("interrupted", { containers: [box("main", "echo started; sleep 600")] }),
      namespace: ns.name,
      what: "test pod",
      logs: [{ container: "main", onLine: (l) => l === "started" && setTimeout(() => ac.abort(), 200) }],
      timeoutMs: 60_000,
      signal: ac.signal,
      pollMs: 300,
    });
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    expect((err as InterruptedError).exitCode).toBe(130);
    await expectDeleted("interrupted");
  });

  test("a log stream dropped mid-run (the proxy cuts it) is resumed: every line once, in order", async () => {
    const proxy = cuttableProxy();
    try {
      const admin = parse(readFileSync(c.kubeconfig, "utf8")) as { clusters: { cluster: Record<string, unknown> }[] };
      admin.clusters[0]!.cluster["proxy-url"] = proxy.url;
      const cfg = join(tmp, "proxied-config");
      writeFileSync(cfg, stringify(admin), { mode: 0o600 });
      const viaProxy = loadKube({ env: { HOME: tmp, KUBECONFIG: cfg } });
      const got: string[] = [];
      const at = new Map<string, number>();
      const p = runPodToEnd(viaProxy, {
        pod: pod("resume", { containers: [box("main", "i=1; while [ $i -le 40 ]; do echo line $i; i=$((i+1)); sleep 0.1; done")] }),
        namespace: ns.name,
        what: "test pod",
        logs: [
          {
            container: "main",
            onLine: (l) => {
              got.push(l);
              at.set(l, Date.now());
              if (l === "line 8" || l === "line 20") proxy.cutAll(); // drop every open tunnel, the log stream's included
            },
          },
        ],
        timeoutMs: 60_000,
        pollMs: 200,
      });
      await p;
      expect(proxy.cuts).toBe(2);
      expect(got).toEqual(Array.from({ length: 40 }, (_, i) => `line ${i + 1}`));
      // Resumed while the container ran, not only read again at its end: lines 25..40 came as written (~1.5 s).
      expect(at.get("line 40")! - at.get("line 25")!).toBeGreaterThan(1000);
    } finally {
      proxy.stop();
    }
    await expectDeleted("resume");
  });
});
