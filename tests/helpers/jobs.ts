/**
 * Helpers of the job tests: the CLI as a subprocess with its own SEELIE_HOME, a `seelie` wrapper on
 * PATH for pasted commands (it appends --record-only, so a pasted command records without running),
 * a seeded PRNG and a generator of hostile job specs, and the API discovery answer for the fake
 * Kubernetes server (which does not serve discovery itself).
 */
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { FakeKube } from "./fake-kube.ts";
import { sh } from "./services.ts";

export const SEELIE = resolve(import.meta.dir, "../../bin/seelie.ts");
export const BUN = process.execPath;

/** A temporary SEELIE_HOME with its env, and a bin dir holding the `seelie` wrapper. */
export function tempHome(): { home: string; store: string; bin: string; env: Record<string, string> } {
  const home = mkdtempSync(join(tmpdir(), "seelie-jobs-"));
  const bin = join(home, "bin");
  mkdirSync(bin);
  const wrapper = join(bin, "seelie");
  writeFileSync(wrapper, `#!/bin/sh\nexec '${BUN}' '${SEELIE}' "$@" --record-only\n`);
  chmodSync(wrapper, 0o755);
  return {
    home,
    store: join(home, "jobs.db"),
    bin,
    env: {
      SEELIE_HOME: home,
      SEELIE_CONFIG: join(home, "config.yaml"),
      SEELIE_JOB_STORE: "",
      SEELIE_LOG_LEVEL: "3",
      PATH: `${bin}:${process.env.PATH ?? ""}`,
    },
  };
}

/** Runs the CLI (`bun bin/seelie.ts ARGS`) with extra env; never throws on a non-zero exit. */
export function cli(args: string[], env: Record<string, string | undefined>, stdin?: string) {
  return sh([BUN, SEELIE, ...args], { env, stdin });
}

/** Runs a shell (`bash`, `dash`) with `-c SCRIPT`. */
export function shell(shellName: string, script: string, env: Record<string, string | undefined>) {
  return sh([shellName, "-c", script], { env });
}

/** mulberry32: a small seeded PRNG, so a failing case can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOSTILE = [
  "'",
  '"',
  "$",
  "$(echo pwned)",
  "`id`",
  "\\",
  "\n",
  "\t",
  "\r",
  "-",
  "--",
  "=",
  " ",
  "  ",
  "ü",
  "日本語",
  "😀",
  "!",
  "!!",
  "*",
  "?",
  "~",
  "#",
  ";",
  "&&",
  "|",
  ">",
  "<",
  "{a,b}",
  "$HOME",
  "${X}",
  "%s",
  "\\n",
  "-E",
  "--name",
  "'\\''",
  '"$@"',
  "$'x'",
  "\\\\",
  "x=y",
  "a b",
  "é",
  "\u00a0",
  "\u200b",
];
const WORDS = [
  "job",
  "test",
  "train",
  "sleep 10m",
  "echo failed",
  "exit 1",
  "resnet",
  "0",
  "1.5",
  "true",
  "null",
  "A",
  "bash -c",
  "python -c",
];

/** A random value made of hostile fragments and ordinary words (possibly empty). */
export function hostileValue(rnd: () => number, minParts = 0): string {
  const n = minParts + Math.floor(rnd() * 6);
  let s = "";
  for (let i = 0; i < n; i++) {
    const pool = rnd() < 0.6 ? HOSTILE : WORDS;
    s += pool[Math.floor(rnd() * pool.length)]!;
  }
  return s;
}

/** The submit flags of a generated job, as the store would hold them. */
export interface GeneratedJob {
  name: string;
  description: string;
  cluster: string;
  namespace: string;
  cpu: string;
  memory: string;
  gpu: string;
  workerCount: string;
  image: string;
  entrypointType: string;
  entrypoint: string;
  env: string[];
}

const IMAGES = [
  "busybox",
  "127.0.0.1:5000/seelie/busybox:1",
  "registry.cn-shanghai.aliyuncs.com/shuaiyy/mihoyo-ai:tf2.4.3-gpu-jupyter-lab",
  "tensorflow/tensorflow:2.4.3-gpu",
  `nvcr.io/nvidia/tensorflow:23.01-tf2-py3@sha256:${"a".repeat(64)}`,
];
const KEYS = ["enable_ema", "LR", "_X", "batch_size", "A1", "PATH_PREFIX", "API_TOKEN", "DB_PASSWORD"];

