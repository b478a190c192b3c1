/**
 * `seelie image cloud-build` on the real Kubernetes v1.21 cluster of ../shared/k8s (TLS, private CA,
 * client certificates): the project on a hostPath PersistentVolume bound to a claim in a test namespace,
 * the registry Secret from the test registry's credentials, the prepare step in a seelie-tools image
 * made from this checkout, and real builders (tests/services/builder-images.sh: Kaniko v1.19.2,
 * BuildKit v0.11.6 rootless, Debian's Buildah 1.28) that push to the test registry. The Pods run with
 * --host_network because the registry listens on the node's 127.0.0.1. Each pushed image is then
 * pulled by digest and run as a Pod on the other node (containerd), so the image does not depend on
 * the runtime that built it. Buildpacks only gets a server-side dry run: no Buildpacks builder image
 * (a stack of buildpacks plus the CNB lifecycle) can be made here without the network.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { type Cluster, kubectl, kubectlOk, needCluster, testNamespace } from "../helpers/cluster.ts";
import { dockerCli, need, sh, testRegistry } from "../helpers/services.ts";

setDefaultTimeout(300_000);

const ROOT = join(import.meta.dir, "../..");
const RUN_ID = Math.random().toString(36).slice(2, 8);
let c: Cluster;
let ns: { name: string; remove: () => Promise<void> };
let work: string;
let pvName: string;
let toolsImage: string;
let builders: Record<"kaniko" | "buildkit" | "buildah", string>;
let reg: string;
const timings: string[] = [];
/** Digests pushed by this run: deleted from the registry and the containerd node afterwards. */
const pushed = new Set<string>();

/** Runs tests/services/builder-images.sh (idempotent; well under a second when the images exist). */
async function builderImages(): Promise<typeof builders> {
  const r = await sh(["bash", join(ROOT, "tests/services/builder-images.sh")]);
  if (r.code !== 0) throw new Error(`tests/services/builder-images.sh failed (${r.code}): ${r.stderr.slice(-2000)}`);
  const env = readFileSync(join(need("SEELIE_TEST_DIR"), "builder-images.env"), "utf8");
  const get = (k: string) => {
    const m = new RegExp(`^export ${k}=(\\S+)$`, "m").exec(env);
    if (!m) throw new Error(`builder-images.env does not set ${k}`);
    return m[1]!;
  };
  return {
    kaniko: get("SEELIE_TEST_KANIKO_IMAGE"),
    buildkit: get("SEELIE_TEST_BUILDKIT_IMAGE"),
    buildah: get("SEELIE_TEST_BUILDAH_IMAGE"),
  };
}

/** A wheel pip installs without an index: the generated Dockerfile's `pip install -r` must work on a PEP 668 base. */
async function writeWheel(dir: string): Promise<string> {
  const name = "hello_seelie-1.0-py3-none-any.whl";
  const py = `
import base64, hashlib, sys, zipfile
files = {
  "hello_seelie.py": "GREETING = 'hello from a wheel'\\n",
  "hello_seelie-1.0.dist-info/METADATA": "Metadata-Version: 2.1\\nName: hello-seelie\\nVersion: 1.0\\n",
  "hello_seelie-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: seelie-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = ""
with zipfile.ZipFile(sys.argv[1], "w") as z:
  for n, t in files.items():
    z.writestr(n, t)
    d = base64.urlsafe_b64encode(hashlib.sha256(t.encode()).digest()).rstrip(b"=").decode()
    record += f"{n},sha256={d},{len(t.encode())}\\n"
  record += "hello_seelie-1.0.dist-info/RECORD,,\\n"
  z.writestr("hello_seelie-1.0.dist-info/RECORD", record)
`;
  const r = await sh(["python3", "-c", py, join(dir, name)]);
  if (r.code !== 0) throw new Error(`cannot write the test wheel: ${r.stderr}`);
  return name;
}

