/**
 * `seelie image commit --pod` end to end, with everything real except the API server: seelie runs as
 * a subprocess against the fake API server; when the committer Pod arrives the test plays the kubelet
 * and runs the real compiled committer (dist/seelie-committer) with that Pod's arguments against the
 * real local Docker or containerd (the Pod's hostPath mounts are the real socket paths of this
 * machine, its Secret volume a temp file with the Secret's data), reports the exit and serves the log.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureCommitterBuilt } from "../helpers/committer.ts";
import { startFakeKube, type FakeKube, type KubeObject } from "../helpers/fake-kube.ts";
import { playKubelet, type KubeletOptions, type LocalProcess } from "../helpers/fake-kubelet.ts";
import { dockerCli, need, sh, testRegistry } from "../helpers/services.ts";
import { parseAllDocuments } from "yaml";

setDefaultTimeout(120_000);
const ROOT = join(import.meta.dir, "../..");
const SEELIE = join(ROOT, "bin/seelie.ts");
const CNS = "seelie-system";
const RUN = Math.random().toString(36).slice(2, 8);
let COMMITTER = "";
const tmp = mkdtempSync(join(tmpdir(), "seelie-k4-"));
const dockerContainers: string[] = [];
const ctrContainers: string[] = [];

/** The kubelet's view of a committer Pod: a local committer process with the Pod's paths mapped. */
function committerProcess(fk: FakeKube, pod: KubeObject, seen: { args: string[]; env: Record<string, string> }[]): LocalProcess {
  const c = pod.spec.containers[0];
  const dir = mkdtempSync(join(tmp, "pod-"));
  const map: [string, string][] = [];
  for (const m of c.volumeMounts ?? []) {
    const v = pod.spec.volumes.find((x: KubeObject) => x.name === m.name);
    if (v.hostPath) map.push([m.mountPath, v.hostPath.path]); // this machine is the node
    else if (v.emptyDir) {
      const d = join(dir, m.name);
      mkdirSync(d);
      map.push([m.mountPath, d]);
    } else if (v.secret) {
      const secret = fk.get("secrets", pod.metadata.namespace, v.secret.secretName);
      if (!secret) throw new Error(`FailedMount: secret "${v.secret.secretName}" not found`);
      const d = join(dir, m.name);
      mkdirSync(d);
      for (const it of v.secret.items ?? Object.keys(secret.data).map((key: string) => ({ key, path: key }))) {
        writeFileSync(join(d, it.path), Buffer.from(secret.data[it.key], "base64"), { mode: 0o400 });
      }
      map.push([m.mountPath, d]);
    }
  }
  const termFile = join(dir, "termination-log");
  writeFileSync(termFile, "");
  map.push([c.terminationMessagePath ?? "/dev/termination-log", termFile]);
  const local = (s: string) => {
    for (const [from, to] of map) if (s === from || s.startsWith(`${from}/`) || s.startsWith(`unix://${from}`)) return s.replace(from, to);
    return s;
  };
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) env[e.name] = local(e.value);
  seen.push({ args: [...c.command, ...c.args], env: Object.fromEntries((c.env ?? []).map((e: KubeObject) => [e.name, e.value])) });
  expect(c.command).toEqual(["/usr/local/bin/seelie-committer"]);
  return { argv: [COMMITTER, ...c.args.map(local)], env, terminationMessageFile: termFile, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The permissions pods/committer/rbac.yaml grants: "scope resource verb", scope = committer namespace or source. */
const RBAC = (() => {
  const docs = parseAllDocuments(readFileSync(join(ROOT, "pods/committer/rbac.yaml"), "utf8")).map((d) => d.toJS());
  const granted = new Set<string>();
  for (const d of docs) {
    if (d?.kind !== "Role" && d?.kind !== "ClusterRole") continue;
    const scope = d.kind === "Role" ? `ns:${d.metadata.namespace}` : "source";
    for (const r of d.rules) for (const res of r.resources) for (const v of r.verbs) granted.add(`${scope} ${res} ${v}`);
  }
  return granted;
})();
const usedPermissions = new Set<string>();

/** Checks that every request seelie made is granted by rbac.yaml (and records it). */
function checkRbac(fk: FakeKube) {
  for (const q of fk.requests) {
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(q.path);
    expect(m, `${q.method} ${q.path}`).not.toBeNull();
    const [, ns, plural, name, sub] = m!;
    const resource = sub ? `${plural}/${sub}` : plural!;
    const verb = { GET: name ? "get" : "list", POST: "create", PATCH: "patch", PUT: "update", DELETE: "delete" }[q.method]!;
    const perm = `${ns === CNS ? `ns:${CNS}` : "source"} ${resource} ${verb}`;
    expect(RBAC.has(perm), `${q.method} ${q.path} needs "${perm}", which pods/committer/rbac.yaml does not grant`).toBe(true);
    usedPermissions.add(perm);
  }
}

/** A fake cluster: API server, kubelet for committer Pods, a kubeconfig, what the committer Pods looked like. */
function cluster(kubelet: Partial<KubeletOptions> = {}) {
  const fk = startFakeKube();
  const seen: { args: string[]; env: Record<string, string> }[] = [];
  const pods: KubeObject[] = [];
  fk.onCreate((plural, obj) => void (plural === "pods" && obj.metadata.namespace === CNS && pods.push(structuredClone(obj))));
  const record = playKubelet(fk, {
    select: (p) => p.metadata.namespace === CNS,
    prepare: (p) => committerProcess(fk, p, seen),
    ...kubelet,
  });
  const kubeconfig = fk.kubeconfig();
  return { fk, seen, pods, record, kubeconfig };
}

/** The source pod as the kubelet reports it (running on node-1). */
function sourcePod(fk: FakeKube, opts: { name: string; containers: { name: string; id?: string; running?: boolean }[]; annotations?: Record<string, string>; node?: string | null }) {
  return fk.put("pods", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: opts.name, namespace: "team-a", annotations: opts.annotations },
    spec: { nodeName: opts.node === null ? undefined : (opts.node ?? "node-1"), containers: opts.containers.map((c) => ({ name: c.name, image: "img" })) },
    status: {
      phase: opts.node === null ? "Pending" : "Running",
      containerStatuses:
        opts.node === null
          ? undefined
          : opts.containers.map((c) =>
              c.running === false
                ? { name: c.name, ready: false, restartCount: 3, image: "img", imageID: "", state: { waiting: { reason: "CrashLoopBackOff" } } }
                : { name: c.name, ready: true, restartCount: 0, image: "img", imageID: "", containerID: c.id, state: { running: { startedAt: new Date().toISOString() } } },
            ),
    },
  });
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `seelie image commit …` against the fake cluster; `onStderr` sees stderr as it arrives. */
async function seelie(kubeconfig: string, args: string[], opts: { onStderr?: (text: string, proc: ReturnType<typeof Bun.spawn>) => void; env?: Record<string, string> } = {}): Promise<Run> {
  const home = mkdtempSync(join(tmp, "home-"));
  const proc = Bun.spawn(["bun", SEELIE, "image", "commit", ...args], {
    env: { ...process.env, KUBECONFIG: kubeconfig, HOME: home, DOCKER_CONFIG: need("SEELIE_TEST_DOCKER_CONFIG"), SEELIE_CONFIG: join(home, "none.yaml"), ...opts.env },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  let stderr = "";
  const readErr = (async () => {
    const dec = new TextDecoder();
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) {
      stderr += dec.decode(chunk, { stream: true });
      opts.onStderr?.(stderr, proc);
    }
  })();
  const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited, readErr]);
  return { code, stdout, stderr };
}

