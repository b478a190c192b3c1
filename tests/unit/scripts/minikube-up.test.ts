import { expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "../../..");
// shellcheck runs as a static check of its own (tests/static-checks.sh shell, in .ci/run); this only
// makes a script that bash cannot even parse fail the test run too.
const scripts = Bun.spawnSync(["git", "ls-files", "*.sh", ".ci/run"], { cwd: ROOT }).stdout.toString().trim().split("\n");

test("the repository's shell scripts are found", () => {
  expect(scripts).toContain("tests/services/up.sh");
  expect(scripts).toContain(".ci/run");
});

test.each(scripts)("%s is valid bash", (s) => {
  const n = Bun.spawnSync(["bash", "-n", join(ROOT, s)]);
  expect(n.exitCode, n.stderr.toString()).toBe(0);
});

/** Runs up.sh with stand-ins for minikube, kubectl and docker that only record their arguments. */
function upWith(args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), "seelie-up-"));
  const log = join(dir, "calls");
  for (const tool of ["minikube", "kubectl", "docker"]) {
    writeFileSync(join(dir, tool), `#!/bin/sh\necho "${tool} $*" >> ${log}\n`);
    chmodSync(join(dir, tool), 0o755);
  }
  const p = Bun.spawnSync(["bash", join(ROOT, "minikube/up.sh"), ...args], {
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}` },
    cwd: ROOT,
  });
  let calls: string[] = [];
  try {
    calls = readFileSync(log, "utf8").trim().split("\n");
  } catch {
    /* none */
  }
  return { code: p.exitCode, calls, stderr: p.stderr.toString() };
}

test("up.sh containerd: the SPEC's minikube start, then the committer namespace and RBAC", () => {
  const r = upWith(["containerd"]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.calls[0]).toBe(
    "minikube start --driver=docker --kubernetes-version=v1.21.10 --container-runtime=containerd -p k8s-containerd --wait=all",
  );
  expect(r.calls).toContain("kubectl --context k8s-containerd apply -f pods/committer/rbac.yaml");
  expect(r.calls).toContain("minikube ssh -p k8s-containerd -- sudo ls -l /run/containerd/containerd.sock");
});

test("up.sh docker --china: the mirror flags from the original request", () => {
  const r = upWith(["docker", "--china", "--cpus=4"]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.calls[0]).toBe(
    "minikube start --driver=docker --kubernetes-version=v1.21.10 --container-runtime=docker -p k8s-docker --wait=all --image-mirror-country=cn --image-repository=registry.cn-hangzhou.aliyuncs.com/google_containers --registry-mirror=https://registry.docker-cn.com --base-image=kicbase/stable:v0.0.36 --cpus=4",
  );
  expect(r.calls).toContain("minikube ssh -p k8s-docker -- sudo ls -l /var/run/docker.sock");
});

test("up.sh without a runtime: usage, exit 2", () => {
  const r = upWith([]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("Usage: minikube/up.sh docker|containerd");
  expect(r.calls).toEqual([]);
});
