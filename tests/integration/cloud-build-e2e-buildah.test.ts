/**
 * `seelie image cloud-build --tool buildah` end to end with a kubelet played for real: the CLI talks to
 * the fake API server; when the Pod is created, this test does what a kubelet would — materialises the
 * Pod's volumes as directories (the PVC's directory, an emptyDir, the Secret's `.dockerconfigjson`
 * decoded into `config.json`), runs the init container (compiled seelie) and then the build container
 * (Debian's buildah, with the Pod's capabilities only) with their exact command lines, serves their
 * logs with timestamps while they run, and reports their exit codes and termination messages. The CLI
 * must stream the logs, report the digest the registry has, and delete the Pod.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ContainerSpec, PodSpecDoc } from "../../lib/cloud-build/types.ts";
import { type KubeObject, startFakeKube } from "../helpers/fake-kube.ts";
import { containerArgv, containerEnv, setprivFor } from "../helpers/pod-local.ts";
import { dockerCli, need, sh } from "../helpers/services.ts";

const ROOT = join(import.meta.dir, "../..");
const NS = "ml";
const fk = startFakeKube();
let work: string;
let seelieBin: string;
const claims: Record<string, string> = {};
const logs = new Map<string, { ts: string; line: string }[]>(); // "pod/container" -> lines
const pushed: string[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "seelie-cb-e2e-"));
  seelieBin = join(work, "seelie");
  const r = await sh(["bun", "build", "--compile", "bin/seelie.ts", "--outfile", seelieBin], { cwd: ROOT });
  if (r.code !== 0) throw new Error(r.stderr);
  claims["ml-projects"] = join(work, "pv");
  mkdirSync(claims["ml-projects"]!);
  const dockerconfig = readFileSync(join(need("SEELIE_TEST_DOCKER_CONFIG"), "config.json"));
  fk.put("secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "regcred", namespace: NS }, type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": dockerconfig.toString("base64") } });
  fk.put("persistentvolumeclaims", { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "ml-projects", namespace: NS } });
}, 60_000);

afterAll(async () => {
  fk.stop();
  for (const img of pushed) await sh(dockerCli("rmi", "-f", img));
  rmSync(work, { recursive: true, force: true });
});

// ---- the kubelet ----

fk.route("GET", /^\/api\/v1\/namespaces\/[^/]+\/pods\/([^/]+)\/log$/, (req, m) => {
  const q = new URL(req.url).searchParams;
  const since = q.get("sinceTime");
  const lines = (logs.get(`${m[1]}/${q.get("container")}`) ?? []).filter((l) => !since || l.ts.slice(0, 19) >= since.slice(0, 19));
  return new Response(lines.map((l) => `${q.get("timestamps") === "true" ? `${l.ts} ` : ""}${l.line}\n`).join(""));
});

function setStatus(pod: KubeObject, status: Record<string, unknown>): void {
  const cur = fk.get("pods", NS, pod.metadata.name);
  if (cur) fk.put("pods", { ...cur, status });
}

/** The Pod's volumes as local directories, as the kubelet prepares them. */
function materialiseVolumes(pod: PodSpecDoc, dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of pod.spec.volumes as any[]) {
    if (v.persistentVolumeClaim) out[v.name] = claims[v.persistentVolumeClaim.claimName]!;
    else if (v.emptyDir) {
      out[v.name] = join(dir, v.name);
      mkdirSync(out[v.name]!, { recursive: true });
      chmodSync(out[v.name]!, 0o777);
    } else if (v.secret) {
      const secret = fk.get("secrets", NS, v.secret.secretName);
      if (!secret) throw new Error(`secret ${v.secret.secretName} missing`);
      out[v.name] = join(dir, v.name);
      mkdirSync(out[v.name]!, { recursive: true });
      for (const item of v.secret.items) writeFileSync(join(out[v.name]!, item.path), Buffer.from(secret.data[item.key], "base64"));
    } else throw new Error(`volume ${v.name}: not played by this kubelet`);
  }
  return out;
}

/** Runs one container; its output becomes the container's log, line by line with timestamps. */
async function runContainer(podName: string, c: ContainerSpec, volumes: Record<string, string>, dir: string, prefix: string[] = []) {
  const mounts = Object.fromEntries((c.volumeMounts ?? []).map((m) => [m.mountPath, volumes[m.name]!]));
  const env = containerEnv(c, mounts);
  let argv = containerArgv(c, env, mounts);
  if (argv[0] === "seelie") argv = [seelieBin, ...argv.slice(1)];
  const termination = join(dir, `${c.name}.termination-log`);
  const key = `${podName}/${c.name}`;
  logs.set(key, []);
  const p = Bun.spawn([...prefix, ...argv], {
    env: { PATH: process.env.PATH, HOME: dir, SEELIE_CONFIG: join(dir, "none.yaml"), ...env, TERMINATION_LOG: termination },
    stdout: "pipe",
    stderr: "pipe",
  });
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    let buf = "";
    for await (const chunk of stream) {
      buf += new TextDecoder().decode(chunk);
      let i = buf.indexOf("\n");
      while (i >= 0) {
        logs.get(key)!.push({ ts: new Date().toISOString(), line: buf.slice(0, i) });
        buf = buf.slice(i + 1);
        i = buf.indexOf("\n");
      }
    }
    if (buf) logs.get(key)!.push({ ts: new Date().toISOString(), line: buf });
  };
  await Promise.all([pump(p.stdout), pump(p.stderr)]);
  const exitCode = await p.exited;
  // terminationMessagePolicy FallbackToLogsOnError: the file, else (on error) the log's tail
  let message = existsSync(termination) ? readFileSync(termination, "utf8") : "";
  if (!message && exitCode !== 0) message = logs.get(key)!.slice(-5).map((l) => l.line).join("\n");
  return { name: c.name, state: { terminated: { exitCode, message, reason: exitCode ? "Error" : "Completed" } } };
}

