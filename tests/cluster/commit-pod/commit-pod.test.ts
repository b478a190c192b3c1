/**
 * `seelie image commit --pod` end to end on the real Kubernetes v1.21 test cluster (TLS with a private
 * CA, client-certificate kubeconfig), on both of its nodes: `seelie-docker` (kubelet + dockershim) and
 * `seelie-containerd` (kubelet + CRI, 64-hex container ids, tainted: the source pod has nodeName and a
 * toleration). The source pods are real: several containers (a sidecar first, the default-container
 * annotation), env from a Secret, a non-root user. The committer image is made here from
 * dist/seelie-committer (`bun run build:committer`) and loaded into dockerd and into the cluster's
 * private containerd; the committer pushes to the test registry on the node's loopback, so it runs
 * with --host_network. The pushed image is pulled and run, and its config must carry nothing from the
 * pod (Secret values, KUBERNETES_* variables, the pod's command, the kubelet's labels). The containerd
 * node keeps its data outside containerd's default root: told its root, the committer reads the upper
 * directory; given the wrong one, it commits through the API and both it and seelie warn. Also: Ctrl-C,
 * --timeout, a refused concurrent commit, a committer image that cannot be pulled, bad input — and
 * nothing left behind (committer pods, per-run secrets) after any of them.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parse, parseAllDocuments, stringify } from "yaml";
import { type Cluster, kubectl, kubectlOk, needCluster, testNamespace } from "../../helpers/cluster.ts";
import { ensureCommitterBuilt } from "../../helpers/committer.ts";
import { dockerCli, need, sh, testRegistry } from "../../helpers/services.ts";

setDefaultTimeout(240_000);
const ROOT = join(import.meta.dir, "../../..");
const SEELIE = join(ROOT, "bin/seelie.ts");
const RUN = Math.random().toString(36).slice(2, 8);
const COMMITTER = `seelie-test/committer:k8s-${RUN}`;
/** Stand-in committers (busybox images on the docker node) for what the real one does not do on demand. */
const STAND_INS = {
  /** Runs until stopped (exits on SIGTERM): Ctrl-C, timeout, concurrency, a deleted pod. */
  hang: "echo 'test stand-in committer: waiting to be stopped'\ntrap 'exit 143' TERM\nsleep 600 &\nwait",
  /** An older committer: commits, exits 0, prints no result document. */
  silent: "echo 'committed (a committer that knows no -o json)'",
  /** Fails without an error document: its ERROR line and hint are what the user gets. */
  "error-line":
    "echo 'pausing the container'\necho 'ERROR cannot reach the registry: test stand-in failure' >&2\necho 'hint: check the registry address' >&2\nexit 4",
};
const standIn = (kind: keyof typeof STAND_INS) => `seelie-test/committer-${kind}:k8s-${RUN}`;
const HANGING = standIn("hang");
const SECRET_VALUE = `s3cr3t-${RUN}-value`;
const tmp = mkdtempSync(join(tmpdir(), "seelie-commit-pod-"));
const cleanups: string[][] = [];
const pushed: string[] = [];

