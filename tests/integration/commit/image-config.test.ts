/**
 * Issue 9 point 3: the pushed image's config is the base image's own (Env, Entrypoint, Cmd,
 * WorkingDir, User, Labels), never the container's: a container run with an extra env var holding a
 * fake secret, its own command, working dir and kubelet-style labels is committed on real dockerd
 * and real containerd, by both layer sources (upper directory and the runtime's API); the pushed
 * config and manifest carry none of it, and all four configs agree (but for the new layer's
 * diff_id and the time/comment of the commit). The kubelet is not involved: its labels are set by
 * hand (`io.kubernetes.*`), as dockershim sets them.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dockerCli, need, sh, shOk, testRegistry, ctrPull, removeCtrContainers } from "../../helpers/services.ts";
import { ensureCommitterBuilt, runCommitter } from "../../helpers/committer.ts";
import { pushedImage, type PushedImage } from "../../helpers/pushed-image.ts";

setDefaultTimeout(300_000);
const RUN = `${process.pid}-${Date.now().toString(36)}`;
const SECRET = `s3cr3t-${RUN}-do-not-push`;
let reg: ReturnType<typeof testRegistry>;
let sock: string;
let base: string;
let work: string;
const dockerContainers: string[] = [];
const ctrContainers: string[] = [];

const ok = shOk;
const docker = (...a: string[]) => ok(dockerCli(...a));
const ctr = (...a: string[]) => ok(["ctr", "--address", sock, "-n", "k8s.io", ...a]);

const BASE_CONFIG = {
  Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "FROM_IMAGE=yes"],
  Entrypoint: ["/bin/sh", "-c"],
  Cmd: ["echo from-image"],
  WorkingDir: "/srv",
  User: "1234",
  Labels: { "org.example.from-image": "yes" },
};

beforeAll(async () => {
  reg = testRegistry();
  sock = need("SEELIE_TEST_CONTAINERD_SOCK");
  await ensureCommitterBuilt();
  work = mkdtempSync(join(tmpdir(), "seelie-fastcommit-cfg-"));
  // A base with a config of its own, pushed (so Docker records a RepoDigest and containerd pulls it).
  base = `${reg.addr}/seelie-test/fastcommit-cfg-base:${RUN}`;
  writeFileSync(
    join(work, "Dockerfile"),
    [
      `FROM ${need("SEELIE_TEST_BUSYBOX")}`,
      "ENV FROM_IMAGE=yes",
      "RUN mkdir -p /srv && chown 1234 /srv",
      "WORKDIR /srv",
      'LABEL org.example.from-image="yes"',
      "USER 1234",
      'ENTRYPOINT ["/bin/sh", "-c"]',
      'CMD ["echo from-image"]',
    ].join("\n"),
  );
  await docker("build", "--network", "none", "-q", "-t", base, work);
  await docker("push", base);
  await ctrPull(base, (a) => ctr(...a));
});

afterAll(async () => {
  for (const c of dockerContainers) await sh(dockerCli("rm", "-f", c));
  await removeCtrContainers(sock, "k8s.io", ctrContainers);
  await sh(["ctr", "--address", sock, "-n", "k8s.io", "images", "rm", base]);
  await sh(dockerCli("rmi", "-f", base));
  rmSync(work, { recursive: true, force: true });
});

/** What the pod would add: a Secret's value in the env, its own command, working dir, user and the kubelet's labels. */
const POD_LABELS = {
  "io.kubernetes.pod.name": "nb",
  "io.kubernetes.pod.namespace": "team-a",
  "io.kubernetes.pod.uid": "0f0e-uid",
  "io.kubernetes.container.logpath": "/var/log/pods/x.log",
};
const POD_CMD = ["sh", "-c", "mkdir -p /tmp/w && echo work > /tmp/w/f && sleep 100000"];

function expectClean(img: PushedImage, label: string) {
  expect(img.configText, label).not.toContain(SECRET);
  expect(img.manifestText, label).not.toContain(SECRET);
  expect(img.configText, label).not.toContain("io.kubernetes");
  expect(img.configText, label).not.toContain("sleep 100000");
  const c = img.config.config as Record<string, unknown>;
  for (const [k, v] of Object.entries(BASE_CONFIG)) expect(c[k], `${label} ${k}`).toEqual(v);
  expect(img.config.rootfs.diff_ids.length, label).toBe(3);
}