/** A random job with hostile values wherever the model takes free text. */
export function generateJob(rnd: () => number): GeneratedJob {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const num = () => pick(["1", "2", "0.5", "0.25", "16", "1.125", "3.000001"]);
  const env: string[] = [];
  const nEnv = Math.floor(rnd() * 5);
  for (let i = 0; i < nEnv; i++) env.push(`${pick(KEYS)}=${hostileValue(rnd)}`);
  let name = hostileValue(rnd, 1);
  if (name === "") name = "x";
  let cluster = hostileValue(rnd, 1);
  if (cluster === "") cluster = "dev";
  return {
    name,
    description: rnd() < 0.2 ? "" : hostileValue(rnd),
    cluster,
    namespace: pick(["default", "team-a", "ml0"]),
    cpu: num(),
    memory: num(),
    gpu: pick(["0", "1", "8"]),
    workerCount: pick(["1", "2", "4"]),
    image: pick(IMAGES),
    entrypointType: rnd() < 0.3 ? "bash -c" : hostileValue(rnd),
    entrypoint: hostileValue(rnd),
    env,
  };
}

/** The argv of `seelie submit tfjob` for a generated job (`--flag=value` when a value starts with `-`). */
export function submitArgv(j: GeneratedJob): string[] {
  const flag = (n: string, v: string) => (v.startsWith("-") ? [`--${n}=${v}`] : [`--${n}`, v]);
  return [
    "submit",
    "tfjob",
    ...flag("name", j.name),
    ...flag("description", j.description),
    ...flag("cluster", j.cluster),
    ...flag("namespace", j.namespace),
    ...flag("cpu", j.cpu),
    ...flag("memory", j.memory),
    ...flag("gpu", j.gpu),
    ...flag("worker-count", j.workerCount),
    ...flag("image", j.image),
    ...flag("entrypoint-type", j.entrypointType),
    ...flag("entrypoint", j.entrypoint),
    ...j.env.flatMap((e) => ["-E", e]),
  ];
}

/** Makes the fake API server answer discovery for kubeflow.org/v1 with the tfjobs resource (the training operator "installed"). */
export function serveTfJobDiscovery(fk: FakeKube): void {
  fk.route("GET", /^\/apis\/kubeflow\.org\/v1\/?$/, () =>
    Response.json({
      kind: "APIResourceList",
      apiVersion: "v1",
      groupVersion: "kubeflow.org/v1",
      resources: [
        {
          name: "tfjobs",
          singularName: "tfjob",
          namespaced: true,
          kind: "TFJob",
          verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
        },
      ],
    }),
  );
}

/** One kubeconfig with contexts on several fake API servers (the fake's own kubeconfigs all name their cluster "fake"). */
export function kubeconfigFor(
  servers: { fk: FakeKube; contexts: string[] }[],
  dir = mkdtempSync(join(tmpdir(), "seelie-kubeconfig-")),
): string {
  const path = join(dir, "config");
  const cfg = {
    apiVersion: "v1",
    kind: "Config",
    clusters: servers.map((s, i) => ({ name: `c${i}`, cluster: { server: s.fk.url, "insecure-skip-tls-verify": true } })),
    users: [{ name: "u", user: { token: "fake-token" } }],
    contexts: servers.flatMap((s, i) =>
      s.contexts.map((c) => ({ name: c, context: { cluster: `c${i}`, user: "u", namespace: "default" } })),
    ),
    "current-context": servers[0]?.contexts[0],
  };
  writeFileSync(path, JSON.stringify(cfg));
  return path;
}

/** Starts the CLI, waits until its stdout or stderr shows `ready` (or `afterMs`), sends SIGINT, and returns how it ended. */
export async function cliInterrupted(args: string[], env: Record<string, string | undefined>, ready: RegExp, afterMs = 30_000) {
  const p = Bun.spawn([BUN, SEELIE, ...args], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  let stdout = "";
  let stderr = "";
  let sawReady!: () => void;
  const seen = new Promise<void>((r) => (sawReady = r));
  const read = async (s: ReadableStream<Uint8Array>, add: (t: string) => void) => {
    const dec = new TextDecoder();
    for await (const c of s) {
      add(dec.decode(c, { stream: true }));
      if (ready.test(stdout) || ready.test(stderr)) sawReady();
    }
  };
  const reading = Promise.all([read(p.stdout, (t) => (stdout += t)), read(p.stderr, (t) => (stderr += t))]);
  const timer = setTimeout(sawReady, afterMs);
  await seen;
  clearTimeout(timer);
  const sentAt = Date.now();
  p.kill("SIGINT");
  const code = await p.exited;
  await reading;
  return { code, stdout, stderr, exitMs: Date.now() - sentAt };
}

/**
 * The worker Pod the Kubeflow training operator (v1.x) makes for replica `index` of a TFJob: the
 * template's labels plus the operator's, owned by the TFJob (so deleting it deletes the Pod), named
 * `<tfjob>-worker-<i>`, with TF_CONFIG. Tests create it because the test cluster runs no operator.
 */
export function operatorWorkerPod(tfjob: any, index: number): Record<string, unknown> {
  const name = tfjob.metadata.name as string;
  const worker = tfjob.spec.tfReplicaSpecs.Worker;
  const template = structuredClone(worker.template);
  const hosts = Array.from({ length: worker.replicas }, (_, i) => `${name}-worker-${i}.${tfjob.metadata.namespace}.svc:2222`);
  for (const c of template.spec.containers) {
    c.env = [
      ...(c.env ?? []),
      { name: "TF_CONFIG", value: JSON.stringify({ cluster: { worker: hosts }, task: { type: "worker", index }, environment: "cloud" }) },
    ];
  }
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: `${name}-worker-${index}`,
      namespace: tfjob.metadata.namespace,
      labels: {
        ...(template.metadata?.labels ?? {}),
        "training.kubeflow.org/job-name": name,
        "training.kubeflow.org/operator-name": "tfjob-controller",
        "training.kubeflow.org/replica-type": "worker",
        "training.kubeflow.org/replica-index": String(index),
        ...(index === 0 ? { "training.kubeflow.org/job-role": "master" } : {}),
      },
      ownerReferences: [
        { apiVersion: "kubeflow.org/v1", kind: "TFJob", name, uid: tfjob.metadata.uid, controller: true, blockOwnerDeletion: true },
      ],
    },
    spec: { ...template.spec, restartPolicy: worker.restartPolicy ?? "Never", terminationGracePeriodSeconds: 1 },
  };
}

