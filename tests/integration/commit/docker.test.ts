/**
 * The compiled committer against the real dockerd and the password-protected registry: real changes in
 * running containers, commit, pull the pushed image back and run it to check what is in it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dockerCli, need, sh, testRegistry } from "../../helpers/services.ts";
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

const RUN = `${process.pid}-${Date.now().toString(36)}`;
const BASE = `127.0.0.1:5000/seelie-test/committer-base:${RUN}`;
const containers: string[] = [];
const images: string[] = [];
let work: string;
let reg: ReturnType<typeof testRegistry>;

async function docker(...args: string[]) {
  const r = await sh(dockerCli(...args));
  if (r.code !== 0) throw new Error(`docker ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout.trim();
}

async function startContainer(image: string, extra: string[] = []): Promise<string> {
  const id = await docker("run", "-d", "--network", "none", ...extra, image, "sleep", "100000");
  containers.push(id);
  return id;
}

async function state(id: string): Promise<{ running: boolean; paused: boolean }> {
  const [running, paused] = (await docker("inspect", "-f", "{{.State.Running}} {{.State.Paused}}", id)).split(" ");
  return { running: running === "true", paused: paused === "true" };
}

async function imageExists(ref: string): Promise<boolean> {
  return (await sh(dockerCli("image", "inspect", ref))).code === 0;
}

/** Pulls `ref` back from the registry and runs `script` in it, returning stdout. */
async function inPushedImage(ref: string, script: string): Promise<string> {
  await docker("pull", ref);
  images.push(ref);
  return docker("run", "--rm", "--network", "none", ref, "sh", "-c", script);
}

beforeAll(async () => {
  reg = testRegistry();
  need("SEELIE_TEST_BUSYBOX");
  await ensureCommitterBuilt();
  work = mkdtempSync(join(tmpdir(), "seelie-committer-test-"));
  // An image that carries its own /tmp files (built a moment ago: a recent ctime must not matter).
  writeFileSync(
    join(work, "Dockerfile"),
    `FROM ${need("SEELIE_TEST_BUSYBOX")}\nRUN mkdir -p /tmp/image-dir && echo carried > /tmp/image-file && echo c2 > /tmp/image-dir/f\n`,
  );
  await docker("build", "--network", "none", "-q", "-t", BASE, work);
  images.push(BASE);
}, 120_000);

afterAll(async () => {
  for (const c of containers) await sh(dockerCli("rm", "-f", c));
  for (const i of images) await sh(dockerCli("rmi", "-f", i));
  if (work) rmSync(work, { recursive: true, force: true });
}, 60_000);