/** Starts a "notebook" container on the local Docker with some work in it; returns its id. */
async function dockerNotebook(): Promise<string> {
  const name = `seelie-k4-${RUN}-${dockerContainers.length}`;
  const r = await sh(dockerCli("run", "-d", "--name", name, need("SEELIE_TEST_BUSYBOX"), "sh", "-c", "mkdir -p /root /tmp && echo my-work > /root/work.txt && echo junk > /tmp/junk.txt && sleep 3600"));
  if (r.code !== 0) throw new Error(`docker run: ${r.stderr}`);
  dockerContainers.push(name);
  const id = r.stdout.trim();
  for (let i = 0; i < 50; i++) {
    if ((await sh(dockerCli("exec", id, "cat", "/tmp/junk.txt"))).code === 0) break;
    await Bun.sleep(100);
  }
  return id;
}

async function gone(fk: FakeKube, what: "pods" | "secrets"): Promise<KubeObject[]> {
  return fk.list(what).filter((o) => o.metadata.namespace === CNS);
}

/** No committer Pod and no per-run Secret is left in the committer namespace. */
async function expectNothingLeft(fk: FakeKube): Promise<void> {
  expect(await gone(fk, "pods")).toEqual([]);
  expect(await gone(fk, "secrets")).toEqual([]);
}