/** A TFJob condition as the operator writes it. */
export function tfJobCondition(type: string, reason: string, message: string) {
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  return { type, status: "True", reason, message, lastUpdateTime: now, lastTransitionTime: now };
}

/** True when the host has a network interface of that name. */
async function hasInterface(name: string): Promise<boolean> {
  return (await sh(["ip", "link", "show", name])).code === 0;
}

/**
 * A private dockerd of the test's own (its own data/exec roots and socket, the system containerd in
 * namespaces of its own, no iptables) with a tiny default address pool, so that "no address pool
 * left" can be reached without touching the shared engine's pools. Its default bridge is an
 * interface made here (`sjp…`, 10.214.0.1/24): with `--bridge=none` dockerd deletes the host's
 * `docker0` at start-up, which is the shared engine's. `stop()` stops exactly this daemon (by its
 * pid), removes what it left, and fails if docker0 went missing meanwhile.
 */
export async function privateDockerd(
  pool: string,
): Promise<{ host: string; docker: (...args: string[]) => string[]; stop: () => Promise<void> }> {
  if (!(await hasInterface("docker0"))) throw new Error("the shared dockerd's docker0 bridge is missing before the test even starts");
  const dir = mkdtempSync(join(tmpdir(), "sjp-"));
  const sock = join(dir, "sock");
  const tag = dir
    .slice(-6)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "x");
  const ns = `seelie-jobs-pooltest-${tag}`;
  const bridge = `sjpbr${tag}`;
  const ip = async (...args: string[]) => {
    const r = await sh(["ip", ...args]);
    if (r.code !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr}`);
  };
  await ip("link", "add", bridge, "type", "bridge");
  await ip("addr", "add", "10.214.0.1/24", "dev", bridge);
  await ip("link", "set", bridge, "up");
  writeFileSync(join(dir, "daemon.json"), "{}");
  const proc = Bun.spawn(
    [
      "dockerd",
      "--config-file",
      join(dir, "daemon.json"),
      "--data-root",
      join(dir, "data"),
      "--exec-root",
      join(dir, "exec"),
      "--pidfile",
      join(dir, "pid"),
      "-H",
      `unix://${sock}`,
      "--bridge",
      bridge,
      "--iptables=false",
      "--ip6tables=false",
      "--ip-masq=false",
      "--storage-driver",
      "vfs",
      "--containerd",
      "/run/containerd/containerd.sock",
      "--containerd-namespace",
      ns,
      "--containerd-plugins-namespace",
      `${ns}-plugins`,
      "--default-address-pool",
      pool,
    ],
    { stdout: "ignore", stderr: Bun.file(join(dir, "log")) },
  );
  const docker = (...args: string[]) => ["/usr/bin/docker", "-H", `unix://${sock}`, ...args];
  const stop = async () => {
    proc.kill("SIGTERM");
    await Promise.race([proc.exited, Bun.sleep(20_000)]);
    await sh(["ctr", "-a", "/run/containerd/containerd.sock", "namespaces", "rm", ns, `${ns}-plugins`]);
    await sh(["ip", "link", "del", bridge]);
    await sh(["rm", "-rf", dir]);
    if (!(await hasInterface("docker0"))) throw new Error("the shared dockerd's docker0 bridge went missing during the test");
  };
  for (let i = 0; ; i++) {
    if ((await sh(docker("version"))).code === 0) break;
    if (i > 60 || proc.exitCode !== null) {
      const log = await Bun.file(join(dir, "log"))
        .text()
        .catch(() => "");
      await stop();
      throw new Error(`the private dockerd did not start: ${log.split("\n").slice(-5).join("\n")}`);
    }
    await Bun.sleep(500);
  }
  if (!(await hasInterface("docker0"))) {
    await stop();
    throw new Error("starting the private dockerd removed docker0");
  }
  return { host: `unix://${sock}`, docker, stop };
}
