/**
 * The committer image (pods/committer/Dockerfile) run the way the committer Pod runs it: the Pod from
 * the builder is translated to `docker run` (user 0, every capability dropped, no privilege
 * escalation, read-only root filesystem, only the runtime socket mounted from the host and read-only,
 * the registry Secret as a read-only file, the Pod's args and env) and commits a real container on the
 * local Docker. Proves the Pod's security context is enough, with nothing privileged. The base is the
 * local Debian-based test image (no registry outside is reachable here; the Dockerfile's default base
 * is distroless/cc).
 */
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import { buildCommitterPod, committerPodName, dockerConfigJson } from "../../../lib/commit-pod/committer-pod.ts";
import type { CommitTarget } from "../../../lib/commit-pod/locate.ts";
import { socketMount } from "../../../lib/commit-pod/socket.ts";
import { storageMount } from "../../../lib/commit-pod/storage.ts";
import { ensureCommitterBuilt } from "../../helpers/committer.ts";
import { dockerCli, need, sh, testRegistry, ctrPull } from "../../helpers/services.ts";

setDefaultTimeout(180_000);
const ROOT = join(import.meta.dir, "../../..");
const RUN = Math.random().toString(36).slice(2, 8);
const IMAGE = `${need("SEELIE_TEST_REGISTRY")}/seelie/seelie-committer:k4-${RUN}`;
const tmp = mkdtempSync(join(tmpdir(), "seelie-k4-img-"));
const cleanups: string[][] = [];

beforeAll(async () => {
  await ensureCommitterBuilt();
  const b = await sh(
    dockerCli(
      "build",
      "-q",
      "-f",
      join(ROOT, "pods/committer/Dockerfile"),
      "--build-arg",
      `BASE=${need("SEELIE_TEST_PYTHON")}`,
      "-t",
      IMAGE,
      join(ROOT, "dist"),
    ),
  );
  if (b.code !== 0) throw new Error(`docker build of pods/committer/Dockerfile failed: ${b.stderr}`);
  cleanups.push(dockerCli("rmi", "-f", IMAGE));
});
afterAll(async () => {
  for (const c of cleanups.reverse()) await sh(c);
  rmSync(tmp, { recursive: true, force: true });
});

/** Runs the committer Pod's container with `docker run`, translating its security context, mounts, env and args. */
async function runAsPod(pod: V1Pod, label: string) {
  const c = pod.spec!.containers[0]!;
  const sc = c.securityContext!;
  const flags = ["--rm", "--user", `${sc.runAsUser}:${sc.runAsGroup}`];
  if (sc.readOnlyRootFilesystem) flags.push("--read-only");
  for (const cap of sc.capabilities?.drop ?? []) flags.push("--cap-drop", cap);
  if (sc.allowPrivilegeEscalation === false) flags.push("--security-opt", "no-new-privileges");
  if (pod.spec!.hostNetwork) flags.push("--network", "host");
  expect(sc.privileged).toBe(false);
  // Reading overlay upper directories needs exactly these two (lib/commit/upper-dir.ts); nothing else is added.
  expect(sc.capabilities?.add).toEqual(["SYS_ADMIN", "DAC_READ_SEARCH"]);
  for (const cap of sc.capabilities?.add ?? []) flags.push("--cap-add", cap);
  const reg = testRegistry();
  const secretDir = mkdtempSync(join(tmp, "secret-"));
  writeFileSync(
    join(secretDir, ".dockerconfigjson"),
    dockerConfigJson({ serveraddress: reg.addr, username: reg.user, password: reg.password, source: "test" }),
    { mode: 0o400 },
  );
  for (const m of c.volumeMounts!) {
    const v = pod.spec!.volumes!.find((x) => x.name === m.name)!;
    // mountPropagation is not translated: docker refuses rslave where / is a private mount, as here.
    if (v.hostPath) flags.push("-v", `${v.hostPath.path}:${m.mountPath}${m.readOnly ? ":ro" : ""}`);
    else if (v.emptyDir) flags.push("--tmpfs", m.mountPath);
    else if (v.secret) flags.push("-v", `${secretDir}:${m.mountPath}:ro`);
  }
  for (const e of c.env ?? []) flags.push("-e", `${e.name}=${e.value}`);
  flags.push("--entrypoint", c.command![0]!);
  const t0 = Date.now();
  const r = await sh(dockerCli("run", ...flags, IMAGE, ...c.args!));
  console.error(
    `[committer-image] ${label}: committer container ${Date.now() - t0} ms (docker run ${flags.join(" ")} IMAGE ${c.args!.join(" ")})`,
  );
  return r;
}