/** The source container still runs (not stopped, not left paused). */
async function expectStillRunning(id: string): Promise<void> {
  expect((await sh(dockerCli("inspect", "-f", "{{.State.Status}}", id))).stdout.trim()).toBe("running");
}

beforeAll(async () => {
  COMMITTER = await ensureCommitterBuilt();
  testRegistry();
});
afterAll(async () => {
  for (const c of dockerContainers) await sh(dockerCli("rm", "-f", c));
  for (const c of ctrContainers) {
    await sh(["ctr", "-n", "k8s.io", "task", "kill", "-s", "SIGKILL", c]);
    await Bun.sleep(200);
    await sh(["ctr", "-n", "k8s.io", "task", "rm", "-f", c]);
    await sh(["ctr", "-n", "k8s.io", "container", "rm", c]);
  }
  rmSync(tmp, { recursive: true, force: true });
});

/** The checks every committer Pod must pass: no secret in args or env, one host mount (the socket's). */
function checkPodSpec(pod: KubeObject, socketHostPath: string, secretValues: string[]) {
  const c = pod.spec.containers[0];
  const text = JSON.stringify({ args: c.args, command: c.command, env: c.env, envFrom: c.envFrom });
  for (const s of secretValues) expect(text).not.toContain(s);
  expect(c.envFrom).toBeUndefined();
  for (const e of c.env ?? []) expect(e.valueFrom).toBeUndefined();
  const hostVolumes = pod.spec.volumes.filter((v: KubeObject) => v.hostPath);
  expect(hostVolumes.map((v: KubeObject) => v.hostPath.path)).toEqual([socketHostPath]);
  expect(pod.spec.hostPID).toBe(false);
  expect(pod.spec.hostNetwork).toBe(false);
  expect(pod.spec.automountServiceAccountToken).toBe(false);
  expect(c.securityContext.privileged).toBe(false);
  expect(pod.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values).toEqual(["node-1"]);
  expect(pod.spec.tolerations).toEqual([{ operator: "Exists" }]);
}