describe("committer on Docker", () => {
  test("busybox: clean /tmp scratch and caches, keep work, image files and FIFOs; push; remove the local image", async () => {
    const id = await startContainer(BASE);
    await docker("exec", id, "sh", "-c", SETUP_BUSYBOX);
    const target = `127.0.0.1:5000/seelie-test/committed-busybox:${RUN}`;
    const r = await runCommitter(["--container-id", `docker://${id}`, "--image", target, "--docker-config", reg.dockerConfig]);
    expect(r.stderr).toContain("clean-up removed");
    expect(r.code).toBe(0);
    const j = r.json!;
    expect(j.image).toBe(target);
    expect(j.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(j.runtime).toBe("docker");
    expect(j.containerId).toBe(id);
    expect(j.layers).toBeGreaterThanOrEqual(2);
    expect(j.size).toBeGreaterThan(20 * 1024 * 1024);
    expect(j.cleanup.skipped).toBe(false);
    expect(j.cleanup.removed.sort()).toEqual([...BUSYBOX_REMOVED].sort());
    expect(j.cleanup.files).toBe(7);
    expect(j.cleanup.bytes).toBeGreaterThan(0);
    for (const k of ["clean", "commit", "push", "remove", "total"]) expect(typeof j.timings[k]).toBe("number");

    expect(await imageExists(target)).toBe(false);
    expect(await state(id)).toEqual({ running: true, paused: false });
    expect(await docker("exec", id, "sh", "-c", "test -p /tmp/live.fifo && echo fifo")).toBe("fifo");

    // The apt lists directory is emptied (apt recreates lists/partial itself, as after `rm -rf /var/lib/apt/lists/*`).
    expect((await inPushedImage(target, BUSYBOX_IMAGE_CHECK)).split("\n")).toEqual(BUSYBOX_IMAGE_OUT);
  }, 180_000);

  test("python: every user's pip cache, PIP_CACHE_DIR, the apt lists it wrote (not the image's); a live unix socket survives; --tag/--repo_type naming", async () => {
    // The cache files the base image carries (its apt lists, tens of MB): they must stay and not be counted.
    const carried = (await docker("run", "--rm", need("SEELIE_TEST_PYTHON"), "sh", "-c", PYTHON_CACHE_FILES)).split("\n").filter(Boolean);
    expect(carried.some((p) => p.startsWith("/var/lib/apt/lists/"))).toBe(true);
    const id = await startContainer(need("SEELIE_TEST_PYTHON"), ["-e", "PIP_CACHE_DIR=/opt/pipcache"]);
    await docker("exec", id, "sh", "-c", PYTHON_SETUP);
    await docker("exec", "-d", id, ...PYTHON_SOCKET_SERVER);
    for (let i = 0; i < 50 && (await sh(dockerCli("exec", id, "test", "-S", "/tmp/jupyter.sock"))).code !== 0; i++) await Bun.sleep(100);

    const r = await runCommitter([
      "--container-id",
      id,
      "--runtime",
      "docker",
      "--tag",
      RUN,
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
    const target = `127.0.0.1:5000/seelie-test/alice-notebook:${RUN}`;
    expect(r.json!.image).toBe(target);
    // Exactly what the container wrote, and its bytes: the image's own apt lists stay (removing them sheds nothing).
    expect([...r.json!.cleanup.removed].sort()).toEqual([...PYTHON_REMOVED].sort());
    expect(r.json!.cleanup.bytes).toBe(PYTHON_REMOVED_BYTES);
    expect(r.stderr).toContain("came with the image and stay");
    expect(await state(id)).toEqual({ running: true, paused: false });
    expect((await sh(dockerCli("exec", id, "test", "-S", "/tmp/jupyter.sock"))).code).toBe(0);
    expect(await imageExists(target)).toBe(false);
    const out = await inPushedImage(target, PYTHON_IMAGE_CHECK);
    // (Docker's layer tar leaves sockets out, as `docker commit` does: the socket lives on in the source container only.)
    expect(out.split("\n")).toEqual(["import torch", ...carried]);
  }, 180_000);

  test("an arbitrary uid (in no /etc/passwd) with HOME only in its environment: the pip caches in HOME and /home/* go", async () => {
    const id = await startContainer(need("SEELIE_TEST_PYTHON"), ["-u", `${ARBITRARY_UID}:0`, "-e", `HOME=${UID_HOME}`]);
    await docker("exec", "-u", "0", id, "sh", "-c", UID_ROOT_SETUP);
    await docker("exec", id, "sh", "-c", UID_SETUP);
    const target = `127.0.0.1:5000/seelie-test/committed-uid:${RUN}`;
    const r = await runCommitter(["--container-id", id, "--runtime", "docker", "--image", target, "--docker-config", reg.dockerConfig]);
    expect(r.code).toBe(0);
    expect([...r.json!.cleanup.removed].sort()).toEqual([...UID_REMOVED].sort());
    expect(r.json!.cleanup.bytes).toBe(UID_REMOVED_BYTES);
    expect(await inPushedImage(target, UID_IMAGE_CHECK)).toBe("my notebook");
  }, 180_000);

  test("a stopped container is committed without the clean-up, saying so", async () => {
    const id = await docker(
      "run",
      "-d",
      "--network",
      "none",
      BASE,
      "sh",
      "-c",
      "echo s > /tmp/stopped-scratch; mkdir /work; echo w > /work/w",
    );
    containers.push(id);
    await docker("wait", id);
    const target = `127.0.0.1:5000/seelie-test/committed-stopped:${RUN}`;
    const r = await runCommitter(["--container-id", `docker://${id}`, "--image", target, "--docker-config", reg.dockerConfig]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("clean-up skipped: container is not running");
    expect(r.json!.cleanup).toMatchObject({ skipped: true, files: 0, bytes: 0, removed: [] });
    expect(r.json!.cleanup.reason).toContain("stopped");
    expect(await imageExists(target)).toBe(false);
    expect(await inPushedImage(target, "cat /work/w /tmp/stopped-scratch")).toBe("w\ns");
  }, 120_000);

  test("--no-push --keep-image --no-clean --no-pause leaves the image on the node only", async () => {
    const id = await startContainer(BASE);
    await docker("exec", id, "sh", "-c", "echo keep > /tmp/k");
    const target = `127.0.0.1:5000/seelie-test/committed-local:${RUN}`;
    const r = await runCommitter([
      "--container-id",
      `docker://${id}`,
      "--image",
      target,
      "--no-push",
      "--keep-image",
      "--no-clean",
      "--no-pause",
    ]);
    expect(r.code).toBe(0);
    expect(r.json!.cleanup).toMatchObject({ skipped: true, reason: "--no-clean" });
    expect(r.json!.timings.push).toBe(0);
    expect(await imageExists(target)).toBe(true);
    images.push(target);
    expect(await docker("run", "--rm", "--network", "none", target, "cat", "/tmp/k")).toBe("keep");
    expect((await sh(dockerCli("manifest", "inspect", "--insecure", target))).code).not.toBe(0);
  }, 120_000);
});

describe("committer on Docker: bad input and faults", () => {
  test("unknown container: exit 2, names it", async () => {
    const r = await runCommitter(["--container-id", "docker://0123456789abcdef", "--image", "127.0.0.1:5000/x/y:1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('container "0123456789abcdef" not found');
    expect(r.stdout).toBe("");
  });

  test("no runtime socket: exit 2, names the path", async () => {
    const r = await runCommitter([
      "--container-id",
      "docker://abc",
      "--image",
      "127.0.0.1:5000/x/y:1",
      "--runtime-endpoint",
      "unix:///nonexistent/docker.sock",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no docker socket at /nonexistent/docker.sock");
  });

  test("no socket found by probing under a host prefix", async () => {
    const r = await runCommitter([
      "--container-id",
      "containerd://abc",
      "--image",
      "127.0.0.1:5000/x/y:1",
      "--runtime-endpoint",
      "unix:///nonexistent/containerd.sock",
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no containerd socket at");
  });

  test("a containerd socket given for a docker:// container: a clear failure naming the socket", async () => {
    const r = await runCommitter([
      "--container-id",
      "docker://abc",
      "--image",
      "127.0.0.1:5000/x/y:1",
      "--runtime-endpoint",
      `unix://${need("SEELIE_TEST_CONTAINERD_SOCK")}`,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Docker at ${need("SEELIE_TEST_CONTAINERD_SOCK")} is not answering`);
  });

  test("text output", async () => {
    const id = await startContainer(BASE);
    const p = Bun.spawn(
      [
        await ensureCommitterBuilt(),
        "--container-id",
        `docker://${id}`,
        "--image",
        `127.0.0.1:5000/seelie-test/committed-text:${RUN}`,
        "--no-push",
      ],
      { stdout: "pipe", stderr: "pipe" },
    );
    const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    expect(code).toBe(0);
    expect(out).toContain(`image:    127.0.0.1:5000/seelie-test/committed-text:${RUN}`);
    expect(out).toMatch(/cleanup: {2}0 files, 0 bytes removed/);
    expect(await imageExists(`127.0.0.1:5000/seelie-test/committed-text:${RUN}`)).toBe(false);
  }, 60_000);

  test("invalid image reference: exit 2 before touching the container", async () => {
    const r = await runCommitter(["--container-id", "docker://abc", "--image", "127.0.0.1:5000/Bad Name:1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("invalid --image");
  });

  test("unknown flag and missing container id: exit 2", async () => {
    expect((await runCommitter(["--container-id", "docker://abc", "--image", "a/b", "--bogus"])).code).toBe(2);
    expect((await runCommitter(["--image", "a/b"])).code).toBe(2);
  });

  test("the registry refuses the password: exit 1, local image removed, container running and not paused", async () => {
    const id = await startContainer(BASE);
    await docker("exec", id, "sh", "-c", "echo x > /tmp/x; mkdir -p /w; echo w > /w/w");
    // A mounted kubernetes.io/dockerconfigjson secret: a file, not a directory.
    const secret = join(work, ".dockerconfigjson");
    writeFileSync(
      secret,
      JSON.stringify({ auths: { [reg.addr]: { auth: Buffer.from(`${reg.user}:not-the-password`).toString("base64") } } }),
    );
    const target = `127.0.0.1:5000/seelie-test/committed-badauth:${RUN}`;
    const r = await runCommitter(["--container-id", `docker://${id}`, "--image", target, "--docker-config", secret], {
      SEELIE_PUSH_BACKOFF_MS: "100",
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("refused the credentials");
    expect(r.stderr).not.toContain("not-the-password");
    expect(r.stdout).toBe("");
    expect(await imageExists(target)).toBe(false);
    expect(await state(id)).toEqual({ running: true, paused: false });
  }, 120_000);

  test("the registry is down: retries with back-off, then a clear error; local image removed", async () => {
    const id = await startContainer(BASE);
    const target = `127.0.0.1:5999/seelie-test/committed-down:${RUN}`;
    const r = await runCommitter(["--container-id", `docker://${id}`, "--image", target, "--no-clean"], {
      SEELIE_PUSH_RETRIES: "3",
      SEELIE_PUSH_BACKOFF_MS: "100",
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("retrying in 100 ms (attempt 2/3)");
    expect(r.stderr).toContain("retrying in 200 ms (attempt 3/3)");
    expect(r.stderr).toContain("registry 127.0.0.1:5999: ");
    expect(r.stderr).toContain("failed after 3 attempts");
    expect(await imageExists(target)).toBe(false);
    expect(await state(id)).toEqual({ running: true, paused: false });
  }, 120_000);

  test("Ctrl-C during the push: exit 130, local image removed, container running and not paused", async () => {
    const id = await startContainer(BASE);
    const target = `127.0.0.1:5999/seelie-test/committed-interrupted:${RUN}`;
    const p = Bun.spawn([await ensureCommitterBuilt(), "--container-id", `docker://${id}`, "--image", target], {
      env: { ...process.env, SEELIE_PUSH_RETRIES: "5", SEELIE_PUSH_BACKOFF_MS: "20000" },
      stdout: "pipe",
      stderr: "pipe",
    });
    let err = "";
    const reader = p.stderr.getReader();
    const dec = new TextDecoder();
    while (!err.includes("retrying in")) {
      const { value, done } = await reader.read();
      if (done) break;
      err += dec.decode(value);
    }
    p.kill("SIGINT");
    const code = await p.exited;
    expect(code).toBe(130);
    expect(await imageExists(target)).toBe(false);
    expect(await state(id)).toEqual({ running: true, paused: false });
  }, 120_000);
});
