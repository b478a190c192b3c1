/**
 * `seelie image cloud-build` end to end against the fake Kubernetes API server: the test plays the
 * kubelet (on Pod create it moves the Pod through Running to Succeeded/Failed and serves the
 * containers' logs). Bad input must fail before any Pod is created; the Pod is always deleted.
 */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { type KubeObject, startFakeKube } from "../helpers/fake-kube.ts";
import { validatePodV121 } from "../helpers/json-schema.ts";

const ROOT = join(import.meta.dir, "../..");
const fk = startFakeKube();
const kubeconfig = fk.kubeconfig();
const home = mkdtempSync(join(tmpdir(), "seelie-cb-cli-"));
afterAll(() => fk.stop());

const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;
const NS = "ml";
const SECRET_B64 = Buffer.from(JSON.stringify({ auths: { "registry.example.com": { auth: Buffer.from("alice:s3cret-pw").toString("base64") } } })).toString("base64");

type Kubelet = (pod: KubeObject) => void;
let kubelet: Kubelet = () => {};
const logs = new Map<string, string>();

fk.onCreate((plural, obj) => {
  if (plural === "pods") kubelet(obj);
});
let rejectCreate: string | undefined;
fk.route("POST", /^\/api\/v1\/namespaces\/[^/]+\/pods$/, () =>
  rejectCreate === undefined
    ? undefined
    : Response.json({ kind: "Status", apiVersion: "v1", status: "Failure", reason: "Invalid", message: rejectCreate, code: 422 }, { status: 422 }),
);
fk.route("GET", /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/, (req) => {
  const q = new URL(req.url).searchParams;
  const text = logs.get(q.get("container") ?? "") ?? "";
  // like the API server: each line prefixed with its RFC3339 timestamp when asked for
  const ts = (l: string, i: number) => (q.get("timestamps") === "true" ? `2026-11-26T10:00:${String(10 + i)}.123456789Z ${l}` : l);
  return new Response(text.split("\n").filter(Boolean).map((l, i) => `${ts(l, i)}\n`).join(""));
});

/** Moves the Pod through the given status updates, one every `ms`. */
function play(pod: KubeObject, updates: Record<string, unknown>[], ms = 60): void {
  updates.forEach((status, i) =>
    setTimeout(() => {
      const cur = fk.get("pods", pod.metadata.namespace, pod.metadata.name);
      if (cur) fk.put("pods", { ...cur, status });
    }, ms * (i + 1)),
  );
}
const terminated = (name: string, exitCode: number, message = "") => ({ name, state: { terminated: { exitCode, message, reason: exitCode ? "Error" : "Completed" } } });
const running = (name: string) => ({ name, state: { running: { startedAt: new Date().toISOString() } } });
const waiting = (name: string, reason = "PodInitializing", message = "") => ({ name, state: { waiting: { reason, message } } });

beforeEach(() => {
  fk.objects.clear();
  fk.requests.length = 0;
  logs.clear();
  kubelet = () => {};
  rejectCreate = undefined;
  fk.put("secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "regcred", namespace: NS }, type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": SECRET_B64 } });
  fk.put("secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "opaque", namespace: NS }, type: "Opaque", data: { x: "eA==" } });
  fk.put("persistentvolumeclaims", { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "ml-projects", namespace: NS } });
});

const BASE_ARGS = [
  "--tool", "kaniko",
  "--base_image", "registry.example.com/base/python:3.10",
  "--context_pvc", "ml-projects",
  "--context_subpath", "alice/mnist",
  "--registry_secret", "regcred",
  "--tag", "v1",
  "--repo_type", "training",
  "--namespace", NS,
];