describe("seelie image commit --pod (Docker node)", () => {
  test("commits the default container of a pod with a sidecar, streams progress, reports, cleans up", async () => {
    const { fk, pods, seen, record, kubeconfig } = cluster();
    const id = await dockerNotebook();
    sourcePod(fk, {
      name: "nb",
      containers: [{ name: "istio-proxy", id: "docker://0000000000000000" }, { name: "notebook", id: `docker://${id}` }],
      annotations: { "kubectl.kubernetes.io/default-container": "notebook" },
    });
    const image = `${need("SEELIE_TEST_REGISTRY")}/seelie/k4-commit:${RUN}-docker`;
    const t0 = Date.now();
    const r = await seelie(kubeconfig, ["--pod", "nb", "-n", "team-a", "--image", image, "-o", "json"]);
    const ms = Date.now() - t0;
    console.error(`[commit-pod] docker commit through the fake cluster: seelie subprocess ${ms} ms, timings (s) ${JSON.stringify(JSON.parse(r.stdout || "{}").timings)}`);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ image, node: "node-1", runtime: "docker", containerId: id, source: { namespace: "team-a", pod: "nb", container: "notebook" } });
    expect(out.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(Object.keys(out.timings)).toEqual(expect.arrayContaining(["commit", "push", "total", "podStart", "overall"]));
    // The committer's progress reached stderr, its JSON did not (it is seelie's stdout).
    expect(r.stderr).toMatch(/commit/i);
    expect(r.stderr).not.toContain(`"digest"`);
    // Pod and per-run Secret are gone; the Secret had been owned by the Pod.
    await record.idle();
    await expectNothingLeft(fk);
    const patch = fk.requests.find((q) => q.method === "PATCH" && q.path.includes("/secrets/"));
    expect((patch?.body as KubeObject).metadata.ownerReferences[0]).toMatchObject({ kind: "Pod", name: pods[0]!.metadata.name, uid: pods[0]!.metadata.uid });
    // The Pod: pinned, no secret in args/env, only the Docker socket mounted, credentials as a mounted file.
    const reg = testRegistry();
    checkPodSpec(pods[0]!, "/var/run/docker.sock", [reg.password, Buffer.from(`${reg.user}:${reg.password}`).toString("base64")]);
    expect(seen[0]!.args).toContain("--docker-config");
    expect(pods[0]!.metadata.labels["seelie.dev/source-container"]).toBe("notebook");
    // The committed image holds the user's work and not the /tmp junk the container wrote.
    const check = await sh(dockerCli("run", "--rm", image, "sh", "-c", "cat /root/work.txt; ls /tmp"));
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain("my-work");
    expect(check.stdout).not.toContain("junk.txt");
    await sh(dockerCli("rmi", image));
    checkRbac(fk);
    fk.stop();
  });

  test("--runtime_socket: a socket elsewhere on the node is mounted (its directory) and used; --keep-pod keeps the Pod; text output", async () => {
    const { fk, pods, record, kubeconfig } = cluster();
    const id = await dockerNotebook();
    sourcePod(fk, { name: "nb2", containers: [{ name: "main", id: `docker://${id}` }] });
    const sockDir = mkdtempSync(join(tmp, "node-run-"));
    symlinkSync("/var/run/docker.sock", join(sockDir, "docker.sock"));
    const image = `${need("SEELIE_TEST_REGISTRY")}/seelie/k4-commit:${RUN}-sock`;
    const r = await seelie(kubeconfig, ["--pod", "nb2", "--namespace", "team-a", "--image", image, "--runtime-socket", join(sockDir, "docker.sock"), "--keep-pod", "--no-clean"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`image    ${image}`);
    expect(r.stdout).toMatch(/cleanup +skipped/);
    await record.idle();
    const pod = pods[0]!;
    expect(pod.spec.volumes.find((v: KubeObject) => v.hostPath).hostPath).toEqual({ path: sockDir, type: "Directory" });
    expect(pod.spec.containers[0].args).toContain("--no-clean");
    const kept = await gone(fk, "pods");
    expect(kept.map((p) => p.metadata.name)).toEqual([pod.metadata.name]);
    expect(kept[0]!.status.phase).toBe("Succeeded");
    expect(r.stderr).toContain(`kubectl delete pod -n ${CNS} ${pod.metadata.name}`);

    // A finished leftover of the same container is replaced by the next commit.
    const r2 = await seelie(kubeconfig, ["--pod", "nb2", "-n", "team-a", "--image", image, "--runtime-socket", join(sockDir, "docker.sock")]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stderr).toMatch(/deleting the finished committer pod/);
    await record.idle();
    expect(await gone(fk, "pods")).toEqual([]);
    checkRbac(fk);
    fk.stop();
  });

  test("--registry_secret: an existing secret is mounted, no per-run secret is made", async () => {
    const { fk, pods, record, kubeconfig } = cluster();
    const id = await dockerNotebook();
    sourcePod(fk, { name: "nb3", containers: [{ name: "main", id: `docker://${id}` }] });
    const reg = testRegistry();
    const cfg = JSON.stringify({ auths: { [reg.addr]: { auth: Buffer.from(`${reg.user}:${reg.password}`).toString("base64") } } });
    fk.put("secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "platform-push", namespace: CNS }, type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": Buffer.from(cfg).toString("base64") } });
    const image = `${reg.addr}/seelie/k4-commit:${RUN}-secret`;
    // No credentials of the user's own: the platform's secret is the only way in.
    const r = await seelie(kubeconfig, ["--pod", "nb3", "-n", "team-a", "--image", image, "--registry_secret", "platform-push", "-o", "json"], { env: { DOCKER_CONFIG: join(tmp, "empty") } });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).image).toBe(image);
    await record.idle();
    expect(pods[0]!.spec.volumes.find((v: KubeObject) => v.secret).secret.secretName).toBe("platform-push");
    expect(fk.requests.filter((q) => q.method === "POST" && q.path.endsWith("/secrets"))).toEqual([]);
    expect((await gone(fk, "secrets")).map((s) => s.metadata.name)).toEqual(["platform-push"]);
    checkRbac(fk);
    fk.stop();
  });

  test("a failing committer: its error reaches the user, the Pod and the Secret are deleted", async () => {
    const { fk, record, kubeconfig } = cluster();
    sourcePod(fk, { name: "nb4", containers: [{ name: "main", id: `docker://${"d".repeat(64)}` }] });
    const r = await seelie(kubeconfig, ["--pod", "nb4", "-n", "team-a", "--image", `${need("SEELIE_TEST_REGISTRY")}/seelie/k4-commit:${RUN}-fail`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the committer on node node-1 failed \(exit code [12]\): .*d{12}/);
    await record.idle();
    await expectNothingLeft(fk);
    checkRbac(fk);
    fk.stop();
  });
});