fk.onCreate((plural, obj) => {
  if (plural !== "pods") return;
  const pod = obj as unknown as PodSpecDoc & KubeObject;
  void (async () => {
    const dir = mkdtempSync(join(work, "pod-"));
    const volumes = materialiseVolumes(pod, dir);
    const prepare = pod.spec.initContainers[0]!;
    const build = pod.spec.containers[0]!;
    setStatus(pod, { phase: "Pending", initContainerStatuses: [{ name: "prepare", state: { running: {} } }], containerStatuses: [{ name: "build", state: { waiting: { reason: "PodInitializing" } } }] });
    const p = await runContainer(pod.metadata.name!, prepare, volumes, dir);
    if (p.state.terminated.exitCode !== 0) {
      setStatus(pod, { phase: "Failed", initContainerStatuses: [p], containerStatuses: [{ name: "build", state: { waiting: { reason: "PodInitializing" } } }] });
      return;
    }
    setStatus(pod, { phase: "Running", initContainerStatuses: [p], containerStatuses: [{ name: "build", state: { running: {} } }] });
    const b = await runContainer(pod.metadata.name!, build, volumes, dir, setprivFor(build));
    setStatus(pod, { phase: b.state.terminated.exitCode === 0 ? "Succeeded" : "Failed", initContainerStatuses: [p], containerStatuses: [b] });
  })();
});

// ---- the CLI ----

async function cloudBuild(args: string[]) {
  const p = Bun.spawn(["bun", "bin/seelie.ts", "image", "cloud-build", ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: work, KUBECONFIG: fk.kubeconfig(), SEELIE_CONFIG: join(work, "none.yaml"), SEELIE_ALLOWED_BASE_IMAGES: `${need("SEELIE_TEST_REGISTRY")}/seelie/` },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

describe("seelie image cloud-build --tool buildah, with the Pod run for real", () => {
  test("builds, pushes, reports the registry's digest, streams the logs and deletes the Pod", async () => {
    const proj = join(claims["ml-projects"]!, "alice/e2e");
    mkdirSync(proj, { recursive: true });
    writeFileSync(join(proj, "ml.flag"), "");
    writeFileSync(join(proj, "build_script.sh"), "#!/bin/sh\necho e2e > /workspace/code/e2e.txt\n", { mode: 0o755 });
    const image = `${need("SEELIE_TEST_REGISTRY")}/seelie/cloud-build-e2e:${Date.now().toString(36)}`;
    const r = await cloudBuild([
      "--tool", "buildah", "--base_image", need("SEELIE_TEST_BUSYBOX"),
      "--context_pvc", "ml-projects", "--context_subpath", "alice/e2e",
      "--registry_secret", "regcred", "--image", image, "-n", NS, "-o", "json",
    ]);
    if (process.env.SEELIE_TEST_SHOW) process.stderr.write(r.stderr);
    expect(r.code, r.stderr).toBe(0);
    pushed.push(image);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ image, pushed: true, tool: "buildah", namespace: NS });
    expect(r.stderr).toContain("[prepare]");
    expect(r.stderr).toMatch(/\[build\] STEP 1\/\d+: FROM/);
    expect(r.stderr).toContain(`[build] seelie-digest: ${out.digest}`);
    // streamed once, not repeated by the resumes
    expect(r.stderr.split("\n").filter((l) => l.startsWith("[build] STEP 1/")).length).toBe(1);
    expect(fk.list("pods")).toEqual([]);

    expect((await sh(dockerCli("pull", image))).code).toBe(0);
    const inspect = await sh(dockerCli("image", "inspect", "--format", "{{json .RepoDigests}}", image));
    expect(inspect.stdout).toContain(out.digest);
    const run = await sh(dockerCli("run", "--rm", image, "cat", "/workspace/code/e2e.txt"));
    expect(run.stdout).toBe("e2e\n");
  }, 180_000);

  test("a project without ml.flag fails in the Pod's prepare step: exit 2 with its message, nothing pushed, Pod deleted", async () => {
    mkdirSync(join(claims["ml-projects"]!, "bob/noflag"), { recursive: true });
    const r = await cloudBuild([
      "--tool", "buildah", "--base_image", need("SEELIE_TEST_BUSYBOX"),
      "--context_pvc", "ml-projects", "--context_subpath", "bob/noflag",
      "--registry_secret", "regcred", "--image", `${need("SEELIE_TEST_REGISTRY")}/seelie/never:1`, "-n", NS,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("failed while preparing the project");
    expect(r.stderr).toContain("has no ml.flag");
    expect(fk.list("pods")).toEqual([]);
  }, 60_000);
});
