/**
 * `seelie image commit`: the kubeconfig context flag. `--cluster` is its spelling (as in cloud-build and
 * submit tfjob); `--context`, the first release's, still works; both at once must agree. Each case
 * fails while reading the kubeconfig, before any request: the server below does not exist (port 1),
 * so a case that reached it would exit 1, not the expected 2.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "../../..");
const home = mkdtempSync(join(tmpdir(), "seelie-commit-cli-"));
const kubeconfig = join(home, "kubeconfig");
writeFileSync(
  kubeconfig,
  `apiVersion: v1
kind: Config
clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: not-used}}]
contexts: [{name: nowhere, context: {cluster: nowhere, user: u}}]
current-context: nowhere
`,
);
afterAll(() => rmSync(home, { recursive: true, force: true }));

async function commit(args: string[]) {
  const p = Bun.spawn(["bun", "bin/seelie.ts", "image", "commit", "--pod", "p", "--image", "registry.example.com/team/x:1", ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: home, KUBECONFIG: kubeconfig, SEELIE_CONFIG: join(home, "config.yaml") },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

test.each([
  [["--cluster", "elsewhere"], '--cluster "elsewhere": no such context in the kubeconfig'],
  [["--context", "elsewhere"], '--context "elsewhere": no such context in the kubeconfig'],
  [["--cluster=elsewhere", "--context=elsewhere"], '--cluster "elsewhere": no such context in the kubeconfig'],
  [["--cluster", "a", "--context", "b"], '--cluster "a" and --context "b" disagree'],
])("image commit %p: exit 2 naming the flag as given", async (args, message) => {
  const r = await commit(args);
  expect(r.stderr).toContain(message);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe("");
});

// The committer's own parsers refuse these in seelie itself, and a bad data root is refused too: exit 2
// before any request (one that reached the dead server would exit 1).
test.each([
  [["--compression", "brotli"], 'unknown --compression "brotli"'],
  [["--compression", "zstd", "--compression_level", "22"], "--compression-level 22 is out of range for zstd"],
  [["--compression_level", "0"], "--compression-level 0 is out of range for gzip"],
  [["--layer_source", "diff"], 'unknown --layer-source "diff"'],
  [["--runtime_root", "var/lib/containerd"], '--runtime_root "var/lib/containerd" is not an absolute path on the node'],
])("image commit %p: refused before any request (exit 2)", async (args, message) => {
  const r = await commit(args);
  expect(r.stderr).toContain(message);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe("");
});