describe("seelie image commit --pod (containerd node)", () => {
  test("commits a container the kubelet runs in containerd's k8s.io namespace", async () => {
    const { fk, pods, record, kubeconfig } = cluster();
    const reg = testRegistry();
    const base = need("SEELIE_TEST_BUSYBOX");
    const pull = await sh(["ctr", "-n", "k8s.io", "images", "pull", "--plain-http", "--user", `${reg.user}:${reg.password}`, base]);
    expect(pull.code, pull.stderr).toBe(0);
    const cid = `seelie-k4-${RUN}-ctr`;
    ctrContainers.push(cid);
    const run = await sh(["ctr", "-n", "k8s.io", "run", "-d", base, cid, "sh", "-c", "echo my-work > /root/work.txt; echo junk > /tmp/junk.txt; sleep 3600"]);
    expect(run.code, run.stderr).toBe(0);
    await Bun.sleep(500);
    sourcePod(fk, { name: "nbc", containers: [{ name: "main", id: `containerd://${cid}` }] });
    const image = `${reg.addr}/seelie/k4-commit:${RUN}-containerd`;
    const r = await seelie(kubeconfig, ["--pod", "nbc", "-n", "team-a", "--image", image, "-o", "json"]);
    await record.idle();
    checkPodSpec(pods[0]!, "/run/containerd", [reg.password]);
    expect(pods[0]!.spec.containers[0].args).toEqual(expect.arrayContaining(["--namespace", "k8s.io", "--runtime-endpoint", "unix:///run/containerd/containerd.sock"]));
    await expectNothingLeft(fk);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ image, runtime: "containerd", containerId: cid, node: "node-1" });
    const check = await sh(dockerCli("run", "--rm", image, "sh", "-c", "cat /root/work.txt; ls /tmp"));
    expect(check.stdout).toContain("my-work");
    expect(check.stdout).not.toContain("junk.txt");
    await sh(dockerCli("rmi", image));
    checkRbac(fk);
    fk.stop();
  });
});