let c: Cluster;
let src: { name: string; remove: () => Promise<void> };
let cns: { name: string; remove: () => Promise<void> };
let baseConfig: Record<string, unknown>;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `seelie image commit …` against the real cluster; `onStderr` sees stderr as it arrives. */
async function seelie(
  args: string[],
  opts: { onStderr?: (text: string, proc: ReturnType<typeof Bun.spawn>) => void; env?: Record<string, string>; kubeconfig?: string } = {},
): Promise<Run> {
  const home = mkdtempSync(join(tmp, "home-"));
  const clean = { ...process.env };
  for (const k of Object.keys(clean)) if (k.startsWith("SEELIE_") && !k.startsWith("SEELIE_TEST_")) delete clean[k];
  const proc = Bun.spawn([process.execPath, SEELIE, "image", "commit", ...args], {
    env: {
      ...clean,
      KUBECONFIG: opts.kubeconfig ?? c.kubeconfig,
      HOME: home,
      DOCKER_CONFIG: need("SEELIE_TEST_DOCKER_CONFIG"),
      SEELIE_CONFIG: join(home, "none.yaml"),
      SEELIE_COMMITTER_NAMESPACE: cns.name,
      SEELIE_COMMITTER_IMAGE: COMMITTER,
      ...opts.env,
    },
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

/** Committer pods and per-run secrets in the committer namespace (waits for pods being deleted to go). */
async function expectNothingLeft(): Promise<void> {
  let left = "";
  for (let i = 0; i < 90; i++) {
    left = (
      await kubectlOk(c, ["-n", cns.name, "get", "pods,secrets", "-l", "app.kubernetes.io/name=seelie-committer", "-o", "name"])
    ).trim();
    if (!left) return;
    await Bun.sleep(500);
  }
  expect(left, "committer pods or secrets left behind").toBe("");
}

/** A source pod on `node`, waited for until Ready; returns its containers' ids by name. */
async function sourcePod(
  name: string,
  node: "docker" | "containerd",
  main: { script: string; runAsUser?: number },
): Promise<Record<string, string>> {
  const nodeName = node === "docker" ? c.dockerNode : c.containerdNode;
  const box = (n: string, script: string) => ({ name: n, image: c.busyboxImage, imagePullPolicy: "Never", command: ["sh", "-c", script] });
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: src.name, annotations: { "kubectl.kubernetes.io/default-container": "main" } },
    spec: {
      nodeName,
      tolerations: [{ operator: "Exists" }],
      terminationGracePeriodSeconds: 1,
      securityContext: main.runAsUser ? { runAsUser: main.runAsUser, runAsGroup: main.runAsUser } : {},
      containers: [
        box("sidecar", "echo sidecar-up; exec sleep 3600"),
        {
          ...box("main", `${main.script}; touch /tmp/.ready 2>/dev/null || touch /.ready; exec sleep 3600`),
          env: [
            { name: "API_TOKEN", valueFrom: { secretKeyRef: { name: "nb-secret", key: "token" } } },
            { name: "PLAIN_SETTING", value: "from-the-pod-spec" },
          ],
          readinessProbe: { exec: { command: ["sh", "-c", "test -e /tmp/.ready || test -e /.ready"] }, periodSeconds: 1 },
        },
      ],
    },
  };
  await kubectlOk(c, ["create", "-f", "-"], JSON.stringify(pod));
  await kubectlOk(c, ["-n", src.name, "wait", "--for=condition=Ready", `pod/${name}`, "--timeout=90s"]);
  const statuses = JSON.parse(await kubectlOk(c, ["-n", src.name, "get", "pod", name, "-o", "jsonpath={.status.containerStatuses}"])) as {
    name: string;
    containerID: string;
  }[];
  return Object.fromEntries(statuses.map((s) => [s.name, s.containerID]));
}

/**
 * The containerd node's data root (`root =` of its config.toml, next to its socket): not containerd's
 * default /var/lib/containerd, so the committer only reads upper directories when told this root.
 */
function containerdNodeRoot(): string {
  const file = join(dirname(c.containerdSocket), "config.toml");
  const root = /^root\s*=\s*"([^"]+)"/m.exec(readFileSync(file, "utf8"))?.[1];
  if (!root) throw new Error(`${file} sets no root = "…": cannot tell where the containerd node keeps its snapshots`);
  expect(root).not.toBe("/var/lib/containerd");
  return root;
}

let ownSocketDir: string | undefined;
/**
 * The containerd node's socket, hard-linked into a directory of its own. The node keeps its socket
 * next to its data root (/var/lib/seelie-k8s/containerd/containerd.sock beside root/), and the
 * committer Pod mounts the socket's directory: through that mount the snapshots would be visible whatever
 * --runtime_root says. With this socket only the runtime-storage mount can show them.
 */
function containerdSocketAlone(): string {
  if (!ownSocketDir) {
    const dir = `/var/lib/seelie-test-commit-pod-${RUN}`;
    mkdirSync(dir, { mode: 0o700 });
    cleanups.push(["rm", "-rf", dir]);
    // A hard link to a socket is the socket (connect() resolves the inode); it needs the same file system.
    linkSync(c.containerdSocket, join(dir, "containerd.sock"));
    ownSocketDir = dir;
  }
  return join(ownSocketDir, "containerd.sock");
}

/** The pushed image pulled back: its config, and a command's output in it. */
async function pulled(
  image: string,
  check: string,
): Promise<{ config: Record<string, unknown>; inspect: string; history: string; out: string }> {
  const p = await sh(dockerCli("pull", image));
  expect(p.code, p.stderr).toBe(0);
  cleanups.push(dockerCli("rmi", "-f", image));
  const inspect = (await sh(dockerCli("image", "inspect", image))).stdout;
  const history = (await sh(dockerCli("history", "--no-trunc", image))).stdout;
  const config = (JSON.parse(inspect) as { Config: Record<string, unknown> }[])[0]!.Config;
  // The machine's dockerd has no default bridge next to the cluster: the check needs no network.
  const run = await sh(dockerCli("run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c", check));
  expect(run.code, run.stderr).toBe(0);
  return { config, inspect, history, out: run.stdout };
}

