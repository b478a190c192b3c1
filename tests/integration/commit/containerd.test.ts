/**
 * The compiled committer against the real containerd (namespace k8s.io, containers started from locally
 * imported images as the kubelet would) and the password-protected registry. `ctr` only sets the scene
 * and inspects it; the committer itself talks gRPC.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dockerCli, need, sh, testRegistry, removeCtrContainers } from "../../helpers/services.ts";
import {
  ARBITRARY_UID,
  BUSYBOX_IMAGE_CHECK,
  BUSYBOX_IMAGE_OUT,
  BUSYBOX_REMOVED,
  PYTHON_CACHE_FILES,
  PYTHON_IMAGE_CHECK,
  PYTHON_REMOVED,
  PYTHON_REMOVED_BYTES,
  PYTHON_SETUP,
  PYTHON_SOCKET_SERVER,
  SETUP_BUSYBOX,
  UID_HOME,
  UID_IMAGE_CHECK,
  UID_REMOVED,
  UID_REMOVED_BYTES,
  UID_ROOT_SETUP,
  UID_SETUP,
  ensureCommitterBuilt,
  runCommitter,
} from "../../helpers/committer.ts";
import { pushedImage } from "../../helpers/pushed-image.ts";

const NS = "k8s.io";
const RUN = `${process.pid}-${Date.now().toString(36)}`;
const BASE = `127.0.0.1:5000/seelie-test/committer-cd-base:${RUN}`;
const containers: string[] = [];
const dockerImages: string[] = [];
let work: string;
let reg: ReturnType<typeof testRegistry>;
let sock: string;
let testStart = Date.now();

async function ok(argv: string[], what = argv.join(" ")): Promise<string> {
  const r = await sh(argv);
  if (r.code !== 0) throw new Error(`${what} failed: ${r.stderr}`);
  return r.stdout.trim();
}
const ctr = (...args: string[]) => ok(["ctr", "--address", sock, "-n", NS, ...args]);
const docker = (...args: string[]) => ok(dockerCli(...args));

async function importFromDocker(ref: string): Promise<void> {
  await ok(["sh", "-c", `${dockerCli("save", ref).join(" ")} | ctr --address ${sock} -n ${NS} images import -`], `import ${ref}`);
}

async function run(id: string, image: string, cmd: string[], env: string[] = []): Promise<void> {
  await ctr("run", "-d", ...env.flatMap((e) => ["--env", e]), image, id, ...cmd);
  containers.push(id);
}

let execN = 0;
const exec = (id: string, script: string) => ctr("task", "exec", "--exec-id", `t${execN++}`, id, "sh", "-c", script);

async function status(id: string): Promise<string> {
  const line = (await ctr("task", "ls")).split("\n").find((l) => l.split(/\s+/)[0] === id);
  return line?.split(/\s+/)[2] ?? "MISSING";
}

async function localImage(ref: string): Promise<boolean> {
  return (await ctr("images", "ls", "-q")).split("\n").includes(ref);
}

/** The committer's leases (seelie-*) created since `since` that are still there; other sessions may share this containerd, so older ones are not ours. */
async function seelieLeases(since = testStart): Promise<string[]> {
  const ours = async () =>
    (await ctr("leases", "ls")).split("\n").filter((l) => {
      const [id, created] = l.split(/\s+/);
      return /^seelie-/.test(id ?? "") && Date.parse(created ?? "") >= since - 1000;
    });
  // A lease of a concurrent run elsewhere is transient: look twice.
  const first = await ours();
  if (first.length === 0) return first;
  await Bun.sleep(2000);
  return ours();
}

async function inPushedImage(ref: string, script: string): Promise<string> {
  await docker("pull", ref);
  dockerImages.push(ref);
  return docker("run", "--rm", "--network", "none", ref, "sh", "-c", script);
}

async function topLayer(ref: string): Promise<string> {
  return (await pushedImage(ref)).manifest.layers.at(-1)!.digest;
}

beforeAll(async () => {
  reg = testRegistry();
  sock = need("SEELIE_TEST_CONTAINERD_SOCK");
  await ensureCommitterBuilt();
  work = mkdtempSync(join(tmpdir(), "seelie-committer-cd-"));
  writeFileSync(
    join(work, "Dockerfile"),
    `FROM ${need("SEELIE_TEST_BUSYBOX")}\nRUN mkdir -p /tmp/image-dir && echo carried > /tmp/image-file && echo c2 > /tmp/image-dir/f\n`,
  );
  await docker("build", "-q", "-t", BASE, work);
  dockerImages.push(BASE);
  await importFromDocker(BASE);
}, 180_000);

afterAll(async () => {
  await removeCtrContainers(sock, NS, containers);
  await sh(["ctr", "--address", sock, "-n", NS, "images", "rm", BASE]);
  for (const i of dockerImages) await sh(dockerCli("rmi", "-f", i));
  if (work) rmSync(work, { recursive: true, force: true });
}, 120_000);

