/**
 * `seelie image cloud-build` where no API server is needed: bad input refused before any call, and
 * `--render` (no kubeconfig read at all). The kubeconfig points at a port where nothing listens, so
 * a case that reached the API would fail with exit 1 instead of the expected 2. Everything that talks
 * to a cluster runs on the real one: tests/integration/cloud-build-cluster.test.ts. Also the pure
 * outcome reader (buildOutcome) on Pod states a real builder does not produce on demand.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import { parse } from "yaml";
import { buildOutcome } from "../../lib/cloud-build/run.ts";
import type { CloudBuildInputs } from "../../lib/cloud-build/types.ts";
import type { SeelieError } from "../../lib/errors.ts";
import { validatePodV121 } from "../helpers/json-schema.ts";

const ROOT = join(import.meta.dir, "../..");
const home = mkdtempSync(join(tmpdir(), "seelie-cb-cli-"));
const NS = "ml";
const kubeconfig = join(home, "kubeconfig");
// Nothing listens on port 1: any API call fails (exit 1, "cannot ..."), never with the expected usage error.
writeFileSync(
  kubeconfig,
  `apiVersion: v1
kind: Config
clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: not-used}}]
contexts: [{name: nowhere, context: {cluster: nowhere, user: u, namespace: ${NS}}}]
current-context: nowhere
`,
);

const BASE_ARGS = [
  "--tool",
  "kaniko",
  "--base_image",
  "registry.example.com/base/python:3.10",
  "--context_pvc",
  "ml-projects",
  "--context_subpath",
  "alice/mnist",
  "--registry_secret",
  "regcred",
  "--tag",
  "v1",
  "--repo_type",
  "training",
  "--namespace",
  NS,
];

async function cli(args: string[], env: Record<string, string> = {}) {
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
      ...env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

const set = (args: string[], flag: string, value: string | null) => {
  const out = [...args];
  const i = out.indexOf(flag);
  if (value === null) out.splice(i, 2);
  else out[i + 1] = value;
  return out;
};

describe("bad input: a clear error before any API call", () => {
  const projects = mkdtempSync(join(tmpdir(), "seelie-cb-proj-"));
  const noFlag = join(projects, "no-flag");
  mkdirSync(noFlag);
  writeFileSync(join(noFlag, "train.py"), "");
  const badFrom = join(projects, "bad-from");
  mkdirSync(badFrom);
  writeFileSync(join(badFrom, "ml.flag"), "");
  writeFileSync(join(badFrom, "Dockerfile"), "FROM docker.io/library/ubuntu:22.04\n");

  const cases: [string, string[], string][] = [
    ["unknown tool", set(BASE_ARGS, "--tool", "docker"), 'unknown build tool "docker"'],
    [
      "base image outside the allow list",
      set(BASE_ARGS, "--base_image", "docker.io/library/ubuntu:22.04"),
      '--base_image "docker.io/library/ubuntu:22.04" is not allowed',
    ],
    ["no context volume", set(BASE_ARGS, "--context_pvc", null), "no build context"],
    ["context sub-path escaping the volume", set(BASE_ARGS, "--context_subpath", "../etc"), "must not contain '..'"],
    ["missing context path (local view)", [...BASE_ARGS, "--context_dir", join(projects, "absent")], "does not exist"],
    ["missing ml.flag (local view)", [...BASE_ARGS, "--context_dir", noFlag], "has no ml.flag"],
    ["project Dockerfile FROM outside the allow list (local view)", [...BASE_ARGS, "--context_dir", badFrom], "is not allowed"],
    [
      "an unknown --cluster (kubeconfig context), naming the contexts there",
      [...BASE_ARGS, "--cluster", "prod"],
      '--cluster "prod": no such context in the kubeconfig',
    ],
  ];
  for (const [name, args, message] of cases) {
    test(name, async () => {
      const r = await cli(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain("hint:");
      expect(r.stderr).not.toContain("127.0.0.1:1");
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
  }, 20_000);
});

describe("--render needs no cluster", () => {
  test("without --namespace: no namespace (kubectl -n decides), a real name, no kubeconfig read", async () => {
    const r = await cli(set(BASE_ARGS, "--namespace", null).concat("--render"), { KUBECONFIG: join(home, "absent-kubeconfig") });
    expect(r.code, r.stderr).toBe(0);
    const pod = parse(r.stdout);
    expect(validatePodV121(pod)).toEqual([]);
    expect(pod.metadata.namespace).toBeUndefined();
    expect(pod.metadata.generateName).toBeUndefined();
    expect(pod.metadata.name).toMatch(/^seelie-build-kaniko-[a-z0-9]{5}$/);
    expect(pod.spec.hostNetwork).toBeUndefined();
  }, 20_000);

  test("with --namespace, --name and --host_network; --context_dir checks a good project first", async () => {
    const ok = mkdtempSync(join(tmpdir(), "seelie-cb-ok-"));
    writeFileSync(join(ok, "ml.flag"), "");
    const r = await cli([...BASE_ARGS, "--context_dir", ok, "--name", "my-build", "--host_network", "--render"]);
    expect(r.code, r.stderr).toBe(0);
    const pod = parse(r.stdout);
    expect(validatePodV121(pod)).toEqual([]);
    expect(pod.metadata).toMatchObject({ name: "my-build", namespace: NS });
    expect(pod.spec).toMatchObject({ hostNetwork: true, dnsPolicy: "Default" });
  }, 20_000);
});

describe("buildOutcome: the digest and the failing container from the ended Pod", () => {
  const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;
  const inputs = { tool: "buildkit", namespace: NS, image: "registry.example.com/team/x:1" } as CloudBuildInputs;
  const pod = (phase: string, statuses: { name: string; exitCode: number; message?: string }[], status: Record<string, string> = {}) =>
    ({
      status: {
        phase,
        ...status,
        initContainerStatuses: statuses.filter((s) => s.name === "prepare").map((s) => ({ name: s.name, state: { terminated: s } })),
        containerStatuses: statuses.filter((s) => s.name === "build").map((s) => ({ name: s.name, state: { terminated: s } })),
      },
    }) as unknown as V1Pod;
  const fails = (p: V1Pod): SeelieError => {
    try {
      buildOutcome(p, inputs, "b", []);
    } catch (err) {
      return err as SeelieError;
    }
    throw new Error("no error");
  };

  test("from the termination message", () => {
    const p = pod("Succeeded", [
      { name: "prepare", exitCode: 0 },
      { name: "build", exitCode: 0, message: DIGEST },
    ]);
    expect(buildOutcome(p, inputs, "b", [])).toEqual({
      image: inputs.image,
      digest: DIGEST,
      pushed: true,
      tool: "buildkit",
      namespace: NS,
      pod: "b",
    });
  });
  // A termination message can be lost (e.g. a full /dev/termination-log mount); the log line is the fallback.
  test("from the last digest line of the build log when the termination message is empty", () => {
    const p = pod("Succeeded", [{ name: "build", exitCode: 0 }]);
    expect(buildOutcome(p, inputs, "b", [`seelie-digest: ${DIGEST}`]).digest).toBe(DIGEST);
  });
  test("a success without any digest is an error naming the image", () => {
    expect(fails(pod("Succeeded", [{ name: "build", exitCode: 0 }])).message).toContain("reported no image digest");
  });
  test("prepare exits 2 (bad project): exit code 2; the build container's failure: 1", () => {
    const e = fails(pod("Failed", [{ name: "prepare", exitCode: 2, message: "no ml.flag" }]));
    expect(e.message).toContain('container "prepare" exited with 2: no ml.flag');
    expect(e.exitCode).toBe(2);
    const b = fails(
      pod("Failed", [
        { name: "prepare", exitCode: 0 },
        { name: "build", exitCode: 3, message: "a\nb\nc\nd" },
      ]),
    );
    expect(b.message).toContain('the buildkit build: container "build" exited with 3: b | c | d');
    expect(b.exitCode).toBe(1);
  });
  test("a Pod stopped by its deadline", () => {
    expect(
      fails(pod("Failed", [], { reason: "DeadlineExceeded", message: "Pod was active on the node longer than the specified deadline" }))
        .message,
    ).toContain("failed: DeadlineExceeded");
  });
});
