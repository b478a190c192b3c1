/**
 * The native containerd path against the real containerd (namespace k8s.io, containers started
 * the way the kubelet would, from the busybox image pulled out of the password-protected registry)
 * and the real registry: exec, changes, commit + push, pull back with docker and run, faults.
 * `ctr` is used for set-up and checks only.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findContainerdContainer, type ContainerdRuntimeContainer } from "../../../lib/containerd/container.ts";
import { connectContainerd } from "../../../lib/containerd/client.ts";
import { resolveBaseImageName } from "../../../lib/containerd/base-image.ts";
import { InterruptedError, SeelieError } from "../../../lib/errors.ts";
import { RegistryClient } from "../../../lib/registry/distribution.ts";
import type { RegistryAuth } from "../../../lib/registry/credentials.ts";
import { dockerCli, need, sh, testRegistry, ctrPull } from "../../helpers/services.ts";
import { extraRegistry } from "../../helpers/extra-registry.ts";

const NS = "k8s.io";
const reg = testRegistry();
const SOCK = need("SEELIE_TEST_CONTAINERD_SOCK");
const BASE = need("SEELIE_TEST_BUSYBOX");
const auth: RegistryAuth = { serveraddress: reg.addr, username: reg.user, password: reg.password, source: "the test's Docker config" };
const uniq = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const created: string[] = [];
const pulled: string[] = [];
const BIG = 20 * 1024 * 1024;

async function ctr(...args: string[]) {
  const r = await sh(["ctr", "-n", NS, ...args]);
  if (r.code !== 0) throw new Error(`ctr ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

async function pullBase() {
  await ctrPull(BASE, (a) => ctr(...a));
}

/** Starts a container the way the kubelet would: image in k8s.io, a snapshot, a running task. */
async function startContainer(name: string, cmd = "sleep 100000"): Promise<string> {
  const id = `seelie-test-${name}-${uniq}`;
  await ctr("run", "-d", BASE, id, "sh", "-c", cmd);
  created.push(id);
  return id;
}

async function removeContainer(id: string) {
  await sh(["ctr", "-n", NS, "task", "kill", "-s", "9", id]);
  for (let i = 0; i < 20; i++) {
    const r = await sh(["ctr", "-n", NS, "task", "rm", "-f", id]);
    if (r.code === 0 || /not found/.test(r.stderr)) break;
    await Bun.sleep(100);
  }
  await sh(["ctr", "-n", NS, "container", "rm", id]);
}

async function taskStatus(id: string): Promise<string> {
  const out = await ctr("task", "ls");
  return (
    out
      .split("\n")
      .find((l) => l.startsWith(`${id} `))
      ?.trim()
      .split(/\s+/)[2] ?? ""
  );
}

// Other suites may use containerd at the same time: only what names this run's containers counts.
const seelieLeases = async () =>
  (await ctr("leases", "ls"))
    .split("\n")
    .filter((l) => l.startsWith("seelie-") && l.includes(`seelie.io/container=seelie-test-`) && l.includes(uniq));
const execDirs = () => readdirSync("/run/containerd").filter((d) => d.startsWith("seelie-exec-") && d.includes(uniq));

/** Our leases and FIFO dirs before an operation: other suites may run on the same containerd at the same time. */
const imageNames = async () => (await ctr("images", "ls", "-q")).split("\n").filter(Boolean);

async function before(): Promise<{ leases: string[]; dirs: string[]; images: string[] }> {
  return { leases: await seelieLeases(), dirs: execDirs(), images: await imageNames() };
}

/** What a commit must not leave behind: its lease, the image (and CRI's id for it), the new blobs, FIFO dirs. */
async function expectNothingLeft(was: Awaited<ReturnType<typeof before>>, image: string, blobs: string[]) {
  expect((await seelieLeases()).filter((l) => !was.leases.includes(l))).toEqual([]);
  // New images of this run: by name, or the CRI plugin's image ids (named by the config digest) of our commits.
  const ours: string[] = [];
  for (const n of (await imageNames()).filter((x) => !was.images.includes(x))) {
    if (n.includes(uniq)) ours.push(n);
    else if (n.startsWith("sha256:") && (await sh(["ctr", "-n", NS, "content", "get", n])).stdout.includes(uniq)) ours.push(n);
  }
  expect(ours).toEqual([]);
  expect(execDirs().filter((d) => !was.dirs.includes(d))).toEqual([]);
  const images = (await ctr("images", "ls")).split("\n").map((l) => l.split(/\s+/));
  expect(images.map((l) => l[0])).not.toContain(image);
  const content = (await ctr("content", "ls", "-q")).split("\n");
  for (const b of blobs) {
    expect(content).not.toContain(b);
    expect(images.filter((l) => l[0] === b || l[2] === b).map((l) => l[0])).toEqual([]);
  }
}