describe("committer on containerd", () => {
  test("busybox: clean /tmp scratch and caches, keep work, image files and FIFOs; push; no local image, lease or content left", async () => {
    const id = `seelie-cd-bb-${RUN}`;
    await run(id, BASE, ["sleep", "100000"]);
    await exec(id, SETUP_BUSYBOX);
    const target = `127.0.0.1:5000/seelie-test/committed-cd-busybox:${RUN}`;
    testStart = Date.now();
    const r = await runCommitter([
      "--container-id",
      `containerd://${id}`,
      "--image",
      target,
      "--docker-config",
      reg.dockerConfig,
      "--runtime-endpoint",
      `unix://${sock}`,
    ]);
    expect(r.stderr).toContain("clean-up removed");
    expect(r.code).toBe(0);
    const j = r.json!;
    expect(j).toMatchObject({ image: target, runtime: "containerd", containerId: id });
    expect(j.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(j.size).toBeGreaterThan(20 * 1024 * 1024);
    expect(j.layers).toBeGreaterThanOrEqual(2);
    expect(j.cleanup.removed.sort()).toEqual([...BUSYBOX_REMOVED].sort());

    expect(await status(id)).toBe("RUNNING");
    expect(await exec(id, "test -p /tmp/live.fifo && echo fifo")).toBe("fifo");
    expect(await localImage(target)).toBe(false);
    expect(await seelieLeases()).toEqual([]);
    const layer = await topLayer(target);
    await Bun.sleep(500); // containerd's GC runs right after the lease goes
    expect((await ctr("content", "ls", "-q")).split("\n")).not.toContain(layer);
    expect((await inPushedImage(target, BUSYBOX_IMAGE_CHECK)).split("\n")).toEqual(BUSYBOX_IMAGE_OUT);
  }, 240_000);

  test("python: pip caches of every user and PIP_CACHE_DIR, the apt lists it wrote (not the image's); a live unix socket survives", async () => {
    const py = need("SEELIE_TEST_PYTHON");
    const carried = (await docker("run", "--rm", py, "sh", "-c", PYTHON_CACHE_FILES)).split("\n").filter(Boolean);
    expect(carried.some((p) => p.startsWith("/var/lib/apt/lists/"))).toBe(true);
    await importFromDocker(py);
    const id = `seelie-cd-py-${RUN}`;
    await run(id, py, ["sleep", "100000"], ["PIP_CACHE_DIR=/opt/pipcache"]);
    await exec(id, PYTHON_SETUP);
    await ok(["ctr", "--address", sock, "-n", NS, "task", "exec", "-d", "--exec-id", `sock${RUN}`, id, ...PYTHON_SOCKET_SERVER]);
    for (
      let i = 0;
      i < 50 &&
      (await sh(["ctr", "--address", sock, "-n", NS, "task", "exec", "--exec-id", `w${i}`, id, "test", "-S", "/tmp/jupyter.sock"])).code !==
        0;
      i++
    )
      await Bun.sleep(100);

    testStart = Date.now();
    const r = await runCommitter([
      "--container-id",
      id,
      "--runtime",
      "containerd",
      "--namespace",
      NS,
      "--tag",
      `cd-${RUN}`,
      "--repo_type",
      "notebook",
      "--registry_host",
      "127.0.0.1:5000",
      "--repo",
      "seelie-test",
      "--username",
      "alice",
      "--docker-config",
      reg.dockerConfig,
    ]);
    expect(r.stderr).toContain("clean-up removed");
    expect(r.code).toBe(0);
    const target = `127.0.0.1:5000/seelie-test/alice-notebook:cd-${RUN}`;
    expect(r.json!.image).toBe(target);
    // Exactly what the container wrote, and its bytes: the image's own apt lists stay (removing them sheds nothing).
    expect([...r.json!.cleanup.removed].sort()).toEqual([...PYTHON_REMOVED].sort());
    expect(r.json!.cleanup.bytes).toBe(PYTHON_REMOVED_BYTES);
    expect(await status(id)).toBe("RUNNING");
    expect(await exec(id, "test -S /tmp/jupyter.sock && echo sock")).toBe("sock");
    expect(await localImage(target)).toBe(false);
    expect(await seelieLeases()).toEqual([]);
    expect((await inPushedImage(target, PYTHON_IMAGE_CHECK)).split("\n")).toEqual(["import torch", ...carried]);
  }, 300_000);

  test("an arbitrary uid (in no /etc/passwd) with HOME only in its environment: the pip caches in HOME and /home/* go", async () => {
    // ctr run cannot set the process user; the uid writes its files through exec --user, and the
    // container's environment (where the committer reads HOME from) has HOME only there.
    const py = need("SEELIE_TEST_PYTHON");
    await importFromDocker(py);
    const id = `seelie-cd-uid-${RUN}`;
    await run(id, py, ["sleep", "100000"], [`HOME=${UID_HOME}`]);
    await exec(id, UID_ROOT_SETUP);
    await ctr("task", "exec", "--exec-id", `uid${RUN}`, "--user", `${ARBITRARY_UID}:0`, id, "sh", "-c", UID_SETUP);
    const target = `127.0.0.1:5000/seelie-test/committed-cd-uid:${RUN}`;
    testStart = Date.now();
    const r = await runCommitter([
      "--container-id",
      id,
      "--runtime",
      "containerd",
      "--namespace",
      NS,
      "--image",
      target,
      "--docker-config",
      reg.dockerConfig,
    ]);
    expect(r.code).toBe(0);
    expect([...r.json!.cleanup.removed].sort()).toEqual([...UID_REMOVED].sort());
    expect(r.json!.cleanup.bytes).toBe(UID_REMOVED_BYTES);
    expect(await localImage(target)).toBe(false);
    expect(await inPushedImage(target, UID_IMAGE_CHECK)).toBe("my notebook");
  }, 300_000);

  test("a stopped container is committed without the clean-up, saying so", async () => {
    const id = `seelie-cd-stopped-${RUN}`;
    await run(id, BASE, ["sh", "-c", "echo s > /tmp/stopped-scratch; mkdir /work; echo w > /work/w"]);
    for (let i = 0; i < 50 && (await status(id)) !== "STOPPED"; i++) await Bun.sleep(100);
    const target = `127.0.0.1:5000/seelie-test/committed-cd-stopped:${RUN}`;
    testStart = Date.now();
    const r = await runCommitter(["--container-id", `containerd://${id}`, "--image", target, "--docker-config", reg.dockerConfig]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("clean-up skipped: container is not running");
    expect(r.json!.cleanup).toMatchObject({ skipped: true, files: 0, bytes: 0, removed: [] });
    expect(await localImage(target)).toBe(false);
    expect(await seelieLeases()).toEqual([]);
    expect(await inPushedImage(target, "cat /work/w /tmp/stopped-scratch")).toBe("w\ns");
  }, 120_000);
});

describe("committer on containerd: bad input and faults", () => {
  test("unknown container: exit 2, names it", async () => {
    const r = await runCommitter(["--container-id", "containerd://no-such-container", "--image", "127.0.0.1:5000/x/y:1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no-such-container");
  });

  test("no socket: exit 2", async () => {
    const r = await runCommitter([
      "--container-id",
      "containerd://x",
      "--image",
      "127.0.0.1:5000/x/y:1",
      "--runtime-endpoint",
      "unix:///nonexistent/containerd.sock",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no containerd socket at /nonexistent/containerd.sock");
  });

  test("the registry refuses the password: exit 1, no local image or lease, container running", async () => {
    const id = `seelie-cd-badauth-${RUN}`;
    await run(id, BASE, ["sleep", "100000"]);
    await exec(id, "mkdir -p /w && dd if=/dev/urandom of=/w/big bs=1M count=17 2>/dev/null");
    const secret = join(work, ".dockerconfigjson");
    writeFileSync(
      secret,
      JSON.stringify({ auths: { [reg.addr]: { auth: Buffer.from(`${reg.user}:not-the-password`).toString("base64") } } }),
    );
    const target = `127.0.0.1:5000/seelie-test/committed-cd-badauth:${RUN}`;
    testStart = Date.now();
    const r = await runCommitter(["--container-id", `containerd://${id}`, "--image", target, "--docker-config", secret], {
      SEELIE_PUSH_BACKOFF_MS: "50",
    });
    if (process.env.SEELIE_TEST_VERBOSE) console.error(r.stderr);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain("not-the-password");
    expect(r.stdout).toBe("");
    expect(await status(id)).toBe("RUNNING");
    expect(await localImage(target)).toBe(false);
    expect(await seelieLeases()).toEqual([]);
  }, 120_000);

  test("Ctrl-C during the push: exit 130, no local image or lease, container running", async () => {
    const id = `seelie-cd-int-${RUN}`;
    await run(id, BASE, ["sleep", "100000"]);
    await exec(id, "mkdir -p /w && echo w > /w/w");
    const target = `127.0.0.1:5999/seelie-test/committed-cd-interrupted:${RUN}`;
    testStart = Date.now();
    const p = Bun.spawn([await ensureCommitterBuilt(), "--container-id", `containerd://${id}`, "--image", target], {
      env: { ...process.env, SEELIE_PUSH_RETRIES: "5", SEELIE_PUSH_BACKOFF_MS: "20000" },
      stdout: "pipe",
      stderr: "pipe",
    });
    let err = "";
    const reader = p.stderr.getReader();
    const dec = new TextDecoder();
    while (!err.includes("new layer")) {
      const { value, done } = await reader.read();
      if (done) break;
      err += dec.decode(value);
    }
    await Bun.sleep(300);
    p.kill("SIGINT");
    expect(await p.exited).toBe(130);
    expect(await status(id)).toBe("RUNNING");
    expect(await localImage(target)).toBe(false);
    expect(await seelieLeases()).toEqual([]);
  }, 120_000);
});
