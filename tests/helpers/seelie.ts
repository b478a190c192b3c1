/**
 * Runs the real CLI (`bin/seelie.ts`) as a subprocess with an isolated HOME/SEELIE_HOME and the test
 * services' credentials, and inspects the test registry.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { need, sh, testRegistry } from "./services.ts";

export const ROOT = join(import.meta.dir, "../..");
export const SEELIE = join(ROOT, "bin/seelie.ts");

/** A temp HOME with a seelie config naming the test registry and both test regions. */
export function testHome(extraYaml = ""): { home: string; env: Record<string, string> } {
  const home = mkdtempSync(join(tmpdir(), "seelie-home-"));
  mkdirSync(join(home, ".seelie"));
  const reg = testRegistry();
  writeFileSync(
    join(home, ".seelie", "config.yaml"),
    `registry: { host: "${reg.addr}", repo: seelie }
username: tester
regions:
  region-a: { endpoint: "${need("SEELIE_TEST_PODMAN_A")}", proxy: "${need("SEELIE_TEST_SOCKS_A")}" }
  region-b:
    endpoint: "${need("SEELIE_TEST_PODMAN_B")}"
    proxy: "${need("SEELIE_TEST_SOCKS_B")}"
    proxyUsername: "${need("SEELIE_TEST_SOCKS_B_USER")}"
    proxyPasswordFile: "${need("SEELIE_TEST_SOCKS_B_PASSWORD_FILE")}"
defaultRegion: region-a
${extraYaml}`,
  );
  return { home, env: { HOME: home, DOCKER_CONFIG: reg.dockerConfig, SEELIE_LOG_LEVEL: "3" } };
}

/** Runs seelie without the SEELIE_* settings of this shell (its test variables stay); never throws on a non-zero exit. */
export async function seelie(args: string[], env: Record<string, string | undefined>, opts: { cwd?: string } = {}) {
  const clean = { ...process.env };
  for (const k of Object.keys(clean)) if (k.startsWith("SEELIE_") && !k.startsWith("SEELIE_TEST_")) delete clean[k];
  delete clean.DOCKER_HOST;
  return sh([process.execPath, SEELIE, ...args], { baseEnv: clean, env, cwd: opts.cwd ?? ROOT });
}

/** A running seelie whose stderr is collected as it arrives, to act on what it has printed so far. */
export function spawnSeelie(args: string[], env: Record<string, string>) {
  const p = Bun.spawn([process.execPath, SEELIE, ...args], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const out = { stderr: "" };
  const reader = (async () => {
    for await (const chunk of p.stderr) out.stderr += new TextDecoder().decode(chunk);
  })();
  return {
    out,
    /** Waits until stderr contains `text` (or `ms` pass); true when it does. */
    async waitFor(text: string, ms: number): Promise<boolean> {
      const deadline = Date.now() + ms;
      while (!out.stderr.includes(text) && Date.now() < deadline) await Bun.sleep(50);
      return out.stderr.includes(text);
    },
    /** Sends SIGINT, as Ctrl-C does, and waits for the exit code and the whole of stderr. */
    async interrupt(): Promise<{ code: number; stderr: string; ms: number }> {
      const t0 = Date.now();
      p.kill("SIGINT");
      const code = await p.exited;
      await reader;
      return { code, stderr: out.stderr, ms: Date.now() - t0 };
    },
  };
}

/** True when the test registry has `repo:tag` (a manifest exists). */
export async function registryHasTag(repo: string, tag: string): Promise<boolean> {
  const reg = testRegistry();
  const res = await fetch(`http://${reg.addr}/v2/${repo}/manifests/${tag}`, {
    method: "HEAD",
    headers: {
      Authorization: `Basic ${Buffer.from(`${reg.user}:${reg.password}`).toString("base64")}`,
      Accept: "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json",
    },
  });
  return res.status === 200;
}

/** Copies a directory under examples/ (or any path) to a fresh temp dir. */
export function copyProject(src: string): string {
  const d = mkdtempSync(join(tmpdir(), "seelie-proj-"));
  cpSync(src, d, { recursive: true });
  return d;
}

/** A unique tag for one test run. */
export function uniqueTag(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** The secrets that must never appear in any output. */
export function testSecrets(): string[] {
  return [testRegistry().password, readFileSync(need("SEELIE_TEST_SOCKS_B_PASSWORD_FILE"), "utf8").trim()];
}