/** The image's config is the base image's own: nothing from the pod spec or the kubelet. */
function expectConfigOfTheImageOnly(got: { config: Record<string, unknown>; inspect: string; history: string }): void {
  expect(got.inspect).not.toContain(SECRET_VALUE);
  expect(got.history).not.toContain(SECRET_VALUE);
  expect(got.inspect).not.toContain("KUBERNETES_SERVICE");
  expect(got.inspect).not.toContain("from-the-pod-spec");
  expect(got.inspect).not.toContain("io.kubernetes.");
  expect(got.inspect).not.toContain("exec sleep 3600");
  const pick = (cfg: Record<string, unknown>) => ({
    Env: cfg.Env ?? null,
    Entrypoint: cfg.Entrypoint ?? null,
    Cmd: cfg.Cmd ?? null,
    User: cfg.User || "",
    WorkingDir: cfg.WorkingDir || "",
    Labels: cfg.Labels && Object.keys(cfg.Labels as object).length ? cfg.Labels : null,
  });
  expect(pick(got.config)).toEqual(pick(baseConfig));
}

beforeAll(async () => {
  c = needCluster({ nodes: ["docker", "containerd"] });
  testRegistry();
  await ensureCommitterBuilt();
  // The committer image: dist/seelie-committer on the Debian-based test image (glibc; no outside registry here).
  const b = await sh(
    dockerCli(
      "build",
      "-q",
      "-f",
      join(ROOT, "pods/committer/Dockerfile"),
      "--build-arg",
      `BASE=${need("SEELIE_TEST_PYTHON")}`,
      "-t",
      COMMITTER,
      join(ROOT, "dist"),
    ),
  );
  if (b.code !== 0) throw new Error(`docker build of the committer image failed: ${b.stderr}`);
  cleanups.push(dockerCli("rmi", "-f", COMMITTER));
  for (const [kind, script] of Object.entries(STAND_INS)) {
    const dir = join(tmp, `stand-in-${kind}`);
    mkdirSync(dir);
    writeFileSync(join(dir, "seelie-committer"), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
    writeFileSync(join(dir, "Dockerfile"), `FROM ${c.busyboxImage}\nCOPY seelie-committer /usr/local/bin/seelie-committer\n`);
    const h = await sh(dockerCli("build", "-q", "-t", standIn(kind as keyof typeof STAND_INS), dir));
    if (h.code !== 0) throw new Error(`docker build of the stand-in committer ${kind} failed: ${h.stderr}`);
    cleanups.push(dockerCli("rmi", "-f", standIn(kind as keyof typeof STAND_INS)));
  }
  // Into the containerd node's runtime too (its own containerd, namespace k8s.io).
  const tar = join(tmp, "committer.tar");
  const save = await sh(dockerCli("save", "-o", tar, COMMITTER));
  if (save.code !== 0) throw new Error(`docker save: ${save.stderr}`);
  const imp = await sh(["ctr", "-a", c.containerdSocket, "-n", "k8s.io", "images", "import", tar]);
  if (imp.code !== 0) throw new Error(`ctr images import into the containerd node: ${imp.stderr}`);
  cleanups.push(["ctr", "-a", c.containerdSocket, "-n", "k8s.io", "images", "rm", `docker.io/${COMMITTER}`]);
  baseConfig = (JSON.parse((await sh(dockerCli("image", "inspect", c.busyboxImage))).stdout) as { Config: Record<string, unknown> }[])[0]!
    .Config;

  src = await testNamespace(c, "commit-src");
  cns = await testNamespace(c, "committer");
  await kubectlOk(c, ["-n", src.name, "create", "secret", "generic", "nb-secret", "--from-file=token=/dev/stdin"], SECRET_VALUE);
});

afterAll(async () => {
  // c is unset when the cluster was missing: the local clean-up below must still run.
  if (c) await kubectl(c, ["delete", "clusterrole", `seelie-commit-source-reader-${RUN}`, "--ignore-not-found"]);
  await src?.remove();
  await cns?.remove();
  for (const cmd of cleanups.reverse()) await sh(cmd);
  rmSync(tmp, { recursive: true, force: true });
});

describe("seelie image commit --pod on the real cluster", () => {
  test("Docker node (dockershim): the default container of a pod with a sidecar, run as a non-root user, env from a Secret", async () => {
    const ids = await sourcePod("nb-docker", "docker", { script: "echo notebook-by-$(id -u) > /tmp/notebook.txt", runAsUser: 1000 });
    expect(ids.main).toMatch(/^docker:\/\/[0-9a-f]{64}$/);
    const image = `${need("SEELIE_TEST_REGISTRY")}/seelie/k8s-commit:${RUN}-docker`;
    pushed.push(image);
    const r = await seelie(["--pod", "nb-docker", "-n", src.name, "--image", image, "--host_network", "--no-clean", "-o", "json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      image,
      node: c.dockerNode,
      runtime: "docker",
      containerId: ids.main!.slice("docker://".length),
      source: { namespace: src.name, pod: "nb-docker", container: "main" },
    });
    expect(out.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    // The node's dockerd keeps its data in the default root: the layer comes from the upper directory.
    expect(out).toMatchObject({ layerSource: "upperdir", compression: "gzip", compressionLevel: 6 });
    expect(r.stderr).toContain("committer |"); // the committer's log was relayed
    expect(r.stderr).not.toContain(SECRET_VALUE);
    await expectNothingLeft();
    const got = await pulled(image, "cat /tmp/notebook.txt; stat -c %u /tmp/notebook.txt");
    expect(got.out).toBe("notebook-by-1000\n1000\n");
    // issue 9 point 3: a Docker-node commit must not bake the pod into the image (fastcommit's fix in lib/commit).
    expectConfigOfTheImageOnly(got);
  });

  test("containerd node (CRI, 64-hex ids): --container picks it, caches and new /tmp files cleaned, the work kept", async () => {
    const ids = await sourcePod("nb-ctrd", "containerd", {
      script:
        "mkdir -p /work /var/cache/apt/archives && echo notebook-on-containerd > /work/notebook.txt && echo junk > /tmp/junk.txt && echo deb > /var/cache/apt/archives/x.deb",
    });
    expect(ids.main).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
    const image = `${need("SEELIE_TEST_REGISTRY")}/seelie/k8s-commit:${RUN}-containerd`;
    pushed.push(image);
    const r = await seelie([
      "--pod",
      "nb-ctrd",
      "-n",
      src.name,
      "-c",
      "main",
      "--image",
      image,
      "--host_network",
      "--runtime_socket",
      containerdSocketAlone(),
      "--runtime_root",
      containerdNodeRoot(),
      "--compression",
      "gzip",
      "--compression_level",
      "1",
      "-o",
      "json",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      image,
      node: c.containerdNode,
      runtime: "containerd",
      containerId: ids.main!.slice("containerd://".length),
      // The node's real root mounted: the fast path, and the flags reached the committer.
      layerSource: "upperdir",
      compression: "gzip",
      compressionLevel: 1,
    });
    expect(r.stderr).not.toMatch(/falling back|through the containerd API/);
    expect(out.containerId).toMatch(/^[0-9a-f]{64}$/);
    await expectNothingLeft();
    const got = await pulled(image, "cat /work/notebook.txt; ls -a /tmp; [ -e /var/cache/apt/archives/x.deb ] && echo LEFT-x.deb; true");
    expect(got.out).toContain("notebook-on-containerd");
    expect(got.out).not.toContain("junk.txt");
    expect(got.out).not.toContain("LEFT-x.deb");
    expectConfigOfTheImageOnly(got);
    // The source container still runs (not left paused).
    const state = await kubectlOk(c, [
      "-n",
      src.name,
      "get",
      "pod",
      "nb-ctrd",
      "-o",
      "jsonpath={.status.containerStatuses[?(@.name=='main')].state.running.startedAt}",
    ]);
    expect(state.trim()).not.toBe("");
  });

  test("containerd node, the wrong runtime root (SEELIE_RUNTIME_ROOT): still committed, through the API, with a warning naming the setting", async () => {
    // Reuses the pod of the test above (its work is in the container). /var/lib/containerd is containerd's
    // default and exists on this host (the services' containerd), so the Pod mounts a real directory
    // that simply does not hold this node's snapshots: the node where the setting is missing.
    const image = `${need("SEELIE_TEST_REGISTRY")}/seelie/k8s-commit:${RUN}-containerd-wrong-root`;
    pushed.push(image);
    const r = await seelie(
      [
        "--pod",
        "nb-ctrd",
        "-n",
        src.name,
        "-c",
        "main",
        "--image",
        image,
        "--host_network",
        "--runtime_socket",
        containerdSocketAlone(),
        "-o",
        "json",
      ],
      { env: { SEELIE_RUNTIME_ROOT: "/var/lib/containerd" } },
    );
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ image, runtime: "containerd", layerSource: "api" });
    // The committer's own warning (relayed), then seelie's, naming the mounted directory and the setting.
    expect(r.stderr).toMatch(/committer \|.*upper directory \S+ is not readable here.*falling back to the diff service/);
    expect(r.stderr).toContain("/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs");
    expect(r.stderr).toMatch(/through the containerd API.*runtime root from SEELIE_RUNTIME_ROOT.*--runtime_root/s);
    await expectNothingLeft();
    const got = await pulled(image, "cat /work/notebook.txt");
    expect(got.out).toContain("notebook-on-containerd");
  });

  test("--render: the committer Pod with the layer flags and the runtime root, accepted by the API server, nothing created", async () => {
    const root = containerdNodeRoot();
    const image = `${need("SEELIE_TEST_REGISTRY")}/seelie/k8s-commit:${RUN}-render`;
    const r = await seelie(
      [
        ...["--pod", "nb-ctrd", "-n", src.name, "-c", "main", "--image", image, "--runtime_socket", containerdSocketAlone(), "--render"],
        ...["--layer_source", "upperdir", "--compression", "zstd", "--compression_level", "7"],
      ],
      { env: { SEELIE_RUNTIME_ROOT: root } },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("mounts no registry Secret");
    const pod = parse(r.stdout) as {
      metadata: { namespace: string };
      spec: {
        containers: { args: string[]; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }[];
        volumes: { name: string; hostPath?: { path: string } }[];
      };
    };
    expect(pod.metadata.namespace).toBe(cns.name);
    const args = pod.spec.containers[0]!.args.join(" ");
    expect(args).toContain("--layer-source upperdir --compression zstd --compression-level 7");
    const storage = `${root}/io.containerd.snapshotter.v1.overlayfs`;
    expect(pod.spec.volumes.find((v) => v.name === "runtime-storage")?.hostPath?.path).toBe(storage);
    expect(pod.spec.containers[0]!.volumeMounts.find((m) => m.name === "runtime-storage")).toMatchObject({
      mountPath: storage,
      readOnly: true,
    });
    // The real API server takes it as it is (server-side dry run: validated, admitted, not stored).
    await kubectlOk(c, ["create", "--dry-run=server", "-f", "-"], r.stdout);
    await expectNothingLeft();
  });
});

describe("stopping and refusing, with nothing left behind", () => {
  test("Ctrl-C while the committer pod runs: exit 130, pod and secret deleted", async () => {
    await sourcePod("nb-int", "docker", { script: "true" });
    let sent = false;
    const r = await seelie(
      ["--pod", "nb-int", "-n", src.name, "--image", `${need("SEELIE_TEST_REGISTRY")}/seelie/k8s-commit:${RUN}-int`, "--host_network"],
      {
        env: { SEELIE_COMMITTER_IMAGE: HANGING },
        onStderr: (text, proc) => {
          if (!sent && /committer pod \S+: Running/.test(text)) {
            sent = true;
            proc.kill("SIGINT");
          }
        },
      },
    );
    expect(sent).toBe(true);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/interrupted/);
    await expectNothingLeft();
  });

  test("Ctrl-C while the real committer is mid-commit: exit 130, the source container not left paused", async () => {
    const ids = await sourcePod("nb-mid", "docker", { script: "dd if=/dev/urandom of=/root/big bs=1M count=48 2>/dev/null" });
    let sent = false;
    const r = await seelie(
      ["--pod", "nb-mid", "-n", src.name, "--image", `${need("SEELIE_TEST_REGISTRY")}/seelie/k8s-commit:${RUN}-mid`, "--host_network"],
      {
        onStderr: (text, proc) => {
          // The committer has cleaned and now pauses and commits the container.
          if (!sent && /committer \|.*clean-up (removed|skipped)/.test(text)) {
            sent = true;
            proc.kill("SIGINT");
          }
        },
      },
    );
    expect(sent).toBe(true);
    expect(r.code, r.stderr).toBe(130);
    await expectNothingLeft();
    const id = ids.main!.slice("docker://".length);
    const state = (await sh(dockerCli("inspect", "-f", "{{.State.Status}}", id))).stdout.trim();
    expect(state).toBe("running");
  });

  test("--timeout: exit 1 naming what it waited for; pod and secret deleted", async () => {
    await sourcePod("nb-slow", "docker", { script: "true" });
    const r = await seelie(
      [
        "--pod",
        "nb-slow",
        "-n",
        src.name,
        "--image",
        `${need("SEELIE_TEST_REGISTRY")}/seelie/k8s-commit:${RUN}-slow`,
        "--host_network",
        "--timeout",
        "8s",
      ],
      {
        env: { SEELIE_COMMITTER_IMAGE: HANGING },
      },
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/committer pod \S+ did not finish within 8s \(it was running/);
    expect(r.stderr).toContain("--timeout");
    await expectNothingLeft();
  });

  test("a second commit of the same container while one runs is refused, naming the running one", async () => {
    await sourcePod("nb-twice", "docker", { script: "true" });
    const image = `${need("SEELIE_TEST_REGISTRY")}/seelie/k8s-commit:${RUN}-twice`;
    let second: Run | undefined;
    let started = false;
    const first = await seelie(["--pod", "nb-twice", "-n", src.name, "--image", image, "--host_network"], {
      env: { SEELIE_COMMITTER_IMAGE: HANGING },
      onStderr: (text, proc) => {
        if (!started && /committer pod \S+: Running/.test(text)) {
          started = true;
          void seelie(["--pod", "nb-twice", "-n", src.name, "--image", image, "--host_network"]).then((r) => {
            second = r;
            proc.kill("SIGINT");
          });
        }
      },
    });
    expect(first.code).toBe(130);
    expect(second?.code, second?.stderr).toBe(1);
    expect(second?.stderr).toMatch(/container "main" of pod \S+\/nb-twice is already being committed by committer pod/);
    await expectNothingLeft();
  });

  test("a committer image the node cannot pull: exit 1 naming the image and the setting; nothing left", async () => {
    await sourcePod("nb-pull", "docker", { script: "true" });
    const bad = `${need("SEELIE_TEST_REGISTRY")}/seelie/no-such-committer:${RUN}`;
    const r = await seelie([
      "--pod",
      "nb-pull",
      "-n",
      src.name,
      "--image",
      `${need("SEELIE_TEST_REGISTRY")}/seelie/k8s-commit:${RUN}-pull`,
      "--host_network",
      "--committer_image",
      bad,
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/committer pod \S+ cannot run: its container "committer" (ErrImagePull|ImagePullBackOff)/);
    expect(r.stderr).toContain(`can pull ${bad}`);
    expect(r.stderr).toContain("--committer_image");
    await expectNothingLeft();
  });

  test("a failing real committer (the registry refuses an anonymous push): its error document reaches the user", async () => {
    await sourcePod("nb-anon", "docker", { script: "echo work > /tmp/w.txt" });
    const noCreds = mkdtempSync(join(tmp, "no-creds-"));
    const r = await seelie(
      ["--pod", "nb-anon", "-n", src.name, "--image", `${need("SEELIE_TEST_REGISTRY")}/seelie/k8s-commit:${RUN}-anon`, "--host_network"],
      {
        env: { DOCKER_CONFIG: noCreds },
      },
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("the committer will push anonymously");
    // The committer's own push (one path for both runtimes) names the registry and the missing login.
    expect(r.stderr).toMatch(
      /the committer on node seelie-docker failed \(exit code \d+\): registry \S+ requires a login and no credentials were found for it/,
    );
    expect(r.stderr).toContain("docker login");
    await expectNothingLeft();
  });

  test("a committer without an error document: its last ERROR line and hint", async () => {
    await sourcePod("nb-errline", "docker", { script: "true" });
    const r = await seelie(
      ["--pod", "nb-errline", "-n", src.name, "--image", `${need("SEELIE_TEST_REGISTRY")}/seelie/k8s-commit:${RUN}-el`, "--host_network"],
      {
        env: { SEELIE_COMMITTER_IMAGE: standIn("error-line") },
      },
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("failed (exit code 4): cannot reach the registry: test stand-in failure");
    expect(r.stderr).toContain("check the registry address");
    await expectNothingLeft();
  });

  test("an older committer that reports no result", async () => {
    await sourcePod("nb-silent", "docker", { script: "true" });
    const r = await seelie(
      [
        "--pod",
        "nb-silent",
        "-n",
        src.name,
        "--image",
        `${need("SEELIE_TEST_REGISTRY")}/seelie/k8s-commit:${RUN}-silent`,
        "--host_network",
      ],
      {
        env: { SEELIE_COMMITTER_IMAGE: standIn("silent") },
      },
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("finished but reported no result");
    await expectNothingLeft();
  });

  test("someone deletes the committer pod while it runs: exit 1 saying so", async () => {
    await sourcePod("nb-del", "docker", { script: "true" });
    let deleted = false;
    const r = await seelie(
      ["--pod", "nb-del", "-n", src.name, "--image", `${need("SEELIE_TEST_REGISTRY")}/seelie/k8s-commit:${RUN}-del`, "--host_network"],
      {
        env: { SEELIE_COMMITTER_IMAGE: HANGING },
        onStderr: (text) => {
          const m = /committer pod (\S+)\/(\S+): Running/.exec(text);
          if (!deleted && m) {
            deleted = true;
            void kubectl(c, ["-n", m[1]!, "delete", "pod", m[2]!, "--grace-period=1", "--wait=false"]);
          }
        },
      },
    );
    expect(deleted).toBe(true);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/the committer pod \S+ was deleted before it finished/);
    await expectNothingLeft();
  });

  test("a committer pod that never starts (its --registry_secret does not exist): the timeout names the state and the FailedMount event", async () => {
    await sourcePod("nb-mount", "docker", { script: "true" });
    const r = await seelie([
      "--pod",
      "nb-mount",
      "-n",
      src.name,
      "--image",
      `${need("SEELIE_TEST_REGISTRY")}/seelie/k8s-commit:${RUN}-mount`,
      "--host_network",
      "--registry_secret",
      "no-such-secret",
      "--timeout",
      "15s",
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /did not finish within 15s \(it never started: Pending \(ContainerCreating\)\); events: FailedMount: .*no-such-secret/,
    );
    await expectNothingLeft();
  });

  test("--keep-pod keeps the committer pod after a failure and says how to delete it", async () => {
    await sourcePod("nb-keep", "docker", { script: "true" });
    const r = await seelie(
      [
        "--pod",
        "nb-keep",
        "-n",
        src.name,
        "--image",
        `${need("SEELIE_TEST_REGISTRY")}/seelie/k8s-commit:${RUN}-keep`,
        "--host_network",
        "--keep-pod",
        "--timeout",
        "6s",
      ],
      {
        env: { SEELIE_COMMITTER_IMAGE: HANGING },
      },
    );
    expect(r.code, r.stderr).toBe(1);
    const m = /kubectl delete pod -n (\S+) (\S+)/.exec(r.stderr);
    expect(m?.[1]).toBe(cns.name);
    expect((await kubectl(c, ["-n", cns.name, "get", "pod", m![2]!])).code).toBe(0);
    await kubectlOk(c, ["-n", cns.name, "delete", "pod", m![2]!, "--grace-period=1"]);
    await kubectlOk(c, ["-n", cns.name, "delete", "secrets", "-l", "app.kubernetes.io/name=seelie-committer"]);
    await expectNothingLeft();
  });

  test("bad input: a pod that does not exist, an unknown context (exit 2, nothing created)", async () => {
    const r = await seelie(["--pod", "nope", "-n", src.name, "--image", `${need("SEELIE_TEST_REGISTRY")}/seelie/x:1`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`pod "nope" not found in namespace "${src.name}"`);
    const r2 = await seelie(["--pod", "nope", "--context", "no-such-context", "--image", `${need("SEELIE_TEST_REGISTRY")}/seelie/x:1`]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('--context "no-such-context": no such context in the kubeconfig');
    expect(r2.stderr).toContain(c.context);
    await expectNothingLeft();
  });

  test("a kubeconfig whose CA is not the cluster's: exit 1 naming the API server and the CA (the bug issue 9 met first)", async () => {
    const admin = parse(readFileSync(c.kubeconfig, "utf8")) as { clusters: { cluster: Record<string, unknown> }[] };
    const dir = join(tmp, "wrong-ca");
    mkdirSync(dir);
    const gen = await sh([
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=other-ca",
      "-keyout",
      join(dir, "ca.key"),
      "-out",
      join(dir, "ca.crt"),
    ]);
    expect(gen.code).toBe(0);
    delete admin.clusters[0]!.cluster["certificate-authority-data"];
    admin.clusters[0]!.cluster["certificate-authority"] = "ca.crt";
    writeFileSync(join(dir, "config"), stringify(admin), { mode: 0o600 });
    const r = await seelie(["--pod", "nb-docker", "-n", src.name, "--image", `${need("SEELIE_TEST_REGISTRY")}/seelie/x:1`], {
      kubeconfig: join(dir, "config"),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot verify the certificate of the API server ${c.apiServer}`);
    expect(r.stderr).toContain(`certificate-authority file ${join(dir, "ca.crt")}`);
    expect((await kubectl(c, ["-n", cns.name, "get", "pods", "-o", "name"])).stdout.trim()).toBe("");
  });
});

describe("pods/committer/rbac.yaml on the real API server", () => {
  /** A ServiceAccount's bearer-token kubeconfig (with the cluster's CA), for a user with only the given bindings. */
  async function userKubeconfig(name: string): Promise<string> {
    await kubectlOk(c, ["-n", src.name, "create", "serviceaccount", name]);
    await kubectlOk(
      c,
      ["create", "-f", "-"],
      JSON.stringify({
        apiVersion: "v1",
        kind: "Secret",
        type: "kubernetes.io/service-account-token",
        metadata: { name: `${name}-token`, namespace: src.name, annotations: { "kubernetes.io/service-account.name": name } },
      }),
    );
    let token = "";
    for (let i = 0; i < 60 && !token; i++) {
      token = Buffer.from(
        (await kubectlOk(c, ["-n", src.name, "get", "secret", `${name}-token`, "-o", "jsonpath={.data.token}"])).trim(),
        "base64",
      ).toString();
      if (!token) await Bun.sleep(500);
    }
    const admin = parse(readFileSync(c.kubeconfig, "utf8")) as { clusters: unknown[] };
    const cfg = {
      apiVersion: "v1",
      kind: "Config",
      clusters: admin.clusters,
      users: [{ name, user: { token } }],
      contexts: [{ name, context: { cluster: (admin.clusters[0] as { name: string }).name, user: name } }],
      "current-context": name,
    };
    const file = join(tmp, `${name}.kubeconfig`);
    writeFileSync(file, stringify(cfg), { mode: 0o600 });
    return file;
  }

  test("a user with exactly the roles of rbac.yaml commits; without the launcher role the 403 names rbac.yaml", async () => {
    // rbac.yaml's Role and ClusterRole, for this run's committer namespace (its examples and Namespace left out).
    const docs = parseAllDocuments(readFileSync(join(ROOT, "pods/committer/rbac.yaml"), "utf8")).map(
      (d) => d.toJSON() as { kind: string; metadata: Record<string, string> },
    );
    const roles = docs.filter((d) => d.kind === "Role" || d.kind === "ClusterRole");
    expect(roles.map((r) => r.kind).sort()).toEqual(["ClusterRole", "Role"]);
    for (const r of roles) {
      if (r.kind === "Role") r.metadata.namespace = cns.name;
      else r.metadata.name = `seelie-commit-source-reader-${RUN}`;
      await kubectlOk(c, ["create", "-f", "-"], JSON.stringify(r));
    }
    const role = roles.find((r) => r.kind === "Role")!.metadata.name!;
    const allowed = await userKubeconfig("committer-user");
    await kubectlOk(c, [
      "-n",
      cns.name,
      "create",
      "rolebinding",
      "launcher",
      `--role=${role}`,
      `--serviceaccount=${src.name}:committer-user`,
    ]);
    await kubectlOk(c, [
      "-n",
      src.name,
      "create",
      "rolebinding",
      "source-reader",
      `--clusterrole=seelie-commit-source-reader-${RUN}`,
      `--serviceaccount=${src.name}:committer-user`,
    ]);
    await sourcePod("nb-rbac", "containerd", { script: "mkdir -p /work && echo by-a-plain-user > /work/w.txt" });
    const image = `${need("SEELIE_TEST_REGISTRY")}/seelie/k8s-commit:${RUN}-rbac`;
    const r = await seelie(
      ["--pod", "nb-rbac", "-n", src.name, "--image", image, "--host_network", "--runtime_socket", c.containerdSocket, "-o", "json"],
      { kubeconfig: allowed },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain("cannot make secret"); // the owner patch was allowed too
    await expectNothingLeft();

    const denied = await userKubeconfig("reader-only");
    await kubectlOk(c, [
      "-n",
      src.name,
      "create",
      "rolebinding",
      "source-reader-only",
      `--clusterrole=seelie-commit-source-reader-${RUN}`,
      `--serviceaccount=${src.name}:reader-only`,
    ]);
    const r2 = await seelie(["--pod", "nb-rbac", "-n", src.name, "--image", image, "--host_network"], { kubeconfig: denied });
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain(`not allowed to list committer pods in namespace ${cns.name}`);
    expect(r2.stderr).toContain(`system:serviceaccount:${src.name}:reader-only`);
    expect(r2.stderr).toContain("pods/committer/rbac.yaml");
    await expectNothingLeft();
  });
});