describe("locating the container (no committer Pod is made)", () => {
  const { fk, kubeconfig } = cluster();
  afterAll(() => {
    checkRbac(fk);
    fk.stop();
  });
  const img = ["--image", "127.0.0.1:5000/seelie/k4-commit:never"];
  const cases: { name: string; pod: Parameters<typeof sourcePod>[1]; args?: string[]; code: number; err: RegExp }[] = [
    { name: "several containers, none chosen: the names are listed", pod: { name: "two", containers: [{ name: "notebook", id: "docker://a" }, { name: "sidecar", id: "docker://b" }] }, code: 2, err: /2 containers: notebook, sidecar[\s\S]*-c NAME/ },
    { name: "an unknown -c", pod: { name: "one", containers: [{ name: "notebook", id: "docker://a" }] }, args: ["-c", "nope"], code: 2, err: /no container "nope"/ },
    { name: "a container that is not running", pod: { name: "crash", containers: [{ name: "notebook", running: false }] }, code: 1, err: /not running: waiting \(CrashLoopBackOff\)/ },
    { name: "a pending pod without a node", pod: { name: "pending", containers: [{ name: "notebook" }], node: null }, code: 1, err: /Pending and not scheduled to a node yet/ },
    { name: "a pod that does not exist", pod: { name: "other", containers: [{ name: "x", id: "docker://a" }] }, args: ["--pod", "ghost"], code: 2, err: /pod "ghost" not found in namespace "team-a"/ },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      sourcePod(fk, c.pod);
      const args = c.args?.includes("--pod") ? c.args : ["--pod", c.pod.name, ...(c.args ?? [])];
      const r = await seelie(kubeconfig, [...args, "-n", "team-a", ...img]);
      expect(r.stderr).toMatch(c.err);
      expect(r.code).toBe(c.code);
      await expectNothingLeft(fk);
    });
  }
  test("no kubeconfig at all: a usage error, not a connection to localhost:8080", async () => {
    const r = await seelie("", ["--pod", "x", ...img]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no kubeconfig: KUBECONFIG is not set/);
  });
  test("an unknown --context", async () => {
    const r = await seelie(kubeconfig, ["--pod", "x", "--context", "nope", ...img]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no context "nope".*[\s\S]*fake/);
  });
});