/** The config without what differs per commit: the new layer's diff_id, the times, the history comment. */
function comparable(img: PushedImage): unknown {
  const c = structuredClone(img.config) as Record<string, unknown> & {
    rootfs: { diff_ids: string[] };
    history?: Record<string, unknown>[];
  };
  delete c.created;
  c.rootfs.diff_ids = c.rootfs.diff_ids.slice(0, -1);
  c.history = (c.history ?? []).map((h) => ({ ...h, created: undefined, comment: undefined }));
  return c;
}

describe("the pushed config is the image's, not the container's", () => {
  const pushed: Record<string, PushedImage> = {};

  test("Docker: env with a secret, command, working dir, user and kubelet labels stay out (upperdir and api)", async () => {
    const id = await docker(
      "run",
      "-d",
      "--network",
      "none",
      "--name",
      `seelie-fastcommit-cfg-${RUN}`,
      "-e",
      `SECRET_TOKEN=${SECRET}`,
      "-e",
      "KUBERNETES_SERVICE_HOST=10.96.0.1",
      ...Object.entries(POD_LABELS).flatMap(([k, v]) => ["-l", `${k}=${v}`]),
      "-w",
      "/tmp",
      "-u",
      "0",
      "--entrypoint",
      POD_CMD[0]!,
      base,
      ...POD_CMD.slice(1),
    );
    dockerContainers.push(id);
    await Bun.sleep(500);
    for (const source of ["upperdir", "api"]) {
      const target = `${reg.addr}/seelie-test/fastcommit-cfg:docker-${source}-${RUN}`;
      const r = await runCommitter([
        "--container-id",
        `docker://${id}`,
        "--image",
        target,
        "--docker-config",
        reg.dockerConfig,
        "--no-clean",
        "--layer-source",
        source,
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json!.layerSource).toBe(source);
      expect(r.stderr).not.toContain(SECRET);
      pushed[`docker-${source}`] = await pushedImage(target);
      expectClean(pushed[`docker-${source}`]!, `docker ${source}`);
    }
  });

  test("containerd: the same container on containerd gives the same config (upperdir and api)", async () => {
    const id = `seelie-fastcommit-cfg-${RUN}`;
    await ctr(
      "run",
      "-d",
      "--env",
      `SECRET_TOKEN=${SECRET}`,
      "--env",
      "KUBERNETES_SERVICE_HOST=10.96.0.1",
      ...Object.entries(POD_LABELS).flatMap(([k, v]) => ["--label", `${k}=${v}`]),
      "--cwd",
      "/tmp",
      base,
      id,
      ...POD_CMD,
    );
    ctrContainers.push(id);
    await Bun.sleep(500);
    for (const source of ["upperdir", "api"]) {
      const target = `${reg.addr}/seelie-test/fastcommit-cfg:containerd-${source}-${RUN}`;
      const r = await runCommitter([
        "--container-id",
        `containerd://${id}`,
        "--runtime-endpoint",
        `unix://${sock}`,
        "--image",
        target,
        "--docker-config",
        reg.dockerConfig,
        "--no-clean",
        "--layer-source",
        source,
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json!.layerSource).toBe(source);
      pushed[`containerd-${source}`] = await pushedImage(target);
      expectClean(pushed[`containerd-${source}`]!, `containerd ${source}`);
    }
  });

  test("all four configs agree, and the manifests differ only in the new layer and the config", () => {
    const keys = ["docker-upperdir", "docker-api", "containerd-upperdir", "containerd-api"];
    expect(Object.keys(pushed).sort()).toEqual([...keys].sort());
    const first = comparable(pushed[keys[0]!]!);
    for (const k of keys.slice(1)) expect(comparable(pushed[k]!), k).toEqual(first);
    const shape = (p: PushedImage) => ({
      mediaType: p.manifest.mediaType,
      config: p.manifest.config.mediaType,
      layers: p.manifest.layers.slice(0, -1),
      top: p.manifest.layers.at(-1)!.mediaType,
    });
    for (const k of keys.slice(1)) expect(shape(pushed[k]!), k).toEqual(shape(pushed[keys[0]!]!));
  });
});
