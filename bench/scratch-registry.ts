/**
 * A registry of the bench's own, on a free loopback port, with the test registry's password file
 * (htpasswd auth, as the one users push to) and its storage in a temp directory. The shared test
 * registry only frees space by an offline garbage collection: a bench that pushes gigabytes there
 * fills the disk. `wipe()` empties the storage between runs (no blob descriptor cache is configured,
 * so the registry looks at the disk each time); `stop()` removes everything.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { need } from "../tests/helpers/services.ts";

export interface ScratchRegistry {
  addr: string;
  user: string;
  password: string;
  /** A Docker config directory with credentials for this registry and the test registry (the bases). */
  dockerConfig: string;
  wipe(): void;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function scratchRegistry(dir: string, test: { addr: string; user: string; password: string }): Promise<ScratchRegistry> {
  const addr = `127.0.0.1:${await freePort()}`;
  const storage = join(dir, "registry");
  const config = join(dir, "registry.yml");
  const dockerConfig = join(dir, "docker-config");
  mkdirSync(storage, { recursive: true });
  mkdirSync(dockerConfig, { recursive: true });
  writeFileSync(
    config,
    [
      "version: 0.1",
      "log: { level: warn }",
      `storage: { filesystem: { rootdirectory: ${storage} } }`,
      `http: { addr: ${addr} }`,
      `auth: { htpasswd: { realm: basic-realm, path: ${join(need("SEELIE_TEST_DIR"), "htpasswd")} } }`,
      "",
    ].join("\n"),
  );
  const auth = Buffer.from(`${test.user}:${test.password}`).toString("base64");
  writeFileSync(join(dockerConfig, "config.json"), JSON.stringify({ auths: { [addr]: { auth }, [test.addr]: { auth } } }), {
    mode: 0o600,
  });
  const proc = Bun.spawn(["docker-registry", "serve", config], { stdout: "ignore", stderr: "pipe" });
  for (let i = 0; ; i++) {
    const status = await fetch(`http://${addr}/v2/`)
      .then((r) => r.status)
      .catch(() => 0);
    if (status === 401) break;
    if (i === 100 || proc.exitCode !== null) {
      proc.kill();
      throw new Error(`the bench's registry on ${addr} did not start: ${await new Response(proc.stderr).text()}`);
    }
    await Bun.sleep(100);
  }
  return {
    addr,
    user: test.user,
    password: test.password,
    dockerConfig,
    wipe: () => rmSync(join(storage, "docker"), { recursive: true, force: true }),
    stop: async () => {
      proc.kill();
      await proc.exited;
      rmSync(storage, { recursive: true, force: true });
      rmSync(dockerConfig, { recursive: true, force: true });
    },
  };
}