test("the committer image commits a Docker container with the Pod's security context and mounts, nothing privileged", async () => {
  const src = `seelie-k4-img-${RUN}`;
  const run = await sh(
    dockerCli(
      "run",
      "-d",
      "--name",
      src,
      need("SEELIE_TEST_BUSYBOX"),
      "sh",
      "-c",
      "echo my-work > /root/work.txt; echo junk > /tmp/junk.txt; sleep 3600",
    ),
  );
  expect(run.code, run.stderr).toBe(0);
  cleanups.push(dockerCli("rm", "-f", src));
  await Bun.sleep(500);
  const target: CommitTarget = {
    namespace: "team-a",
    pod: "nb",
    container: "main",
    node: "node-1",
    runtime: "docker",
    containerId: run.stdout.trim(),
  };
  const reg = testRegistry();
  const image = `${reg.addr}/seelie/k4-commit:${RUN}-img`;
  const pod = buildCommitterPod({
    name: committerPodName(target),
    namespace: "seelie-system",
    committerImage: IMAGE,
    target,
    image,
    socket: socketMount("/var/run/docker.sock", "docker"),
    storage: storageMount("docker"),
    registrySecret: "per-run",
    clean: true,
    // The committer pushes itself (not dockerd), and the registry here listens on the loopback only.
    hostNetwork: true,
    activeDeadlineSeconds: 600,
  });
  const r = await runAsPod(pod, "docker");
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out.image).toBe(image);
  expect(out.cleanup.files).toBeGreaterThanOrEqual(1);
  const check = await sh(dockerCli("run", "--rm", image, "sh", "-c", "cat /root/work.txt; ls /tmp"));
  expect(check.stdout).toContain("my-work");
  expect(check.stdout).not.toContain("junk.txt");
  await sh(dockerCli("rmi", image));
});

test("the committer image commits a containerd (k8s.io) container through /run/containerd at the same path (exec FIFOs) and its snapshots read-only, nothing else of the host", async () => {
  const reg = testRegistry();
  const base = need("SEELIE_TEST_BUSYBOX");
  const pull = await ctrPull(base, (a) => sh(["ctr", "-n", "k8s.io", ...a]));
  expect(pull.code, pull.stderr).toBe(0);
  const cid = `seelie-k4-img-${RUN}-ctr`;
  cleanups.push(
    ["ctr", "-n", "k8s.io", "container", "rm", cid],
    ["ctr", "-n", "k8s.io", "task", "rm", "-f", cid],
    ["ctr", "-n", "k8s.io", "task", "kill", "-s", "SIGKILL", cid],
  );
  const run = await sh([
    "ctr",
    "-n",
    "k8s.io",
    "run",
    "-d",
    base,
    cid,
    "sh",
    "-c",
    "echo my-work > /root/work.txt; echo junk > /tmp/junk.txt; sleep 3600",
  ]);
  expect(run.code, run.stderr).toBe(0);
  await Bun.sleep(500);
  const target: CommitTarget = {
    namespace: "team-a",
    pod: "nb",
    container: "main",
    node: "node-1",
    runtime: "containerd",
    containerId: cid,
  };
  const image = `${reg.addr}/seelie/k4-commit:${RUN}-img-ctr`;
  const pod = buildCommitterPod({
    name: committerPodName(target),
    namespace: "seelie-system",
    committerImage: IMAGE,
    target,
    image,
    socket: socketMount("/run/containerd/containerd.sock", "containerd"),
    storage: storageMount("containerd"),
    registrySecret: "per-run",
    clean: true,
    // The registry here listens on the loopback only: the case --host_network is for.
    hostNetwork: true,
    activeDeadlineSeconds: 600,
  });
  expect(pod.spec!.volumes!.filter((v) => v.hostPath).map((v) => v.hostPath!.path)).toEqual([
    "/run/containerd",
    "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs",
  ]);
  const r = await runAsPod(pod, "containerd");
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out).toMatchObject({ image, runtime: "containerd" });
  expect(out.cleanup.files).toBeGreaterThanOrEqual(1);
  const check = await sh(dockerCli("run", "--rm", image, "sh", "-c", "cat /root/work.txt; ls /tmp"));
  expect(check.stdout).toContain("my-work");
  expect(check.stdout).not.toContain("junk.txt");
  // The source task still runs.
  expect((await sh(["ctr", "-n", "k8s.io", "task", "ls"])).stdout).toMatch(new RegExp(`${cid}\\s+\\d+\\s+RUNNING`));
  await sh(dockerCli("rmi", image));
});
