import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SCRIPT = join(import.meta.dir, "../../tests/services/cluster-up.sh");

test("cluster-up.sh without the bundle: says where it looked and why, exits 0 (the cluster tests then fail)", () => {
  const r = Bun.spawnSync(["bash", SCRIPT], { env: { ...process.env, SEELIE_K8S_BUNDLE: "/nonexistent/k8s" } });
  expect(r.exitCode).toBe(0);
  expect(r.stderr.toString()).toContain("no Kubernetes bundle at /nonexistent/k8s");
});

test("cluster-up.sh with a bundle runs its up.sh and passes its failure on", () => {
  const dir = mkdtempSync(join(tmpdir(), "seelie-bundle-"));
  writeFileSync(join(dir, "up.sh"), 'echo "bundle up ran" >&2; exit 7\n');
  const r = Bun.spawnSync(["bash", SCRIPT], { env: { ...process.env, SEELIE_K8S_BUNDLE: dir } });
  expect(r.stderr.toString()).toContain("bundle up ran");
  expect(r.exitCode).toBe(7);
  rmSync(dir, { recursive: true, force: true });
});