describe("stopping: Ctrl-C, timeout, refusal, a committer image that cannot be pulled", () => {
  test("Ctrl-C while the committer runs: Pod and Secret deleted, exit 130", async () => {
    const { fk, record, kubeconfig } = cluster({ startDelayMs: 30_000 });
    const id = await dockerNotebook();
    sourcePod(fk, { name: "nbi", containers: [{ name: "main", id: `docker://${id}` }] });
    let sent = false;
    const r = await seelie(kubeconfig, ["--pod", "nbi", "-n", "team-a", "--image", `${need("SEELIE_TEST_REGISTRY")}/seelie/k4-commit:${RUN}-int`], {
      onStderr: (text, proc) => {
        if (!sent && /: Running/.test(text)) {
          sent = true;
          proc.kill("SIGINT");
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted/);
    await record.idle();
    await expectNothingLeft(fk);
    // The source container is still running, unpaused.
    await expectStillRunning(id);
    checkRbac(fk);
    fk.stop();
  });

  test("Ctrl-C while the real committer is mid-commit: the kubelet stops it, the source container is not left paused", async () => {
    const { fk, record, kubeconfig } = cluster();
    const id = await dockerNotebook();
    // A bigger change so that the commit takes a moment.
    await sh(dockerCli("exec", id, "sh", "-c", "dd if=/dev/urandom of=/root/big bs=1M count=48 2>/dev/null"));
    sourcePod(fk, { name: "nbj", containers: [{ name: "main", id: `docker://${id}` }] });
    let sent = false;
    const r = await seelie(kubeconfig, ["--pod", "nbj", "-n", "team-a", "--image", `${need("SEELIE_TEST_REGISTRY")}/seelie/k4-commit:${RUN}-int2`], {
      onStderr: (text, proc) => {
        // The committer has cleaned and now pauses and commits the container.
        if (!sent && /clean-up (removed|skipped)/.test(text)) {
          sent = true;
          proc.kill("SIGINT");
        }
      },
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    await record.idle();
    expect(record.killed.length, "the kubelet stopped the running committer").toBe(1);
    await expectNothingLeft(fk);
    await expectStillRunning(id);
    checkRbac(fk);
    fk.stop();
  });

  test("--timeout: the Pod is deleted and the error says what it was waiting for", async () => {
    const { fk, record, kubeconfig } = cluster({ startDelayMs: 30_000 });
    const id = await dockerNotebook();
    sourcePod(fk, { name: "nbt", containers: [{ name: "main", id: `docker://${id}` }] });
    const t0 = Date.now();
    const r = await seelie(kubeconfig, ["--pod", "nbt", "-n", "team-a", "--image", `${need("SEELIE_TEST_REGISTRY")}/seelie/k4-commit:${RUN}-to`, "--timeout", "3s"]);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/timed out after 3s while the committer was running/);
    expect(r.stderr).toMatch(/raise --timeout/);
    await record.idle();
    await expectNothingLeft(fk);
    await expectStillRunning(id);
    checkRbac(fk);
    fk.stop();
  });

  test("a second commit of the same container while one runs is refused (by label, and by name: 409)", async () => {
    const { fk, kubeconfig } = cluster();
    const cid = `${"ab".repeat(32)}`;
    sourcePod(fk, { name: "nbc2", containers: [{ name: "main", id: `docker://${cid}` }] });
    const image = `${need("SEELIE_TEST_REGISTRY")}/seelie/k4-commit:${RUN}-conc`;
    // Another commit's Pod, running, found by its label.
    fk.put("pods", { metadata: { name: "seelie-commit-other", namespace: CNS, labels: { "app.kubernetes.io/name": "seelie-committer", "seelie.dev/container": cid.slice(0, 16) } }, spec: { containers: [{ name: "committer" }] }, status: { phase: "Running" } });
    const r = await seelie(kubeconfig, ["--pod", "nbc2", "-n", "team-a", "--image", image]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already being committed by committer pod seelie-system\/seelie-commit-other/);
    expect((await gone(fk, "pods")).map((p) => p.metadata.name)).toEqual(["seelie-commit-other"]);
    expect(await gone(fk, "secrets")).toEqual([]);
    // A Pod with the same name but no labels (say, made by hand): the create gets 409.
    fk.objects.clear();
    sourcePod(fk, { name: "nbc2", containers: [{ name: "main", id: `docker://${cid}` }] });
    fk.put("pods", { metadata: { name: `seelie-commit-${cid.slice(0, 16)}`, namespace: CNS }, spec: { containers: [{ name: "committer" }] }, status: { phase: "Pending" } });
    const r2 = await seelie(kubeconfig, ["--pod", "nbc2", "-n", "team-a", "--image", image]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/already being committed by committer pod seelie-system\/seelie-commit-abababababababab/);
    expect(fk.requests.some((q) => q.method === "POST" && q.path.endsWith(`/namespaces/${CNS}/pods`))).toBe(true);
    expect((await gone(fk, "pods")).length).toBe(1);
    expect(await gone(fk, "secrets")).toEqual([]);
    checkRbac(fk);
    fk.stop();
  });

  test("a committer image the node cannot pull: a clear error naming the image, Pod and Secret deleted", async () => {
    const { fk, kubeconfig } = cluster({ waitingReason: "ImagePullBackOff" });
    sourcePod(fk, { name: "nbp", containers: [{ name: "main", id: `docker://${"c".repeat(64)}` }] });
    const r = await seelie(kubeconfig, ["--pod", "nbp", "-n", "team-a", "--image", `${need("SEELIE_TEST_REGISTRY")}/seelie/k4-commit:x`, "--committer_image", "registry.example.com/nope/committer:0"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot start: ImagePullBackOff/);
    expect(r.stderr).toMatch(/registry\.example\.com\/nope\/committer:0/);
    await expectNothingLeft(fk);
    checkRbac(fk);
    fk.stop();
  });
});

test("pods/committer/rbac.yaml grants nothing the commits above did not use", () => {
  expect([...RBAC].filter((p) => !usedPermissions.has(p))).toEqual([]);
});