/** The projects on the volume, as a user would put them there. */
async function writeProjects(pv: string): Promise<void> {
  const put = (project: string, files: Record<string, string>) => {
    mkdirSync(join(pv, "alice", project), { recursive: true });
    for (const [f, text] of Object.entries(files)) writeFileSync(join(pv, "alice", project, f), text);
  };
  // USER then RUN: Kaniko needs SETUID/SETGID for this (measured), the others their user namespace.
  put("own", {
    "ml.flag": "",
    Dockerfile: [
      "ARG BASE_IMAGE",
      "FROM ${BASE_IMAGE}",
      "RUN useradd -m -u 1234 trainer",
      "USER trainer",
      "RUN echo hello > /home/trainer/hello.txt",
      "COPY --chown=trainer train.py /home/trainer/train.py",
      'CMD ["python3", "/home/trainer/train.py"]',
      "",
    ].join("\n"),
    "train.py": 'import os\nprint("trained on", open("/home/trainer/hello.txt").read().strip(), "as uid", os.getuid())\n',
  });
  put("gen", { "ml.flag": "", "build_script.sh": "#!/bin/sh\nset -e\necho built-by-script > /workspace/built.txt\n" });
  mkdirSync(join(pv, "alice/gen/wheels"));
  const wheel = await writeWheel(join(pv, "alice/gen/wheels"));
  writeFileSync(join(pv, "alice/gen/requirements.txt"), `./wheels/${wheel}\n`);
  put("slow", { "ml.flag": "", Dockerfile: "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN echo slow-build-started; sleep 300\n" });
  put("fails", { "ml.flag": "", Dockerfile: "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN echo about to fail; exit 3\n" });
  put("noflag", { Dockerfile: "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n" });
}

beforeAll(async () => {
  c = needCluster({ nodes: ["docker", "containerd"] });
  reg = need("SEELIE_TEST_REGISTRY");
  builders = await builderImages();
  work = mkdtempSync(join(tmpdir(), "seelie-cloudbuild-cluster-"));

  // The prepare step runs this checkout's CLI, compiled, in a seelie-tools image (kubelet: IfNotPresent).
  const ctx = join(work, "tools");
  mkdirSync(ctx);
  const b = await sh(["bun", "build", "--compile", "bin/seelie.ts", "--outfile", join(ctx, "seelie")], { cwd: ROOT });
  if (b.code !== 0) throw new Error(b.stderr);
  toolsImage = `seelie-test/seelie-tools:cloudbuild-${RUN_ID}`;
  const d = await sh(
    dockerCli(
      "build",
      "-q",
      "--build-arg",
      "BASE=seelie-test/debian:12",
      "-f",
      join(ROOT, "pods/cloud-build/seelie-tools.Dockerfile"),
      "-t",
      toolsImage,
      ctx,
    ),
  );
  if (d.code !== 0) throw new Error(`docker build of the seelie-tools image failed: ${d.stderr}`);

  ns = await testNamespace(c, "cloudbuild");
  const pv = join(work, "pv");
  mkdirSync(pv);
  await writeProjects(pv);
  pvName = `${ns.name}-projects`;
  await kubectlOk(
    c,
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [
        {
          apiVersion: "v1",
          kind: "PersistentVolume",
          metadata: { name: pvName, labels: { "seelie.test/owner": "cloudbuild" } },
          spec: {
            capacity: { storage: "1Gi" },
            accessModes: ["ReadOnlyMany", "ReadWriteOnce"],
            storageClassName: ns.name,
            hostPath: { path: pv, type: "Directory" },
            claimRef: { namespace: ns.name, name: "projects" },
          },
        },
        {
          apiVersion: "v1",
          kind: "PersistentVolumeClaim",
          metadata: { name: "projects", namespace: ns.name },
          spec: {
            accessModes: ["ReadOnlyMany"],
            storageClassName: ns.name,
            volumeName: pvName,
            resources: { requests: { storage: "1Gi" } },
          },
        },
      ],
    }),
  );
  const dockerconfig = join(need("SEELIE_TEST_DOCKER_CONFIG"), "config.json");
  await kubectlOk(c, [
    "-n",
    ns.name,
    "create",
    "secret",
    "generic",
    "regcred",
    "--type=kubernetes.io/dockerconfigjson",
    `--from-file=.dockerconfigjson=${dockerconfig}`,
  ]);
  for (let i = 0; i < 60; i++) {
    if ((await kubectlOk(c, ["-n", ns.name, "get", "pvc", "projects", "-o", "jsonpath={.status.phase}"])) === "Bound") break;
    await Bun.sleep(500);
  }
}, 900_000);