async function cli(args: string[], opts: { onSpawn?: (p: ReturnType<typeof Bun.spawn>) => void } = {}) {
  const p = Bun.spawn(["bun", "bin/seelie.ts", "image", "cloud-build", ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: home,
      KUBECONFIG: kubeconfig,
      SEELIE_CONFIG: join(home, "config.yaml"),
      SEELIE_REGISTRY_HOST: "registry.example.com",
      SEELIE_REPO: "team",
      SEELIE_USERNAME: "alice",
      SEELIE_ALLOWED_BASE_IMAGES: "registry.example.com/",
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  opts.onSpawn?.(p);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

const podPosts = () => fk.requests.filter((r) => r.method === "POST" && r.path.endsWith("/pods"));
const podDeletes = () => fk.requests.filter((r) => r.method === "DELETE" && /\/pods\/[^/]+$/.test(r.path));

describe("seelie image cloud-build against the fake API server", () => {
  test("success: Pod created as rendered, logs streamed, digest reported as JSON, Pod deleted", async () => {
    logs.set("prepare", "project /workspace/volume/alice/mnist is ready for kaniko\n");
    logs.set("build", "INFO[0001] Retrieving image manifest\nINFO[0009] Pushing image to registry.example.com/team/alice-training:v1\n");
    kubelet = (pod) =>
      play(pod, [
        { phase: "Pending", initContainerStatuses: [running("prepare")], containerStatuses: [waiting("build")] },
        { phase: "Running", initContainerStatuses: [terminated("prepare", 0)], containerStatuses: [running("build")] },
        { phase: "Succeeded", initContainerStatuses: [terminated("prepare", 0)], containerStatuses: [terminated("build", 0, DIGEST)] },
      ]);
    const r = await cli([...BASE_ARGS, "-o", "json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ image: "registry.example.com/team/alice-training:v1", digest: DIGEST, pushed: true, tool: "kaniko", namespace: NS });
    expect(out.pod).toStartWith("seelie-build-kaniko-");
    expect(r.stderr).toContain("[prepare] project /workspace/volume/alice/mnist is ready for kaniko");
    expect(r.stderr).toContain("[build] INFO[0009] Pushing image");
    // the Pod the API received is a valid v1.21 Pod and is gone afterwards
    const posted = podPosts()[0]!.body as KubeObject;
    expect(validatePodV121(posted)).toEqual([]);
    expect(posted.spec.containers[0].image).toBe("ghcr.io/osscontainertools/kaniko:v1.28.2");
    expect(podDeletes().length).toBe(1);
    expect(fk.list("pods")).toEqual([]);
    // the registry password is in neither the Pod nor the output
    expect(JSON.stringify(posted) + r.stdout + r.stderr).not.toContain("s3cret-pw");
  }, 20_000);

  test("the digest is also found in the build log when the termination message is empty; --builder_image overrides the image", async () => {
    logs.set("build", `#12 pushing layers done\nseelie-digest: ${DIGEST}\n`);
    kubelet = (pod) => play(pod, [{ phase: "Succeeded", initContainerStatuses: [terminated("prepare", 0)], containerStatuses: [terminated("build", 0, "")] }]);
    const args = BASE_ARGS.map((a) => (a === "kaniko" ? "buildkit" : a));
    const r = await cli([...args, "--builder-image", "mirror.example.com/moby/buildkit:v0.24.0-rootless", "-o", "json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).digest).toBe(DIGEST);
    expect((podPosts()[0]!.body as KubeObject).spec.containers[0].image).toBe("mirror.example.com/moby/buildkit:v0.24.0-rootless");
    expect(fk.list("pods")).toEqual([]);
  }, 20_000);

  test("build failure: exit 1 naming the container and its message; Pod deleted", async () => {
    logs.set("build", "error: failed to push: unauthorized\n");
    kubelet = (pod) =>
      play(pod, [{ phase: "Failed", initContainerStatuses: [terminated("prepare", 0)], containerStatuses: [terminated("build", 1, "error: failed to push: unauthorized")] }]);
    const r = await cli(BASE_ARGS);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('container "build" exited with 1: error: failed to push: unauthorized');
    expect(podDeletes().length).toBe(1);
    expect(fk.list("pods")).toEqual([]);
  }, 20_000);

  test("in-cluster project check failure (prepare exits 2, e.g. no ml.flag): exit 2, Pod deleted", async () => {
    const msg = " ERROR  /workspace/volume/alice/mnist has no ml.flag at its root, so it is not a seelie project; nothing was built";
    logs.set("prepare", `${msg}\n`);
    kubelet = (pod) => play(pod, [{ phase: "Failed", initContainerStatuses: [terminated("prepare", 2, msg)], containerStatuses: [waiting("build")] }]);
    const r = await cli(BASE_ARGS);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("failed while preparing the project");
    expect(r.stderr).toContain("has no ml.flag");
    expect(fk.list("pods")).toEqual([]);
  }, 20_000);

  test("a builder image that cannot be pulled fails fast, naming the image; Pod deleted", async () => {
    kubelet = (pod) =>
      play(pod, [{ phase: "Pending", initContainerStatuses: [terminated("prepare", 0)], containerStatuses: [waiting("build", "ImagePullBackOff", "Back-off pulling image")] }]);
    const r = await cli([...BASE_ARGS, "--builder_image", "mirror.example.com/nope:1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ImagePullBackOff");
    expect(r.stderr).toContain("mirror.example.com/nope:1");
    expect(fk.list("pods")).toEqual([]);
  }, 20_000);

  test("Ctrl-C while the build runs: exit 130 and the Pod is deleted", async () => {
    kubelet = (pod) => play(pod, [{ phase: "Running", initContainerStatuses: [terminated("prepare", 0)], containerStatuses: [running("build")] }]);
    const r = await cli(BASE_ARGS, {
      onSpawn: (p) => {
        const t = setInterval(() => {
          if (fk.list("pods").some((x) => x.status?.phase === "Running")) {
            clearInterval(t);
            setTimeout(() => p.kill("SIGINT"), 300);
          }
        }, 50);
      },
    });
    expect(r.code).toBe(130);
    expect(r.stderr).toContain("interrupted");
    expect(podDeletes().length).toBe(1);
    expect(fk.list("pods")).toEqual([]);
  }, 20_000);
});

describe("API failures are named", () => {
  test("a Pod the API server refuses: its message is shown", async () => {
    rejectCreate = 'Pod "seelie-build-kaniko-x" is invalid: spec.containers[0].securityContext: Forbidden: PodSecurityPolicy: unable to admit pod';
    const r = await cli(BASE_ARGS);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cannot create the build Pod in namespace ml: HTTP 422 — Pod");
    expect(r.stderr).toContain("unable to admit pod");
  }, 20_000);

  test("a Pod deleted by someone else while it builds", async () => {
    kubelet = (pod) => {
      play(pod, [{ phase: "Running", initContainerStatuses: [terminated("prepare", 0)], containerStatuses: [running("build")] }]);
      setTimeout(() => fk.objects.delete(`/pods/${NS}/${pod.metadata.name}`), 400);
    };
    const r = await cli(BASE_ARGS);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("was deleted before it finished");
  }, 20_000);

  test("an unschedulable Pod: the reason is shown, the wait ends after the deadline (+ as much again), Pod deleted", async () => {
    kubelet = (pod) =>
      play(pod, [{ phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/1 nodes are available: 1 Insufficient memory." }] }]);
    const r = await cli([...BASE_ARGS, "--timeout", "1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("waiting for a node: Unschedulable 0/1 nodes are available: 1 Insufficient memory.");
    expect(r.stderr).toContain("did not finish within 2 s");
    expect(fk.list("pods")).toEqual([]);
  }, 20_000);

  test("an unknown --cluster (kubeconfig context): exit 2 naming the contexts, no Pod", async () => {
    const r = await cli([...BASE_ARGS, "--cluster", "prod"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--cluster "prod": no such context in the kubeconfig');
    expect(r.stderr).toContain("fake");
    expect(podPosts()).toEqual([]);
  }, 20_000);
});

describe("bad input: a clear error and no Pod", () => {
  const projects = mkdtempSync(join(tmpdir(), "seelie-cb-proj-"));
  const noFlag = join(projects, "no-flag");
  mkdirSync(noFlag);
  writeFileSync(join(noFlag, "train.py"), "");
  const withFlag = join(projects, "ok");
  mkdirSync(withFlag);
  writeFileSync(join(withFlag, "ml.flag"), "");
  const badFrom = join(projects, "bad-from");
  mkdirSync(badFrom);
  writeFileSync(join(badFrom, "ml.flag"), "");
  writeFileSync(join(badFrom, "Dockerfile"), "FROM docker.io/library/ubuntu:22.04\n");

  const set = (args: string[], flag: string, value: string | null) => {
    const out = [...args];
    const i = out.indexOf(flag);
    if (value === null) out.splice(i, 2);
    else out[i + 1] = value;
    return out;
  };
  const cases: [string, string[], string][] = [
    ["unknown tool", set(BASE_ARGS, "--tool", "docker"), 'unknown build tool "docker"'],
    ["base image outside the allow list", set(BASE_ARGS, "--base_image", "docker.io/library/ubuntu:22.04"), '--base_image "docker.io/library/ubuntu:22.04" is not allowed'],
    ["no context volume", set(BASE_ARGS, "--context_pvc", null), "no build context"],
    ["context sub-path escaping the volume", set(BASE_ARGS, "--context_subpath", "../etc"), "must not contain '..'"],
    ["missing context path (local view)", [...BASE_ARGS, "--context_dir", join(projects, "absent")], "does not exist"],
    ["missing ml.flag (local view)", [...BASE_ARGS, "--context_dir", noFlag], "has no ml.flag"],
    ["project Dockerfile FROM outside the allow list (local view)", [...BASE_ARGS, "--context_dir", badFrom], "is not allowed"],
    ["missing registry secret (checked through the API)", set(BASE_ARGS, "--registry_secret", "nope"), 'the registry secret "nope" does not exist in namespace "ml"'],
    ["registry secret of the wrong type", set(BASE_ARGS, "--registry_secret", "opaque"), 'is of type "Opaque"'],
    ["missing volume claim (checked through the API)", set(BASE_ARGS, "--context_pvc", "gone"), 'volume claim "gone" does not exist'],
  ];
  for (const [name, args, message] of cases) {
    test(name, async () => {
      const r = await cli(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain("hint:");
      expect(podPosts()).toEqual([]);
    }, 20_000);
  }

  test("Buildpacks refuses a project with its own Dockerfile (local view)", async () => {
    const own = join(projects, "own");
    mkdirSync(own);
    writeFileSync(join(own, "ml.flag"), "");
    writeFileSync(join(own, "Dockerfile"), "FROM registry.example.com/base/python:3.10\n");
    const r = await cli([...set(BASE_ARGS, "--tool", "buildpacks"), "--context_dir", own]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cannot be built with Buildpacks");
    expect(podPosts()).toEqual([]);
  }, 20_000);

  test("--context_dir with a good project passes the local check and --render prints a valid Pod (no API call)", async () => {
    const r = await cli([...BASE_ARGS, "--context_dir", withFlag, "--render"]);
    expect(r.code, r.stderr).toBe(0);
    const pod = parse(r.stdout);
    expect(validatePodV121(pod)).toEqual([]);
    expect(pod.metadata.namespace).toBe(NS);
    expect(fk.requests).toEqual([]);
  }, 20_000);
});