async function expectRunningNotPaused(ct: ContainerdRuntimeContainer) {
  expect(await taskStatus(ct.id)).toBe("RUNNING");
  await ct.refresh();
  expect([ct.running, ct.paused]).toEqual([true, false]);
}

/** Watches a task's status while `fn` runs; returns the statuses seen. */
async function watchStatus<T>(id: string, fn: () => Promise<T>): Promise<{ result: T; seen: Set<string> }> {
  const seen = new Set<string>();
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      seen.add(await taskStatus(id));
      await Bun.sleep(10);
    }
  })();
  try {
    return { result: await fn(), seen };
  } finally {
    stop = true;
    await loop;
  }
}

beforeAll(pullBase, 60_000);

afterAll(async () => {
  for (const id of created) await removeContainer(id);
  for (const img of pulled) await sh(dockerCli("rmi", "-f", img));
}, 120_000);

describe("containerd container (real containerd)", () => {
  let ct: ContainerdRuntimeContainer;
  let id: string;
  let bigSum: string;
  const target = `${reg.addr}/seelie-test/ctrd-commit-${uniq}:v1`;

  beforeAll(async () => {
    id = await startContainer("main");
    ct = await findContainerdContainer({ socketPath: SOCK, namespace: NS, id });
  }, 60_000);
  afterAll(() => ct?.close());

  test("state and env come from containerd", () => {
    expect(ct.runtime).toBe("containerd");
    expect([ct.running, ct.paused]).toEqual([true, false]);
    expect(ct.env.some((e) => e.startsWith("PATH="))).toBe(true);
    expect(ct.image).toBe(BASE);
  });

  test("exec collects stdout, stderr and the exit code, and leaves no FIFOs", async () => {
    const was = await before();
    const r = await ct.exec(["sh", "-c", "echo out; echo err >&2; exit 7"]);
    expect(execDirs().filter((d) => !was.dirs.includes(d))).toEqual([]);
    expect(r).toEqual({ exitCode: 7, stdout: "out\n", stderr: "err\n" });
  });

  test("exec in a paused container is refused (it would hang)", async () => {
    await ctr("task", "pause", id);
    try {
      await ct.refresh();
      const err = await ct.exec(["true"]).catch((e) => e);
      expect(err).toBeInstanceOf(SeelieError);
      expect(err.message).toContain("paused");
    } finally {
      await ctr("task", "resume", id);
      await ct.refresh();
    }
    expect(ct.paused).toBe(false);
  });

  test("exec of a missing program is a clear error", async () => {
    const err = await ct.exec(["/no/such/program"]).catch((e) => e);
    expect(err).toBeInstanceOf(SeelieError);
    expect(err.message).toContain(id);
  });

  test("exec with a host prefix: FIFOs made under the prefix, handed to the shim without it", async () => {
    const host = mkdtempSync(join(tmpdir(), "seelie-host-"));
    try {
      mkdirSync(join(host, "run"));
      symlinkSync("/run/containerd", join(host, "run/containerd"));
      const viaPrefix = await findContainerdContainer({
        socketPath: join(host, "run/containerd/containerd.sock"),
        namespace: NS,
        id,
        hostPrefix: host,
      });
      try {
        expect(await viaPrefix.exec(["echo", "through /host"])).toEqual({ exitCode: 0, stdout: "through /host\n", stderr: "" });
      } finally {
        viaPrefix.close();
      }
    } finally {
      rmSync(host, { recursive: true, force: true });
    }
  });

  test("the user's work, > 16 MiB of it, shows in changes", async () => {
    const was = await before();
    const w = await ct.exec([
      "sh",
      "-c",
      `mkdir -p /work && echo hello > /work/user.txt && head -c ${BIG} /dev/urandom > /work/big && sha256sum /work/big && touch /etc/passwd && rm /bin/ls && echo t > /tmp/t`,
    ]);
    expect(w.exitCode).toBe(0);
    bigSum = w.stdout.split(" ")[0] ?? "";
    expect(bigSum).toHaveLength(64);
    const changes = await ct.changes();
    const kind = (p: string) => changes.find((c) => c.path === p)?.kind;
    expect(kind("/work/user.txt")).toBe("added");
    expect(kind("/work/big")).toBe("added");
    expect(kind("/tmp/t")).toBe("added");
    expect(kind("/etc/passwd")).toBe("modified");
    expect(kind("/etc")).toBe("modified");
    expect(kind("/bin/ls")).toBe("deleted");
    expect(changes.find((c) => c.path === "/bin/sh")).toBeUndefined();
    expect((await seelieLeases()).filter((l) => !was.leases.includes(l))).toEqual([]);
  }, 60_000);

  test("commit + push (API layer source), paused only during the diff; pull back with docker and run", async () => {
    const was = await before();
    const timings: Record<string, number> = {};
    const lines: string[] = [];
    const { result, seen } = await watchStatus(id, () =>
      // The diff service (the API fallback): its pause lasts long enough to be seen by polling.
      ct.commit({
        image: target,
        push: true,
        auth,
        keepImage: false,
        pause: true,
        progress: (l) => lines.push(l),
        timings,
        layerSource: "api",
      }),
    );
    expect(result.image).toBe(target);
    expect(result.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(result.layers).toBe(2);
    expect(result.size).toBeGreaterThan(BIG);
    expect(seen.has("PAUSED")).toBe(true);
    for (const k of ["base_image", "diff", "paused", "image", "push", "cleanup", "commit_total"])
      expect(timings[k]).toBeGreaterThanOrEqual(0);
    expect(lines.some((l) => /mounted from seelie\/busybox|already in/.test(l))).toBe(true);
    await expectRunningNotPaused(ct);

    const m = await new RegistryClient({ registry: reg.addr, auth }).getManifest(`seelie-test/ctrd-commit-${uniq}`, "v1");
    expect(m.digest).toBe(result.digest);
    const manifest = JSON.parse(new TextDecoder().decode(m.bytes));
    await expectNothingLeft(was, target, [result.digest, manifest.config.digest, manifest.layers[1].digest]);

    pulled.push(target);
    const pull = await sh(dockerCli("pull", target));
    expect(pull.stderr).toBe("");
    const run = await sh(
      dockerCli(
        "run",
        "--rm",
        "--network",
        "none",
        target,
        "sh",
        "-c",
        "cat /work/user.txt; sha256sum /work/big; test -e /bin/ls && echo ls-present || echo ls-gone",
      ),
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`hello\n${bigSum}  /work/big\nls-gone\n`);
    const inspect = JSON.parse((await sh(dockerCli("image", "inspect", target))).stdout)[0];
    expect(inspect.Config.Env.some((e: string) => e.startsWith("PATH="))).toBe(true);
  }, 120_000);

  test("keepImage keeps the image registered (and its blobs), without pausing when told not to", async () => {
    const timings: Record<string, number> = {};
    const img = `${reg.addr}/seelie-test/ctrd-keep-${uniq}:v1`;
    const { result, seen } = await watchStatus(id, () =>
      ct.commit({ image: img, push: false, keepImage: true, pause: false, progress: () => {}, timings }),
    );
    expect(seen.has("PAUSED")).toBe(false);
    expect(timings.push).toBeUndefined();
    expect((await ctr("images", "ls", "-q")).split("\n")).toContain(img);
    expect((await ctr("content", "ls", "-q")).split("\n")).toContain(result.digest);
    // Created with the CRI plugin's label, the plugin adds no image id (sha256:<config>) reference of its own.
    await Bun.sleep(500);
    const rows = (await ctr("images", "ls")).split("\n").map((l) => l.split(/\s+/));
    const manifestDigest = rows.find((l) => l[0] === img)?.[2];
    // Not pushed: the digest is the local image id (the config digest), in the content store with the manifest.
    expect(JSON.parse((await sh(["ctr", "-n", NS, "content", "get", manifestDigest!])).stdout).config.digest).toBe(result.digest);
    const refs = rows.filter((l) => l[2] === manifestDigest).map((l) => l[0]!);
    expect(refs).toEqual([img]);
    await ctr("images", "rm", "--sync", ...refs);
  }, 60_000);

  test("a registry refusing the password: clear error, nothing left, container running", async () => {
    const img = `${reg.addr}/seelie-test/ctrd-refused-${uniq}:v1`;
    const was = await before();
    const err = await ct
      .commit({
        image: img,
        push: true,
        auth: { ...auth, password: "wrong" },
        keepImage: false,
        pause: true,
        progress: () => {},
        timings: {},
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(SeelieError);
    expect(err.message).toContain(reg.addr);
    expect(err.message).toContain("refused");
    expect(err.hint).toContain("docker login");
    await expectNothingLeft(was, img, []);
    await expectRunningNotPaused(ct);
  }, 60_000);

  test("an abort (Ctrl-C) in the middle of the push: InterruptedError, nothing left, not paused", async () => {
    const img = `${reg.addr}/seelie-test/ctrd-abort-${uniq}:v1`;
    const was = await before();
    const ac = new AbortController();
    const err = await ct
      .commit({
        image: img,
        push: true,
        auth,
        keepImage: false,
        pause: true,
        signal: ac.signal,
        progress: (l) => {
          if (l.includes("uploading")) ac.abort();
        },
        timings: {},
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(InterruptedError);
    await expectNothingLeft(was, img, []);
    await expectRunningNotPaused(ct);
  }, 60_000);

  test("an invalid image reference is a usage error before anything happens", async () => {
    const err = await ct
      .commit({ image: "Not Valid", push: true, auth, keepImage: false, pause: true, progress: () => {}, timings: {} })
      .catch((e) => e);
    expect(err).toBeInstanceOf(SeelieError);
    expect(err.exitCode).toBe(2);
    await expectRunningNotPaused(ct);
  });
});

describe("base layers missing from the content store", () => {
  const extra = extraRegistry(5000 + 100 + Math.floor(Math.random() * 800));
  let ct: ContainerdRuntimeContainer;

  beforeAll(async () => {
    await extra.start();
    const id = await startContainer("nolayers");
    ct = await findContainerdContainer({
      socketPath: SOCK,
      namespace: NS,
      id,
      resolveAuth: async (r) => (r === reg.addr ? auth : undefined),
      registryOptions: { attempts: 2, backoffMs: 100 },
    });
    expect((await ct.exec(["sh", "-c", "echo kept > /kept.txt"])).exitCode).toBe(0);
    // As after a kubelet pull that discarded the unpacked layers: the manifest stays, the layer blobs go.
    const manifest = JSON.parse(
      (
        await sh([
          "ctr",
          "-n",
          NS,
          "content",
          "get",
          (
            await ctr("images", "ls")
          )
            .split("\n")
            .find((l) => l.startsWith(`${BASE} `))!
            .split(/\s+/)[2]!,
        ])
      ).stdout,
    );
    for (const l of manifest.layers) await sh(["ctr", "-n", NS, "content", "rm", l.digest]);
    const content = (await ctr("content", "ls", "-q")).split("\n");
    for (const l of manifest.layers) expect(content).not.toContain(l.digest);
  }, 60_000);

  afterAll(async () => {
    ct?.close();
    await extra.dispose();
    await pullBase(); // put the layers back for other tests
  }, 60_000);

  test("same registry: the base layers are mounted cross-repository", async () => {
    const img = `${reg.addr}/seelie-test/ctrd-mount-${uniq}:v1`;
    const was = await before();
    const lines: string[] = [];
    const r = await ct.commit({ image: img, push: true, auth, keepImage: false, pause: true, progress: (l) => lines.push(l), timings: {} });
    expect(lines.some((l) => l.includes("mounted from seelie/busybox"))).toBe(true);
    pulled.push(img);
    expect((await sh(dockerCli("pull", img))).code).toBe(0);
    const run = await sh(dockerCli("run", "--rm", "--network", "none", img, "cat", "/kept.txt"));
    expect(run.stdout).toBe("kept\n");
    await expectNothingLeft(was, img, [r.digest]);
    await expectRunningNotPaused(ct);
  }, 120_000);

  test("another registry: the base layers are copied from the base's registry with its credentials", async () => {
    const img = `${extra.addr}/seelie-test/ctrd-copy-${uniq}:v1`;
    const was = await before();
    const lines: string[] = [];
    const r = await ct.commit({
      image: img,
      push: true,
      auth: { ...auth, serveraddress: extra.addr },
      keepImage: false,
      pause: true,
      progress: (l) => lines.push(l),
      timings: {},
    });
    expect(lines.some((l) => l.includes(`copying`) && l.includes(`from ${reg.addr}/seelie/busybox`))).toBe(true);
    // Pull it back through docker with a config that knows both registries.
    const cfgDir = mkdtempSync(join(tmpdir(), "seelie-dockercfg-"));
    try {
      const cfg = JSON.parse(readFileSync(join(reg.dockerConfig, "config.json"), "utf8"));
      cfg.auths = { ...(cfg.auths ?? {}), [extra.addr]: { auth: Buffer.from(`${reg.user}:${reg.password}`).toString("base64") } };
      writeFileSync(join(cfgDir, "config.json"), JSON.stringify(cfg));
      const docker = (...a: string[]) => ["/usr/bin/docker", "--config", cfgDir, ...a];
      expect((await sh(docker("pull", img))).code).toBe(0);
      const run = await sh(docker("run", "--rm", "--network", "none", img, "cat", "/kept.txt"));
      expect(run.stdout).toBe("kept\n");
      await sh(docker("rmi", "-f", img));
    } finally {
      rmSync(cfgDir, { recursive: true, force: true });
    }
    await expectNothingLeft(was, img, [r.digest]);
  }, 120_000);

  test("a registry dying in the middle of the push: retries, clear error, nothing left, not paused", async () => {
    expect((await ct.exec(["sh", "-c", `head -c ${BIG} /dev/urandom > /big2`])).exitCode).toBe(0);
    const img = `${extra.addr}/seelie-test/ctrd-dies-${uniq}:v1`;
    const was = await before();
    const err = await ct
      .commit({
        image: img,
        push: true,
        auth: { ...auth, serveraddress: extra.addr },
        keepImage: false,
        pause: true,
        progress: (l) => {
          if (l.includes("uploading")) void extra.kill();
        },
        timings: {},
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(SeelieError);
    expect(err.message).toContain(extra.addr);
    expect(err.message).toMatch(/after 2 attempts/);
    await expectNothingLeft(was, img, []);
    await expectRunningNotPaused(ct);
  }, 120_000);
});

describe("base image name", () => {
  test("an image id (as the CRI plugin records it) resolves to the image's name", async () => {
    const c = await connectContainerd({ socketPath: SOCK, namespace: NS });
    try {
      const line = (await ctr("images", "ls")).split("\n").find((l) => l.startsWith(`${BASE} `))!;
      const manifest = JSON.parse((await sh(["ctr", "-n", NS, "content", "get", line.split(/\s+/)[2]!])).stdout);
      const id = manifest.config.digest as string;
      // The CRI plugin adds the id reference for pulled images; make sure it is there.
      await sh(["ctr", "-n", NS, "images", "tag", BASE, id]);
      expect(await resolveBaseImageName(c, { names: [], ids: [id] })).toBe(BASE);
      expect(await resolveBaseImageName(c, { names: [], ids: [`sha256:${"0".repeat(64)}`] })).toBe("");
    } finally {
      c.close();
    }
  });
});

describe("bad input", () => {
  test("unknown container", async () => {
    const err = await findContainerdContainer({ socketPath: SOCK, namespace: NS, id: `nope-${uniq}` }).catch((e) => e);
    expect(err).toBeInstanceOf(SeelieError);
    expect(err.message).toContain(`nope-${uniq}`);
    expect(err.message).toContain(NS);
  });

  test("no socket", async () => {
    const err = await findContainerdContainer({ socketPath: "/nonexistent/containerd.sock", namespace: NS, id: "x" }).catch((e) => e);
    expect(err).toBeInstanceOf(SeelieError);
    expect(err.message).toContain("/nonexistent/containerd.sock");
    expect(err.hint).toBeTruthy();
  });

  test("not a socket", async () => {
    const err = await findContainerdContainer({ socketPath: "/etc/hostname", namespace: NS, id: "x" }).catch((e) => e);
    expect(err).toBeInstanceOf(SeelieError);
    expect(err.message).toContain("not a unix socket");
  });

  test("a stopped container: no exec, but it commits (without pausing)", async () => {
    const id = await startContainer("stopped", "echo done > /done.txt");
    for (let i = 0; i < 50 && (await taskStatus(id)) !== "STOPPED"; i++) await Bun.sleep(100);
    const ct = await findContainerdContainer({ socketPath: SOCK, namespace: NS, id });
    try {
      expect([ct.running, ct.paused]).toEqual([false, false]);
      expect(ct.exec(["true"])).rejects.toThrow(/not running/);
      const img = `${reg.addr}/seelie-test/ctrd-stopped-${uniq}:v1`;
      const was = await before();
      const r = await ct.commit({ image: img, push: true, auth, keepImage: false, pause: true, progress: () => {}, timings: {} });
      expect(r.layers).toBe(2);
      pulled.push(img);
      expect((await sh(dockerCli("pull", img))).code).toBe(0);
      expect((await sh(dockerCli("run", "--rm", "--network", "none", img, "cat", "/done.txt"))).stdout).toBe("done\n");
      await expectNothingLeft(was, img, [r.digest]);
    } finally {
      ct.close();
    }
  }, 120_000);
});