afterAll(async () => {
  if (timings.length) console.error(`[cloud-build on the cluster] ${timings.join("; ")}`);
  if (ns) {
    // Nothing the builds made may be left behind.
    const left = await kubectl(c, ["-n", ns.name, "get", "pods", "-l", "app.kubernetes.io/name=seelie-cloud-build", "-o", "name"]);
    if (left.stdout.trim()) console.error(`build Pods left behind: ${left.stdout}`);
    await ns.remove();
  }
  if (pvName) await kubectl(c, ["delete", "pv", pvName, "--wait=false"]);
  // The images this run pushed: from the containerd node (the kubelet's image GC is off there) and
  // from the registry (manifests; its blobs go with the registry's own garbage collection).
  const repo = `${reg}/seelie/cloudbuild-t-${RUN_ID}`;
  const listed = await sh(["ctr", "-a", c.containerdSocket, "-n", "k8s.io", "images", "ls", "-q"]);
  const refs = listed.stdout.split("\n").filter((r) => r.startsWith(`${repo}@`) || r.startsWith(`${repo}:`));
  if (refs.length) await sh(["ctr", "-a", c.containerdSocket, "-n", "k8s.io", "images", "rm", ...refs]);
  const { user, password } = testRegistry();
  const auth = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
  for (const digest of pushed) {
    await fetch(`http://${reg}/v2/seelie/cloudbuild-t-${RUN_ID}/manifests/${digest}`, {
      method: "DELETE",
      headers: { authorization: auth },
    }).catch(() => undefined);
  }
  if (toolsImage) await sh(dockerCli("rmi", "-f", toolsImage));
  if (work) rmSync(work, { recursive: true, force: true });
});

/** The CLI as a user runs it, with the cluster's kubeconfig and nothing from this machine's user. */
function spawnCli(args: string[]) {
  return Bun.spawn(["bun", "bin/seelie.ts", "image", "cloud-build", ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: work,
      KUBECONFIG: c.kubeconfig,
      SEELIE_CONFIG: join(work, "no-config.yaml"),
      SEELIE_ALLOWED_BASE_IMAGES: `${reg}/seelie/`,
      NO_COLOR: "1",
    },
    stdout: "pipe",
    stderr: "pipe",
  });
}

async function cli(args: string[]) {
  const p = spawnCli(args);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

const imageRef = (tag: string) => `${reg}/seelie/cloudbuild-t-${RUN_ID}:${tag}`;

function buildArgs(tool: keyof typeof builders, project: string, tag: string, extra: string[] = []): string[] {
  return [
    "--tool",
    tool,
    "--builder_image",
    builders[tool],
    "--tools_image",
    toolsImage,
    "--base_image",
    need("SEELIE_TEST_PYTHON"),
    "--context_pvc",
    "projects",
    "--context_subpath",
    `alice/${project}`,
    "--registry_secret",
    "regcred",
    "--image",
    imageRef(tag),
    "--namespace",
    ns.name,
    "--host_network",
    ...extra,
  ];
}

const podGone = async (name: string) => {
  for (let i = 0; i < 40; i++) {
    const r = await kubectl(c, ["-n", ns.name, "get", "pod", name, "-o", "name"]);
    if (r.code !== 0 && r.stderr.includes("NotFound")) return true;
    await Bun.sleep(500);
  }
  return false;
};

/** Waits for a Pod to end; returns its phase. */
async function podEnd(name: string, seconds = 240): Promise<string> {
  for (let i = 0; i < seconds * 2; i++) {
    const phase = (await kubectl(c, ["-n", ns.name, "get", "pod", name, "-o", "jsonpath={.status.phase}"])).stdout;
    if (phase === "Succeeded" || phase === "Failed") return phase;
    await Bun.sleep(500);
  }
  return "timeout";
}

/** Pulls `ref` on the containerd node (the builds ran on the dockershim node) and returns its output. */
async function runOnContainerdNode(name: string, ref: string, command?: string[]): Promise<string> {
  const container: Record<string, unknown> = { name: "app", image: ref, imagePullPolicy: "Always" };
  if (command) container.command = command;
  await kubectlOk(
    c,
    ["-n", ns.name, "create", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name },
      spec: {
        nodeName: c.containerdNode,
        tolerations: [{ operator: "Exists" }],
        restartPolicy: "Never",
        imagePullSecrets: [{ name: "regcred" }],
        containers: [container],
      },
    }),
  );
  const phase = await podEnd(name);
  const logs = await kubectl(c, ["-n", ns.name, "logs", name]);
  const why = phase === "Succeeded" ? "" : (await kubectl(c, ["-n", ns.name, "describe", "pod", name])).stdout;
  await kubectl(c, ["-n", ns.name, "delete", "pod", name, "--grace-period=0", "--force"]);
  expect(phase, `${name}: ${logs.stdout}${logs.stderr}\n${why}`).toBe("Succeeded");
  return logs.stdout;
}

describe("cloud-build runs for real on Kubernetes v1.21 and the pushed image runs on the other node", () => {
  for (const tool of ["kaniko", "buildkit", "buildah"] as const) {
    test(`${tool}: project Dockerfile (USER then RUN), pushed, pulled by digest on containerd and run; Pod deleted`, async () => {
      const started = Date.now();
      const r = await cli([...buildArgs(tool, "own", tool), "-o", "json"]);
      timings.push(`${tool} ${((Date.now() - started) / 1000).toFixed(1)} s`);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      pushed.add(out.digest);
      expect(out).toMatchObject({ image: imageRef(tool), pushed: true, tool, namespace: ns.name });
      expect(out.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(r.stderr).toContain("[prepare]");
      expect(r.stderr).toContain("[build]");
      expect(r.stderr).not.toContain("\u001b["); // plain lines (Kaniko colours by default)
      expect(await podGone(out.pod)).toBe(true);
      const ran = await runOnContainerdNode(`run-${tool}`, `${imageRef(tool).split(":").slice(0, -1).join(":")}@${out.digest}`);
      expect(ran).toContain("trained on hello as uid 1234");
    });
  }

  test("kaniko: a generated Dockerfile on the PEP 668 Python base (build_script.sh, then pip install -r requirements.txt)", async () => {
    const r = await cli([...buildArgs("kaniko", "gen", "gen"), "-o", "json"]);
    expect(r.code, r.stderr).toBe(0);
    const { digest } = JSON.parse(r.stdout);
    pushed.add(digest);
    const ran = await runOnContainerdNode("run-gen", `${reg}/seelie/cloudbuild-t-${RUN_ID}@${digest}`, [
      "sh",
      "-c",
      'cat /workspace/built.txt; python3 -c "import hello_seelie; print(hello_seelie.GREETING)"',
    ]);
    expect(ran).toContain("built-by-script");
    expect(ran).toContain("hello from a wheel");
  });
});

describe("--render | kubectl apply", () => {
  test("the rendered Pod has a real name and no namespace: kubectl -n NS apply -f - builds and pushes", async () => {
    const args = buildArgs("buildkit", "own", "rendered").filter((a, i, all) => a !== "--namespace" && all[i - 1] !== "--namespace");
    const r = await cli([...args, "--render"]);
    expect(r.code, r.stderr).toBe(0);
    const pod = parse(r.stdout);
    expect(pod.metadata.namespace).toBeUndefined();
    expect(pod.metadata.generateName).toBeUndefined();
    expect(pod.metadata.name).toMatch(/^seelie-build-buildkit-[a-z0-9]{5}$/);
    const applied = await kubectl(c, ["-n", ns.name, "apply", "-f", "-"], r.stdout);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain(`pod/${pod.metadata.name} created`);
    const phase = await podEnd(pod.metadata.name);
    const msg = await kubectlOk(c, [
      "-n",
      ns.name,
      "get",
      "pod",
      pod.metadata.name,
      "-o",
      "jsonpath={.status.containerStatuses[0].state.terminated.message}",
    ]);
    await kubectl(c, ["-n", ns.name, "delete", "pod", pod.metadata.name, "--grace-period=0", "--force"]);
    expect(phase).toBe("Succeeded");
    expect(msg.trim()).toMatch(/^sha256:[0-9a-f]{64}$/);
    pushed.add(msg.trim());
  });

  // Why BuildKit and Buildah run Unconfined while Kaniko runs under RuntimeDefault: the same rendered
  // Pod with the runtime's default profile fails. Should a builder stop needing it, this fails and the
  // Pod can be tightened.
  test.each([
    ["buildkit", "fork/exec /proc/self/exe: operation not permitted"],
    ["buildah", "unshare(CLONE_NEWUSER): Operation not permitted"],
  ] as const)("seccomp measured: the %s Pod fails under RuntimeDefault (%s)", async (tool, error) => {
    const name = `cb-seccomp-${tool}-${RUN_ID}`;
    const r = await cli([...buildArgs(tool, "own", "never", ["--name", name]), "--render"]);
    expect(r.code, r.stderr).toBe(0);
    const pod = parse(r.stdout);
    expect(pod.spec.containers[0].securityContext.seccompProfile).toEqual({ type: "Unconfined" });
    pod.spec.containers[0].securityContext.seccompProfile = { type: "RuntimeDefault" };
    await kubectlOk(c, ["-n", ns.name, "create", "-f", "-"], JSON.stringify(pod));
    const phase = await podEnd(name);
    const logs = (await kubectl(c, ["-n", ns.name, "logs", name, "-c", "build"])).stdout;
    await kubectl(c, ["-n", ns.name, "delete", "pod", name, "--grace-period=0", "--force"]);
    expect(phase, logs).toBe("Failed");
    expect(logs).toContain(error);
  });

  test("Buildpacks: render and a server-side dry run only (no Buildpacks builder image can be made offline)", async () => {
    const r = await cli([
      "--tool",
      "buildpacks",
      "--base_image",
      need("SEELIE_TEST_PYTHON"),
      "--context_pvc",
      "projects",
      "--context_subpath",
      "alice/gen",
      "--registry_secret",
      "regcred",
      "--image",
      imageRef("bp"),
      "--render",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const dry = await kubectl(c, ["-n", ns.name, "apply", "--dry-run=server", "-f", "-"], r.stdout);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("created (server dry run)");
  });
});

describe("failures on the real cluster: clear errors, exit codes, no Pod left", () => {
  test("Ctrl-C while the build runs: exit 130, no stack trace, the Pod is deleted", async () => {
    const name = `cb-interrupt-${RUN_ID}`;
    const p = spawnCli(buildArgs("kaniko", "slow", "slow", ["--name", name]));
    let stderr = "";
    const reader = (async () => {
      const dec = new TextDecoder();
      for await (const chunk of p.stderr as ReadableStream<Uint8Array>) stderr += dec.decode(chunk);
    })();
    for (let i = 0; i < 240 && !stderr.includes("slow-build-started"); i++) await Bun.sleep(500);
    expect(stderr).toContain("slow-build-started");
    p.kill("SIGINT");
    const code = await p.exited;
    await reader;
    expect(code, stderr).toBe(130);
    expect(stderr).not.toMatch(/Unhandled|^\s+at /m);
    expect(await podGone(name)).toBe(true);
  });

  test("a builder image that cannot be pulled: exit 1 naming ErrImagePull and the image; Pod deleted", async () => {
    const name = `cb-badimage-${RUN_ID}`;
    const bad = `${reg}/seelie/no-such-builder-${RUN_ID}:1`;
    const args = buildArgs("kaniko", "own", "never", ["--name", name]);
    args[args.indexOf("--builder_image") + 1] = bad;
    const r = await cli(args);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/ErrImagePull|ImagePullBackOff/);
    expect(r.stderr).toContain(bad);
    expect(await podGone(name)).toBe(true);
  });

  test("the build fails (RUN exits 3): exit 1 naming the build container; Pod deleted", async () => {
    const name = `cb-fails-${RUN_ID}`;
    const r = await cli(buildArgs("kaniko", "fails", "never", ["--name", name]));
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("about to fail");
    expect(r.stderr).toContain(`failed while the kaniko build: container "build" exited with 3`);
    expect(await podGone(name)).toBe(true);
  });

  test("the project has no ml.flag: the prepare step fails with exit 2; Pod deleted", async () => {
    const name = `cb-noflag-${RUN_ID}`;
    const r = await cli(buildArgs("kaniko", "noflag", "never", ["--name", name]));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain("ml.flag");
    expect(r.stderr).toContain('container "prepare"');
    expect(await podGone(name)).toBe(true);
  });

  test("the Pod is deleted by someone else while it builds: exit 1 saying so", async () => {
    const name = `cb-deleted-${RUN_ID}`;
    const p = spawnCli(buildArgs("kaniko", "slow", "slow", ["--name", name]));
    let stderr = "";
    const reader = (async () => {
      const dec = new TextDecoder();
      for await (const chunk of p.stderr as ReadableStream<Uint8Array>) stderr += dec.decode(chunk);
    })();
    for (let i = 0; i < 240 && !stderr.includes("slow-build-started"); i++) await Bun.sleep(500);
    expect(stderr).toContain("slow-build-started");
    await kubectlOk(c, ["-n", ns.name, "delete", "pod", name, "--grace-period=0", "--force"]);
    const code = await p.exited;
    await reader;
    expect(code, stderr).toBe(1);
    expect(stderr).toContain(`the build Pod ${ns.name}/${name} was deleted before it finished`);
  });

  test("a missing registry Secret or claim is refused through the API before any Pod exists", async () => {
    const args = buildArgs("kaniko", "own", "never");
    const noSecret = [...args];
    noSecret[noSecret.indexOf("--registry_secret") + 1] = "nope";
    const r1 = await cli(noSecret);
    expect(r1.code, r1.stderr).toBe(2);
    expect(r1.stderr).toContain(`the registry secret "nope" does not exist in namespace "${ns.name}"`);
    const noClaim = [...args];
    noClaim[noClaim.indexOf("--context_pvc") + 1] = "nope";
    const r2 = await cli(noClaim);
    expect(r2.code, r2.stderr).toBe(2);
    expect(r2.stderr).toContain('the build context volume claim "nope" does not exist');
    await kubectlOk(c, ["-n", ns.name, "create", "secret", "generic", "opaque", "--from-literal=x=y"]);
    const wrongType = [...args];
    wrongType[wrongType.indexOf("--registry_secret") + 1] = "opaque";
    const r3 = await cli(wrongType);
    expect(r3.code, r3.stderr).toBe(2);
    expect(r3.stderr).toContain(`the secret ${ns.name}/opaque is of type "Opaque"`);
    const pods = await kubectlOk(c, ["-n", ns.name, "get", "pods", "-l", "app.kubernetes.io/name=seelie-cloud-build", "-o", "name"]);
    expect(pods.trim()).toBe("");
  });
});

describe("what the API server and the scheduler refuse, for real (a second namespace with a LimitRange, then a quota)", () => {
  let ns2: { name: string; remove: () => Promise<void> };
  beforeAll(async () => {
    ns2 = await testNamespace(c, "cloudbuild-limits");
    const dockerconfig = join(need("SEELIE_TEST_DOCKER_CONFIG"), "config.json");
    await kubectlOk(c, [
      "-n",
      ns2.name,
      "create",
      "secret",
      "generic",
      "regcred",
      "--type=kubernetes.io/dockerconfigjson",
      `--from-file=.dockerconfigjson=${dockerconfig}`,
    ]);
  });
  afterAll(async () => {
    await ns2?.remove();
  });
  // An NFS context: the Pod never starts here, so no volume is needed (and no claim is checked).
  const args = () => [
    ...buildArgs("kaniko", "own", "never").filter(
      (a, i, all) => !["--namespace", "--context_pvc"].includes(a) && !["--namespace", "--context_pvc"].includes(all[i - 1]!),
    ),
    "--context_nfs",
    "nfs.invalid:/exports",
    "--namespace",
    ns2.name,
  ];

  test("a Pod no node can take (a LimitRange asks 1000 CPUs): the scheduler's reason, the wait ends, Pod deleted", async () => {
    await kubectlOk(
      c,
      ["-n", ns2.name, "create", "-f", "-"],
      JSON.stringify({
        apiVersion: "v1",
        kind: "LimitRange",
        metadata: { name: "huge" },
        spec: { limits: [{ type: "Container", defaultRequest: { cpu: "1000" }, default: { cpu: "1000" } }] },
      }),
    );
    const name = `cb-unsched-${RUN_ID}`;
    const r = await cli([...args(), "--name", name, "--timeout", "3s"]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain("Unschedulable");
    expect(r.stderr).toContain("Insufficient cpu");
    expect((await kubectl(c, ["-n", ns2.name, "get", "pod", name])).stderr).toContain("NotFound");
  });

  test("the API server refuses the Pod (a ResourceQuota of 0 Pods): its message is shown, exit 1", async () => {
    await kubectlOk(c, ["-n", ns2.name, "create", "quota", "no-pods", "--hard=pods=0"]);
    for (let i = 0; i < 40; i++) {
      const used = await kubectl(c, ["-n", ns2.name, "get", "quota", "no-pods", "-o", "jsonpath={.status.hard.pods}"]);
      if (used.stdout === "0") break;
      await Bun.sleep(250);
    }
    const r = await cli(args());
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`create the build Pod in namespace ${ns2.name}`);
    expect(r.stderr).toContain("exceeded quota: no-pods");
  });
});
